//! The machine formats: TAP as Inkfish scores it, Gradescope's results.json,
//! PrairieLearn's images, and the same report twice for the same submission.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{grade, grade_fixture};
use scraper::{Html, Selector};
use serde_json::Value;

/// One TAP test line as Inkfish reads it:
/// `^(ok|not ok)\s+(\d+)\s+(?:-\s+)?(.*)$`.
fn tap_test_line(line: &str) -> Option<(bool, u32, String)> {
    let (ok, rest) = if let Some(r) = line.strip_prefix("not ok") {
        (false, r)
    } else if let Some(r) = line.strip_prefix("ok") {
        (true, r)
    } else {
        return None;
    };
    let trimmed = rest.trim_start();
    if trimmed.len() == rest.len() {
        return None; // no whitespace after ok / not ok
    }
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u32 = trimmed[..digits].parse().ok()?;
    let after = &trimmed[digits..];
    let desc = after.trim_start();
    if desc.len() == after.len() {
        return None; // no whitespace after the number ("ok 3" alone fails)
    }
    let desc = match desc.strip_prefix('-') {
        Some(d) if d.starts_with(char::is_whitespace) => d.trim_start(),
        _ => desc,
    };
    Some((ok, n, desc.to_string()))
}

/// Scores TAP the way Inkfish does; panics on anything it could not parse.
fn inkfish_score(tap: &str) -> (u32, u32) {
    let mut plans = Vec::new();
    let mut tests = Vec::new();
    for line in tap.lines() {
        if let Some(n) = line.strip_prefix("1..") {
            plans.push(
                n.parse::<u32>()
                    .unwrap_or_else(|_| panic!("bad plan line {line:?}")),
            );
        } else if line.starts_with("ok") || line.starts_with("not") {
            let parsed = tap_test_line(line)
                .unwrap_or_else(|| panic!("line {line:?} starts with ok/not but is no test line"));
            tests.push(parsed);
        } else {
            assert!(
                line.starts_with("# "),
                "every other line must be a `# ` diagnostic, found {line:?}"
            );
        }
    }
    assert_eq!(plans.len(), 1, "exactly one plan line");
    assert_eq!(
        plans[0] as usize,
        tests.len(),
        "the plan counts every test line"
    );
    for (i, (_, n, desc)) in tests.iter().enumerate() {
        assert_eq!(*n as usize, i + 1, "test points are numbered in order");
        assert!(!desc.is_empty(), "test point {n} has a description");
    }
    let passed = tests.iter().filter(|t| t.0).count() as u32;
    (passed, plans[0])
}

#[test]
fn the_parser_applies_inkfish_rules() {
    assert_eq!(tap_test_line("ok 1 - x"), Some((true, 1, "x".into())));
    assert_eq!(
        tap_test_line("not ok 12 y z"),
        Some((false, 12, "y z".into()))
    );
    assert_eq!(tap_test_line("ok 3"), None);
    assert_eq!(tap_test_line("okay"), None);
    let caught = std::panic::catch_unwind(|| inkfish_score("1..1\nok 1 - a\nnot a diagnostic\n"));
    assert!(caught.is_err());
}

