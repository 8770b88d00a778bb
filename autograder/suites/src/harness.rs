//! The child side of the grading protocol: the `main` of every harness binary.
//!
//! The grader builds one harness binary per lesson (the suite linked with the
//! student's crate) and runs it once per test:
//!
//! ```text
//! harness --list                      test names, one a line
//! harness --run NAME --seed N         one test; the result goes to fd 3
//! harness --all [--seed N] [--test NAME] [--skip NAME]
//!                                     every test (or those whose name contains
//!                                     NAME, less the skipped) in this process
//!                                     (Miri, debugging)
//! harness --as PROGRAM [ARGS...]      run one of the lesson's programs (lesson 1)
//! ```
//!
//! With `--run`, the grader passes two pipes: fd 4 carries a random token,
//! read here before any student code runs; fd 3 takes one line,
//! `HEAPLAB-RESULT <token> <json>`, written after the test returns. Whatever
//! the student's code prints, or however it exits, it cannot produce that
//! line without the token, so it cannot fake a pass. The grader counts the
//! line only if the process then exits with code 0; a crash, a timeout or an
//! early exit is graded by how the process ended (see docs/grading.md).

use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The file descriptor the result line is written to.
pub const RESULT_FD: i32 = 3;
/// The file descriptor the grader's token is read from.
pub const TOKEN_FD: i32 = 4;
/// Prefix of the result line.
pub const RESULT_TAG: &str = "HEAPLAB-RESULT";

/// What one test reports when it returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Report {
    Passed,
    /// The message says what was expected, what was found, and (for a
    /// property) the minimal sequence of operations and a picture.
    Failed {
        message: String,
    },
    /// The student's code reached a `todo!()`: `location` is `file:line:col`.
    NotImplemented {
        location: String,
    },
}

/// What a test is given to run with.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    /// Seed for every random choice the test makes: the same seed, the same
    /// cases, the same counterexample.
    pub seed: u64,
}

/// The body of a test: `Ok(())` when it passes, `Err(message)` when it fails.
pub type TestFn = Box<dyn Fn(&Ctx) -> Result<(), String>>;

/// One named test of a suite.
pub struct Test {
    /// The name the manifest (`course.toml`) gives points, title and hint to.
    pub name: &'static str,
    pub run: TestFn,
}

impl Test {
    pub fn new(name: &'static str, run: impl Fn(&Ctx) -> Result<(), String> + 'static) -> Self {
        Test {
            name,
            run: Box::new(run),
        }
    }
}

/// A program the harness can run as `harness --as NAME [ARGS...]`: lesson 1's
/// `save-array` and `print-array`, or a tool such as a trace replayer that
/// needs the student's heap linked in.
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

/// Everything a lesson's harness runs.
#[derive(Default)]
pub struct Suite {
    pub tests: Vec<Test>,
    pub programs: Vec<Program>,
}

/// The seed used when the grader passes none.
pub const DEFAULT_SEED: u64 = 0x4EA9_1AB5;

/// The first `todo!()` or `unimplemented!()` reached, as `file:line:col`.
static NOT_IMPLEMENTED: Mutex<Option<String>> = Mutex::new(None);
/// The most recent panic, message and location, for the failure message.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// The `main` of a harness binary.
pub fn main(suite: Suite) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
        Some("--run") => {
            let Some(name) = args.get(1) else {
                eprintln!("harness: --run needs a test name");
                return ExitCode::from(2);
            };
            let token = read_token();
            let Some(seed) = seed_arg(&args) else {
                return ExitCode::from(2);
            };
            let Some(test) = suite.tests.iter().find(|t| t.name == name) else {
                eprintln!("harness: no test named {name:?}");
                return ExitCode::from(2);
            };
            let report = run_one(test, seed);
            write_report(token.as_deref(), &report);
            ExitCode::SUCCESS
        }
        Some("--all") => {
            let Some(seed) = seed_arg(&args) else {
                return ExitCode::from(2);
            };
            // `--test NAME`: only the tests whose name contains NAME.
            let only = args
                .iter()
                .position(|a| a == "--test")
                .and_then(|i| args.get(i + 1));
            // `--skip NAME` (repeatable): leave out the tests whose name
            // contains NAME (Miri skips the trace replays: hours there).
            let skipped: Vec<&String> = args
                .iter()
                .enumerate()
                .filter(|(_, a)| *a == "--skip")
                .filter_map(|(i, _)| args.get(i + 1))
                .collect();
            let tests: Vec<&Test> = suite
                .tests
                .iter()
                .filter(|t| only.is_none_or(|n| t.name.contains(n.as_str())))
                .filter(|t| !skipped.iter().any(|n| t.name.contains(n.as_str())))
                .collect();
            for name in suite.tests.iter().map(|t| t.name) {
                if skipped.iter().any(|n| name.contains(n.as_str())) {
                    println!("SKIP {name}");
                }
            }
            let mut failed = 0;
            for test in &tests {
                let report = run_one(test, seed);
                match &report {
                    Report::Passed => println!("PASS {}", test.name),
                    Report::Failed { message } => {
                        failed += 1;
                        println!("FAIL {}\n{message}", test.name);
                    }
                    Report::NotImplemented { location } => {
                        failed += 1;
                        println!("TODO {} ({location})", test.name);
                    }
                }
            }
            println!("{} passed, {failed} failed", tests.len() - failed);
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!(
                "usage: harness --list | --run NAME [--seed N] | --all [--seed N] [--test NAME] [--skip NAME] | --as PROGRAM [ARGS...]"
            );
            ExitCode::from(2)
        }
    }
}

