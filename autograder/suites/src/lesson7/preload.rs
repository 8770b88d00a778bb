//! The student's crate as a shared library under real programs, and as the
//! `#[global_allocator]` of a Rust program.
//!
//! Both are built here, by `cargo`, from the crate's own folder (the harness
//! links the crate as an rlib, whose C exports stay off: an exported `malloc`
//! would become the harness's allocator). The target folders sit next to the
//! harness binary, so a second test finds them built: `lesson7-preload/<crate>/`
//! for the library, `lesson7-program/<crate>/` for the Rust program. Two
//! folders, because the program's build makes the crate's cdylib too,
//! without the C exports, under the very name of the library; one per crate
//! (package and folder), because crates built from different workspaces may
//! not share a target folder (their common dependencies would be built
//! twice, under two paths, and clash).

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::harness::note_todo;

/// Where the crate under test is: `student::CRATE_DIR` and
/// `student::PACKAGE` (`env!("CARGO_MANIFEST_DIR")`, `env!("CARGO_PKG_NAME")`).
#[derive(Clone, Copy, Debug)]
pub struct Crate {
    pub dir: &'static str,
    pub package: &'static str,
}

impl Crate {
    /// The crate's own build folder name: the package and a hash of its
    /// folder (the stub, the solution and a submission all differ).
    pub fn folder_name(&self) -> String {
        let hash = self.dir.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{}-{:08x}", self.package, hash as u32)
    }
}

/// The target folder `name` for a nested build: under
/// `HEAPLAB_LESSON7_TARGET` if set, else next to the harness binary.
pub fn target_dir(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("HEAPLAB_LESSON7_TARGET") {
        return PathBuf::from(dir).join(name);
    }
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("harness"));
    exe.parent().unwrap_or(Path::new(".")).join(name)
}

/// The library's build folder.
const LIBRARY_TARGET: &str = "lesson7-preload";
/// The Rust program's build folder.
const PROGRAM_TARGET: &str = "lesson7-program";

fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Runs a cargo build into `target` from the folder `cwd`; the error is its
/// last lines of output.
///
/// `cwd` is the folder of the manifest built: cargo reads its settings
/// (`.cargo/config.toml`) from the folders above the one it runs in, and a
/// grading bundle's settings say that every crate comes from its `vendor/`
/// folder. Run from the test's scratch folder, an offline build finds no
/// crates at all.
fn cargo_build(args: &[&str], cwd: &Path, target: &Path, what: &str) -> Result<(), String> {
    let output = Command::new(cargo())
        .args(args)
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run cargo to build {what}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "{what} did not build (cargo {}):\n{}",
        args.join(" "),
        tail.join("\n")
    ))
}

/// Builds the crate as a shared library with its C exports on; returns the
/// `.so` path.
pub fn build_library(krate: &Crate) -> Result<PathBuf, String> {
    let manifest = Path::new(krate.dir).join("Cargo.toml");
    let manifest = manifest.to_string_lossy();
    cargo_build(
        &[
            "build",
            "--release",
            "--offline",
            "--quiet",
            "--lib",
            "--features",
            "preload",
            "--manifest-path",
            &manifest,
        ],
        Path::new(krate.dir),
        &target_dir(LIBRARY_TARGET).join(krate.folder_name()),
        "the shared library (cargo build --release --features preload)",
    )?;
    let lib = target_dir(LIBRARY_TARGET)
        .join(krate.folder_name())
        .join("release")
        .join(format!("lib{}.so", krate.package.replace('-', "_")));
    if !lib.is_file() {
        return Err(format!(
            "the build left no {}: does Cargo.toml still say crate-type = [\"rlib\", \"cdylib\"]?",
            lib.display()
        ));
    }
    Ok(lib)
}

/// An exited child's result, or `None` when it ran out of time (killed).
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

