//! Batch grading of a generated class: `cargo bench -p heaplab-autograder --bench batch`.
//!
//! 20 submissions of lesson 1 (the reference solution, the stub, and broken
//! ones: no crate, a compile error, a crash in save-array), graded by
//! `grade batch` once to warm the shared build, then timed with `--jobs 1`
//! and `--jobs 2`. `HEAPLAB_BENCH_SUBMISSIONS=N` changes the class size.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use heaplab_autograder::stubs;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

const DIR: &str = "lesson1-mmap-io";

/// Writes `files` (a crate) under `into`, renamed as a student's crate.
fn write_crate(into: &Path, files: &stubs::Files, renamer: &stubs::Renamer) {
    for (rel, bytes) in files {
        let path = into.join(renamer.rename(&rel.to_string_lossy()));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        match String::from_utf8(bytes.clone()) {
            Ok(text) => fs::write(path, renamer.rename(&text)).unwrap(),
            Err(_) => fs::write(path, bytes).unwrap(),
        }
    }
}

/// A class of `n` submissions: mostly solved, some stubs, some broken, each
/// one's source a little different from every other's.
fn class(dir: &Path, n: usize) {
    let solution = root().join("solutions").join(DIR);
    let renamer =
        stubs::Renamer::for_manifest(&fs::read_to_string(solution.join("Cargo.toml")).unwrap())
            .unwrap();
    let solved = stubs::read_crate(&solution).unwrap();
    let stub = stubs::read_crate(&root().join("lessons").join(DIR)).unwrap();
    for i in 0..n {
        let sub = dir.join(format!("student{i:03}"));
        match i % 10 {
            0 | 5 => write_crate(&sub, &stub, &renamer),
            3 => {
                fs::create_dir_all(&sub).unwrap();
                fs::write(sub.join("notes.txt"), "forgot to hand in the crate\n").unwrap();
            }
            7 => {
                write_crate(&sub, &solved, &renamer);
                let lib = sub.join("src/lib.rs");
                let text = fs::read_to_string(&lib).unwrap();
                fs::write(&lib, text + "\nfn broken( {\n").unwrap();
            }
            9 => {
                write_crate(&sub, &solved, &renamer);
                let lib = sub.join("src/lib.rs");
                let text = fs::read_to_string(&lib).unwrap().replace(
                    "pub fn save_array() -> ExitCode {",
                    "pub fn save_array() -> ExitCode {\n    std::process::abort();",
                );
                fs::write(&lib, text).unwrap();
            }
            _ => write_crate(&sub, &solved, &renamer),
        }
        // Every student's code differs: no build is skipped for matching the last one.
        let lib = sub.join("src/lib.rs");
        if let Ok(text) = fs::read_to_string(&lib) {
            fs::write(&lib, format!("{text}\n// student {i:03}\n")).unwrap();
        }
    }
}

fn batch(subs: &Path, out: &Path, jobs: usize) -> f64 {
    let started = Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_grade"))
        .arg("batch")
        .arg(subs)
        .args(["--lesson", "lesson1", "--jobs", &jobs.to_string(), "--out"])
        .arg(out)
        .current_dir(root())
        .env_remove("HEAPLAB_MANIFEST")
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    // Broken submissions make the exit code 1; 2 means the batch failed.
    assert_ne!(
        run.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    seconds
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: stay quick.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: usize = std::env::var("HEAPLAB_BENCH_SUBMISSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let tmp = tempfile::tempdir().unwrap();
    let warm = tmp.path().join("warm");
    class(&warm, 1);
    let cold = batch(&warm, &tmp.path().join("warm-out"), 1);
    println!("warm-up: 1 submission (builds the shared dependencies): {cold:.1} s");

    let subs = tmp.path().join("class");
    class(&subs, n);
    let mut first = None;
    for jobs in [1, 2] {
        let out = tmp.path().join(format!("out-{jobs}"));
        let seconds = batch(&subs, &out, jobs);
        let csv = fs::read_to_string(out.join("grades.csv")).unwrap();
        let rows = csv.lines().count() - 1;
        assert_eq!(rows, n, "one gradebook row per submission");
        println!(
            "batch of {n} (jobs {jobs}): {seconds:.1} s, {:.2} s per submission{}",
            seconds / n as f64,
            first
                .map(|f: f64| format!(", {:.2}x the jobs-1 time", seconds / f))
                .unwrap_or_default()
        );
        first.get_or_insert(seconds);
    }
}
