//! Bad input gets one clear line and exit code 2; submissions are graded
//! from their src/ with the grader's Cargo.toml; code that does not compile
//! scores 0 with the compiler's errors.

mod common;

use std::path::Path;

use common::{fixture_manifest, grade, grade_fixture, test};

/// A submission folder: the given `lib.rs` and a Cargo.toml of the student's
/// own making, which the grader must ignore.
/// A submission of the fixture lesson: the solution's `src/lib.rs` with
/// `answer` (lines 10 to 12) replaced by `answer_fn`, under a Cargo.toml
/// the grader must ignore.
fn submission(answer_fn: &str) -> tempfile::TempDir {
    let solution = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixture-course/solutions/misbehave/src/lib.rs");
    let lib = std::fs::read_to_string(solution).unwrap();
    let given = "pub fn answer() -> u64 {\n    42\n}\n";
    assert!(lib.contains(given), "the fixture's answer moved");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), lib.replace(given, answer_fn)).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"not-the-lesson\"\nversion = \"0.1.0\"\n\n[dependencies]\nno-such-crate-anywhere = \"99\"\n",
    )
    .unwrap();
    dir
}

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

#[test]
fn an_unknown_lesson_names_the_known_ones() {
    let line = one_line_error(&grade(&["lesson99"]));
    assert!(line.contains("unknown lesson `lesson99`"), "{line}");
    assert!(line.contains("lesson1"), "{line}");
    let line = one_line_error(&grade_fixture(&["nope"]));
    assert!(line.contains("known lessons: misbehave"), "{line}");
}

#[test]
fn grade_mutants_of_an_unknown_lesson_is_one_line() {
    let line = one_line_error(&grade(&["mutants", "lesson99"]));
    assert!(line.contains("unknown lesson `lesson99`"), "{line}");
}

#[test]
fn no_lesson_at_all_says_how_to_name_one() {
    let line = one_line_error(&grade_fixture(&[]));
    assert!(line.contains("name a lesson"), "{line}");
}

#[test]
fn a_bad_submission_folder_is_one_line_and_exit_2() {
    let line = one_line_error(&grade_fixture(&[
        "misbehave",
        "--submission",
        "/no/such/folder",
    ]));
    assert!(line.contains("no such folder"), "{line}");

    let empty = tempfile::tempdir().unwrap();
    let line = one_line_error(&grade_fixture(&[
        "misbehave",
        "--submission",
        empty.path().to_str().unwrap(),
    ]));
    assert!(line.contains("no Cargo.toml"), "{line}");

    std::fs::write(empty.path().join("Cargo.toml"), "").unwrap();
    let line = one_line_error(&grade_fixture(&[
        "misbehave",
        "--submission",
        empty.path().to_str().unwrap(),
    ]));
    assert!(line.contains("no src/"), "{line}");
}

#[test]
fn other_bad_input_is_exit_2() {
    let line = one_line_error(&grade_fixture(&["misbehave", "--test", "zzz"]));
    assert!(line.contains("no test of misbehave"), "{line}");
    let line = one_line_error(&grade_fixture(&["misbehave", "--output", "x.txt"]));
    assert!(line.contains("--output is for"), "{line}");
    let line = one_line_error(&grade(&["--manifest", "/no/course.toml", "lesson1"]));
    assert!(line.contains("cannot read the course manifest"), "{line}");
    // clap's own usage errors also exit 2.
    assert_eq!(grade_fixture(&["misbehave", "--jobs", "0"]).code, 2);
    assert_eq!(grade_fixture(&["misbehave", "--format", "xml"]).code, 2);
}

#[test]
fn a_manifest_test_the_suite_lacks_is_a_kit_bug() {
    let broken =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture-course/missing-test.toml");
    let run = grade(&[
        "--manifest",
        broken.to_str().unwrap(),
        "misbehave",
        "--solution",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("kit bug"), "{}", run.stderr);
    assert!(run.stderr.contains("no_such_test"), "{}", run.stderr);
}

#[test]
fn list_names_lessons_tests_titles_and_points() {
    let run = grade_fixture(&["--list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("misbehave"));
    assert!(run.stdout.contains("the student's answer"));
    assert!(run.stdout.contains("3 pt"));
    assert!(run.stdout.contains("(hidden)"));
    let all = grade(&["--list"]);
    assert_eq!(all.code, 0);
    assert!(all.stdout.contains("lesson1"));
}

#[test]
fn a_submission_is_graded_with_the_graders_cargo_toml() {
    let good = submission("pub fn answer() -> u64 {\n    42\n}\n");
    let run = grade_fixture(&[
        "misbehave",
        "--submission",
        good.path().to_str().unwrap(),
        "--test",
        "answer",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = run.json();
    assert_eq!(r["variant"], "submission");
    assert_eq!(r["score"], 3);
    assert!(test(&r, "answer")["replay"]
        .as_str()
        .unwrap()
        .contains("--submission"));

    let todo = submission("pub fn answer() -> u64 {\n    todo!()\n}\n");
    let run = grade_fixture(&[
        "misbehave",
        "--submission",
        todo.path().to_str().unwrap(),
        "--test",
        "answer",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let outcome = &test(&report, "answer")["outcome"];
    assert_eq!(outcome["status"], "not_implemented");
    assert_eq!(outcome["location"], "src/lib.rs:11:5");
}

#[test]
fn code_that_does_not_compile_scores_zero_with_the_errors() {
    let broken = submission("pub fn answer() -> u64 {\n    \"forty-two\"\n}\n");
    let run = grade_fixture(&[
        "misbehave",
        "--submission",
        broken.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = run.json();
    assert_eq!(r["compiled"], false);
    assert_eq!(r["score"], 0);
    let errors = r["compile_errors"].as_str().unwrap();
    assert!(errors.contains("mismatched types"), "{errors}");
    assert!(
        errors.contains("--> src/lib.rs:11:5"),
        "paths as the student knows them: {errors}"
    );
    assert!(!errors.contains('\u{1b}'), "no colour codes in JSON");
    for t in r["tests"].as_array().unwrap() {
        assert_eq!(t["outcome"]["status"], "did_not_compile", "{t}");
    }

    // A crate that compiles but lacks what the suite calls fails the same way.
    let missing = submission("pub fn question() -> u64 {\n    6 * 9\n}\n");
    let run = grade_fixture(&[
        "misbehave",
        "--submission",
        missing.path().to_str().unwrap(),
        "--test",
        "passes",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("did not compile"), "{}", run.stdout);
    assert!(
        run.stdout.contains("answer"),
        "the error names the missing item:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("Score: 0/2"), "{}", run.stdout);
}

#[test]
fn the_manifest_can_come_from_the_environment() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(["--list"])
        .env("HEAPLAB_MANIFEST", fixture_manifest())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("misbehave"));
}
