//! The grader grades misbehaving tests as failures with the right reason,
//! while the other tests of the same run still pass (fixture course:
//! `tests/fixture-course`, suite `heaplab_suites::fixtures`).

mod common;

use common::{fixture_manifest, grade_fixture, test};
use serde_json::Value;

fn status(report: &Value, name: &str) -> String {
    test(report, name)["outcome"]["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn every_misbehaviour_is_a_failure_with_its_reason() {
    let run = grade_fixture(&[
        "misbehave",
        "--solution",
        "--include-hidden",
        "--format",
        "json",
    ]);
    assert_eq!(
        run.code, 1,
        "points were lost, so exit 1; stderr:\n{}",
        run.stderr
    );
    let r = run.json();

    // The well-behaved tests of the same run pass.
    for name in [
        "passes",
        "answer",
        "chatty",
        "leaves_a_child",
        "runs_a_program",
    ] {
        assert_eq!(status(&r, name), "passed", "{name}: {}", test(&r, name));
    }

    assert_eq!(status(&r, "fails"), "failed");
    let fails = &test(&r, "fails")["outcome"]["failure"]["what"];
    assert!(
        fails
            .as_str()
            .unwrap()
            .contains("expected 1 block, found 2"),
        "{fails}"
    );

    // A panic of the student's code: its message, where, relative to the course.
    assert_eq!(status(&r, "panics"), "failed");
    let panics = test(&r, "panics")["outcome"]["failure"]["what"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(panics.contains("index out of bounds"), "{panics}");
    assert!(
        panics.contains("at solutions/misbehave/src/lib.rs:"),
        "panic locations are relative to the course: {panics}"
    );

    let outcome = |name: &str| test(&r, name)["outcome"].clone();
    assert_eq!(outcome("segfault")["status"], "crashed");
    assert_eq!(outcome("segfault")["signal"], "SIGSEGV");
    assert_eq!(outcome("aborts")["signal"], "SIGABRT");
    assert_eq!(outcome("aborts")["cause"], Value::Null);
    assert_eq!(outcome("out_of_memory")["status"], "crashed");
    assert_eq!(outcome("out_of_memory")["cause"], "out of memory");
    assert_eq!(outcome("stack_overflow")["status"], "crashed");
    assert_eq!(outcome("stack_overflow")["cause"], "stack overflow");
    // A crash names the call it happened in.
    let what = outcome("segfault")["failure"]["what"].to_string();
    assert!(what.contains("during segfault()"), "{what}");

    // A call that never returns is stopped after the operation's limit (1 s
    // here), SIGTERM ignored or not.
    for name in ["endless_loop", "ignores_sigterm"] {
        assert_eq!(outcome(name)["status"], "hung", "{name}");
        assert_eq!(outcome(name)["after_ms"], 1000, "{name}");
    }

    // Exiting with 0, or printing passing TAP/libtest lines, earns nothing.
    for name in ["exit_zero", "fake_tap"] {
        assert_eq!(outcome(name)["status"], "exited_early", "{name}");
        assert_eq!(outcome(name)["code"], 0, "{name}");
    }
    // Printing what a passing checker prints earns nothing either: the
    // student's processes have no channel to the grader.
    assert_eq!(status(&r, "fake_report"), "failed");

    // Output beyond the cap (16 KiB here) is drained and dropped, not kept.
    let chatty = test(&r, "chatty")["stdout"].as_str().unwrap().to_string();
    assert!(chatty.len() < 32 * 1024, "kept {} bytes", chatty.len());
    assert!(chatty.contains("bytes not kept"));

    // Scores: 2 + 3 + 1 + 1 + 1 of 20.
    assert_eq!(r["score"], 8);
    assert_eq!(r["max_score"], 20);
    let sum: u64 = r["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["score"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 8);
}

#[test]
fn a_stub_reaching_todo_is_not_implemented_at_a_relative_location() {
    let run = grade_fixture(&["misbehave", "--test", "answer", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let outcome = &test(&report, "answer")["outcome"];
    assert_eq!(outcome["status"], "not_implemented");
    assert_eq!(outcome["location"], "lessons/misbehave/src/lib.rs:12:5");
}

#[test]
fn the_seed_reaches_the_tests() {
    let run = grade_fixture(&[
        "misbehave",
        "--solution",
        "--test",
        "seeded",
        "--seed",
        "7",
        "--format",
        "json",
    ]);
    let r = run.json();
    assert_eq!(r["seed"], 7);
    let message = test(&r, "seeded")["outcome"]["failure"]["what"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("seed 7: malloc(7)"), "{message}");
    assert!(test(&r, "seeded")["replay"]
        .as_str()
        .unwrap()
        .contains("--test seeded --seed 7"));
}

#[test]
fn test_filter_runs_only_matching_tests() {
    let run = grade_fixture(&[
        "misbehave",
        "--solution",
        "--test",
        "pass",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = run.json();
    let names: Vec<&str> = r["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["passes"]);
    assert_eq!(r["score"], r["max_score"]);
}

/// Processes whose command line has all of `parts` as arguments.
fn processes_with(parts: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if parts.iter().all(|p| args.iter().any(|a| a == p)) {
            found.push(args.join(" "));
        }
    }
    found
}

#[test]
fn nothing_a_test_started_outlives_the_grade() {
    let run = grade_fixture(&["misbehave", "--solution", "--test", "leaves_a_child"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The fixture starts `sleep 317.5` and returns; the grader kills its group.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(processes_with(&["sleep", "317.5"]), Vec::<String>::new());
}

#[test]
fn ctrl_c_stops_the_running_tests() {
    use std::io::BufRead;
    let slow = fixture_manifest().with_file_name("slow.toml");
    let mut grade = std::process::Command::new(env!("CARGO_BIN_EXE_grade"))
        .args([
            "--manifest",
            slow.to_str().unwrap(),
            "misbehave",
            "--solution",
        ])
        .args(["--seed", "31337"])
        .current_dir(common::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The header comes after the build, just before the tests start.
    let mut stdout = std::io::BufReader::new(grade.stdout.take().unwrap());
    let mut header = String::new();
    stdout.read_line(&mut header).unwrap();
    assert!(header.starts_with("misbehave"), "{header}");
    // The test's checker (which starts the student's process).
    let test = ["--run", "endless_loop", "31337"];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while processes_with(&test).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the test never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill sends a signal to the grader this test started.
    unsafe { libc::kill(grade.id() as libc::pid_t, libc::SIGINT) };
    let status = grade.wait().unwrap();
    assert_eq!(status.code(), Some(2), "interrupted: could not grade");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(processes_with(&test), Vec::<String>::new());
}
