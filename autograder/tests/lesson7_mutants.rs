//! Lesson 7's library and program tests can fail, and fail for the reason
//! they name: the grader grades `lesson7-mutants/solutions/lesson7-mutant`
//! (the reference heap with one C-side bug planted, chosen by a file) as
//! lesson 7 of a small course, end to end: the library and the Rust program
//! are built by the grader and run in the test's confinement, as a
//! student's are. The heap-level tests' mutants run in-process:
//! `autograder/suites/tests/lesson7_mutants.rs`.
//!
//! The first run builds the crate three ways (subject, library, program).

mod common;

use std::path::{Path, PathBuf};

use common::{grade_with_env, test, Graded};

fn manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lesson7-mutants/course.toml")
}

/// The file the mutant crate reads its bug from (named at build time, so
/// the same path every run: one build serves every case).
fn choice_file() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("lesson7-mutant-choice")
}

/// Grades the test `name` with the bug `mutant` planted.
fn graded(name: &str, mutant: &str) -> Graded {
    std::fs::write(choice_file(), mutant).expect("write the choice");
    let manifest = manifest();
    let file = choice_file();
    grade_with_env(
        &[
            "--manifest",
            manifest.to_str().unwrap(),
            "lesson7",
            "--solution",
            "--test",
            name,
            "--exact",
            "--format",
            "json",
        ],
        &[("HEAPLAB_MUTANT_FILE", file.to_str().unwrap())],
    )
}

const PROGRAM_TESTS: [&str; 4] = [
    "c_functions_follow_c",
    "stats_at_exit",
    "real_programs_run_unchanged",
    "rust_program_uses_it_as_global_allocator",
];

/// Each bug, the test that must catch it, and a piece of the report that
/// shows it was caught for the right reason.
const CASES: [(&str, &str, &str); 6] = [
    ("einval", "c_functions_follow_c", "expected EINVAL"),
    (
        "calloc-wraps",
        "c_functions_follow_c",
        "calloc(SIZE_MAX/2 + 2, 2)",
    ),
    (
        "no-stats",
        "stats_at_exit",
        "no line starting \\\"== heap stats ==\\\"",
    ),
    (
        "forwards-to-libc",
        "real_programs_run_unchanged",
        "the C library's malloc was used",
    ),
    (
        "realloc-no-copy",
        "real_programs_run_unchanged",
        "with the library",
    ),
    (
        "no-atfork",
        "rust_program_uses_it_as_global_allocator",
        "the child hung",
    ),
];

/// One test function: the cases share one file and one build.
#[test]
fn program_tests_pass_without_a_bug_and_catch_each_planted_one() {
    for name in PROGRAM_TESTS {
        let run = graded(name, "none");
        let report = run.json();
        let entry = test(&report, name);
        assert_eq!(
            entry["outcome"]["status"], "passed",
            "no bug: {name} should pass:\n{entry:#}\n{}",
            run.stderr
        );
    }
    for (mutant, name, reason) in CASES {
        let run = graded(name, mutant);
        let report = run.json();
        let entry = test(&report, name);
        assert_eq!(
            entry["outcome"]["status"], "failed",
            "{mutant}: {name} should fail:\n{entry:#}\n{}",
            run.stderr
        );
        let shown = entry.to_string();
        assert!(
            shown.contains(reason),
            "{mutant}: {name} failed, but not for the planted bug (no {reason:?}):\n{entry:#}"
        );
    }
}
