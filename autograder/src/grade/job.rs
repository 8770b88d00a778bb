//! One grade, as `grade` and `grade batch` both run it: build, check that
//! the suite has every test the manifest grades, run the tests, collect the
//! results. What it shows along the way is up to an [`Observer`].

use std::path::Path;
use std::time::Instant;

use heaplab_protocol::Outcome;

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
            Build::Built(built) => graded.results = self.run_tests(&built, &graded, observer)?,
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
        let mut results = Vec::new();
        runner::run_all(
            self.course,
            built,
            &self.lesson.id,
            &self.tests,
            runner::Settings {
                seed: self.seed,
                jobs: self.jobs,
                columns: self.columns,
            },
            |i, r| {
                observer.test_done(graded, i, &r);
                results.push(r);
            },
        );
        Ok(results)
    }
}
