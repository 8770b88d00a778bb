//! Lesson 8's reference allocator against the system allocator (glibc) and
//! lesson 7's library, in one run: the course's two Collatz programs in 1
//! and 4 threads, heaplab's traces, and real programs under `LD_PRELOAD`.
//!
//! ```text
//! cargo bench -p heaplab-suites --bench lesson8_fast                  # everything
//! cargo bench -p heaplab-suites --bench lesson8_fast -- --only traces # or programs, real
//! cargo bench -p heaplab-suites --bench lesson8_fast -- --rounds 9
//! ```
//!
//! Every measurement is interleaved: round after round, each allocator runs
//! the workload once, in an order that rotates from round to round, so that
//! a slow spell of the machine hits all of them alike. A speed ratio is the
//! system allocator's time over the allocator's (above 1: faster than the
//! system), taken per round; the table shows the median over the rounds and
//! the lowest and highest. Utilization is peak live payload over peak mapped
//! bytes, as `grade bench` measures it; RSS is the peak resident set of the
//! process (`ru_maxrss` from `wait4`). Results: docs/performance.md.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use heaplab_suites::outside::find_program;
use heaplab_suites::trace::generate::{self, DEFAULT_SEED};
use heaplab_suites::trace::replay::{self, Allocator, ReallocAllocator, SystemAllocator};
use heaplab_suites::trace::{metered, Trace};

/// Rounds of every measurement unless `--rounds N` says otherwise.
const ROUNDS: usize = 5;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "--measured") {
        return processes::measured(&args[2..]);
    }
    if let Some(i) = args.iter().position(|a| a == "--workload") {
        let name = args.get(i + 1).map(String::as_str).unwrap_or("");
        let threads = args.get(i + 2).and_then(|t| t.parse().ok()).unwrap_or(1);
        return collatz::run(name, threads);
    }
    let rounds = option(&args, "--rounds").unwrap_or(ROUNDS);
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let wants = |part: &str| only.as_deref().is_none_or(|o| o == part);
    if wants("traces") {
        traces::table(rounds);
    }
    if wants("programs") || wants("real") {
        let libs = match libraries() {
            Ok(libs) => libs,
            Err(e) => {
                eprintln!("lesson8 bench: {e}");
                return ExitCode::FAILURE;
            }
        };
        if wants("programs") {
            processes::table(&processes::collatz_cases(), &libs, rounds);
        }
        if wants("real") {
            let work = tempfile::tempdir().expect("a temporary folder");
            processes::table(&processes::real_cases(work.path()), &libs, rounds);
        }
    }
    ExitCode::SUCCESS
}

fn option(args: &[String], name: &str) -> Option<usize> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

/// The two preload libraries, built as the grader builds them.
struct Libraries {
    lesson7: PathBuf,
    lesson8: PathBuf,
}

fn libraries() -> Result<Libraries, String> {
    Ok(Libraries {
        lesson7: build_library("lesson7-solution")?,
        lesson8: build_library("lesson8-solution")?,
    })
}

/// A reference solution as the C library the grader builds (release,
/// `--features preload`), in a target folder of the bench's own.
fn build_library(package: &str) -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = root.join("target/heaplab-bench");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--lib", "-p", package])
        .args(["--features", "preload", "--target-dir"])
        .arg(&target)
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of {package}: {status}"));
    }
    Ok(target.join(format!("release/lib{}.so", package.replace('-', "_"))))
}