/// Runs `command` with a time limit; kills it (and reports `Err`) on timeout.
pub fn run_with_timeout(mut command: Command, limit: Duration) -> Result<Ran, String> {
    let started = Instant::now();
    let mut child: Child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {command:?}: {e}"))?;
    // Drain both pipes on threads, so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
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
                let _ = child.kill();
                let _ = child.wait();
                let stderr = err.join().unwrap_or_default();
                return Err(format!(
                    "{command:?} did not finish within {} s (a deadlock?); its stderr ended with:\n{}",
                    limit.as_secs(),
                    tail(&stderr)
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for {command:?}: {e}")),
        }
    }
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

/// The statistics the library prints at exit with `HEAPLAB_STATS=1`:
/// `(chunks allocated, summed over every process that printed them; the
/// stderr without them)`, the count `None` if no process printed any.
fn split_stats(stderr: &[u8]) -> (Option<usize>, Vec<u8>) {
    let text = String::from_utf8_lossy(stderr);
    let mut allocated = None;
    let mut rest = String::new();
    let mut in_stats = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "== heap stats ==" {
            in_stats = 5;
            continue;
        }
        if in_stats > 0 {
            in_stats -= 1;
            // Every process of a pipeline prints its own statistics, and
            // they exit in any order: count the allocations of them all.
            if let Some(n) = line.strip_prefix("Chunks allocated:") {
                if let Ok(n) = n.trim().parse::<usize>() {
                    allocated = Some(allocated.unwrap_or(0) + n);
                }
            }
            continue;
        }
        rest.push_str(line);
    }
    (allocated, rest.into_bytes())
}

