//! `threads_share_the_process_heap`: four threads of a program allocate,
//! write their mark, check it and free at random, through the student's
//! library preloaded (its per-thread caches, its locks: the process heap as
//! C programs use it), handing blocks back and forth between threads
//! through `free`. Then the program lists the blocks its threads hold and
//! stops itself; the checker reads them from outside (`/proc/<pid>/maps`,
//! `process_vm_readv`): every block lies in mapped memory, holds its
//! thread's mark in every byte, and overlaps no other. The program's own
//! report is only a report: the verdict is what the kernel shows.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use heaplab_protocol::Failure;
use heaplab_subject::threads::mark;

use crate::harness::Test;
use crate::outside::{self, artifact, notice_todo};
use crate::remote::procfs;

/// Operations each thread does: enough that the threads overlap in time
/// on a busy machine (a few tenths of a second with the system allocator).
const ROUNDS: u64 = 100_000;
/// How long the program may take to reach its stop, and then to finish.
const LIMIT: Duration = Duration::from_secs(60);

/// A block a thread holds, as the program lists it.
#[derive(Clone, Copy, Debug)]
struct Held {
    thread: u32,
    addr: usize,
    size: usize,
}

/// The test.
pub fn test() -> Test {
    Test::new("threads_share_the_process_heap", |ctx| run(ctx.seed))
}

fn run(seed: u64) -> Result<(), Failure> {
    let workloads = artifact("workloads")?;
    let library = artifact("library")?;
    let mut command = outside::command(&workloads).map_err(Failure::text)?;
    command
        .args(["threads", &seed.to_string(), &ROUNDS.to_string()])
        .env("LD_PRELOAD", &library)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| Failure::text(format!("cannot start the workloads program: {e}")))?;
    let result = watch(&mut child);
    stop(&mut child);
    result
}

/// Follows the program to its stop, checks what it holds, lets it finish.
fn watch(child: &mut Child) -> Result<(), Failure> {
    let lines = lines_of(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let pid = child.id();
    let started = Instant::now();
    let mut held = Vec::new();
    loop {
        let left = LIMIT.saturating_sub(started.elapsed());
        match lines.recv_timeout(left) {
            Ok(line) if line == "stopping" => break,
            Ok(line) => held.push(parse(&line).ok_or_else(|| said(&line, child, stderr.clone()))?),
            Err(_) => return Err(ended_early(child, stderr, "before listing its blocks")),
        }
    }
    wait_stopped(pid)?;
    check_blocks(pid, &held)?;
    // SAFETY: kill sends SIGCONT to our own child, stopped and not reaped.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGCONT) };
    let freed = lines.recv_timeout(LIMIT).is_ok_and(|line| line == "freed");
    if freed && exited_cleanly(child) {
        return Ok(());
    }
    Err(ended_early(
        child,
        stderr,
        "while freeing its blocks after the stop, or at exit",
    ))
}

/// Waits (within [`LIMIT`]) for the program to exit, and says whether it
/// exited with status 0.
fn exited_cleanly(child: &mut Child) -> bool {
    let started = Instant::now();
    while started.elapsed() < LIMIT {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => return false,
        }
    }
    false
}

/// The program's stdout, line by line, on a channel.
fn lines_of(stdout: Option<std::process::ChildStdout>) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        if let Some(out) = stdout {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

/// The program's stderr, read to its end on a thread.
fn drain(stderr: Option<std::process::ChildStderr>) -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    let bytes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let into = bytes.clone();
    std::thread::spawn(move || {
        if let Some(mut err) = stderr {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut err, &mut buf) {
                if n == 0 {
                    break;
                }
                into.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        }
    });
    bytes
}

/// `block THREAD ADDR SIZE`.
fn parse(line: &str) -> Option<Held> {
    let mut words = line.strip_prefix("block ")?.split(' ');
    let thread = words.next()?.parse().ok()?;
    let addr = usize::from_str_radix(words.next()?.strip_prefix("0x")?, 16).ok()?;
    let size = words.next()?.parse().ok()?;
    Some(Held { thread, addr, size })
}

