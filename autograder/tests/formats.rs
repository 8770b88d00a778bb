//! The machine formats: TAP as Inkfish scores it, Gradescope's results.json,
//! and the same report twice for the same submission.

mod common;

use common::grade_fixture;
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
