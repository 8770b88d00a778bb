//! Runs one harness process: its own process group, a timeout (SIGTERM, a
//! short grace, SIGKILL of the group), an address-space limit, capped
//! output, and the token/result pipes on fds 4 and 3.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

use super::outcome::{Exit, Report};
use crate::course::Limits;

/// fd the harness writes its result line to (`heaplab_suites::harness::RESULT_FD`).
pub const RESULT_FD: RawFd = 3;
/// fd the harness reads the token from (`heaplab_suites::harness::TOKEN_FD`).
pub const TOKEN_FD: RawFd = 4;
/// Prefix of the result line (`heaplab_suites::harness::RESULT_TAG`).
pub const RESULT_TAG: &str = "HEAPLAB-RESULT";
/// Time between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(500);
/// Bytes kept from the end of each stream beyond the first `output_bytes`,
/// so a crash message after a flood of output is not lost.
const TAIL_BYTES: usize = 4096;

/// Process groups of the tests running now: on Ctrl-C (or SIGTERM) the
/// grader kills them before it exits, since a group of its own does not get
/// the terminal's SIGINT.
static RUNNING: Mutex<Option<HashSet<libc::pid_t>>> = Mutex::new(None);
static INTERRUPT_HANDLER: Once = Once::new();

fn running() -> std::sync::MutexGuard<'static, Option<HashSet<libc::pid_t>>> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

fn forget_group(pgid: libc::pid_t) {
    if let Some(set) = running().as_mut() {
        set.remove(&pgid);
    }
}

/// Installs (once) the handler that stops every running test on Ctrl-C.
fn stop_tests_on_interrupt() {
    INTERRUPT_HANDLER.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            let groups: Vec<libc::pid_t> = running().iter().flatten().copied().collect();
            for pgid in &groups {
                kill_group(*pgid, libc::SIGKILL);
            }
            eprintln!(
                "grade: interrupted; stopped {} running test{}",
                groups.len(),
                if groups.len() == 1 { "" } else { "s" }
            );
            std::process::exit(i32::from(crate::EXIT_CANNOT_GRADE));
        });
    });
}

/// Bytes a child wrote to one stream: the first `limit` bytes, the last few
/// KiB, and how many were dropped in between.
#[derive(Clone, Debug, Default)]
pub struct Captured {
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
    pub dropped: u64,
}

