//! One grade, as `grade` and `grade batch` both run it: build, check that
//! the suite has every test the manifest grades, run the tests, collect the
//! results. What it shows along the way is up to an [`Observer`].

use std::path::Path;
use std::time::Instant;

use heaplab_protocol::{Failure, Outcome};

use crate::build::{self, Build, BuildOptions, Built, Variant};
use crate::course::{Course, Lesson, TestSpec};
use crate::report::Graded;
use crate::runner::{self, TestResult};
use crate::Fatal;

/// Hears how a grade goes, as it goes.
pub trait Observer {
    /// The crate did not compile: every test scores 0.
    fn did_not_compile(&mut self, _graded: &Graded, _errors: &str) {}
    /// The build is done; `tests` tests start now.
    fn started(&mut self, _graded: &Graded, _tests: usize) {}
    /// Test `index` finished (results arrive in manifest order).
    fn test_done(&mut self, _graded: &Graded, _index: usize, _result: &TestResult) {}
}

/// An observer that shows nothing (batch grading).
pub struct Quiet;

impl Observer for Quiet {}

/// What to grade, and how.
pub struct Job<'c> {
    pub course: &'c Course,
    pub lesson: &'c Lesson,
    pub variant: Variant,
    /// The manifest's tests to run, in its order.
    pub tests: Vec<&'c TestSpec>,
    pub seed: u64,
    /// Tests run at once.
    pub jobs: usize,
    /// The reader's screen width, when the report goes to a terminal.
    pub columns: Option<usize>,
    /// The crate under test as shown to the reader.
    pub crate_shown: String,
    /// The command that grades this crate again (without `--test`/`--seed`).
    pub replay_base: String,
}

impl<'c> Job<'c> {
    /// Builds the checker, the subject and the lesson's extra builds.
    pub fn build(&self, target: &Path, options: &BuildOptions) -> Result<Build, Fatal> {
        build::build(self.course, self.lesson, &self.variant, target, options)
    }

    /// The empty result of this job.
    fn graded(&self) -> Graded<'c> {
        Graded {
            course: self.course,
            lesson: self.lesson,
            variant: self.variant.clone(),
            crate_shown: self.crate_shown.clone(),
            seed: self.seed,
            results: Vec::new(),
            compile_errors: None,
            replay_base: self.replay_base.clone(),
            all_names: self.lesson.tests.iter().map(|t| t.name.clone()).collect(),
            elapsed: Default::default(),
            confinement: None,
        }
    }

    /// Runs the tests on what `build` made (or scores a crate that did not
    /// compile), telling `observer` as it goes.
    pub fn run(&self, build: Build, observer: &mut dyn Observer) -> Result<Graded<'c>, Fatal> {
        let started = Instant::now();
        let mut graded = self.graded();
        match build {
            Build::DidNotCompile(errors) => {
                let plain = anstream::adapter::strip_str(&errors).to_string();
                graded.compile_errors = Some(errors.clone());
                observer.did_not_compile(&graded, &errors);
                graded.results = self
                    .tests
                    .iter()
                    .map(|spec| {
                        let outcome = Outcome::DidNotCompile {
                            errors: plain.clone(),
                        };
                        TestResult::without_run(spec, outcome)
                    })
                    .collect();
            }
            Build::Built(built) => {
                let memory = self.course.manifest.defaults.memory_mib << 20;
                graded.confinement = Some(runner::confinement::probe(&built.subject, memory));
                graded.results = self.run_tests(&built, &graded, observer)?;
            }
        }
        graded.elapsed = started.elapsed();
        Ok(graded)
    }

    fn run_tests(
        &self,
        built: &Built,
        graded: &Graded<'c>,
        observer: &mut dyn Observer,
    ) -> Result<Vec<TestResult<'c>>, Fatal> {
        let listed = runner::list(built, &self.lesson.id)?;
        super::select::check_listed(self.lesson, &listed)?;
        observer.started(graded, self.tests.len());
        // The measured tests (speed, space) come last in the manifest; they
        // run after the others, one at a time on a machine otherwise idle,
        // and only when those others (the correctness gate) all passed.
        let split = self
            .tests
            .iter()
            .position(|t| t.is_measured())
            .unwrap_or(self.tests.len());
        let (gate, measured) = self.tests.split_at(split);
        let mut results = Vec::new();
        let mut done = |results: &mut Vec<TestResult<'c>>, i: usize, r: TestResult<'c>| {
            observer.test_done(graded, i, &r);
            results.push(r);
        };
        runner::run_all(
            self.course,
            built,
            &self.lesson.id,
            gate,
            self.settings(self.jobs),
            |i, r| done(&mut results, i, r),
        );
        if measured.is_empty() {
            return Ok(results);
        }
        if let Some(failed) = gate_failures(&results) {
            for (k, spec) in measured.iter().enumerate() {
                let failure = Failure::text(format!(
                    "not measured: speed and space earn points only once every other test of \
                     {} passes, and {failed} did not",
                    self.lesson.id
                ))
                .check(crate::report::GATE_CHECK);
                let r = TestResult::without_run(spec, Outcome::Failed { failure });
                done(&mut results, split + k, r);
            }
            return Ok(results);
        }
        let partial = self.partial_gate(gate);
        runner::run_all(
            self.course,
            built,
            &self.lesson.id,
            measured,
            self.settings(1),
            |k, mut r| {
                if let (Some(why), true) = (&partial, r.earned > 0) {
                    r.withheld = Some(why.clone());
                    r.earned = 0;
                }
                done(&mut results, split + k, r)
            },
        );
        Ok(results)
    }

    /// How the tests run, `jobs` at a time.
    fn settings(&self, jobs: usize) -> runner::Settings {
        runner::Settings {
            seed: self.seed,
            jobs,
            columns: self.columns,
        }
    }

    /// Why the gate is not whole in this run (some of the lesson's other
    /// tests were not selected), if it is not.
    fn partial_gate(&self, gate: &[&TestSpec]) -> Option<String> {
        let left_out: Vec<&str> = self
            .lesson
            .tests
            .iter()
            .filter(|t| !t.is_measured() && !t.hidden && !gate.iter().any(|g| g.name == t.name))
            .map(|t| t.name.as_str())
            .collect();
        (!left_out.is_empty()).then(|| {
            format!(
                "points withheld: this run left out {} of the correctness tests that gate the \
                 speed and space points (--test); grade the whole lesson to earn them",
                left_out.len()
            )
        })
    }
}

/// The gate tests that did not pass, named, or `None` when all did.
fn gate_failures(results: &[TestResult]) -> Option<String> {
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.outcome.passed())
        .map(|r| r.spec.name.as_str())
        .collect();
    match failed.len() {
        0 => None,
        1..=3 => Some(failed.join(", ")),
        n => Some(format!("{}, and {} more", failed[..3].join(", "), n - 3)),
    }
}