/// The `--seed N` argument, [`DEFAULT_SEED`] without one; `None` (after
/// saying why) when N is not a number, rather than silently another seed.
fn seed_arg(args: &[String]) -> Option<u64> {
    let Some(i) = args.iter().position(|a| a == "--seed") else {
        return Some(DEFAULT_SEED);
    };
    match args.get(i + 1).map(|s| s.parse::<u64>()) {
        Some(Ok(seed)) => Some(seed),
        _ => {
            eprintln!(
                "harness: --seed needs a whole number from 0 to {}",
                u64::MAX
            );
            None
        }
    }
}

/// Runs one test in this process, catching panics and noticing `todo!()`.
pub fn run_one(test: &Test, seed: u64) -> Report {
    install_panic_hook();
    // Nothing from an earlier test of the same process (`--all`) carries over.
    lock(&NOT_IMPLEMENTED).take();
    lock(&LAST_PANIC).take();
    let ctx = Ctx { seed };
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| (test.run)(&ctx)));
    if let Some(location) = lock(&NOT_IMPLEMENTED).take() {
        return Report::NotImplemented { location };
    }
    match outcome {
        Ok(Ok(())) => Report::Passed,
        Ok(Err(message)) => Report::Failed { message },
        Err(_) => {
            let message = lock(&LAST_PANIC)
                .take()
                .unwrap_or_else(|| "the test panicked".to_string());
            Report::Failed { message }
        }
    }
}

/// True once the student's code has reached a `todo!()`: a property test can
/// stop early instead of shrinking a sequence that fails everywhere.
pub fn reached_todo() -> bool {
    lock(&NOT_IMPLEMENTED).is_some()
}

/// Records that a program the test started (`harness --as NAME`, lesson 1)
/// reached a `todo!()` at `location` (`file:line:col`): the test then reports
/// NotImplemented, as if the `todo!()` had been reached in this process.
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
            "panic".to_string()
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

/// Reads the grader's token from [`TOKEN_FD`] and makes [`RESULT_FD`]
/// close-on-exec, so programs the test starts cannot write to it.
fn read_token() -> Option<String> {
    // SAFETY: fcntl on a descriptor number only queries it; a closed one gives -1.
    if unsafe { libc::fcntl(TOKEN_FD, libc::F_GETFD) } == -1 {
        return None;
    }
    // SAFETY: the grader opened TOKEN_FD for this process and nothing else owns it;
    // the File closes it when dropped, before any student code runs.
    let mut pipe = unsafe { std::fs::File::from_raw_fd(TOKEN_FD) };
    let mut token = String::new();
    pipe.read_to_string(&mut token).ok()?;
    // SAFETY: setting FD_CLOEXEC on a descriptor changes no memory.
    unsafe { libc::fcntl(RESULT_FD, libc::F_SETFD, libc::FD_CLOEXEC) };
    Some(token.trim().to_string())
}

fn write_report(token: Option<&str>, report: &Report) {
    let json = serde_json::to_string(report).expect("a report always serializes");
    match token {
        // The student's code may have closed RESULT_FD: then there is no
        // result to send, and the grader counts the test as exited early.
        // SAFETY: fcntl on a descriptor number only queries it.
        Some(_) if unsafe { libc::fcntl(RESULT_FD, libc::F_GETFD) } == -1 => {}
        Some(token) => {
            // SAFETY: the grader opened RESULT_FD for this process (checked open
            // just above); it is written once, here.
            let mut pipe = unsafe { std::fs::File::from_raw_fd(RESULT_FD) };
            let _ = writeln!(pipe, "{RESULT_TAG} {token} {json}");
        }
        // Run by hand, without the grader's pipes: show the result.
        None => println!("{json}"),
    }
}
