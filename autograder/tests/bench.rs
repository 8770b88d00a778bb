//! `grade bench` and `grade traces`: bad input is one line and exit code 2;
//! the generated traces are the committed ones; a bench runs end to end, and
//! a heap that crashes loses only the trace it crashed on, with its line.

mod common;

use std::path::Path;

use common::{grade, root};

fn one_line_error(run: &common::Graded) -> String {
    assert_eq!(
        run.code, 2,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one clear line, got:\n{}", run.stderr);
    assert!(!run.stderr.contains("panicked"));
    lines[0].to_string()
}

fn folder_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn a_malformed_trace_names_the_file_and_line() {
    let dir = folder_with(&[("bad.rep", "100\n2\n3\n1\na 0 16\nq 1\nf 0\n")]);
    let path = dir.path().to_str().unwrap();
    let line = one_line_error(&grade(&[
        "bench",
        "lesson4",
        "--solution",
        "--traces",
        path,
    ]));
    assert!(
        line.contains("bad.rep:6: expected `a ID SIZE`, `f ID` or `r ID SIZE`, found \"q 1\""),
        "{line}"
    );
    assert!(line.contains("cargo grade traces --out"), "{line}");
}

#[test]
fn a_folder_without_traces_says_how_to_make_them() {
    let dir = folder_with(&[("notes.txt", "no traces here")]);
    let path = dir.path().to_str().unwrap();
    let line = one_line_error(&grade(&["bench", "lesson4", "--traces", path]));
    assert!(line.contains("no .rep files"), "{line}");
    let line = one_line_error(&grade(&["bench", "lesson4", "--traces", "/no/such/folder"]));
    assert!(line.contains("cannot read the trace folder"), "{line}");
}

#[test]
fn the_plot_must_be_an_svg_file() {
    let line = one_line_error(&grade(&["bench", "lesson4", "--plot", "footprint.png"]));
    assert!(line.contains("SVG"), "{line}");
}

#[test]
fn an_unknown_lesson_is_one_line() {
    let line = one_line_error(&grade(&["bench", "lesson99"]));
    assert!(line.contains("lesson99"), "{line}");
}

#[test]
fn grade_traces_writes_the_committed_traces() {
    let out = tempfile::tempdir().unwrap();
    let run = grade(&["traces", "--out", out.path().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let committed = root().join("traces");
    let mut names = 0;
    for entry in std::fs::read_dir(&committed).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rep") {
            continue;
        }
        let name = path.file_name().unwrap();
        let fresh = std::fs::read_to_string(out.path().join(name)).unwrap();
        assert!(
            fresh == std::fs::read_to_string(&path).unwrap(),
            "{name:?} differs"
        );
        names += 1;
    }
    assert_eq!(names, 6);
    // Another seed, other workloads.
    let other = tempfile::tempdir().unwrap();
    grade(&[
        "traces",
        "--out",
        other.path().to_str().unwrap(),
        "--seed",
        "9",
    ]);
    let a = std::fs::read_to_string(other.path().join("binary.rep")).unwrap();
    let b = std::fs::read_to_string(committed.join("binary.rep")).unwrap();
    assert_ne!(a, b);
}

/// A trace small enough to run in a moment: 300 blocks, a third freed, 100
/// more, then everything freed.
fn small_trace() -> String {
    let mut ops = Vec::new();
    for id in 0..300 {
        ops.push(format!("a {id} {}", 16 + (id * 37) % 500));
    }
    for id in (0..300).step_by(3) {
        ops.push(format!("f {id}"));
    }
    for id in 300..400 {
        ops.push(format!("a {id} {}", 100 + id % 200));
    }
    for id in (0..400).filter(|id| id >= &300 || id % 3 != 0) {
        ops.push(format!("f {id}"));
    }
    format!("0\n400\n{}\n1\n{}\n", ops.len(), ops.join("\n"))
}

#[test]
fn bench_replays_the_reference_and_draws_the_plot() {
    let dir = folder_with(&[("small.rep", &small_trace())]);
    let plot = dir.path().join("footprint.svg");
    let run = grade(&[
        "bench",
        "lesson4",
        "--solution",
        "--traces",
        dir.path().to_str().unwrap(),
        "--min-time-ms",
        "1",
        "--format",
        "json",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains("[1/1] small (800 operations)"),
        "progress: {}",
        run.stderr
    );
    let report = run.json();
    let trace = &report["traces"][0];
    assert_eq!(trace["name"], "small");
    assert!(trace["error"].is_null(), "{trace}");
    let util = trace["utilization"].as_f64().unwrap();
    assert!(util > 0.0 && util <= 1.0, "{util}");
    assert!(trace["ops_per_sec"].as_f64().unwrap() > 0.0);
    assert!(trace["system_ops_per_sec"].as_f64().unwrap() > 0.0);
    // The leaderboard's two columns, as Gradescope reads them.
    let board = &report["leaderboard"];
    assert_eq!(board[0]["name"], "speed", "{board}");
    assert!(board[0]["value"].as_f64().unwrap() > 0.0, "{board}");
    assert_eq!(board[1]["name"], "utilization", "{board}");
    let shown = board[1]["value"].as_f64().unwrap();
    assert!((shown - util).abs() < 1e-3, "{board} vs {util}");
    assert_eq!(board[1]["order"], "desc");
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("<polyline"),
        "{svg}"
    );
}

/// Lesson 4's solution, as a submission whose `malloc(4242)` aborts the
/// process.
fn crashing_submission() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_crate(&root().join("solutions/lesson4-free-list"), dir.path());
    let malloc = "fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {";
    let aborts = format!("{malloc}\n        if size == 4242 {{ std::process::abort() }}");
    common::plant(dir.path(), "src/heap.rs", malloc, &aborts);
    dir
}

#[test]
fn a_crash_zeroes_its_trace_only_and_names_the_line() {
    let sub = crashing_submission();
    // `fine` never asks for 4242 bytes; `crash` does, at line 4 + 40 + 1.
    let fine = "0\n10\n20\n1\n".to_string()
        + &(0..10).map(|i| format!("a {i} 64\n")).collect::<String>()
        + &(0..10).map(|i| format!("f {i}\n")).collect::<String>();
    let crash = "0\n100\n100\n1\n".to_string()
        + &(0..40).map(|i| format!("a {i} 64\n")).collect::<String>()
        + "a 40 4242\n"
        + &(41..100).map(|i| format!("a {i} 64\n")).collect::<String>();
    let dir = folder_with(&[("a-fine.rep", &fine), ("b-crash.rep", &crash)]);
    let run = grade(&[
        "bench",
        "lesson4",
        "--submission",
        sub.path().to_str().unwrap(),
        "--traces",
        dir.path().to_str().unwrap(),
        "--min-time-ms",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(
        run.code, 1,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let report = run.json();
    assert!(
        report["traces"][0]["error"].is_null(),
        "{}",
        report["traces"][0]
    );
    let error = &report["traces"][1]["error"];
    assert_eq!(error["line"], 45, "{error}");
    assert_eq!(error["op"], "a 40 4242", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("SIGABRT during the checked replay"),
        "{message}"
    );
    assert_eq!(report["traces"][1]["utilization"], 0.0);
    assert!(Path::new(&report["traces"][1]["file"].as_str().unwrap()).ends_with("b-crash.rep"));
}
