//! Programs a test runs that are not the subject: real programs (`ls`,
//! `sort`, `python3`…) with the student's library preloaded, and what the
//! grader built from the student's crate before the tests (lesson 7's
//! library and its Rust test program). In the checker they run in the
//! test's confinement, like the student's own process.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use heaplab_protocol::Failure;

use crate::harness::note_todo;

mod watched;

pub use watched::{run_watched, Watched};

/// How a program ran.
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

/// What the grader built under `name` (`course.toml`'s `[[lesson.build]]`).
pub fn artifact(name: &str) -> Result<PathBuf, Failure> {
    let config = crate::remote::config().ok_or_else(|| {
        Failure::text(format!(
            "this test needs the `{name}` the grader builds from your crate: run it with \
             `cargo grade`, not in a local harness"
        ))
    })?;
    config.artifacts.get(name).cloned().ok_or_else(|| {
        Failure::text(format!(
            "the grader built no `{name}` for this lesson (course.toml's [[lesson.build]]); a kit bug"
        ))
    })
}

/// A fresh folder in the test's scratch folder that the student's
/// processes may write to (given to their user when they run as one of
/// their own); removed when dropped.
pub fn student_dir() -> Result<tempfile::TempDir, Failure> {
    let dir = tempfile::tempdir().map_err(|e| format!("no temporary folder: {e}"))?;
    if let Some(config) = crate::remote::config() {
        crate::remote::hand_over(dir.path(), &config)
            .map_err(|e| format!("cannot hand {} over: {e}", dir.path().display()))?;
    }
    Ok(dir)
}

/// `name` on the PATH, preferring the system's own copy in /usr/bin (a
/// version manager's shim would run a shell script first).
pub fn find_program(name: &str) -> Option<PathBuf> {
    for dir in ["/usr/bin", "/bin"] {
        let path = Path::new(dir).join(name);
        if path.is_file() {
            return Some(path);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A command for `program`, confined as the student's processes are when
/// the checker runs the test; the caller adds arguments and environment.
pub fn command(program: &Path) -> Result<Command, String> {
    let mut command = Command::new(program);
    if let Some(config) = crate::remote::config() {
        crate::remote::confine(&mut command, &config, None)?;
    }
    Ok(command)
}

/// Runs `command` with a time limit; kills it (and reports `Err`) on timeout.
pub fn run(mut command: Command, limit: Duration) -> Result<Ran, String> {
    let started = Instant::now();
    let mut child: Child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {command:?}: {e}"))?;
    // Drain both pipes on threads, so a chatty child never blocks on a full pipe.
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return Ok(Ran {
                    status,
                    stdout: out.join().unwrap_or_default(),
                    stderr: err.join().unwrap_or_default(),
                    elapsed: started.elapsed(),
                })
            }
            Ok(None) if started.elapsed() > limit => {
                stop(&mut child);
                let stderr = err.join().unwrap_or_default();
                return Err(format!(
                    "{} did not finish within {} s (a deadlock?); its stderr ended with:\n{}",
                    command.get_program().to_string_lossy(),
                    limit.as_secs(),
                    tail(&stderr)
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for {command:?}: {e}")),
        }
    }
}

/// Kills the program and what it started (its process group), and reaps it.
fn stop(child: &mut Child) {
    // SAFETY: killpg sends a signal to the group the program leads (it is
    // not reaped yet, so the id is still its own); nothing else is touched.
    unsafe { libc::killpg(child.id() as libc::pid_t, libc::SIGKILL) };
    let _ = child.kill();
    let _ = child.wait();
}

fn drain<R: Read + Send + 'static>(stream: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut s) = stream {
            let _ = s.read_to_end(&mut v);
        }
        v
    })
}

/// The last lines of a program's output, for a message.
pub fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}

/// When a program died of the stub's `todo!()` (Rust's panic message, then
/// an abort), tells the harness where, so the test reads "not implemented".
pub fn notice_todo(stderr: &[u8]) {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    let Some(at) = lines
        .iter()
        .position(|l| l.contains("not yet implemented") || l.contains("not implemented"))
    else {
        return;
    };
    // "thread '<unnamed>' panicked at src/preload.rs:37:5:" comes just before.
    let location = lines[..=at]
        .iter()
        .rev()
        .find_map(|l| {
            l.split_once("panicked at ")
                .map(|(_, rest)| rest.trim_end_matches(':'))
        })
        .unwrap_or("an unknown place");
    note_todo(format!(
        "{location} (in the crate built as a library or program)"
    ));
}