/// `HEAPLAB_STATS=1` prints the five counters at exit; without it, nothing.
pub fn stats_at_exit(krate: &Crate) -> Result<(), String> {
    let lib = build_library(krate)?;
    let Some(program) = find_program("ls") else {
        return Err("ls is not installed: this test needs it (coreutils)".to_string());
    };
    let mut with = Command::new(&program);
    with.arg("/")
        .env("LD_PRELOAD", &lib)
        .env("HEAPLAB_STATS", "1");
    let ran = run_with_timeout(with, Duration::from_secs(30))?;
    notice_todo(&ran.stderr);
    let text = String::from_utf8_lossy(&ran.stderr);
    let labels = [
        "== heap stats ==",
        "Pages mapped:",
        "Pages unmapped:",
        "Chunks allocated:",
        "Chunks freed:",
        "Free list length:",
    ];
    for label in labels {
        if !text.lines().any(|l| l.starts_with(label)) {
            return Err(format!(
                "LD_PRELOAD={} HEAPLAB_STATS=1 ls /: stderr has no line starting {label:?}\n\
                 expected the five counters after \"== heap stats ==\" at exit (even though ls closes stderr on its way out)\n\
                 found:\n{}",
                lib.display(),
                tail(&ran.stderr)
            ));
        }
    }
    match split_stats(&ran.stderr).0 {
        Some(n) if n > 0 => {}
        other => {
            return Err(format!(
                "HEAPLAB_STATS=1 ls /: \"Chunks allocated:\" reads {other:?}; ls allocates, so the library's malloc was not used?"
            ))
        }
    }
    let mut without = Command::new(&program);
    without
        .arg("/")
        .env("LD_PRELOAD", &lib)
        .env_remove("HEAPLAB_STATS");
    let ran = run_with_timeout(without, Duration::from_secs(30))?;
    if !ran.stderr.is_empty() {
        return Err(format!(
            "LD_PRELOAD=... ls / without HEAPLAB_STATS printed to stderr:\n{}\nexpected nothing",
            tail(&ran.stderr)
        ));
    }
    Ok(())
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

/// One real program: its name, arguments and an input file it needs.
struct Case {
    title: &'static str,
    program: &'static str,
    args: Vec<String>,
    /// Run through `sh -c` (pipes, several processes).
    shell: bool,
    /// The program surely calls malloc (gzip, for one, may not at all).
    allocates: bool,
}

/// At least this many programs must run (be installed) for a pass.
const MIN_RAN: usize = 5;

/// Runs each program with the system's allocator and with the student's
/// library: same stdout, same exit status, the library really used (its
/// statistics count allocations), within a time limit.
pub fn real_programs(krate: &Crate) -> Result<(), String> {
    let lib = build_library(krate)?;
    let work = tempfile::tempdir().map_err(|e| format!("no temporary folder: {e}"))?;
    let dir = work.path();
    let words = dir.join("words.txt");
    write_words(&words, 200_000)
        .map_err(|e| format!("could not write {}: {e}", words.display()))?;
    let w = words.to_string_lossy().to_string();
    let gz = dir.join("words.txt.gz").to_string_lossy().to_string();
    let listing = if Path::new("/usr/share/doc").is_dir() {
        "/usr/share/doc"
    } else {
        "/etc"
    };
    let python_dict = "d = {}\n\
        for i in range(300000):\n    d['k%d' % ((i * 7919) % 1000003)] = [i, str(i) * 3]\n\
        keys = sorted(d, key=lambda k: (len(k), k))\n\
        print(len(d), keys[:3], keys[-3:], sum(v[0] for v in d.values()))\n";
    let python_threads = "import threading\n\
        out = [None] * 4\n\
        def work(t):\n    xs = [str(i * t) for i in range(100000)]\n    xs.sort()\n    out[t] = (len(xs), xs[0], xs[-1], len(''.join(xs)))\n\
        ts = [threading.Thread(target=work, args=(t,)) for t in range(4)]\n\
        [t.start() for t in ts]\n[t.join() for t in ts]\nprint(out)\n";
    let python_fork = "import os, threading\n\
        stop = False\n\
        def churn():\n    while not stop:\n        [bytes(64) for _ in range(100)]\n\
        ts = [threading.Thread(target=churn) for _ in range(2)]\n\
        [t.start() for t in ts]\n\
        ok = 0\n\
        for i in range(30):\n    pid = os.fork()\n    if pid == 0:\n        x = [str(j) for j in range(1000)]\n        os._exit(0 if len(x) == 1000 else 1)\n    _, status = os.waitpid(pid, 0)\n    ok += status == 0\n\
        stop = True\n[t.join() for t in ts]\nprint('children ok:', ok)\n";
    let cases = vec![
        Case {
            title: "ls -lR of a system folder",
            program: "ls",
            args: vec!["-lR".into(), listing.into()],
            shell: false,
            allocates: true,
        },
        Case {
            title: "sort of 200k lines",
            program: "sort",
            args: vec![w.clone()],
            shell: false,
            allocates: true,
        },
        Case {
            title: "sort, 4 threads, small buffer (temporary files)",
            program: "sort",
            args: vec![
                "--parallel=4".into(),
                "-S".into(),
                "2M".into(),
                "-k2".into(),
                w.clone(),
            ],
            shell: false,
            allocates: true,
        },
        Case {
            title: "gzip",
            program: "gzip",
            args: vec!["-n".into(), "-c".into(), w.clone()],
            shell: false,
            allocates: false,
        },
        Case {
            title: "gzip then gunzip",
            program: "sh",
            args: vec![format!("gzip -n -c {w} > {gz} && gunzip -c {gz} | md5sum")],
            shell: true,
            allocates: true,
        },
        Case {
            title: "awk word counts",
            program: "awk",
            args: vec![
                "{ n[$1]++ } END { for (k in n) c++; print c, NR }".into(),
                w.clone(),
            ],
            shell: false,
            allocates: true,
        },
        Case {
            title: "a shell pipeline (fork and exec)",
            program: "sh",
            args: vec![format!(
                "cut -d' ' -f1 {w} | sort | uniq -c | sort -rn | head -5"
            )],
            shell: true,
            allocates: true,
        },
        Case {
            title: "python3: a big dict, sorted",
            program: "python3",
            args: vec!["-c".into(), python_dict.into()],
            shell: false,
            allocates: true,
        },
        Case {
            title: "python3: 4 threads",
            program: "python3",
            args: vec!["-c".into(), python_threads.into()],
            shell: false,
            allocates: true,
        },
        Case {
            title: "python3: fork while threads allocate",
            program: "python3",
            args: vec!["-c".into(), python_fork.into()],
            shell: false,
            allocates: true,
        },
        Case {
            title: "xz, 2 threads",
            program: "xz",
            args: vec!["-T2".into(), "-3".into(), "-c".into(), w.clone()],
            shell: false,
            allocates: true,
        },
    ];
    let mut ran = Vec::new();
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for case in &cases {
        let Some(program) = find_program(case.program) else {
            skipped.push(format!(
                "{} ({} is not installed)",
                case.title, case.program
            ));
            continue;
        };
        let command = |preload: bool| {
            let mut c = Command::new(&program);
            if case.shell {
                c.arg("-c");
            }
            c.args(&case.args)
                .current_dir(dir)
                .env("LC_ALL", "C")
                .env_remove("HEAPLAB_STATS");
            if preload {
                c.env("LD_PRELOAD", &lib).env("HEAPLAB_STATS", "1");
            } else {
                c.env_remove("LD_PRELOAD");
            }
            c
        };
        let system = match run_with_timeout(command(false), Duration::from_secs(120)) {
            Ok(r) => r,
            Err(e) => {
                skipped.push(format!(
                    "{} (does not run with the system allocator: {e})",
                    case.title
                ));
                continue;
            }
        };
        let limit = Duration::from_secs(20).max(system.elapsed * 20);
        let theirs = match run_with_timeout(command(true), limit) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: {e}", case.title));
                continue;
            }
        };
        ran.push(case.title);
        notice_todo(&theirs.stderr);
        let (allocated, stderr) = split_stats(&theirs.stderr);
        if theirs.status.code() != system.status.code() {
            failures.push(format!(
                "{}: exit status {:?} with the library, {:?} with the system allocator; its stderr:\n{}",
                case.title,
                theirs.status,
                system.status,
                tail(&stderr)
            ));
        } else if theirs.stdout != system.stdout {
            let at = theirs
                .stdout
                .iter()
                .zip(&system.stdout)
                .position(|(a, b)| a != b)
                .unwrap_or(theirs.stdout.len().min(system.stdout.len()));
            failures.push(format!(
                "{}: the output differs from the system allocator's from byte {at} on ({} bytes vs {})",
                case.title,
                theirs.stdout.len(),
                system.stdout.len()
            ));
        } else if allocated.is_none() {
            failures.push(format!(
                "{}: with HEAPLAB_STATS=1 the library printed no statistics at exit: was it loaded at all?",
                case.title
            ));
        } else if case.allocates && allocated == Some(0) {
            failures.push(format!(
                "{}: the library's statistics count no allocation, but this program allocates: its malloc was not the one called (is it exported under the name malloc?)",
                case.title
            ));
        }
        let _ = fs::remove_file(&gz);
    }
    let summary = format!(
        "{} of {} programs ran ({}); skipped: {}",
        ran.len(),
        cases.len(),
        ran.join(", "),
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join("; ")
        }
    );
    eprintln!("{summary}");
    if !failures.is_empty() {
        return Err(format!("{}\n\n{summary}", failures.join("\n\n")));
    }
    if ran.len() < MIN_RAN {
        return Err(format!(
            "only {} programs could run here, fewer than the {MIN_RAN} this test needs to count as passed: \
             install the missing ones (coreutils, gzip, python3, xz-utils) or grade on a machine that has them\n{summary}",
            ran.len()
        ));
    }
    Ok(())
}

