//! heaplab lesson 8's workloads: the programs whose speed and memory the
//! grader measures, each run on the C library's `malloc` and again with the
//! student's library preloaded (`LD_PRELOAD`), and the small process that
//! measures them.
//!
//! ```text
//! workloads list THREADS TOP       the course's list program: each thread takes every
//!                                  THREADS-th number up to TOP, conses its Collatz
//!                                  sequence cell by cell, sums it and frees it
//! workloads vector THREADS TOP     the same, in a vector that doubles by realloc
//! workloads replay TRACE REPLAYS   replays a malloc-lab trace REPLAYS times
//! workloads threads SEED ROUNDS    4 threads allocate, mark, check and free at random;
//!                                  then list the blocks they hold and stop (SIGSTOP)
//!                                  for the grader to read them from outside
//! workloads measure PRELOAD PROGRAM ARGS...
//!                                  runs PROGRAM (LD_PRELOAD=PRELOAD, or none for -) and
//!                                  prints its output, then one line:
//!                                  heaplab-measured WALL USER SYS MAXRSS_KIB STATUS
//! ```
//!
//! Every workload calls the C library's `malloc`, `realloc` and `free`
//! (directly, or through Rust's `System`), so `LD_PRELOAD` puts the
//! allocator under test beneath them. This program uses nothing of the
//! student's crate: the same binary runs on both allocators.

use std::io::{Read, Write};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use heaplab_traces::{rep, replay};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| args.get(i).and_then(|a| a.parse::<u64>().ok());
    match (args.first().map(String::as_str), number(1), number(2)) {
        (Some("list"), Some(threads), Some(top)) => collatz(list, threads, top),
        (Some("vector"), Some(threads), Some(top)) => collatz(vector, threads, top),
        (Some("replay"), _, Some(replays)) => replay_trace(&args[1], replays),
        (Some("threads"), Some(seed), Some(rounds)) => threads::run(seed, rounds),
        (Some("measure"), _, _) if args.len() >= 3 => measure(&args[1], &args[2], &args[3..]),
        _ => {
            eprintln!(
                "usage: workloads list|vector THREADS TOP | replay TRACE REPLAYS | \
                 threads SEED ROUNDS | measure PRELOAD PROGRAM ARGS..."
            );
            ExitCode::from(2)
        }
    }
}

/// The Collatz step.
fn next(n: u64) -> u64 {
    if n.is_multiple_of(2) {
        n / 2
    } else {
        3 * n + 1
    }
}

/// A cons cell, as the C version's `cons(x, xs)` makes.
#[repr(C)]
struct Cell {
    head: u64,
    tail: *mut Cell,
}

/// Builds the sequence of `n` as a list (consing each number onto the
/// front), sums it by walking it, and frees it cell by cell.
fn list(n: u64) -> Result<u64, String> {
    let mut xs: *mut Cell = std::ptr::null_mut();
    let mut x = n;
    loop {
        // SAFETY: malloc has no preconditions.
        let cell = unsafe { libc::malloc(size_of::<Cell>()) }.cast::<Cell>();
        if cell.is_null() {
            return Err(format!("malloc(16) returned NULL in the sequence of {n}"));
        }
        // SAFETY: a fresh block of a cell's size, 16-byte aligned.
        unsafe { cell.write(Cell { head: x, tail: xs }) };
        xs = cell;
        if x == 1 {
            break;
        }
        x = next(x);
    }
    let mut sum = 0;
    while !xs.is_null() {
        // SAFETY: a cell of the list, read once, then freed once.
        unsafe {
            sum += (*xs).head % 1000 + 1;
            let tail = (*xs).tail;
            libc::free(xs.cast());
            xs = tail;
        }
    }
    Ok(sum)
}

/// Builds the sequence of `n` in a vector that starts with room for 2 and
/// doubles (realloc) when full, sums it, and frees it.
fn vector(n: u64) -> Result<u64, String> {
    let mut cap = 2usize;
    // SAFETY: malloc has no preconditions.
    let mut data = unsafe { libc::malloc(cap * 8) }.cast::<u64>();
    let mut len = 0;
    let mut x = n;
    loop {
        if data.is_null() {
            return Err(format!("(re)allocating {} bytes returned NULL", cap * 8));
        }
        if len == cap {
            cap *= 2;
            // SAFETY: data is a live block; it is replaced on success, and
            // on failure the loop stops before using it again.
            data = unsafe { libc::realloc(data.cast(), cap * 8) }.cast();
            continue;
        }
        // SAFETY: len < cap numbers fit the block.
        unsafe { data.add(len).write(x) };
        len += 1;
        if x == 1 {
            break;
        }
        x = next(x);
    }
    // SAFETY: the first len numbers are written.
    let sum = unsafe { std::slice::from_raw_parts(data, len) }
        .iter()
        .map(|x| x % 1000 + 1)
        .sum();
    // SAFETY: data is live, freed once.
    unsafe { libc::free(data.cast()) };
    Ok(sum)
}

