//! How a process ended, in words: the signal's name, what it usually means
//! in an allocator lesson, and what Rust's runtime said before it.

use serde::{Deserialize, Serialize};

/// How the student's process stopped in the middle of an operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stopped {
    /// Killed by `signal` (`SIGSEGV`); `cause` when its stderr says more.
    Crashed {
        signal: String,
        cause: Option<String>,
    },
    /// No answer within `after_ms`: killed.
    Hung { after_ms: u64 },
    /// It exited, with `code`, before answering.
    Exited { code: i32 },
}

impl Stopped {
    /// From `waitpid`'s status word and the process's last stderr.
    pub fn from_wait_status(status: i32, stderr: &str) -> Stopped {
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            Stopped::Crashed {
                signal: signal_name(sig),
                cause: crash_cause(sig, stderr),
            }
        } else {
            Stopped::Exited {
                code: libc::WEXITSTATUS(status),
            }
        }
    }

    /// The name hints know this by: `crash`, `hang` or `exit`.
    pub fn check(&self) -> &'static str {
        match self {
            Stopped::Crashed { .. } => crate::checks::CRASH,
            Stopped::Hung { .. } => crate::checks::HANG,
            Stopped::Exited { .. } => crate::checks::EXIT,
        }
    }

    /// One line: `crashed: segmentation fault (SIGSEGV)`…
    pub fn describe(&self) -> String {
        match self {
            Stopped::Crashed {
                signal,
                cause: Some(cause),
            } => format!("crashed: {cause} ({signal})"),
            Stopped::Crashed {
                signal,
                cause: None,
            } => format!("crashed with {signal}{}", signal_meaning(signal)),
            Stopped::Hung { after_ms } => format!(
                "did not return within {} and was stopped (an endless loop, or far too slow)",
                human_ms(*after_ms)
            ),
            Stopped::Exited { code } => format!(
                "ended the process with exit code {code} instead of returning \
                 (did something call process::exit?)"
            ),
        }
    }
}

fn human_ms(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// What a signal usually means in an allocator lesson.
pub fn signal_meaning(signal: &str) -> &'static str {
    match signal {
        "SIGSEGV" => " (segmentation fault: a read or write outside mapped memory)",
        "SIGBUS" => " (bus error: an access past the end of a mapped file, or misaligned)",
        "SIGABRT" => " (aborted)",
        "SIGILL" => " (illegal instruction)",
        "SIGFPE" => " (arithmetic error)",
        "SIGKILL" => " (killed from outside: perhaps it used too much memory)",
        "SIGXFSZ" => " (a file grew past the test's limit)",
        "SIGSYS" => " (a system call the test does not allow)",
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

/// What Rust's runtime said on stderr before the signal.
pub fn crash_cause(sig: i32, stderr: &str) -> Option<String> {
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
        return Some("killed (perhaps it used too much memory)".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wait status as the kernel makes it.
    fn signalled(sig: i32) -> i32 {
        sig
    }

    fn exited(code: i32) -> i32 {
        code << 8
    }

    #[test]
    fn wait_statuses_read_as_signals_or_exits() {
        assert_eq!(
            Stopped::from_wait_status(signalled(libc::SIGSEGV), ""),
            Stopped::Crashed {
                signal: "SIGSEGV".into(),
                cause: None
            }
        );
        assert_eq!(
            Stopped::from_wait_status(exited(3), ""),
            Stopped::Exited { code: 3 }
        );
    }

    #[test]
    fn runtime_messages_name_the_cause() {
        let so = Stopped::from_wait_status(
            signalled(libc::SIGABRT),
            "\nthread 'main' has overflowed its stack\nfatal runtime error: stack overflow\n",
        );
        assert_eq!(so.describe(), "crashed: stack overflow (SIGABRT)");
        let oom = Stopped::from_wait_status(
            signalled(libc::SIGABRT),
            "memory allocation of 4096 bytes failed\n",
        );
        assert_eq!(oom.describe(), "crashed: out of memory (SIGABRT)");
        assert_eq!(signal_name(libc::SIGBUS), "SIGBUS");
        assert_eq!(signal_name(200), "signal 200");
        assert!(Stopped::Hung { after_ms: 1000 }.describe().contains("1 s"));
    }
}
