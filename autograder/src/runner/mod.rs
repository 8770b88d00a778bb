//! Runs a lesson's tests against a built harness: one child process per
//! test, up to `jobs` at a time, results handed on in manifest order.

pub mod child;
pub mod outcome;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use child::Captured;
use outcome::{Exit, Outcome};

use crate::compile::Harness;
use crate::course::{Course, Limits, TestSpec};
use crate::Fatal;

/// One graded test.
#[derive(Debug)]
pub struct TestResult<'a> {
    pub spec: &'a TestSpec,
    pub outcome: Outcome,
    pub earned: u32,
    pub elapsed: Duration,
    pub stdout: Captured,
    pub stderr: Captured,
}

impl TestResult<'_> {
    /// A result for a test that never ran (the build failed).
    pub fn without_run(spec: &TestSpec, outcome: Outcome) -> TestResult<'_> {
        TestResult {
            spec,
            outcome,
            earned: 0,
            elapsed: Duration::ZERO,
            stdout: Captured::default(),
            stderr: Captured::default(),
        }
    }
}

/// The test names a harness knows (`harness --list`).
pub fn list(harness: &Harness, limits: &Limits) -> Result<Vec<String>, Fatal> {
    let scratch = tempfile::tempdir()
        .map_err(|e| Fatal::new(format!("cannot make a scratch folder: {e}")))?;
    let run = child::run(
        &harness.exe,
        &["--list".to_string()],
        limits,
        scratch.path(),
    )
    .map_err(|e| Fatal::new(format!("cannot run {}: {e}", harness.exe.display())))?;
    if run.exit != Exit::Code(0) {
        return Err(Fatal::new(format!(
            "the harness could not list its tests ({:?}); kit bug:\n{}",
            run.exit,
            run.stderr.tail_lines(20)
        )));
    }
    Ok(String::from_utf8_lossy(&run.stdout.head)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Runs `tests` with up to `jobs` at a time; `done` gets each result in
/// the order of `tests`, as soon as it and all before it have finished.
pub fn run_all<'a>(
    course: &Course,
    harness: &Harness,
    tests: &[&'a TestSpec],
    seed: u64,
    jobs: usize,
    mut done: impl FnMut(usize, TestResult<'a>),
) -> Result<(), Fatal> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Result<TestResult<'a>, Fatal>)>();
    let workers = jobs.clamp(1, tests.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(spec) = tests.get(i) else { break };
                let result = run_one(course, harness, spec, seed);
                if tx.send((i, result)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending: Vec<Option<TestResult<'a>>> = (0..tests.len()).map(|_| None).collect();
        let mut shown = 0;
        let mut failure = None;
        for (i, result) in rx {
            match result {
                Ok(r) => pending[i] = Some(r),
                Err(e) => {
                    failure.get_or_insert(e);
                    // Keep the order moving; the run is reported as failed below.
                    pending[i] = Some(TestResult::without_run(
                        tests[i],
                        Outcome::ExitedEarly { code: -1 },
                    ));
                }
            }
            while shown < tests.len() {
                let Some(r) = pending[shown].take() else {
                    break;
                };
                done(shown, r);
                shown += 1;
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    })
}

fn run_one<'a>(
    course: &Course,
    harness: &Harness,
    spec: &'a TestSpec,
    seed: u64,
) -> Result<TestResult<'a>, Fatal> {
    let limits = course.limits(spec);
    // Each test starts in an empty folder of its own, so files one test (or
    // a student's program) leaves behind cannot change another's result.
    let scratch = tempfile::tempdir()
        .map_err(|e| Fatal::new(format!("cannot make a scratch folder: {e}")))?;
    let args = vec![
        "--run".to_string(),
        spec.name.clone(),
        "--seed".to_string(),
        seed.to_string(),
    ];
    let run = child::run(&harness.exe, &args, &limits, scratch.path())
        .map_err(|e| Fatal::new(format!("cannot run test `{}`: {e}", spec.name)))?;
    let mut outcome = outcome::classify(run.exit, run.report, &run.stderr.text());
    if let Some(bad) = run.malformed {
        if run.exit == Exit::Code(0) {
            outcome = Outcome::Failed {
                message: format!("the harness sent a malformed result (kit bug): {bad}"),
            };
        }
    }
    match &mut outcome {
        Outcome::NotImplemented { location } => {
            *location = harness.relative_location(&course.root, location);
        }
        Outcome::Failed { message } => *message = harness.relative_paths(&course.root, message),
        _ => {}
    }
    let earned = if outcome.passed() { spec.points } else { 0 };
    Ok(TestResult {
        spec,
        outcome,
        earned,
        elapsed: run.elapsed,
        stdout: run.stdout,
        stderr: run.stderr,
    })
}

/// How many tests run at once when `--jobs` is not given.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
