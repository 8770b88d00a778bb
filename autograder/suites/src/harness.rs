//! What a suite is (a table of named tests, and the programs a lesson's
//! tests start), how one test runs and how it ended, and the `main` of a
//! *local* harness: a suite linked with the student's crate in one process,
//! for Miri and debuggers. Grading never uses a local harness; it runs the
//! suites in the checker ([`crate::checker`]) and the student's code in its
//! own process.
//!
//! ```text
//! harness --list                                     the suite's test names
//! harness --all [--seed N] [--test NAME] [--skip NAME]
//!                                                    every test (or those whose name
//!                                                    contains NAME), in this process
//! harness --debug NAME [--seed N]                    one test, stopping (SIGTRAP) just
//!                                                    before the step that fails
//! harness --as PROGRAM [ARGS...]                     one of the lesson's programs
//! ```
//!
//! A local harness maps the heap's pages from the same window as the
//! checker (except under Miri), so its addresses are the report's.

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Mutex;

use heaplab_protocol::{Failure, Measured, Outcome};

pub use heaplab_protocol::DEFAULT_SEED;

use crate::remote::{CannotStart, StudentStopped};

/// What a test is given to run with.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    /// Seed for every random choice the test makes: the same seed, the same
    /// cases, the same counterexample.
    pub seed: u64,
}

/// The body of a test: `Ok(())` when it passes, the failure when it fails.
pub type TestFn = Box<dyn Fn(&Ctx) -> Result<(), Failure>>;

/// One named test of a suite.
pub struct Test {
    /// The name the manifest (`course.toml`) gives points, title and hint to.
    pub name: &'static str,
    pub run: TestFn,
}

impl Test {
    /// A test whose body fails with a [`Failure`], or with anything that
    /// becomes one (a message).
    pub fn new<E: Into<Failure>>(
        name: &'static str,
        run: impl Fn(&Ctx) -> Result<(), E> + 'static,
    ) -> Self {
        Test {
            name,
            run: Box::new(move |ctx| run(ctx).map_err(Into::into)),
        }
    }

    /// A measured test (speed, space): its body returns what it measured,
    /// and the grader gives points for the value (`course.toml`'s
    /// `measure` thresholds). A failure (a wrong output, a crash of the
    /// program measured) earns nothing.
    pub fn measured(
        name: &'static str,
        run: impl Fn(&Ctx) -> Result<Measured, Failure> + 'static,
    ) -> Self {
        Test {
            name,
            run: Box::new(move |ctx| {
                let measured = run(ctx)?;
                *lock(&MEASURED) = Some(measured);
                Ok(())
            }),
        }
    }
}

/// A program the harness can run as `harness --as NAME [ARGS...]`.
pub struct Program {
    pub name: &'static str,
    /// Called with the arguments after `--as NAME`.
    pub main: ProgramFn,
}

/// The `main` of a [`Program`]: called with the arguments after `--as NAME`.
pub type ProgramFn = Box<dyn Fn(&[String]) -> ExitCode>;

impl Program {
    pub fn new(name: &'static str, main: impl Fn(&[String]) -> ExitCode + 'static) -> Self {
        Program {
            name,
            main: Box::new(main),
        }
    }
}

/// Everything a lesson's suite runs.
#[derive(Default)]
pub struct Suite {
    pub tests: Vec<Test>,
    pub programs: Vec<Program>,
}

impl Suite {
    /// The test named `name`.
    pub fn test(&self, name: &str) -> Option<&Test> {
        self.tests.iter().find(|t| t.name == name)
    }
}

/// The first `todo!()` or `unimplemented!()` reached, as `file:line:col`.
static NOT_IMPLEMENTED: Mutex<Option<String>> = Mutex::new(None);
/// What a measured test measured (set when its body returns).
static MEASURED: Mutex<Option<Measured>> = Mutex::new(None);
/// The most recent panic, message and location, for the failure message.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Runs one test in this process: catches panics, notices `todo!()`, and
/// turns a stop of the student's process into its outcome.
pub fn run_one(test: &Test, seed: u64) -> Outcome {
    install_panic_hook();
    // Nothing from an earlier test of the same process (`--all`) carries over.
    lock(&NOT_IMPLEMENTED).take();
    lock(&LAST_PANIC).take();
    lock(&MEASURED).take();
    let ctx = Ctx { seed };
    let ran = panic::catch_unwind(AssertUnwindSafe(|| (test.run)(&ctx)));
    if let Some(location) = lock(&NOT_IMPLEMENTED).take() {
        return Outcome::NotImplemented { location };
    }
    match ran {
        Ok(Ok(())) => match lock(&MEASURED).take() {
            Some(measured) => Outcome::Measured { measured },
            None => Outcome::Passed,
        },
        Ok(Err(failure)) => outcome_of(failure),
        Err(payload) => panicked(payload),
    }
}

