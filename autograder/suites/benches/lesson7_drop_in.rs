//! Lesson 7's reference library against the system allocator, under
//! `LD_PRELOAD`, in one run: wall time of each real program of the suite and
//! of the course's list/vector workload, single- and multi-threaded; the
//! ratio is library time / system time (medians of a few runs each).
//!
//! ```text
//! cargo bench -p heaplab-suites --bench lesson7_drop_in
//! ```
//!
//! Results and the machine they came from: docs/performance.md.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use heaplab_suites::outside::{find_program, run};

/// Runs of each command; the median is reported.
const RUNS: usize = 3;

/// The course's classic workload: a linked list of 100k nodes and a growing
/// vector of 1M numbers, built and freed, `rounds` times.
fn list_and_vector(rounds: usize) -> u64 {
    struct Node {
        value: u64,
        next: Option<Box<Node>>,
    }
    let mut total = 0;
    for _ in 0..rounds {
        let mut head: Option<Box<Node>> = None;
        for i in 0..100_000u64 {
            head = Some(Box::new(Node {
                value: i,
                next: head,
            }));
        }
        let mut v: Vec<u64> = Vec::new();
        for i in 0..1_000_000u64 {
            v.push(i);
        }
        total += v[v.len() / 2];
        // Free the list iteratively (a recursive drop would overflow the stack).
        while let Some(mut node) = head {
            total += node.value & 1;
            head = node.next.take();
        }
        black_box(&v);
    }
    total
}

/// `bench --workload list THREADS`: the workload in THREADS threads.
fn workload(threads: usize) -> ExitCode {
    let handles: Vec<_> = (0..threads)
        .map(|_| std::thread::spawn(|| list_and_vector(5)))
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    println!("{total}");
    ExitCode::SUCCESS
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// Median wall time of `make()` run RUNS times, with or without the library;
/// `None` when it fails or its output differs from `expected`.
fn time(make: &dyn Fn() -> Command, lib: Option<&Path>) -> Result<(Duration, Vec<u8>), String> {
    let mut times = Vec::new();
    let mut output = Vec::new();
    for _ in 0..RUNS {
        let mut command = make();
        command.env("LC_ALL", "C").env_remove("HEAPLAB_STATS");
        match lib {
            Some(lib) => command.env("LD_PRELOAD", lib),
            None => command.env_remove("LD_PRELOAD"),
        };
        let ran = run(command, Duration::from_secs(600))?;
        if !ran.status.success() {
            return Err(format!("exit status {}", ran.status));
        }
        times.push(ran.elapsed);
        output = ran.stdout;
    }
    Ok((median(times), output))
}

/// The reference solution as the C library the grader builds (release,
/// `--features preload`), in a target folder of its own.
fn build_library() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = root.join("target/heaplab-bench");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--lib", "-p", "lesson7-solution"])
        .args(["--features", "preload", "--target-dir"])
        .arg(&target)
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of lesson7-solution: {status}"));
    }
    Ok(target.join("release/liblesson7_solution.so"))
}

/// The Python programs, in files of their own: a big dict, and four
/// threads sorting strings.
const PYTHON_DICT: &str = include_str!("lesson7/dict.py");
const PYTHON_THREADS: &str = include_str!("lesson7/threads.py");

/// A row of the bench: its title, the program (empty: this bench's own
/// `--workload`) and its arguments.
type Case = (&'static str, &'static str, Vec<String>);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--workload") {
        let threads = args.get(i + 2).and_then(|t| t.parse().ok()).unwrap_or(1);
        return workload(threads);
    }
    let lib = match build_library() {
        Ok(lib) => lib,
        Err(e) => {
            eprintln!("lesson7 bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let work = tempfile::tempdir().expect("a temporary folder");
    let words = words_file(work.path());
    let exe = std::env::current_exe().expect("own path");
    println!("| workload | system | lesson 7 library | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    for case in cases(&words) {
        row(&case, &exe, &lib);
    }
    ExitCode::SUCCESS
}

/// 200,000 lines of pseudo-random words and numbers, for sort and awk: the
/// file's path.
fn words_file(dir: &Path) -> String {
    let words = dir.join("words.txt");
    let mut text = String::new();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push_str(&format!("w{} {}\n", x % 100_003, x % 977));
    }
    std::fs::write(&words, text).expect("write words");
    words.to_string_lossy().to_string()
}

/// The bench's rows; `w` is the words file.
fn cases(w: &str) -> Vec<Case> {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (
            "list + vector, 1 thread",
            "",
            args(&["--workload", "list", "1"]),
        ),
        (
            "list + vector, 4 threads",
            "",
            args(&["--workload", "list", "4"]),
        ),
        (
            "ls -lR /usr/share/doc",
            "ls",
            args(&["-lR", "/usr/share/doc"]),
        ),
        ("sort 200k lines", "sort", args(&[w])),
        (
            "sort --parallel=4 -S 2M",
            "sort",
            args(&["--parallel=4", "-S", "2M", w]),
        ),
        (
            "awk word counts",
            "awk",
            args(&["{ n[$1]++ } END { for (k in n) c++; print c }", w]),
        ),
        (
            "python3 dict of 300k",
            "python3",
            args(&["-c", PYTHON_DICT]),
        ),
        (
            "python3 4 threads",
            "python3",
            args(&["-c", PYTHON_THREADS]),
        ),
        ("xz -T2", "xz", args(&["-T2", "-3", "-c", w])),
    ]
}

/// One row of the table: the case timed with the system allocator and with
/// the library `lib`; `exe` runs this bench's own workload.
fn row((title, program, args): &Case, exe: &Path, lib: &Path) {
    let program = if program.is_empty() {
        Some(exe.to_path_buf())
    } else {
        find_program(program)
    };
    let Some(program) = program else {
        println!("| {title} | (not installed) | | |");
        return;
    };
    let make = || {
        let mut c = Command::new(&program);
        c.args(args);
        c
    };
    let system = time(&make, None);
    let library = time(&make, Some(lib));
    match (system, library) {
        (Ok((s, out_s)), Ok((l, out_l))) => {
            let same = if out_s == out_l {
                ""
            } else {
                " (outputs differ!)"
            };
            println!(
                "| {title} | {:.3} s | {:.3} s | {:.2}×{same} |",
                s.as_secs_f64(),
                l.as_secs_f64(),
                l.as_secs_f64() / s.as_secs_f64()
            );
        }
        (s, l) => println!("| {title} | {:?} | {:?} | failed |", s.err(), l.err()),
    }
}