/// The median of `xs` (not empty), and its lowest and highest.
fn spread(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

/// `median (low–high)` of ratios.
fn show_ratio(ratios: Vec<f64>) -> String {
    let (median, low, high) = spread(ratios);
    format!("{median:.2}× ({low:.2}–{high:.2})")
}

/// The course's two programs, run as `bench --workload list|vector THREADS`:
/// each thread takes every THREADS-th number up to [`TOP`](collatz::TOP),
/// builds its Collatz sequence in the structure, walks it and frees it, as
/// the C version's `list_main.c` and `ivec_main.c` do. Both call the C
/// library's `malloc`, `realloc` and `free` directly, so `LD_PRELOAD` puts
/// the allocator under test beneath them.
mod collatz {
    use std::process::ExitCode;

    /// Numbers whose sequences each run builds.
    pub const TOP: u64 = 300_000;

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
    fn list(n: u64) -> u64 {
        let mut xs: *mut Cell = std::ptr::null_mut();
        let mut x = n;
        loop {
            // SAFETY: malloc has no preconditions; a cell is 16 bytes.
            let cell = unsafe { libc::malloc(size_of::<Cell>()) }.cast::<Cell>();
            assert!(!cell.is_null(), "out of memory");
            // SAFETY: a fresh block of a cell's size.
            unsafe { cell.write(Cell { head: x, tail: xs }) };
            xs = cell;
            if x == 1 {
                break;
            }
            x = next(x);
        }
        let mut sum = 0;
        while !xs.is_null() {
            // SAFETY: a cell of the list, freed once after it is read.
            unsafe {
                sum += (*xs).head % 1000 + 1;
                let tail = (*xs).tail;
                libc::free(xs.cast());
                xs = tail;
            }
        }
        sum
    }

    /// Builds the sequence of `n` in a vector that starts with room for 2
    /// and doubles (realloc) when full, sums it, and frees it.
    fn vector(n: u64) -> u64 {
        let mut cap = 2usize;
        // SAFETY: malloc has no preconditions.
        let mut data = unsafe { libc::malloc(cap * 8) }.cast::<u64>();
        let mut len = 0;
        let mut x = n;
        loop {
            if len == cap {
                cap *= 2;
                // SAFETY: data is a live block; on success it is replaced.
                data = unsafe { libc::realloc(data.cast(), cap * 8) }.cast();
            }
            assert!(!data.is_null(), "out of memory");
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
        sum
    }

    /// Runs workload `name` in `threads` threads and prints its checksum,
    /// the same whatever the allocator and the number of threads.
    pub fn run(name: &str, threads: u64) -> ExitCode {
        let build: fn(u64) -> u64 = match name {
            "list" => list,
            "vector" => vector,
            _ => {
                eprintln!("bench: --workload list|vector THREADS");
                return ExitCode::from(2);
            }
        };
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                std::thread::spawn(move || {
                    (1 + t..=TOP)
                        .step_by(threads as usize)
                        .map(build)
                        .sum::<u64>()
                })
            })
            .collect();
        let total: u64 = workers.into_iter().map(|w| w.join().unwrap_or(0)).sum();
        println!("{total}");
        ExitCode::SUCCESS
    }
}

/// Whole processes, with each allocator: wall time, peak RSS, output.
mod processes {
    use super::*;

    /// One command to time.
    pub struct Case {
        pub title: String,
        pub program: PathBuf,
        pub args: Vec<String>,
        /// Run with this as the working directory.
        pub dir: Option<PathBuf>,
    }

    /// The two Collatz programs in 1 and 4 threads: this binary itself.
    pub fn collatz_cases() -> Vec<Case> {
        let exe = std::env::current_exe().expect("own path");
        let mut cases = Vec::new();
        for name in ["list", "vector"] {
            for threads in [1, 4] {
                cases.push(Case {
                    title: format!(
                        "{name}, {threads} thread{}",
                        if threads == 1 { "" } else { "s" }
                    ),
                    program: exe.clone(),
                    args: vec!["--workload".into(), name.into(), threads.to_string()],
                    dir: None,
                });
            }
        }
        cases
    }

    /// Real programs: the ones the issue names, on inputs written in `dir`.
    pub fn real_cases(dir: &Path) -> Vec<Case> {
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
        let w = words.to_string_lossy().to_string();
        let python = "d = {}\nfor i in range(200000):\n    d['k%d' % ((i * 7919) % 1000003)] = [i, str(i) * 3]\nks = sorted(d)\nprint(len(ks), ks[:2], sum(v[0] for v in d.values()))\n";
        let listing = if Path::new("/usr/share/doc").is_dir() {
            "/usr/share/doc"
        } else {
            "/etc"
        };
        let specs: [(&str, &str, Vec<String>); 5] = [
            ("ls -lR", "ls", vec!["-lR".into(), listing.into()]),
            ("sort 200k lines", "sort", vec![w.clone()]),
            (
                "sort --parallel=4 -S 2M",
                "sort",
                vec!["--parallel=4".into(), "-S".into(), "2M".into(), w.clone()],
            ),
            ("gzip -c", "gzip", vec!["-n".into(), "-c".into(), w.clone()]),
            (
                "python3 dict of 200k",
                "python3",
                vec!["-c".into(), python.into()],
            ),
        ];
        specs
            .into_iter()
            .filter_map(|(title, program, args)| {
                let program = find_program(program)?;
                Some(Case {
                    title: title.to_string(),
                    program,
                    args,
                    dir: Some(dir.to_path_buf()),
                })
            })
            .collect()
    }

