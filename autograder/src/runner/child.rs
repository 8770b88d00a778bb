//! Runs one of the kit's own programs (a test's checker, the trace
//! replayer): its own process group, a timeout (SIGTERM, a short grace,
//! SIGKILL of the group), capped output, and nothing left running after it.

use std::collections::HashSet;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    TimedOut(Duration),
}

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

/// What one run produced.
#[derive(Debug)]
pub struct Run {
    pub exit: Exit,
    pub stdout: Captured,
    pub stderr: Captured,
    pub elapsed: Duration,
}

/// How a run may go: its time, the bytes of output kept, and the CPU it
/// runs on.
#[derive(Clone, Debug)]
pub struct RunLimits {
    pub timeout: Duration,
    pub output_bytes: usize,
    /// Keep the process, and what it starts, on this CPU (an index into the
    /// CPUs this process may use), or let the kernel place them.
    pub cpu: Option<usize>,
    /// Variables added to the process's environment.
    pub env: Vec<(String, String)>,
}

/// The set of one CPU: the `index`-th of those this process may use.
fn cpu_set(index: usize) -> Option<libc::cpu_set_t> {
    // SAFETY: cpu_set_t is plain data; all-zero is the empty set.
    let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: sched_getaffinity writes the set of this process's CPUs.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) };
    if rc != 0 {
        return None;
    }
    let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: CPU_ISSET reads one bit of the set.
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &allowed) })
        .collect();
    let cpu = *cpus.get(index % cpus.len().max(1))?;
    // SAFETY: as above: the empty set.
    let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET sets one bit of the set.
    unsafe { libc::CPU_SET(cpu, &mut one) };
    Some(one)
}

/// Runs `exe args...` in `cwd`, within `limits`.
pub fn run(exe: &Path, args: &[String], limits: &RunLimits, cwd: &Path) -> std::io::Result<Run> {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .envs(limits.env.iter().map(|(k, v)| (k, v)))
        .process_group(0);
    let cpu = limits.cpu.and_then(cpu_set);
    let pre_exec = move || -> std::io::Result<()> {
        // A test's checker and the student's process talk in turns: on one
        // CPU, each hands over to the other without waking a second CPU,
        // several times faster than across two.
        if let Some(set) = &cpu {
            // SAFETY: sched_setaffinity reads the set; it changes only which
            // CPUs this (child) process runs on.
            unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) };
        }
        // If the grader is killed outright (SIGKILL, a grading server's hard
        // timeout), the process dies with it instead of running on.
        // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag of this process.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
        // No core files.
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct it is given and changes only
        // this (child) process's limits.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
        Ok(())
    };
    // SAFETY: the closure calls only sched_setaffinity, prctl and setrlimit,
    // which are async-signal-safe system calls, and allocates nothing.
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
    let out_rx = drain(child.stdout.take(), limits.output_bytes);
    let err_rx = drain(child.stderr.take(), limits.output_bytes);

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
    Ok(Run {
        exit,
        stdout,
        stderr,
        elapsed,
    })
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
