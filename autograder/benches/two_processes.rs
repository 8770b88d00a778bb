//! What grading in two processes costs, on this machine, in one run:
//!
//! - round trips through the checker↔subject channel (`SOCK_SEQPACKET`, one
//!   small message each way, as one heap operation is), with both ends on
//!   one CPU (how the runner places them) and on two;
//! - the lesson 4 submission whose free list turns into a cycle (malloc
//!   leaves the chunk it hands out on the list), graded whole: the case the
//!   per-operation limit and the checker's own list walk are for.
//!
//! Run: `cargo bench -p heaplab-autograder --bench two_processes`. The warm
//! grade of each lesson's solution is `--bench grade_time`
//! (`HEAPLAB_BENCH_LESSON=lesson4`); docs/performance.md has the figures.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use heaplab_protocol::Channel;

const ROUND_TRIPS: u32 = 20_000;

fn main() {
    for (label, cpus) in [("one CPU", [0, 0]), ("two CPUs", [0, 1])] {
        let per_second = round_trips(cpus);
        println!(
            "channel round trips, {label:<9} {per_second:>9.0} /s  ({:.1} µs each)",
            1e6 / per_second
        );
    }
    let times: Vec<Duration> = (0..3).map(|_| grade_cyclic()).collect();
    let mut ms: Vec<u128> = times.iter().map(Duration::as_millis).collect();
    ms.sort();
    println!(
        "lesson 4, a chunk left on the list (a cycle), graded whole: median {} ms, runs {ms:?}",
        ms[1]
    );
}

/// Pins the calling process to the `cpu`-th CPU it may use.
fn pin(cpu: usize) {
    // SAFETY: plain data; sched_* read and write the sets they are given.
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed);
        let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &allowed))
            .collect();
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpus[cpu % cpus.len()], &mut one);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one);
    }
}

/// Round trips per second between this process and a forked echo.
fn round_trips(cpus: [usize; 2]) -> f64 {
    let (ours, theirs) = Channel::pair().expect("a channel");
    // SAFETY: the child echoes and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        pin(cpus[1]);
        drop(ours);
        while let Ok(n) = theirs.recv::<u64>(None) {
            if n == u64::MAX || theirs.send(&n).is_err() {
                break;
            }
        }
        // SAFETY: ends the child.
        unsafe { libc::_exit(0) };
    }
    drop(theirs);
    pin(cpus[0]);
    let start = Instant::now();
    for i in 0..u64::from(ROUND_TRIPS) {
        ours.send(&i).expect("send");
        let back: u64 = ours.recv(None).expect("recv");
        assert_eq!(back, i);
    }
    let elapsed = start.elapsed();
    ours.send(&u64::MAX).expect("send the end");
    // SAFETY: waits for our own child.
    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
    f64::from(ROUND_TRIPS) / elapsed.as_secs_f64()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// The lesson 4 solution with malloc leaving its chunk on the list.
fn cyclic_submission() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let solution = root().join("solutions/lesson4-free-list");
    // `cp -r`: a reference's src/ has folders (lessons 4 and 5's free_list/).
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(solution.join("src"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(copied.success(), "cannot copy {}", solution.display());
    let src = dir.path().join("src");
    let heap = src.join("heap.rs");
    let text = std::fs::read_to_string(&heap).unwrap();
    let planted = "        self.stats.chunks_allocated += 1;\n";
    assert!(
        text.contains(planted),
        "the lesson 4 solution's malloc moved"
    );
    let bug =
        "        // SAFETY: none: the bug under measure, a chunk both in use and free.\n        \
               unsafe { self.free_list.push(chunk) };\n";
    std::fs::write(&heap, text.replacen(planted, &format!("{bug}{planted}"), 1)).unwrap();
    std::fs::copy(solution.join("Cargo.toml"), dir.path().join("Cargo.toml")).unwrap();
    dir
}

/// Wall time of grading the cyclic submission (every test).
fn grade_cyclic() -> Duration {
    let dir = cyclic_submission();
    let grade = env!("CARGO_BIN_EXE_grade");
    // Build once untimed: the measure is the grade, not the compiler.
    let run = |dir: &Path| {
        Command::new(grade)
            .args(["lesson4", "--submission"])
            .arg(dir)
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("grade runs")
    };
    run(dir.path());
    let start = Instant::now();
    let status = run(dir.path());
    assert_eq!(status.code(), Some(1), "the cyclic heap should lose points");
    start.elapsed()
}