    /// One run: wall time, peak RSS in KiB, stdout.
    struct Run {
        wall: Duration,
        rss_kib: i64,
        stdout: Vec<u8>,
    }

    /// Runs `case` with `lib` preloaded (none: the system allocator).
    fn run(case: &Case, lib: Option<&Path>) -> Result<Run, String> {
        let out = tempfile::tempfile().map_err(|e| e.to_string())?;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let preload = lib.map_or("-".into(), |l| l.to_string_lossy().into_owned());
        let mut command = Command::new(exe);
        command
            .arg("--measured")
            .arg(preload)
            .arg(&case.program)
            .args(&case.args)
            .env("LC_ALL", "C")
            .env_remove("HEAPLAB_STATS")
            .env_remove("LD_PRELOAD")
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(Stdio::piped());
        if let Some(dir) = &case.dir {
            command.current_dir(dir);
        }
        let done = command
            .output()
            .map_err(|e| format!("{}: {e}", case.title))?;
        let report = String::from_utf8_lossy(&done.stderr);
        let measured = report.lines().find_map(|l| {
            let mut words = l.strip_prefix("heaplab-measured ")?.split(' ');
            Some((
                words.next()?.parse::<f64>().ok()?,
                words.next()?.parse::<i64>().ok()?,
            ))
        });
        let Some((secs, rss_kib)) = measured.filter(|_| done.status.success()) else {
            return Err(format!("{}: {}", case.title, report.trim()));
        };
        use std::io::{Read, Seek};
        let mut out = out;
        let mut stdout = Vec::new();
        out.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| e.to_string())?;
        out.read_to_end(&mut stdout).map_err(|e| e.to_string())?;
        Ok(Run {
            wall: Duration::from_secs_f64(secs),
            rss_kib,
            stdout,
        })
    }

    /// `bench --measured PRELOAD PROGRAM ARGS...`: runs the program (with
    /// `LD_PRELOAD=PRELOAD`, or none for `-`) and reports its wall time and
    /// peak RSS on stderr. The peak RSS `wait4` reports is at least that of
    /// the process that forked the program (the kernel counts the copy of
    /// its memory before `exec`), so the program is forked from this small
    /// process, freshly executed, not from the bench with its traces in
    /// memory: every allocator gets the same small floor.
    pub fn measured(args: &[String]) -> ExitCode {
        let [preload, program, rest @ ..] = args else {
            eprintln!("bench: --measured PRELOAD PROGRAM ARGS...");
            return ExitCode::from(2);
        };
        let mut command = Command::new(program);
        command
            .args(rest)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        if preload != "-" {
            command.env("LD_PRELOAD", preload);
        }
        let started = Instant::now();
        let Ok(child) = command.spawn() else {
            eprintln!("bench: cannot run {program}");
            return ExitCode::FAILURE;
        };
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value to be overwritten.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waits for our own child, writing into our locals.
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
        let wall = started.elapsed();
        if pid < 0 || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            eprintln!("bench: {program} ended with status {status:#x}");
            return ExitCode::FAILURE;
        }
        eprintln!(
            "heaplab-measured {} {}",
            wall.as_secs_f64(),
            usage.ru_maxrss
        );
        ExitCode::SUCCESS
    }

    /// Prints one table: per case, the median time and RSS of each
    /// allocator, the speed ratios to the system's, and whether outputs matched.
    pub fn table(cases: &[Case], libs: &Libraries, rounds: usize) {
        println!("| workload | system | lesson 7 | lesson 8 | lesson 8 speed | lesson 7 speed | RSS system / 8 / 7 (MiB) | output |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        let allocators: [Option<&Path>; 3] = [None, Some(&libs.lesson7), Some(&libs.lesson8)];
        for case in cases {
            eprintln!("{} …", case.title);
            let mut runs: [Vec<Run>; 3] = Default::default();
            let mut failed = None;
            for round in 0..rounds {
                for k in 0..3 {
                    let which = (k + round) % 3; // rotate who goes first
                    match run(case, allocators[which]) {
                        Ok(r) => runs[which].push(r),
                        Err(e) => failed = Some(e),
                    }
                }
            }
            if let Some(e) = failed {
                println!("| {} | failed: {e} | | | | | | |", case.title);
                continue;
            }
            row(&case.title, &runs);
        }
        println!();
    }

    fn row(title: &str, runs: &[Vec<Run>; 3]) {
        let secs = |rs: &Vec<Run>| spread(rs.iter().map(|r| r.wall.as_secs_f64()).collect()).0;
        let rss = |rs: &Vec<Run>| spread(rs.iter().map(|r| r.rss_kib as f64 / 1024.0).collect()).0;
        let ratios = |k: usize| -> Vec<f64> {
            runs[0]
                .iter()
                .zip(&runs[k])
                .map(|(s, r)| s.wall.as_secs_f64() / r.wall.as_secs_f64())
                .collect()
        };
        let same = |k: usize| runs[k].iter().all(|r| r.stdout == runs[0][0].stdout);
        let output = match (same(2), same(1)) {
            (true, true) => "identical".to_string(),
            (l8, l7) => format!("DIFFERS (lesson 8 same: {l8}, lesson 7 same: {l7})"),
        };
        println!(
            "| {title} | {:.3} s | {:.3} s | {:.3} s | {} | {} | {:.1} / {:.1} / {:.1} | {output} |",
            secs(&runs[0]),
            secs(&runs[1]),
            secs(&runs[2]),
            show_ratio(ratios(2)),
            show_ratio(ratios(1)),
            rss(&runs[0]),
            rss(&runs[2]),
            rss(&runs[1]),
        );
    }
}