/// A failed test's outcome: a failed check, or the stop of the student's
/// process it describes.
pub fn outcome_of(failure: Failure) -> Outcome {
    use heaplab_protocol::Stopped;
    match failure.stopped.clone() {
        None => Outcome::Failed { failure },
        Some(Stopped::Crashed { signal, cause }) => Outcome::Crashed {
            signal,
            cause,
            failure,
        },
        Some(Stopped::Hung { after_ms }) => Outcome::Hung { after_ms, failure },
        Some(Stopped::Exited { code }) => Outcome::ExitedEarly { code, failure },
    }
}

/// The outcome of a test whose body panicked.
fn panicked(payload: Box<dyn std::any::Any + Send>) -> Outcome {
    if let Some(CannotStart(message)) = payload.downcast_ref::<CannotStart>() {
        return Outcome::KitError {
            message: message.clone(),
        };
    }
    if let Some(stopped) = payload.downcast_ref::<StudentStopped>() {
        return outcome_of(stopped.failure());
    }
    let message = lock(&LAST_PANIC)
        .take()
        .unwrap_or_else(|| "the test panicked".to_string());
    Outcome::Failed {
        failure: Failure::text(message),
    }
}

/// Runs one of the lesson's programs (`--as NAME ARGS…`) in `dir`, stopped
/// after `timeout`: the student's program in its sandbox when the checker
/// runs the test, this harness's own in a local harness. A program that
/// reached a `todo!()` makes the test "not implemented".
pub fn run_program(
    name: &str,
    args: &[&str],
    dir: &std::path::Path,
    timeout: std::time::Duration,
) -> Result<std::process::Output, Failure> {
    let output = match crate::remote::config() {
        Some(config) => crate::remote::run_program(&config, name, args, dir, timeout)?,
        None => {
            let exe = std::env::current_exe()
                .map_err(|e| format!("cannot find this program to run {name}: {e}"))?;
            assert_cmd::Command::new(exe)
                .arg("--as")
                .arg(name)
                .args(args)
                .current_dir(dir)
                .timeout(timeout)
                .output()
                .map_err(|e| format!("cannot run {name}: {e}"))?
        }
    };
    if let Some(location) = todo_location(&String::from_utf8_lossy(&output.stderr)) {
        note_todo(location.clone());
        return Err(Failure::text(format!(
            "{name} reached a todo!() at {location}"
        )));
    }
    Ok(output)
}

/// Where a program's `todo!()` panicked, from its panic message on stderr
/// (Rust's own, or the subject's): `… panicked at src/lib.rs:10:5:` then
/// `not yet implemented`.
pub fn todo_location(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    while let Some(line) = lines.next() {
        if let Some((_, at)) = line.split_once("panicked at ") {
            let message = lines.next().unwrap_or_default();
            if message.starts_with("not yet implemented") || message.starts_with("not implemented")
            {
                return Some(at.trim_end_matches(':').to_string());
            }
        }
    }
    None
}

/// True once the student's code has reached a `todo!()`: a property test can
/// stop early instead of shrinking a sequence that fails everywhere.
pub fn reached_todo() -> bool {
    lock(&NOT_IMPLEMENTED).is_some()
}

/// Records that the student's code reached a `todo!()` at `location`
/// (`file:line:col`) in another process (the student's, or a program the
/// test started): the test then reports not implemented.
pub fn note_todo(location: String) {
    lock(&NOT_IMPLEMENTED).get_or_insert(location);
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            // A typed payload (a stop of the student's process): the test's
            // outcome says what it means.
            return;
        };
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        if message.starts_with("not yet implemented") || message.starts_with("not implemented") {
            lock(&NOT_IMPLEMENTED).get_or_insert(location.clone());
        }
        *lock(&LAST_PANIC) = Some(format!("panicked at {location}: {message}"));
    }));
}

/// Bytes of pages a local harness's heaps may hold at once.
const LOCAL_WINDOW_BYTES: usize = 1 << 30;