impl Captured {
    pub fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.head).into_owned();
        if self.dropped > 0 || !self.tail.is_empty() {
            if self.dropped > 0 {
                s.push_str(&format!("\n[... {} bytes not kept ...]\n", self.dropped));
            }
            s.push_str(&String::from_utf8_lossy(&self.tail));
        }
        s
    }

    /// The last `lines` lines.
    pub fn tail_lines(&self, lines: usize) -> String {
        let text = self.text();
        let all: Vec<&str> = text.trim_end().lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// What one run of the harness produced.
#[derive(Debug)]
pub struct Run {
    pub exit: Exit,
    pub report: Option<Report>,
    /// A token line was present but its JSON did not parse (a kit bug).
    pub malformed: Option<String>,
    pub stdout: Captured,
    pub stderr: Captured,
    pub elapsed: Duration,
}

/// Runs `exe args...` as one test.
pub fn run(exe: &Path, args: &[String], limits: &Limits, cwd: &Path) -> std::io::Result<Run> {
    let token = random_token()?;

    // The token pipe is filled and its write end closed before the child
    // starts: the child reads to EOF, and no other process ever holds the
    // write end.
    let (token_r, mut token_w) = std::io::pipe()?;
    token_w.write_all(format!("{token}\n").as_bytes())?;
    drop(token_w);
    let (result_r, result_w) = std::io::pipe()?;
    // std's pipes are close-on-exec, so tests started at the same time never
    // inherit each other's ends. Moved above fd 4 so the dup2 calls in the
    // child cannot overwrite one with the other.
    let token_r = above_fd4(OwnedFd::from(token_r))?;
    let result_w = above_fd4(OwnedFd::from(result_w))?;
    let (token_raw, result_raw) = (token_r.as_raw_fd(), result_w.as_raw_fd());
    let memory = limits.memory_bytes;

    let mut cmd = Command::new(exe);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .process_group(0);
    let pre_exec = move || -> std::io::Result<()> {
        // Runs in the forked child before exec: only async-signal-safe calls.
        // SAFETY: dup2 on descriptors this process owns; the targets 3 and 4
        // get no close-on-exec flag, so the harness inherits them.
        if unsafe { libc::dup2(result_raw, RESULT_FD) } == -1 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: as above.
        if unsafe { libc::dup2(token_raw, TOKEN_FD) } == -1 {
            return Err(std::io::Error::last_os_error());
        }
        // Without address-space randomization, mmap returns the same
        // addresses every run, so two grades of the same code print the same
        // pictures, and a replay shows exactly what the report showed. Where
        // a sandbox forbids it, the addresses just differ between runs.
        // SAFETY: personality(0xffffffff) only queries the persona.
        let persona = unsafe { libc::personality(0xffff_ffff) };
        if persona != -1 {
            let persona = persona as libc::c_ulong | libc::ADDR_NO_RANDOMIZE as libc::c_ulong;
            // SAFETY: the persona changes how the next exec lays out memory,
            // nothing of this process.
            unsafe { libc::personality(persona) };
        }
        // If the grader is killed outright (SIGKILL, a grading server's hard
        // timeout), the test dies with it instead of running on.
        // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag of this process.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
        let limit = libc::rlimit {
            rlim_cur: memory as libc::rlim_t,
            rlim_max: memory as libc::rlim_t,
        };
        // SAFETY: setrlimit reads the struct it is given and changes only
        // this (child) process's limits.
        if unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) } == -1 {
            return Err(std::io::Error::last_os_error());
        }
        // No core files from crashing tests.
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
        Ok(())
    };
    // SAFETY: the closure calls only dup2, personality, prctl and
    // setrlimit, which are async-signal-safe system calls, and allocates nothing.
    unsafe { cmd.pre_exec(pre_exec) };

    stop_tests_on_interrupt();
    let start = Instant::now();
    let mut child = {
        // Registered under the lock, so an interrupt between spawn and
        // registration cannot miss the new group.
        let mut running = running();
        let child = cmd.spawn()?;
        running
            .get_or_insert_with(HashSet::new)
            .insert(child.id() as libc::pid_t);
        child
    };
    drop(token_r);
    drop(result_w);

    let out_rx = drain(child.stdout.take(), limits.output_bytes);
    let err_rx = drain(child.stderr.take(), limits.output_bytes);
    let res_rx = drain(Some(std::fs::File::from(OwnedFd::from(result_r))), 1 << 20);

    let exit = wait(&mut child, limits.timeout);
    forget_group(child.id() as libc::pid_t);
    let exit = exit?;
    let elapsed = start.elapsed();

    // Every process of the group is gone, so the pipes reach EOF; a process
    // that left the group could keep them open, so do not wait forever.
    let deadline = Instant::now() + Duration::from_secs(2);
    let collect = |rx: mpsc::Receiver<Captured>| {
        rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    };
    let stdout = collect(out_rx);
    let stderr = collect(err_rx);
    let result = collect(res_rx);

    let (report, malformed) = find_report(&String::from_utf8_lossy(&result.head), &token);
    Ok(Run {
        exit,
        report,
        malformed,
        stdout,
        stderr,
        elapsed,
    })
}

/// Finds `HEAPLAB-RESULT <token> <json>` anywhere in what came through fd 3.
fn find_report(channel: &str, token: &str) -> (Option<Report>, Option<String>) {
    let needle = format!("{RESULT_TAG} {token} ");
    let Some(at) = channel.find(&needle) else {
        return (None, None);
    };
    let json = channel[at + needle.len()..].lines().next().unwrap_or("");
    match serde_json::from_str::<Report>(json) {
        Ok(report) => (Some(report), None),
        Err(e) => (None, Some(format!("{e}: {json}"))),
    }
}

