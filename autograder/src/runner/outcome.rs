//! The result of one test, every case modelled, and how a finished child
//! process is turned into one.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How one test ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    /// The suite's message: expected, found, the minimal sequence, a picture.
    Failed {
        message: String,
    },
    /// The student's code reached `todo!()` at `location` (relative path).
    NotImplemented {
        location: String,
    },
    /// Killed by a signal, named (`SIGSEGV`); `cause` when stderr tells more
    /// (`stack overflow`, `out of memory`).
    Crashed {
        signal: String,
        cause: Option<String>,
    },
    /// Still running after the timeout; killed.
    TimedOut {
        #[serde(serialize_with = "seconds")]
        after: Duration,
    },
    /// Exited (with `code`) without reporting a result.
    ExitedEarly {
        code: i32,
    },
    /// The crate under test does not compile: the compiler's errors.
    DidNotCompile {
        errors: String,
    },
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Passed)
    }

    /// A short label: `passed`, `failed`, `not implemented`, `crashed`...
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed { .. } => "failed",
            Outcome::NotImplemented { .. } => "not implemented",
            Outcome::Crashed { .. } => "crashed",
            Outcome::TimedOut { .. } => "timed out",
            Outcome::ExitedEarly { .. } => "exited early",
            Outcome::DidNotCompile { .. } => "did not compile",
        }
    }

    /// One line saying why the test earned nothing (empty when it passed).
    pub fn reason(&self) -> String {
        match self {
            Outcome::Passed => String::new(),
            Outcome::Failed { .. } => "failed".into(),
            Outcome::NotImplemented { location } => {
                format!("not implemented yet: reached todo!() at {location}")
            }
            Outcome::Crashed { signal, cause } => match cause {
                Some(cause) => format!("crashed: {cause} ({signal})"),
                None => format!("crashed: {signal}{}", signal_meaning(signal)),
            },
            Outcome::TimedOut { after } => format!(
                "timed out after {} (an endless loop, or far too slow) and was killed",
                human_secs(*after)
            ),
            Outcome::ExitedEarly { code } => format!(
                "the test process exited with code {code} before reporting a result \
                 (did something call process::exit?)"
            ),
            Outcome::DidNotCompile { .. } => "did not compile".into(),
        }
    }
}

fn human_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// What a signal usually means in an allocator lesson.
fn signal_meaning(signal: &str) -> &'static str {
    match signal {
        "SIGSEGV" => " (segmentation fault: a read or write outside mapped memory)",
        "SIGBUS" => " (bus error: an access past the end of a mapped file, or misaligned)",
        "SIGABRT" => " (aborted)",
        "SIGILL" => " (illegal instruction)",
        "SIGFPE" => " (arithmetic error)",
        "SIGKILL" => " (killed from outside: perhaps the machine ran out of memory)",
        _ => "",
    }
}

/// The signal's name (`SIGSEGV`), or `signal N`.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}

/// What the harness reports on fd 3 (mirrors `heaplab_suites::harness::Report`).
#[derive(Debug, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Report {
    Passed,
    Failed { message: String },
    NotImplemented { location: String },
}

/// How the child process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    TimedOut(Duration),
}

/// Decides a test's outcome. A result counts only if the child sent a line
/// with the right token *and* then exited normally with code 0.
pub fn classify(exit: Exit, report: Option<Report>, stderr: &str) -> Outcome {
    match exit {
        Exit::TimedOut(after) => Outcome::TimedOut { after },
        Exit::Signal(sig) => Outcome::Crashed {
            signal: signal_name(sig),
            cause: crash_cause(sig, stderr),
        },
        Exit::Code(0) => match report {
            Some(Report::Passed) => Outcome::Passed,
            Some(Report::Failed { message }) => Outcome::Failed { message },
            Some(Report::NotImplemented { location }) => Outcome::NotImplemented { location },
            None => Outcome::ExitedEarly { code: 0 },
        },
        Exit::Code(code) => Outcome::ExitedEarly { code },
    }
}

/// What Rust's runtime said on stderr before the signal.
fn crash_cause(sig: i32, stderr: &str) -> Option<String> {
    if stderr.contains("has overflowed its stack") {
        return Some("stack overflow".into());
    }
    if stderr
        .lines()
        .any(|l| l.contains("memory allocation of") && l.contains("failed"))
    {
        return Some("out of memory".into());
    }
    if sig == libc::SIGKILL {
        return Some("killed (perhaps the machine ran out of memory)".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_needs_a_clean_exit() {
        let passed = || Some(Report::Passed);
        assert_eq!(classify(Exit::Code(0), passed(), ""), Outcome::Passed);
        assert_eq!(
            classify(Exit::Code(3), passed(), ""),
            Outcome::ExitedEarly { code: 3 }
        );
        assert!(matches!(
            classify(Exit::Signal(libc::SIGSEGV), passed(), ""),
            Outcome::Crashed { .. }
        ));
        assert_eq!(
            classify(Exit::Code(0), None, "ok 1 - x"),
            Outcome::ExitedEarly { code: 0 }
        );
    }

    #[test]
    fn runtime_messages_name_the_cause() {
        let so = classify(
            Exit::Signal(libc::SIGABRT),
            None,
            "\nthread 'main' has overflowed its stack\nfatal runtime error: stack overflow\n",
        );
        assert_eq!(
            so,
            Outcome::Crashed {
                signal: "SIGABRT".into(),
                cause: Some("stack overflow".into())
            }
        );
        let oom = classify(
            Exit::Signal(libc::SIGABRT),
            None,
            "memory allocation of 4096 bytes failed\n",
        );
        assert_eq!(oom.reason(), "crashed: out of memory (SIGABRT)");
        assert_eq!(signal_name(libc::SIGBUS), "SIGBUS");
        assert_eq!(signal_name(200), "signal 200");
    }
}
