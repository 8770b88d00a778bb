//! Runs a lesson's tests: one checker process per test (which starts the
//! student's processes itself), up to `jobs` at a time, results handed on
//! in manifest order.

pub mod child;
pub mod confinement;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use child::{Exit, RunLimits};
use heaplab_protocol::ended::signal_name;
use heaplab_protocol::outcome::CheckerReport;
use heaplab_protocol::{Outcome, COLUMNS_ENV};

use crate::build::Built;
use crate::course::{Course, Limits, TestSpec};
use crate::Fatal;

/// One graded test.
#[derive(Debug)]
pub struct TestResult<'a> {
    pub spec: &'a TestSpec,
    pub outcome: Outcome,
    pub earned: u32,
    /// Why a measured test's points were withheld although it ran (the
    /// correctness gate did not run whole).
    pub withheld: Option<String>,
    pub elapsed: Duration,
    /// What the student's processes wrote (capped).
    pub stdout: String,
    pub stderr: String,
}

impl TestResult<'_> {
    /// True when the test earned all its points.
    pub fn full(&self) -> bool {
        self.earned == self.spec.points && (self.outcome.passed() || self.earned > 0)
    }

    /// A result for a test that never ran (the build failed).
    pub fn without_run(spec: &TestSpec, outcome: Outcome) -> TestResult<'_> {
        TestResult {
            spec,
            outcome,
            earned: 0,
            withheld: None,
            elapsed: Duration::ZERO,
            stdout: String::new(),
            stderr: String::new(),
        }
    }
}

/// Time the checker gets beyond the test's own limit: it stops shrinking at
/// half the limit, and a stopped student process takes a moment to clean up.
const GRACE: Duration = Duration::from_secs(5);

