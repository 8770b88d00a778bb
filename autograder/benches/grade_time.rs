//! How long `cargo grade LESSON --solution` takes on this machine: when
//! nothing changed (the everyday case: a no-op build, then the tests), and
//! after touching one file of the lesson (a rebuild of the crate and the
//! harness). Wall time of the whole command, `cargo run` included.
//!
//! Run: `cargo bench -p heaplab-autograder --bench grade_time`
//! (`HEAPLAB_BENCH_LESSON=lesson2` to measure another lesson).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const UNCHANGED_RUNS: usize = 7;
const TOUCHED_RUNS: usize = 3;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let lesson = std::env::var("HEAPLAB_BENCH_LESSON").unwrap_or_else(|_| "lesson1".into());
    let Some(file) = lesson_file(&root, &lesson) else {
        eprintln!("grade_time: no solution crate for {lesson} yet; nothing to measure");
        return;
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("cargo grade {lesson} --solution  ({cores} cores)");

    // Warm up: build the grader and the harness once.
    grade(&root, &lesson);

    let unchanged: Vec<Duration> = (0..UNCHANGED_RUNS).map(|_| grade(&root, &lesson)).collect();
    report("nothing changed", &unchanged);

    let touched: Vec<Duration> = (0..TOUCHED_RUNS)
        .map(|_| {
            touch(&file);
            grade(&root, &lesson)
        })
        .collect();
    report(
        &format!(
            "after touching {}",
            file.strip_prefix(&root).unwrap_or(&file).display()
        ),
        &touched,
    );
}

/// One run of `cargo grade LESSON --solution`, output discarded.
fn grade(root: &Path, lesson: &str) -> Duration {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let start = Instant::now();
    let status = Command::new(cargo)
        .args(["grade", lesson, "--solution"])
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("cargo runs");
    let elapsed = start.elapsed();
    assert!(
        status.success(),
        "`cargo grade {lesson} --solution` did not give full marks ({status}); measure a working lesson"
    );
    elapsed
}

fn report(what: &str, times: &[Duration]) {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    println!(
        "  {what:<50} median {:>6.0} ms   min {:>6.0} ms   max {:>6.0} ms   ({} runs)",
        ms[ms.len() / 2],
        ms[0],
        ms[ms.len() - 1],
        ms.len()
    );
}

/// The solution's `src/lib.rs` (or `main.rs`) of the lesson named in course.toml.
fn lesson_file(root: &Path, lesson: &str) -> Option<PathBuf> {
    let text = std::fs::read_to_string(root.join("course.toml")).ok()?;
    let manifest: toml::Table = toml::from_str(&text).ok()?;
    let dir = manifest
        .get("lesson")?
        .as_array()?
        .iter()
        .find(|l| l.get("id").and_then(|v| v.as_str()) == Some(lesson))?
        .get("dir")?
        .as_str()?
        .to_string();
    let src = root.join("solutions").join(dir).join("src");
    ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .find(|p| p.is_file())
}

/// Sets the file's modification time to now, as `touch` does.
fn touch(path: &Path) {
    let file = std::fs::File::options()
        .append(true)
        .open(path)
        .expect("the lesson file opens");
    file.set_modified(SystemTime::now())
        .expect("mtime can be set");
}
