//! The HTML report of a lesson 4 failure: its size, and the time to write
//! it next to the JSON report of the same run.
//!
//! The submission is the lesson 4 solution with one bug planted (an exact
//! fit is handed out but left on the free list), the one
//! `tests/html_report.rs` drives in a browser; it is graded once (`--format
//! json`, which carries the recorded heap states), and the report is then
//! rendered from those outcomes again and again, in this process.
//!
//! Run: `cargo bench -p heaplab-autograder --bench html_report`;
//! docs/performance.md has the figures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use heaplab_autograder::build::Variant;
use heaplab_autograder::course::Course;
use heaplab_autograder::report::{html, json, Graded};
use heaplab_autograder::runner::TestResult;
use heaplab_protocol::Outcome;
use serde_json::Value;

const RENDERS: usize = 40;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let submission = broken_lesson4(dir.path());
    let report = grade_json(&submission);
    let course = Course::locate(Some(&root().join("course.toml"))).unwrap();
    let lesson = course.lesson("lesson4").unwrap();
    let results = report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let spec = lesson.tests.iter().find(|s| s.name == t["name"]).unwrap();
            let outcome: Outcome = serde_json::from_value(t["outcome"].clone()).unwrap();
            TestResult {
                spec,
                earned: if outcome.passed() { spec.points } else { 0 },
                outcome,
                withheld: None,
                elapsed: Duration::ZERO,
                stdout: String::new(),
                stderr: String::new(),
            }
        })
        .collect();
    let graded = Graded {
        course: &course,
        lesson,
        variant: Variant::Submission(submission.clone()),
        crate_shown: submission.display().to_string(),
        seed: report["seed"].as_u64().unwrap(),
        results,
        compile_errors: None,
        replay_base: format!("cargo grade lesson4 --submission {}", submission.display()),
        all_names: lesson.tests.iter().map(|t| t.name.clone()).collect(),
        elapsed: Duration::from_millis(report["elapsed_ms"].as_u64().unwrap()),
        confinement: None,
    };
    let page = html::render(&graded);
    let steps: usize = graded
        .results
        .iter()
        .filter_map(|r| r.outcome.failure())
        .map(|f| f.steps.len())
        .sum();
    let failed = graded
        .results
        .iter()
        .filter(|r| !r.outcome.passed())
        .count();
    println!(
        "lesson 4, a chunk left on the list: {failed} tests failed, {steps} heap states drawn"
    );
    println!(
        "HTML report: {} bytes ({:.0} KB); the JSON report of the same run: {} bytes",
        page.len(),
        page.len() as f64 / 1024.0,
        json::render(&graded).len()
    );
    let html_ms = median_ms(|| html::render(&graded).len());
    let json_ms = median_ms(|| json::render(&graded).len());
    println!(
        "time to write it: HTML {html_ms:.2} ms, JSON {json_ms:.2} ms (median of {RENDERS}; \
         HTML/JSON {:.1}x)",
        html_ms / json_ms
    );
}

/// The median time of `render`, in ms.
fn median_ms(render: impl Fn() -> usize) -> f64 {
    let mut ms: Vec<f64> = (0..RENDERS)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(render());
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms[RENDERS / 2]
}

/// The JSON report of grading `submission` as lesson 4.
fn grade_json(submission: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(["lesson4", "--format", "json", "--submission"])
        .arg(submission)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("grade runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the broken heap should lose points"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The lesson 4 solution with the bug planted, in `dir`.
fn broken_lesson4(dir: &Path) -> PathBuf {
    let solution = root().join("solutions/lesson4-free-list");
    let crate_dir = dir.join("lesson4-broken");
    std::fs::create_dir_all(&crate_dir).unwrap();
    std::fs::copy(solution.join("Cargo.toml"), crate_dir.join("Cargo.toml")).unwrap();
    // `cp -r`: a reference's src/ has folders (lessons 4 and 5's free_list/).
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(solution.join("src"))
        .arg(&crate_dir)
        .status()
        .unwrap();
    assert!(copied.success(), "cannot copy {}", solution.display());
    let free_list = crate_dir.join("src/free_list.rs");
    let code = std::fs::read_to_string(&free_list).unwrap();
    let unlink = "self.relink(prev, next);\n";
    assert!(
        code.contains(unlink),
        "free_list.rs changed: plant the bug anew"
    );
    std::fs::write(
        free_list,
        code.replacen(unlink, "let _ = (prev, next);\n", 1),
    )
    .unwrap();
    crate_dir
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}
