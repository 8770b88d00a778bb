//! Measured tests (lesson 8's speed and space) as the grader scores and
//! reports them, on the fixture course's measured lessons
//! (`fixture-course/measured.toml`), whose values are fixed: points linear
//! between the manifest's thresholds, rounded down; nothing when the gate
//! fails (the measured tests then do not run) or is not run whole (points
//! withheld); the leaderboard in heaplab's JSON, Gradescope's results and
//! Autolab's scoreboard; measured points one by one in TAP.

mod common;

use std::path::{Path, PathBuf};

use common::{grade, test, Graded};
use serde_json::Value;

fn manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture-course/measured.toml")
}

fn graded(lesson: &str, more: &[&str]) -> Graded {
    let manifest = manifest();
    let mut args = vec![
        "--manifest",
        manifest.to_str().unwrap(),
        lesson,
        "--solution",
    ];
    args.extend_from_slice(more);
    grade(&args)
}

fn json(lesson: &str, more: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(more);
    graded(lesson, &args).json()
}

#[test]
fn measured_points_are_linear_between_the_thresholds() {
    let report = json("gate-passes", &[]);
    let score = |name: &str| test(&report, name)["score"].as_u64().unwrap();
    assert_eq!(score("passes"), 2);
    // 0.75 is halfway from 0.5 to 1.0: 2 of 4.
    assert_eq!(score("finds_three_quarters"), 2);
    assert_eq!(score("finds_double"), 4, "above `full`: all");
    assert_eq!(score("finds_half_as_much"), 3, "less is better: at `full`");
    assert_eq!(score("measure_fails"), 0, "a failed measurement earns none");
    assert_eq!(report["score"], 11);
    let outcome = &test(&report, "finds_three_quarters")["outcome"];
    assert_eq!(outcome["status"], "measured");
    assert_eq!(outcome["measured"]["value"], 0.75);
    let details = test(&report, "finds_three_quarters")["details"]
        .as_str()
        .unwrap();
    assert!(
        details.contains("points: 2 of 4 (0.5 earns none, 1 earns all"),
        "{details}"
    );
}

#[test]
fn the_leaderboard_is_the_geometric_mean_of_each_column() {
    let report = json("gate-passes", &[]);
    let board = report["leaderboard"].as_array().unwrap();
    assert_eq!(board.len(), 2, "{board:?}");
    assert_eq!(board[0]["name"], "speed");
    // sqrt(0.75 * 2.0)
    assert_eq!(board[0]["value"], 1.2247);
    assert_eq!(board[0]["order"], "desc");
    assert_eq!(board[1]["name"], "memory");
    assert_eq!(board[1]["value"], 0.5);
    assert_eq!(board[1]["order"], "asc");

    let gradescope = graded("gate-passes", &["--format", "gradescope"]).json();
    assert_eq!(gradescope["leaderboard"], report["leaderboard"]);
    let tests = gradescope["tests"].as_array().unwrap();
    let partial = tests
        .iter()
        .find(|t| t["name"].as_str().unwrap().contains("finds_three_quarters"))
        .unwrap();
    assert_eq!(partial["score"], 2);
    assert_eq!(partial["status"], "failed", "not all points: {partial}");

    let autolab = graded("gate-passes", &["--format", "autolab"]);
    let last: Value = serde_json::from_str(autolab.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["scoreboard"], serde_json::json!([1.2247, 0.5]));
    assert_eq!(last["scores"]["finds_three_quarters"], 2);
}

#[test]
fn tap_gives_a_measured_test_its_earned_points_one_by_one() {
    let tap = graded("gate-passes", &["--format", "tap"]).stdout;
    let lines: Vec<&str> = tap
        .lines()
        .filter(|l| l.contains("(finds_three_quarters)"))
        .collect();
    assert_eq!(lines.len(), 4, "{tap}");
    assert!(
        lines[0].starts_with("ok ") && lines[1].starts_with("ok "),
        "{tap}"
    );
    assert!(
        lines[2].starts_with("not ok ") && lines[3].starts_with("not ok "),
        "{tap}"
    );
}

#[test]
fn a_failed_gate_keeps_the_measured_tests_from_running() {
    let run = graded("gate-fails", &["--format", "json"]);
    assert_eq!(run.code, 1);
    let report = run.json();
    let measured = test(&report, "finds_double");
    assert_eq!(measured["score"], 0);
    assert_eq!(measured["outcome"]["status"], "failed");
    let details = measured["details"].as_str().unwrap();
    assert!(
        details.contains("not measured") && details.contains("fails did not"),
        "{details}"
    );
    assert!(!details.contains("replay:"), "nothing to replay: {details}");
    assert_eq!(report["leaderboard"][0]["value"], 0.0, "ranks last");
}

#[test]
fn a_gate_run_in_part_withholds_the_points() {
    let report = json("gate-passes", &["--test", "finds"]);
    let measured = test(&report, "finds_double");
    assert_eq!(measured["outcome"]["status"], "measured", "it still runs");
    assert_eq!(measured["score"], 0);
    assert!(
        measured["withheld"]
            .as_str()
            .unwrap()
            .contains("left out 1 of the correctness tests"),
        "{measured}"
    );
}

#[test]
fn a_measured_test_before_a_gate_test_is_a_manifest_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(manifest()).unwrap();
    let suites = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let text = text.replace(
        "suites = \"../../suites\"",
        &format!("suites = {:?}", suites.to_str().unwrap()),
    );
    // Move the gate test of `gate-passes` after its measured tests.
    let gate = "[[lesson.test]]\nname = \"passes\"\ntitle = \"the gate\"\npoints = 2\n\n";
    let text = text.replacen(gate, "", 1).replacen(
        "[[lesson]]\nid = \"gate-fails\"",
        &format!("{gate}[[lesson]]\nid = \"gate-fails\""),
        1,
    );
    let path = dir.path().join("course.toml");
    std::fs::write(&path, text).unwrap();
    let run = grade(&["--manifest", path.to_str().unwrap(), "--list"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {}", run.stderr);
    assert!(
        lines[0].contains("comes after a measured test; list the measured tests"),
        "{}",
        run.stderr
    );
}