/// The `main` of a local harness (the suite and the student's crate in one
/// process, for Miri and debuggers).
pub fn main(suite: Suite) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The checker's window, at the same addresses: the pictures and
    // pointers a debugger shows are those of the report. (Miri has no
    // memory files: there, plain anonymous pages.)
    if !cfg!(miri) {
        if let Err(e) = crate::alloc::window::install(LOCAL_WINDOW_BYTES) {
            eprintln!("harness: {e}; pages come from anonymous mmap, at other addresses than the report's");
        }
    }
    match args.first().map(String::as_str) {
        Some("--list") => {
            for test in &suite.tests {
                println!("{}", test.name);
            }
            ExitCode::SUCCESS
        }
        Some("--as") => {
            let name = args.get(1).map(String::as_str).unwrap_or("");
            match suite.programs.iter().find(|p| p.name == name) {
                Some(program) => (program.main)(args.get(2..).unwrap_or_default()),
                None => {
                    eprintln!("harness: no program named {name:?}");
                    ExitCode::from(2)
                }
            }
        }
        Some("--all") => run_all(&suite, &args),
        Some("--debug") => debug_one(&suite, &args),
        _ => {
            eprintln!(
                "usage: harness --list | --all [--seed N] [--test NAME] [--skip NAME] | \
                 --debug NAME [--seed N] | --as PROGRAM [ARGS...]"
            );
            ExitCode::from(2)
        }
    }
}

/// `--debug NAME`: one test, stopping in a debugger before the step that
/// fails ([`crate::debug`]). A property stops in its run of the shortest
/// failing case; any other test runs a second time to stop there.
fn debug_one(suite: &Suite, args: &[String]) -> ExitCode {
    let (Some(name), Some(seed)) = (args.get(1), seed_arg(args)) else {
        eprintln!("usage: harness --debug NAME [--seed N]");
        return ExitCode::from(2);
    };
    let Some(test) = suite.test(name) else {
        eprintln!("harness: no test named {name:?}");
        return ExitCode::from(2);
    };
    crate::debug::start();
    let mut outcome = run_one(test, seed);
    let step = outcome.failure().and_then(|f| f.step.as_ref()).map(|s| s.0);
    if let (Some(step), false) = (step, crate::debug::trapped()) {
        outcome = crate::debug::replay_with_trap(step, || run_one(test, seed));
    }
    match &outcome {
        Outcome::Passed => println!("PASS {name}: nothing to debug with this seed"),
        other => println!(
            "{} {name}\n{}",
            other.label(),
            other.failure().map(|f| f.to_string()).unwrap_or_default()
        ),
    }
    ExitCode::SUCCESS
}

/// `--all`: every selected test in this process, one line each.
fn run_all(suite: &Suite, args: &[String]) -> ExitCode {
    let Some(seed) = seed_arg(args) else {
        return ExitCode::from(2);
    };
    let values = |flag: &str| -> Vec<&String> {
        args.iter()
            .enumerate()
            .filter(|(_, a)| *a == flag)
            .filter_map(|(i, _)| args.get(i + 1))
            .collect()
    };
    // `--test NAME`: only the tests whose name contains NAME; `--skip NAME`
    // (repeatable): leave out those whose name contains it.
    let only = values("--test");
    let skipped = values("--skip");
    let mut failed = 0;
    let mut ran = 0;
    for test in &suite.tests {
        let name = test.name;
        if skipped.iter().any(|n| name.contains(n.as_str())) {
            println!("SKIP {name}");
            continue;
        }
        if !only.is_empty() && !only.iter().any(|n| name.contains(n.as_str())) {
            continue;
        }
        ran += 1;
        match run_one(test, seed) {
            Outcome::Passed => println!("PASS {name}"),
            Outcome::Measured { measured } => {
                println!("MEASURED {name}: {}\n{}", measured.summary, measured.table)
            }
            Outcome::NotImplemented { location } => {
                failed += 1;
                println!("TODO {name} ({location})");
            }
            other => {
                failed += 1;
                let text = other.failure().map(|f| f.to_string()).unwrap_or_default();
                println!("FAIL {name}: {}\n{text}", other.label());
            }
        }
    }
    println!("{} passed, {failed} failed", ran - failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The `--seed N` argument, [`DEFAULT_SEED`] without one; `None` (after
/// saying why) when N is not a number, rather than silently another seed.
pub fn seed_arg(args: &[String]) -> Option<u64> {
    let Some(i) = args.iter().position(|a| a == "--seed") else {
        return Some(DEFAULT_SEED);
    };
    match args.get(i + 1).map(|s| s.parse::<u64>()) {
        Some(Ok(seed)) => Some(seed),
        _ => {
            eprintln!("--seed needs a whole number from 0 to {}", u64::MAX);
            None
        }
    }
}