#[test]
fn tap_scores_the_weighted_points_under_inkfish_rules() {
    let run = grade_fixture(&[
        "misbehave",
        "--solution",
        "--include-hidden",
        "--format",
        "tap",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let (passed, total) = inkfish_score(&run.stdout);
    // 8 of 20 points: a 3-point test is three TAP test points.
    assert_eq!((passed, total), (8, 20), "{}", run.stdout);
    // The fake TAP a test printed, and a failure message, are diagnostics.
    assert!(
        run.stdout.contains("# expected 1 block, found 2"),
        "{}",
        run.stdout
    );
    // Hidden tests keep their details out of the TAP output.
    assert!(run.stdout.contains("hidden test: details withheld"));
    assert!(!run.stdout.contains("trying to fake a pass"));
    // Progress on stderr cannot be read as TAP either.
    for line in run.stderr.lines() {
        assert!(
            !line.starts_with("ok") && !line.starts_with("not"),
            "{line:?}"
        );
    }
}

#[test]
fn tap_of_a_stub_and_of_a_full_pass() {
    let stub = grade_fixture(&["misbehave", "--test", "answer", "--format", "tap"]);
    assert_eq!(inkfish_score(&stub.stdout), (0, 3));
    assert!(stub
        .stdout
        .contains("# not implemented yet: todo!() at lessons/misbehave/src/lib.rs:12:5"));
    let pass = grade_fixture(&[
        "misbehave",
        "--solution",
        "--test",
        "answer",
        "--format",
        "tap",
    ]);
    assert_eq!(pass.code, 0);
    assert_eq!(inkfish_score(&pass.stdout), (3, 3));
}

#[test]
fn gradescope_results_have_the_fields_the_spec_requires() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results").join("results.json");
    let run = grade_fixture(&[
        "misbehave",
        "--solution",
        "--include-hidden",
        "--test",
        "a",
        "--format",
        "gradescope",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "the report went to the file");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(r["score"].is_number());
    assert!(r["execution_time"].is_number());
    assert!(r["output"].is_string());
    let tests = r["tests"].as_array().unwrap();
    assert!(!tests.is_empty());
    let mut sum = 0.0;
    for t in tests {
        assert!(t["name"].is_string(), "{t}");
        assert!(t["output"].is_string(), "{t}");
        let (score, max) = (
            t["score"].as_f64().unwrap(),
            t["max_score"].as_f64().unwrap(),
        );
        assert!(score <= max);
        sum += score;
        let status = t["status"].as_str().unwrap();
        assert!(status == "passed" || status == "failed");
        assert_eq!(status == "passed", score == max && max > 0.0, "{t}");
        let vis = t["visibility"].as_str().unwrap();
        assert!(["visible", "hidden", "after_due_date", "after_published"].contains(&vis));
        // Markdown: the message a code block, the replay command as code.
        assert_eq!(t["output_format"], "md", "{t}");
        let out = t["output"].as_str().unwrap();
        if status == "failed" {
            assert!(out.starts_with("```text\n"), "{out}");
            assert!(
                out.contains("\n```\n\n") && out.contains("Replay it: `cargo grade"),
                "{out}"
            );
        }
    }
    assert_eq!(r["output_format"], "md");
    assert_eq!(sum, r["score"].as_f64().unwrap());
    let hidden = tests
        .iter()
        .find(|t| t["name"].as_str().unwrap().contains("fake_report"))
        .unwrap();
    assert_eq!(hidden["visibility"], "after_published");
}

#[test]
fn grading_twice_gives_identical_reports() {
    let args = [
        "misbehave",
        "--solution",
        "--include-hidden",
        "--seed",
        "99",
    ];
    let first = grade_fixture(&args);
    let second = grade_fixture(&args);
    assert_eq!(first.code, second.code);
    assert!(first.stdout.contains("Score: 8/20"), "{}", first.stdout);
    assert_eq!(
        first.stdout, second.stdout,
        "the human report is the same twice"
    );

    let json = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let mut r = grade_fixture(&all).json();
        // Wall-clock times and raw output (thread ids) may differ; nothing else.
        r["elapsed_ms"] = Value::Null;
        for t in r["tests"].as_array_mut().unwrap() {
            t["duration_ms"] = Value::Null;
            t["stderr"] = Value::Null;
        }
        r
    };
    assert_eq!(json(&args), json(&args));
}

// ---------------------------------------------------------------------------
// PrairieLearn's images: the failure's drawings, as the platform takes them.

/// Lesson 5's reference with coalescing planted out: both merges skipped,
/// so the merge scenarios fail with a recorded sequence, and the
/// coalescing workload's utilization fails with a footprint.
fn lesson5_without_merges(dir: &Path) -> PathBuf {
    let solution = common::root().join("solutions/lesson5-coalescing");
    let crate_dir = dir.join("lesson5-no-merges");
    common::copy_crate(&solution, &crate_dir);
    for merge in ["touches(chunk, next)", "touches(prev, chunk)"] {
        let line = format!("if unsafe {{ {merge} }}");
        let planted = format!("if false && unsafe {{ {merge} }}");
        common::plant(&crate_dir, "src/free_list.rs", &line, &planted);
    }
    crate_dir
}

/// The images of test `name` in PrairieLearn's results, each checked as
/// PrairieLearn's documentation describes them (`{label, url}`, the URL a
/// `data:` URL of an image), decoded.
fn pl_images(results: &Value, name: &str) -> Vec<(String, String)> {
    let test = common::test(results, name);
    let images = test["images"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no images: {test}"));
    images
        .iter()
        .map(|image| {
            let keys: Vec<&String> = image.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["label", "url"], "{name}: {image}");
            let url = image["url"].as_str().unwrap();
            let data = url
                .strip_prefix("data:image/svg+xml;base64,")
                .unwrap_or_else(|| panic!("{name}: not an SVG data URL: {url:.60}"));
            let svg = base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap();
            let svg = String::from_utf8(svg).unwrap();
            assert!(
                svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
                "{svg:.80}"
            );
            (image["label"].as_str().unwrap().to_string(), svg)
        })
        .collect()
}

#[test]
fn prairielearn_results_carry_the_failures_drawings_as_images() {
    let dir = tempfile::tempdir().unwrap();
    let submission = lesson5_without_merges(dir.path());
    let sub = submission.to_str().unwrap();
    let pl = |test: &str| {
        let graded = grade(&[
            "lesson5",
            "--submission",
            sub,
            "--format",
            "prairielearn",
            "--test",
            test,
        ]);
        assert_eq!(graded.code, 1, "points lost:\n{}", graded.stderr);
        assert!(graded.stdout.len() < 1_000_000, "under PrairieLearn's 1 MB");
        graded.json()
    };
    // A failing sequence: the heap as it was left, what broke outlined.
    let results = pl("free_merges_with_the_block_after");
    let images = pl_images(&results, "free_merges_with_the_block_after");
    assert_eq!(images.len(), 1, "the heap, no footprint");
    let (label, svg) = &images[0];
    assert!(label.starts_with("the heap after operation "), "{label}");
    let doc = Html::parse_fragment(svg);
    assert!(
        doc.select(&Selector::parse("svg.heap g.chunk.free").unwrap())
            .count()
            >= 2
    );
    assert_eq!(
        doc.select(&Selector::parse("svg.heap g.focus").unwrap())
            .count(),
        1
    );
    // A utilization test: its footprint.
    let results = pl("utilization_coalescing_at_least_70");
    let images = pl_images(&results, "utilization_coalescing_at_least_70");
    assert_eq!(images.len(), 1, "the footprint, no heap");
    let (label, svg) = &images[0];
    assert!(label.contains("traces/coalescing.rep"), "{label}");
    let doc = Html::parse_fragment(svg);
    assert_eq!(
        doc.select(&Selector::parse("svg.plot polyline").unwrap())
            .count(),
        2
    );
}