/// Runs `build` on the numbers 1 to `top` in `threads` threads and prints
/// the checksum, the same whatever the allocator and the number of threads.
fn collatz(build: fn(u64) -> Result<u64, String>, threads: u64, top: u64) -> ExitCode {
    let threads = threads.max(1);
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            std::thread::spawn(move || {
                (1 + t..=top)
                    .step_by(threads as usize)
                    .map(build)
                    .sum::<Result<u64, String>>()
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        match worker.join() {
            Ok(Ok(sum)) => total += sum,
            Ok(Err(e)) => {
                eprintln!("workloads: {e}");
                return ExitCode::FAILURE;
            }
            Err(_) => {
                eprintln!("workloads: a thread panicked");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{total}");
    ExitCode::SUCCESS
}

/// Replays `file` `replays` times on the C library's allocator (the
/// student's, when preloaded), each replay from an empty trace state.
fn replay_trace(file: &str, replays: u64) -> ExitCode {
    let trace = match rep::read(std::path::Path::new(file)) {
        Ok(trace) => trace,
        Err(e) => {
            eprintln!("workloads: {e}");
            return ExitCode::from(2);
        }
    };
    for _ in 0..replays {
        if let Err(failure) = replay::timed(&trace, &mut replay::SystemAllocator) {
            eprintln!("workloads: {file}: {failure}");
            return ExitCode::FAILURE;
        }
    }
    println!("{} replays of {} operations", replays, trace.ops.len());
    ExitCode::SUCCESS
}

/// Runs `program` with `preload` preloaded (none for `-`), passes its
/// stdout on, and prints the measurement as the last line. The program's
/// stdout and stderr are pipes of this process, never this process's own,
/// so nothing it writes can pose as the measurement. Run as a fresh small
/// process, so that the peak RSS the kernel reports for the program starts
/// from this process's few pages, not from a large parent's.
fn measure(preload: &str, program: &str, args: &[String]) -> ExitCode {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if preload != "-" {
        command.env("LD_PRELOAD", preload);
    }
    let started = Instant::now();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("workloads: cannot run {program}: {e}");
            return ExitCode::from(2);
        }
    };
    let stderr = child.stderr.take();
    let drain = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut s) = stderr {
            let _ = s.read_to_end(&mut bytes);
        }
        bytes
    });
    let mut stdout = Vec::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_end(&mut stdout);
    }
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for this process's own child, writing into locals.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = started.elapsed().as_secs_f64();
    let errors = drain.join().unwrap_or_default();
    let _ = std::io::stderr().write_all(&errors);
    let ended = if pid < 0 {
        "unknown".to_string()
    } else if libc::WIFEXITED(status) {
        format!("exit-{}", libc::WEXITSTATUS(status))
    } else {
        format!("signal-{}", libc::WTERMSIG(status))
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&stdout);
    let _ = writeln!(
        out,
        "\nheaplab-measured {wall:.6} {:.6} {:.6} {} {ended}",
        secs(usage.ru_utime),
        secs(usage.ru_stime),
        usage.ru_maxrss
    );
    ExitCode::SUCCESS
}

/// Four threads share the allocator; the grader reads what they hold.
mod threads {
    use std::process::ExitCode;

    /// Threads of the workload.
    const THREADS: u64 = 4;

    /// The byte thread `t` fills its blocks with.
    fn mark(t: u64) -> u8 {
        0xA0u8.wrapping_add(t as u8)
    }

    /// A block one thread owns: every byte holds the thread's mark.
    struct Owned {
        ptr: *mut u8,
        size: usize,
    }