/// heaplab's traces, replayed in this process: lesson 8's heap over the
/// grader's instrumented pages (as `grade bench` replays it) and over warm
/// pages, lesson 7's heap, and the system allocator.
mod traces {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::ptr::NonNull;
    use std::rc::Rc;

    use heaplab_kit::PageSource;
    use heaplab_suites::alloc::InstrumentedPages;
    use heaplab_suites::trace::Footprint;
    use lesson8_solution::{FastHeap, MmapPages};

    use super::*;

    /// Replays a sample lasts at least this long, so that a timing is not
    /// a handful of microseconds.
    const SAMPLE: Duration = Duration::from_millis(30);

    /// Pages kept from one replay to the next, as malloc-lab's `memlib`
    /// keeps its one heap region for every run: an unmapped range is kept
    /// and handed, zeroed (as `map` promises), to the next map of its
    /// length. A heap over these pays its page faults on the first replay
    /// only, as the system allocator, warm in this process, does. Ranges
    /// above [`ZERO_BY_HAND`] are zeroed by `madvise(MADV_DONTNEED)`
    /// instead (the kernel's zero pages again on the next touch): the big
    /// blocks of `big-blocks` are never written by the timed replay, and a
    /// `memset` of each would cost more than the whole trace.
    const ZERO_BY_HAND: usize = 64 * 1024;

    #[derive(Clone, Default)]
    struct WarmPages {
        kept: Rc<RefCell<HashMap<usize, Vec<NonNull<u8>>>>>,
    }

    impl PageSource for WarmPages {
        fn page_size(&self) -> usize {
            MmapPages::new().page_size()
        }

        fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
            let kept = self.kept.borrow_mut().get_mut(&len).and_then(Vec::pop);
            match kept {
                Some(ptr) if len <= ZERO_BY_HAND => {
                    // SAFETY: a kept range of len bytes, mapped and unused.
                    unsafe { ptr.as_ptr().write_bytes(0, len) };
                    Some(ptr)
                }
                Some(ptr) => {
                    // SAFETY: as above; the range becomes zero-fill-on-demand.
                    unsafe { libc::madvise(ptr.as_ptr().cast(), len, libc::MADV_DONTNEED) };
                    Some(ptr)
                }
                None => MmapPages::new().map(len),
            }
        }

        unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
            self.kept.borrow_mut().entry(len).or_default().push(ptr);
        }

        unsafe fn remap(
            &mut self,
            ptr: NonNull<u8>,
            old_len: usize,
            new_len: usize,
        ) -> Option<NonNull<u8>> {
            // Every range is a real mapping: mremap it, as MmapPages does.
            // SAFETY: the caller's promise, passed on.
            unsafe { MmapPages::new().remap(ptr, old_len, new_len) }
        }
    }

    /// The allocators compared, each made fresh for every replay (the warm
    /// pages shared by all of one trace's replays).
    fn lesson8_metered() -> ReallocAllocator<FastHeap<InstrumentedPages>> {
        ReallocAllocator(FastHeap::new(metered().0))
    }

    fn lesson7_metered() -> ReallocAllocator<lesson7_solution::BigHeap<InstrumentedPages>> {
        ReallocAllocator(lesson7_solution::BigHeap::new(metered().0))
    }

    /// Time of `replays` replays of `trace`, each on a fresh allocator.
    fn sample<A: Allocator>(trace: &Trace, make: &dyn Fn() -> A, replays: usize) -> f64 {
        let mut total = Duration::ZERO;
        for _ in 0..replays {
            let mut alloc = make();
            total += replay::timed(trace, &mut alloc).expect("memory is plentiful");
            black_box(&alloc);
        }
        total.as_secs_f64()
    }

    /// Utilization from the checked replay (every correctness check on).
    fn utilization<A: Allocator>(
        trace: &Trace,
        alloc: &mut A,
        meter: &dyn Footprint,
    ) -> Result<f64, String> {
        let checked = replay::checked(trace, alloc, meter);
        match checked.failure {
            Some(f) => Err(format!("line {}: {}", f.line, f.message)),
            None => Ok(checked.utilization()),
        }
    }

    fn percent(u: &Result<f64, String>) -> String {
        match u {
            Ok(u) => format!("{:.1}%", 100.0 * u),
            Err(e) => format!("FAILED: {e}"),
        }
    }

    /// Per round, the time of the system allocator and of each heap
    /// (lesson 8 metered, lesson 8 warm, lesson 7), in a rotating order.
    fn round(trace: &Trace, warm: &WarmPages, replays: usize, round: usize) -> [f64; 4] {
        // Lesson 7's heap is slow on some traces: fewer replays, scaled.
        let few = replays.div_ceil(20);
        let mut t = [0.0; 4];
        for k in 0..4 {
            let which = (k + round) % 4;
            t[which] = match which {
                0 => sample(trace, &|| SystemAllocator, replays),
                1 => sample(trace, &lesson8_metered, replays),
                2 => sample(
                    trace,
                    &|| ReallocAllocator(FastHeap::new(warm.clone())),
                    replays,
                ),
                _ => sample(trace, &lesson7_metered, few) * replays as f64 / few as f64,
            };
        }
        t
    }

    pub fn table(rounds: usize) {
        println!("| trace | ops | lesson 8 utilization | lesson 7 utilization | lesson 8 speed (grader's pages) | lesson 8 speed (warm pages) | lesson 7 speed |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        let mut utils = Vec::new();
        for trace in generate::generate(DEFAULT_SEED) {
            eprintln!("{} …", trace.name);
            let (pages, log) = metered();
            let u8_ = utilization(&trace, &mut ReallocAllocator(FastHeap::new(pages)), &log);
            let (pages, log) = metered();
            let u7 = utilization(
                &trace,
                &mut ReallocAllocator(lesson7_solution::BigHeap::new(pages)),
                &log,
            );
            // Enough replays per sample that the system allocator's lasts SAMPLE.
            let once = sample(&trace, &|| SystemAllocator, 3) / 3.0;
            let replays = ((SAMPLE.as_secs_f64() / once.max(1e-6)) as usize).clamp(1, 2000);
            let warm = WarmPages::default();
            let mut ratios: [Vec<f64>; 3] = Default::default();
            for r in 0..rounds {
                let t = round(&trace, &warm, replays, r);
                for (k, ratio) in ratios.iter_mut().enumerate() {
                    ratio.push(t[0] / t[k + 1]);
                }
            }
            let [metered_ratio, warm_ratio, l7] = ratios;
            println!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                trace.name,
                trace.ops.len(),
                percent(&u8_),
                percent(&u7),
                show_ratio(metered_ratio),
                show_ratio(warm_ratio),
                show_ratio(l7),
            );
            utils.push(u8_.unwrap_or(0.0));
        }
        println!();
        println!(
            "Lesson 8 mean utilization: {:.1}%",
            100.0 * utils.iter().sum::<f64>() / utils.len() as f64
        );
        println!();
    }
}