/// The test names the checker knows for `lesson` (`checker --list`).
pub fn list(built: &Built, lesson: &str) -> Result<Vec<String>, Fatal> {
    let scratch = tempfile::tempdir()
        .map_err(|e| Fatal::new(format!("cannot make a scratch folder: {e}")))?;
    let limits = RunLimits {
        timeout: Duration::from_secs(30),
        output_bytes: 1 << 20,
        cpu: None,
        env: Vec::new(),
    };
    let args = ["--list".to_string(), lesson.to_string()];
    let run = child::run(&built.checker, &args, &limits, scratch.path())
        .map_err(|e| Fatal::new(format!("cannot run {}: {e}", built.checker.display())))?;
    if run.exit != Exit::Code(0) {
        return Err(Fatal::new(format!(
            "the checker could not list the tests of {lesson} ({:?}); kit bug:\n{}",
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

/// How a lesson's tests run.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The seed of every random choice.
    pub seed: u64,
    /// Tests run at once.
    pub jobs: usize,
    /// The width of the reader's screen, when the report is shown in a
    /// terminal: the checker draws pictures to fit it.
    pub columns: Option<usize>,
}

/// Runs `tests` with up to `settings.jobs` at a time; `done` gets each
/// result in the order of `tests`, as soon as it and all before it have
/// finished.
pub fn run_all<'a>(
    course: &Course,
    built: &Built,
    lesson: &str,
    tests: &[&'a TestSpec],
    settings: Settings,
    mut done: impl FnMut(usize, TestResult<'a>),
) {
    let jobs = settings.jobs;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, TestResult<'a>)>();
    let workers = jobs.clamp(1, tests.len().max(1));
    std::thread::scope(|scope| {
        for worker in 0..workers {
            let tx = tx.clone();
            let next = &next;
            // Each worker's tests on a CPU of their own (when there are as
            // many CPUs as workers).
            let cpu = (workers > 1 || jobs == 1).then_some(worker);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(spec) = tests.get(i) else { break };
                let result = run_one(course, built, lesson, spec, settings, cpu);
                if tx.send((i, result)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending: Vec<Option<TestResult<'a>>> = (0..tests.len()).map(|_| None).collect();
        let mut shown = 0;
        for (i, result) in rx {
            pending[i] = Some(result);
            while let Some(r) = pending.get_mut(shown).and_then(Option::take) {
                done(shown, r);
                shown += 1;
            }
        }
    });
}

/// Runs one test: its checker, in a fresh empty scratch folder. Whatever
/// goes wrong costs this test only (a kit error, never a lost grade).
fn run_one<'a>(
    course: &Course,
    built: &Built,
    lesson: &str,
    spec: &'a TestSpec,
    settings: Settings,
    cpu: Option<usize>,
) -> TestResult<'a> {
    let limits = course.limits(spec);
    let run = checker(built, lesson, spec, settings, &limits, cpu);
    let (outcome, stdout, stderr, elapsed) = match run {
        Ok((report, elapsed)) => (report.outcome, report.stdout, report.stderr, elapsed),
        Err(message) => (
            Outcome::KitError { message },
            String::new(),
            String::new(),
            Duration::ZERO,
        ),
    };
    let outcome = relative(outcome, built, course);
    let earned = earned(spec, &outcome);
    TestResult {
        spec,
        outcome,
        earned,
        withheld: None,
        elapsed,
        stdout,
        stderr,
    }
}

/// The points `outcome` earns: all of them for a pass; for a measured
/// test, those its value is worth between the manifest's thresholds.
pub fn earned(spec: &TestSpec, outcome: &Outcome) -> u32 {
    match (outcome, &spec.measure) {
        (Outcome::Passed, None) => spec.points,
        (Outcome::Measured { measured }, Some(scale)) => scale.points(spec.points, measured.value),
        _ => 0,
    }
}

/// Runs the test's checker; its report, or why there is none.
fn checker(
    built: &Built,
    lesson: &str,
    spec: &TestSpec,
    settings: Settings,
    limits: &Limits,
    cpu: Option<usize>,
) -> Result<(CheckerReport, Duration), String> {
    // A root grader runs the test's student code as a user of its own (its
    // slot), leased so that no other test, of this grader or another, runs
    // as that user until this one's processes are gone.
    let lease = heaplab_sandbox::slot::Lease::take();
    let slot = lease.slot();
    let seed = settings.seed;
    // Each test starts in an empty folder of its own, so files one test (or
    // a student's program) leaves behind cannot change another's result.
    let scratch = tempfile::tempdir().map_err(|e| format!("cannot make a scratch folder: {e}"))?;
    let mut args: Vec<String> = vec![
        "--lesson".into(),
        lesson.into(),
        "--run".into(),
        spec.name.clone(),
        "--seed".into(),
        seed.to_string(),
        "--subject".into(),
        built.subject.to_string_lossy().into_owned(),
        "--scratch".into(),
        scratch.path().to_string_lossy().into_owned(),
        "--time-limit".into(),
        limits.timeout.as_secs_f64().to_string(),
        "--op-timeout".into(),
        limits.operation.as_secs_f64().to_string(),
        "--memory-mib".into(),
        (limits.memory_bytes >> 20).to_string(),
        "--output-kib".into(),
        (limits.output_bytes >> 10).to_string(),
        "--slot".into(),
        slot.to_string(),
    ];
    for (name, path) in &built.artifacts {
        args.push("--artifact".into());
        args.push(format!("{name}={}", path.display()));
    }
    let run_limits = RunLimits {
        timeout: limits.timeout + GRACE,
        output_bytes: limits.output_bytes * 4 + (1 << 20),
        cpu,
        env: settings
            .columns
            .map(|c| (COLUMNS_ENV.to_string(), c.to_string()))
            .into_iter()
            .collect(),
    };
    let run = child::run(&built.checker, &args, &run_limits, scratch.path());
    // A checker killed on time leaves its student processes to the grader:
    // a root grader kills every process of the test's user.
    if let Some(user) = heaplab_sandbox::user_for(slot) {
        heaplab_sandbox::sweep::kill_user(user.uid);
    }
    drop(lease);
    let run = run.map_err(|e| format!("cannot start the test's checker: {e}"))?;
    match run.exit {
        Exit::TimedOut(_) => {
            let report = CheckerReport {
                outcome: Outcome::TimedOut {
                    after: limits.timeout.as_secs_f64(),
                },
                stdout: String::new(),
                stderr: String::new(),
            };
            return Ok((report, run.elapsed));
        }
        Exit::Signal(sig) => {
            return Err(format!(
                "the test's checker was killed by {} (kit bug, or the machine ran out of \
                 memory):\n{}",
                signal_name(sig),
                run.stderr.tail_lines(12)
            ))
        }
        Exit::Code(_) => {}
    }
    let text = String::from_utf8_lossy(&run.stdout.head);
    let line = text.lines().last().unwrap_or_default();
    let report: CheckerReport = serde_json::from_str(line).map_err(|_| {
        format!(
            "the test's checker gave no report ({:?}); kit bug:\n{}",
            run.exit,
            run.stderr.tail_lines(12)
        )
    })?;
    Ok((report, run.elapsed))
}

/// Paths of the crate under test in the outcome, as the student knows them.
fn relative(mut outcome: Outcome, built: &Built, course: &Course) -> Outcome {
    match &mut outcome {
        Outcome::NotImplemented { location } => {
            *location = built.shown.relative_location(&course.root, location);
        }
        Outcome::Failed { failure }
        | Outcome::Crashed { failure, .. }
        | Outcome::Hung { failure, .. }
        | Outcome::ExitedEarly { failure, .. } => {
            failure.what = built.shown.relative_paths(&failure.what);
            for note in &mut failure.notes {
                *note = built.shown.relative_paths(note);
            }
        }
        _ => {}
    }
    outcome
}

/// How many tests run at once when `--jobs` is not given.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
