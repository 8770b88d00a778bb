//! Tying a heap's crash, panic or timeout to the trace line it happened at.
//!
//! The replayer stores the line of every operation in [`LINE`] before doing
//! it. A panic is caught and becomes the trace's error. A fatal signal
//! (SIGSEGV, SIGBUS, ...) or the grader's SIGTERM at a timeout cannot be
//! caught that way: a handler writes one line to stderr,
//! `HEAPLAB-REPLAY-STOPPED <phase> <line> <signal>`, which `grade bench`
//! reads, and the process then dies of the signal as it would have.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use crate::rep::Trace;
use crate::replay::LINE;
use crate::report::{Failure, TraceResult, STOPPED_TAG};

/// Which replay was running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    Checked = 1,
    TimedHeap = 2,
    TimedSystem = 3,
}

static PHASE: AtomicU8 = AtomicU8::new(0);
static PANIC: Mutex<Option<String>> = Mutex::new(None);

pub fn phase(p: Phase) {
    PHASE.store(p as u8, Ordering::Relaxed);
}

/// Describes a phase for a message.
pub fn phase_name(p: u8) -> &'static str {
    match p {
        1 => "the checked replay",
        2 => "the timed replay of the heap",
        3 => "the timed replay of the system allocator",
        _ => "the replay",
    }
}

/// Runs one trace's replay; a panic in it becomes the trace's error, tied to
/// the line being replayed.
pub fn guard(file: &str, trace: &Trace, replay: impl FnOnce() -> TraceResult) -> TraceResult {
    LINE.store(0, Ordering::Relaxed);
    match panic::catch_unwind(AssertUnwindSafe(replay)) {
        Ok(result) => result,
        Err(_) => {
            let line = LINE.load(Ordering::Relaxed);
            let what = lock_panic().take().unwrap_or_else(|| "a panic".to_string());
            TraceResult {
                file: file.to_string(),
                name: trace.name.clone(),
                ops: trace.ops.len(),
                error: Some(Failure {
                    line,
                    op: trace.line_text(line),
                    message: format!(
                        "the heap panicked during {}: {what}",
                        phase_name(PHASE.load(Ordering::Relaxed))
                    ),
                }),
                peak_live: 0,
                peak_mapped: 0,
                utilization: 0.0,
                ops_per_sec: 0.0,
                system_ops_per_sec: 0.0,
                index: 0.0,
                timeline: Vec::new(),
            }
        }
    }
}

fn lock_panic() -> std::sync::MutexGuard<'static, Option<String>> {
    PANIC.lock().unwrap_or_else(|p| p.into_inner())
}

/// Installs the panic hook and the fatal-signal handlers.
pub fn install() {
    panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        *lock_panic() = Some(format!("{message}{at}"));
    }));
    for sig in [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGABRT,
        libc::SIGTERM,
    ] {
        // SAFETY: a zeroed sigaction is a valid starting point; the handler
        // only makes async-signal-safe calls (write, _exit, re-raise).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fatal_signal as *const () as usize;
            // Reset to the default action on entry, so returning re-raises a
            // fault and the process dies of it; run on the alternate stack
            // Rust sets up, so a stack overflow can still be reported.
            action.sa_flags = libc::SA_RESETHAND | libc::SA_NODEFER | libc::SA_ONSTACK;
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// A line built in a fixed buffer: a signal handler must not allocate.
struct LineBuf {
    buf: [u8; 96],
    len: usize,
}

impl LineBuf {
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.len < self.buf.len() {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
    }

    fn put_number(&mut self, mut n: usize) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.put(&digits[i..]);
    }
}

extern "C" fn on_fatal_signal(sig: libc::c_int) {
    let mut line = LineBuf {
        buf: [0; 96],
        len: 0,
    };
    line.put(STOPPED_TAG.as_bytes());
    line.put(b" ");
    line.put_number(PHASE.load(Ordering::Relaxed) as usize);
    line.put(b" ");
    line.put_number(LINE.load(Ordering::Relaxed));
    line.put(b" ");
    line.put_number(sig as usize);
    line.put(b"\n");
    // SAFETY: write(2) is async-signal-safe; the buffer holds len bytes.
    unsafe { libc::write(2, line.buf.as_ptr().cast(), line.len) };
    if sig == libc::SIGTERM {
        // SAFETY: _exit is async-signal-safe and ends the process at once.
        unsafe { libc::_exit(128 + libc::SIGTERM) };
    }
    // SAFETY: raise is async-signal-safe; the action is back to the default
    // (SA_RESETHAND), so the process dies of the signal, as it would have.
    unsafe { libc::raise(sig) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rep::parse;

    #[test]
    fn a_panic_in_the_replay_becomes_the_traces_error_at_its_line() {
        let trace = parse("t.rep", "0\n2\n3\n1\na 0 8\na 1 8\nf 0\n").unwrap();
        phase(Phase::TimedHeap);
        let result = guard("t.rep", &trace, || {
            LINE.store(6, Ordering::Relaxed);
            panic!("the heap gave up");
        });
        let error = result.error.expect("the panic is the trace's error");
        assert_eq!((error.line, error.op.as_str()), (6, "a 1 8"));
        assert!(
            error
                .message
                .contains("during the timed replay of the heap"),
            "{}",
            error.message
        );
        assert_eq!((result.file.as_str(), result.utilization), ("t.rep", 0.0));
    }
}