/// Waits for the child, killing its whole group at the timeout. Reaps it.
fn wait(child: &mut Child, timeout: Duration) -> std::io::Result<Exit> {
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let mut nap = Duration::from_millis(1);
    let timed_out = loop {
        if exited(pid)? {
            break false;
        }
        if start.elapsed() >= timeout {
            break true;
        }
        thread::sleep(nap.min(timeout.saturating_sub(start.elapsed())));
        nap = (nap * 2).min(Duration::from_millis(20));
    };
    if timed_out {
        kill_group(pid, libc::SIGTERM);
        let grace_end = Instant::now() + GRACE;
        while !exited(pid)? && Instant::now() < grace_end {
            thread::sleep(Duration::from_millis(10));
        }
    }
    // The leader is a zombie (or still running after the grace), so its pid,
    // which is the group's id, cannot have been reused: kill what is left of
    // the group (a program the test started, or the leader itself).
    kill_group(pid, libc::SIGKILL);
    // Forgotten before it is reaped: once reaped, its pid may be reused.
    forget_group(pid);
    let status = child.wait()?;
    Ok(if timed_out {
        Exit::TimedOut(timeout)
    } else if let Some(sig) = status.signal() {
        Exit::Signal(sig)
    } else {
        Exit::Code(status.code().unwrap_or(-1))
    })
}

/// True once the child has exited; does not reap it (WNOWAIT).
fn exited(pid: libc::pid_t) -> std::io::Result<bool> {
    // SAFETY: siginfo_t is plain data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid writes only into `info`, which lives for the call.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if rc == -1 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: waitid filled `info`; si_pid is 0 when no child changed state.
    Ok(unsafe { info.si_pid() } != 0)
}

fn kill_group(pgid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: killpg sends a signal; it touches no memory of this process.
    unsafe { libc::killpg(pgid, sig) };
}

/// Reads a stream to its end on a thread, keeping the first `limit` bytes
/// and the last [`TAIL_BYTES`]; the rest is read and dropped, so a chatty
/// child never blocks on a full pipe.
fn drain<R: Read + Send + 'static>(stream: Option<R>, limit: usize) -> mpsc::Receiver<Captured> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut cap = Captured::default();
        if let Some(mut stream) = stream {
            let mut buf = [0u8; 16 * 1024];
            loop {
                let n = match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                let mut chunk = &buf[..n];
                let room = limit.saturating_sub(cap.head.len());
                let take = room.min(chunk.len());
                cap.head.extend_from_slice(&chunk[..take]);
                chunk = &chunk[take..];
                if !chunk.is_empty() {
                    cap.tail.extend_from_slice(chunk);
                    if cap.tail.len() > TAIL_BYTES {
                        let extra = cap.tail.len() - TAIL_BYTES;
                        cap.dropped += extra as u64;
                        cap.tail.drain(..extra);
                    }
                }
            }
        }
        let _ = tx.send(cap);
    });
    rx
}

/// Duplicates `fd` to a number above 4 (close-on-exec), closing the original.
fn above_fd4(fd: OwnedFd) -> std::io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC creates a new descriptor; `fd` stays valid.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, TOKEN_FD + 1) };
    if new == -1 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `new` was just created by fcntl and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// 128 bits from the OS's random source, as hex.
fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| std::io::Error::other(format!("no OS randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_line_counts() {
        let token = "abc123";
        let fake = "HEAPLAB-RESULT 000 {\"status\":\"passed\"}\n";
        assert!(find_report(fake, token).0.is_none());
        let real = format!("{fake}junk{RESULT_TAG} {token} {{\"status\":\"passed\"}}\n");
        assert!(matches!(find_report(&real, token).0, Some(Report::Passed)));
        let bad = format!("{RESULT_TAG} {token} {{nope\n");
        assert!(find_report(&bad, token).1.is_some());
    }

    #[test]
    fn the_protocol_matches_the_harness() {
        use heaplab_suites::harness;
        assert_eq!(RESULT_FD, harness::RESULT_FD);
        assert_eq!(TOKEN_FD, harness::TOKEN_FD);
        assert_eq!(RESULT_TAG, harness::RESULT_TAG);
        assert_eq!(crate::grade::DEFAULT_SEED, harness::DEFAULT_SEED);
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(random_token().unwrap(), random_token().unwrap());
        assert_eq!(random_token().unwrap().len(), 32);
    }
}