    /// xorshift, seeded per thread: the same seed, the same operations.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n) as usize
        }
    }

    /// Mostly small sizes, a few of several pages; never 0 (what
    /// `realloc(p, 0)` does is the C library's choice).
    fn size(rng: &mut Rng) -> usize {
        match rng.below(20) {
            0 => 5000 + rng.below(60_000),
            1..=3 => 257 + rng.below(3800),
            _ => 1 + rng.below(256),
        }
    }

    /// Allocates in one of four ways (malloc, calloc, posix_memalign,
    /// realloc of nothing) and marks the block.
    fn allocate(rng: &mut Rng, t: u64) -> Result<Owned, String> {
        let size = size(rng);
        // SAFETY: the C allocation functions have no preconditions here.
        let ptr = unsafe {
            match rng.below(4) {
                0 => libc::malloc(size),
                1 => libc::calloc(1, size),
                2 => {
                    let mut p = std::ptr::null_mut();
                    let align = 16 << rng.below(5);
                    if libc::posix_memalign(&mut p, align, size) != 0 {
                        p = std::ptr::null_mut();
                    } else if p as usize % align != 0 {
                        return Err(format!("posix_memalign({align}, {size}) gave {p:p}"));
                    }
                    p
                }
                _ => libc::realloc(std::ptr::null_mut(), size),
            }
        }
        .cast::<u8>();
        if ptr.is_null() {
            return Err(format!("thread {t}: allocating {size} bytes returned NULL"));
        }
        if ptr as usize % 16 != 0 {
            return Err(format!("thread {t}: a {size}-byte block at {ptr:p} is not 16-aligned"));
        }
        // SAFETY: a fresh block of `size` bytes, this thread's alone.
        unsafe { ptr.write_bytes(mark(t), size) };
        Ok(Owned { ptr, size })
    }

    /// Checks that `block` still holds thread `t`'s mark in every byte.
    fn intact(block: &Owned, t: u64) -> Result<(), String> {
        // SAFETY: a live block of this thread, `size` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(block.ptr, block.size) };
        match bytes.iter().position(|&b| b != mark(t)) {
            None => Ok(()),
            Some(at) => Err(format!(
                "thread {t}'s {}-byte block at {:p}: byte {at} is {:#04x}, not its mark {:#04x}: \
                 another thread (or the allocator) wrote into it",
                block.size,
                block.ptr,
                bytes[at],
                mark(t)
            )),
        }
    }

    /// One step: allocate, free or resize a random block of this thread.
    fn step(rng: &mut Rng, t: u64, held: &mut Vec<Owned>) -> Result<(), String> {
        let choice = rng.below(10);
        if held.is_empty() || (choice < 4 && held.len() < 64) {
            held.push(allocate(rng, t)?);
            return Ok(());
        }
        let i = rng.below(held.len() as u64);
        intact(&held[i], t)?;
        if choice < 8 {
            let block = held.swap_remove(i);
            // SAFETY: a live block from this allocator, freed once.
            unsafe { libc::free(block.ptr.cast()) };
            return Ok(());
        }
        let new_size = size(rng);
        // SAFETY: a live block; replaced by the result on success.
        let p = unsafe { libc::realloc(held[i].ptr.cast(), new_size) }.cast::<u8>();
        if p.is_null() {
            return Err(format!("thread {t}: realloc to {new_size} bytes returned NULL"));
        }
        let kept = held[i].size.min(new_size);
        held[i] = Owned { ptr: p, size: kept };
        intact(&held[i], t)?;
        // SAFETY: the new block has `new_size` bytes, this thread's.
        unsafe { p.write_bytes(mark(t), new_size) };
        held[i].size = new_size;
        Ok(())
    }

    /// Runs the threads, prints `block THREAD ADDR SIZE` for every block
    /// they hold, stops until the grader has looked, then frees them all.
    pub fn run(seed: u64, rounds: u64) -> ExitCode {
        // All threads start at once, so that they overlap in time.
        let start = std::sync::Arc::new(std::sync::Barrier::new(THREADS as usize));
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let start = start.clone();
                std::thread::spawn(move || {
                    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (t + 1) | 1);
                    let mut held = Vec::new();
                    start.wait();
                    for _ in 0..rounds {
                        step(&mut rng, t, &mut held)?;
                    }
                    Ok::<_, String>(held.into_iter().map(|b| (b.ptr as usize, b.size)).collect::<Vec<_>>())
                })
            })
            .collect();
        let mut held = Vec::new();
        for (t, worker) in workers.into_iter().enumerate() {
            match worker.join() {
                Ok(Ok(blocks)) => held.extend(blocks.into_iter().map(|(a, s)| (t, a, s))),
                Ok(Err(problem)) => {
                    println!("problem {problem}");
                    return ExitCode::FAILURE;
                }
                Err(_) => {
                    println!("problem a thread panicked");
                    return ExitCode::FAILURE;
                }
            }
        }
        let mut out = String::new();
        for (t, addr, size) in &held {
            out.push_str(&format!("block {t} {addr:#x} {size}\n"));
        }
        out.push_str("stopping\n");
        print!("{out}");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        // SAFETY: stops this process until the grader sends SIGCONT.
        unsafe { libc::raise(libc::SIGSTOP) };
        for (_, addr, _) in held {
            // SAFETY: blocks the threads allocated and still held, freed once.
            unsafe { libc::free(addr as *mut libc::c_void) };
        }
        println!("freed");
        ExitCode::SUCCESS
    }
}