/// Waits until the program has stopped itself.
fn wait_stopped(pid: u32) -> Result<(), Failure> {
    let started = Instant::now();
    while started.elapsed() < LIMIT {
        let mut status = 0;
        // SAFETY: waits for our own child without reaping a stop.
        let r = unsafe {
            libc::waitpid(
                pid as libc::pid_t,
                &mut status,
                libc::WUNTRACED | libc::WNOHANG,
            )
        };
        if r == pid as libc::pid_t && libc::WIFSTOPPED(status) {
            return Ok(());
        }
        if r == pid as libc::pid_t {
            return Err(Failure::text(format!(
                "the threads program ended (status {status:#x}) instead of stopping"
            )));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Err(Failure::text(
        "the threads program never stopped to be looked at",
    ))
}

/// Every held block is mapped, keeps its thread's mark, overlaps no other.
fn check_blocks(pid: u32, held: &[Held]) -> Result<(), Failure> {
    let regions = procfs::maps(pid)
        .map_err(|e| Failure::text(format!("cannot read the program's mappings: {e}")))?;
    for b in held {
        if !procfs::covered(&regions, b.addr, b.size) {
            return Err(Failure::text(format!(
                "thread {}'s {}-byte block at {:#x} is not inside the program's mapped memory",
                b.thread, b.size, b.addr
            ))
            .check("inside mapped pages"));
        }
        let bytes = procfs::read(pid, b.addr, b.size)
            .map_err(|e| Failure::text(format!("cannot read the block at {:#x}: {e}", b.addr)))?;
        if let Some(at) = bytes.iter().position(|&x| x != mark(b.thread)) {
            return Err(Failure::new(
                format!(
                    "thread {}'s {}-byte block at {:#x}: byte {at} lost its thread's mark",
                    b.thread, b.size, b.addr
                ),
                format!(
                    "{:#04x} in every byte (the thread wrote it)",
                    mark(b.thread)
                ),
                format!(
                    "{:#04x}: another thread was given the same memory",
                    bytes[at]
                ),
            )
            .check("contents kept"));
        }
    }
    let mut spans: Vec<(usize, usize, u32)> = held
        .iter()
        .map(|b| (b.addr, b.addr + b.size.max(1), b.thread))
        .collect();
    spans.sort();
    for pair in spans.windows(2) {
        if pair[0].1 > pair[1].0 {
            return Err(Failure::new(
                format!(
                    "threads {} and {} hold overlapping blocks",
                    pair[0].2, pair[1].2
                ),
                "every block apart",
                format!(
                    "[{:#x}, {:#x}) and [{:#x}, {:#x})",
                    pair[0].0, pair[0].1, pair[1].0, pair[1].1
                ),
            )
            .check("no overlap"));
        }
    }
    Ok(())
}

/// The program said something that is not a block: its own problem report.
fn said(
    line: &str,
    child: &mut Child,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
) -> Failure {
    let problem = line.strip_prefix("problem ").unwrap_or(line);
    let mut f = ended_early(child, stderr, "");
    f.what = format!("the threads program found a problem: {problem}");
    f
}

/// How the program ended (or that it did not) `when`, with its stderr.
fn ended_early(
    child: &mut Child,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    when: &str,
) -> Failure {
    stop(child);
    let bytes = stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
    notice_todo(&bytes);
    Failure::text(format!(
        "the threads program (4 threads allocating through your library) stopped {when}; its \
         stderr ended with:\n{}",
        outside::tail(&bytes)
    ))
}

/// Kills the program's process group and reaps it.
fn stop(child: &mut Child) {
    // SAFETY: killpg signals the group the program leads (not reaped yet).
    unsafe { libc::killpg(child.id() as libc::pid_t, libc::SIGKILL) };
    let _ = child.kill();
    let _ = child.wait();
}