/// `n` lines of two pseudo-random words each: sorting them takes work.
fn write_words(path: &Path, n: usize) -> std::io::Result<()> {
    let mut text = String::with_capacity(n * 16);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..n {
        for word in 0..2 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 3 + (x % 8) as usize;
            for k in 0..len {
                text.push((b'a' + ((x >> (5 * k)) % 26) as u8) as char);
            }
            text.push(if word == 0 { ' ' } else { '\n' });
        }
    }
    fs::write(path, text)
}

/// The Rust program (collections, strings, threads, fork) with the crate as
/// its `#[global_allocator]`: built in a generated crate that depends on the
/// student's by path, run, and judged by its exit status and last line.
pub fn global_allocator_program(krate: &Crate) -> Result<(), String> {
    let target = target_dir(PROGRAM_TARGET).join(krate.folder_name());
    let project = target.join("global-alloc-program");
    fs::create_dir_all(project.join("src")).map_err(|e| format!("{}: {e}", project.display()))?;
    let manifest = format!(
        "[package]\nname = \"heaplab-global-alloc-program\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nstudent = {{ path = {:?}, package = {:?} }}\nlibc = \"0.2\"\n\n[workspace]\n",
        krate.dir, krate.package
    );
    write_if_changed(&project.join("Cargo.toml"), &manifest)?;
    write_if_changed(&project.join("src/main.rs"), PROGRAM_SOURCE)?;
    let manifest_path = project.join("Cargo.toml");
    let manifest_path = manifest_path.to_string_lossy();
    cargo_build(
        &[
            "build",
            "--release",
            "--offline",
            "--quiet",
            "--manifest-path",
            &manifest_path,
        ],
        &project,
        &target,
        "the Rust test program (autograder/suites/programs/lesson7-global-alloc.rs)",
    )?;
    let binary = target.join("release/heaplab-global-alloc-program");
    let ran = run_with_timeout(Command::new(&binary), Duration::from_secs(60))?;
    notice_todo(&ran.stderr);
    let stdout = String::from_utf8_lossy(&ran.stdout);
    if !ran.status.success() || !stdout.lines().any(|l| l.starts_with("all checks passed")) {
        return Err(format!(
            "the Rust program with #[global_allocator] = student::Malloc failed: {}\nstdout:\n{}\nstderr:\n{}",
            ran.status,
            tail(&ran.stdout),
            tail(&ran.stderr)
        ));
    }
    Ok(())
}

/// The program's source, kept as a file of its own to read and run by hand.
const PROGRAM_SOURCE: &str = include_str!("../../programs/lesson7-global-alloc.rs");

fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
