//! Running a program with a checkpoint at its exit: the checker traces it
//! (`ptrace`, the main thread only) and, when it is about to exit, reads its
//! `/proc/<pid>/maps` — the kernel's word on what it had loaded and how it
//! got its memory, which the program's own output (a library's statistics)
//! could not forge.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{drain, tail, Ran};

/// How a watched program ended, and its memory map at the exit checkpoint
/// (`None` if it never reached one: killed by a signal).
pub struct Watched {
    pub ran: Ran,
    pub maps_at_exit: Option<String>,
}

/// Runs `command` traced, with a time limit; kills it (and reports `Err`)
/// on timeout.
pub fn run_watched(mut command: Command, limit: Duration) -> Result<Watched, String> {
    // SAFETY: PTRACE_TRACEME only makes this (child) process traceable by
    // its parent; it reads no memory. It runs after the confinement's steps.
    unsafe {
        command.pre_exec(|| {
            if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    };
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {command:?}: {e}"))?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let pid = child.id() as libc::pid_t;
    // Reaped by `follow` (waitpid), never by `child`.
    drop(child);
    let followed = follow(pid, started + limit);
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match followed {
        Some((status, maps_at_exit)) => Ok(Watched {
            ran: Ran {
                status,
                stdout,
                stderr,
                elapsed: started.elapsed(),
            },
            maps_at_exit,
        }),
        None => Err(format!(
            "{} did not finish within {} s (a deadlock?); its stderr ended with:\n{}",
            command.get_program().to_string_lossy(),
            limit.as_secs(),
            tail(&stderr)
        )),
    }
}

/// Follows the traced program to its end: its exit status and its maps at
/// the exit checkpoint, or `None` (killed, with its group) at `deadline`.
fn follow(pid: libc::pid_t, deadline: Instant) -> Option<(ExitStatus, Option<String>)> {
    let mut maps = None;
    let mut started = false;
    loop {
        let mut status = 0;
        // SAFETY: waits for our own child; writes the status word.
        let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG | libc::__WALL) };
        if rc == 0 {
            if Instant::now() > deadline {
                kill(pid);
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        if rc == -1 || libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            return Some((ExitStatus::from_raw(status), maps));
        }
        let signal = libc::WSTOPSIG(status);
        let event = status >> 16;
        let deliver = if !started {
            // The stop after exec: ask for a stop at exit, and that the
            // program dies if the checker does.
            started = true;
            let options = libc::PTRACE_O_TRACEEXIT | libc::PTRACE_O_EXITKILL;
            // SAFETY: sets tracing options of our stopped tracee.
            unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, pid, 0, options) };
            0
        } else if event == libc::PTRACE_EVENT_EXIT {
            maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok();
            0
        } else {
            signal
        };
        // SAFETY: resumes our stopped tracee, passing its signal on.
        unsafe { libc::ptrace(libc::PTRACE_CONT, pid, 0, deliver) };
    }
}

fn kill(pid: libc::pid_t) {
    // SAFETY: the program's own group, and the program (not reaped yet).
    unsafe {
        libc::killpg(pid, libc::SIGKILL);
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL);
    }
}
