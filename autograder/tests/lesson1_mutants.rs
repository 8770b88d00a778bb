//! Lesson 1: every test of the suite can fail, and fails on the bug it is
//! named for.
//!
//! Each mutant is the reference solution with one bug put in (wrong squares,
//! a private mapping, no munmap, ...), handed in with `grade lesson1
//! --submission DIR` as a student would; the test it is listed with must
//! fail. An untouched copy must score full marks, so a mutant fails for its
//! bug and not for the way it was handed in. The last test checks that every
//! suite test catches at least one mutant.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::{grade, root, test};
use serde_json::Value;

/// One bug: the `(old, new)` replacements that put it into the solution's
/// `src/lib.rs`, and the test that must catch it.
struct Mutant {
    name: &'static str,
    edits: &'static [(&'static str, &'static str)],
    caught_by: &'static str,
}

const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "squares computed wrong",
        edits: &[("*element = i * i;", "*element = i * (i + 1);")],
        caught_by: "save_array_writes_squares",
    },
    Mutant {
        name: "file sized to whole pages",
        edits: &[(
            "libc::off_t::try_from(bytes)",
            "libc::off_t::try_from(bytes.next_multiple_of(4096))",
        )],
        caught_by: "save_array_file_is_40_bytes",
    },
    Mutant {
        name: "no ftruncate (SIGBUS)",
        edits: &[(
            "if unsafe { libc::ftruncate(fd.as_raw_fd(), size) } == -1 {",
            "if size < 0 {",
        )],
        caught_by: "save_array_writes_squares",
    },
    Mutant {
        name: "MAP_PRIVATE instead of MAP_SHARED",
        edits: &[("libc::MAP_SHARED,", "libc::MAP_PRIVATE,")],
        caught_by: "writes_are_shared_between_processes",
    },
    Mutant {
        name: "open maps MAP_PRIVATE, create MAP_SHARED",
        edits: &[
            (
                "fn map_file(fd: &OwnedFd, len: usize)",
                "fn map_file(fd: &OwnedFd, len: usize, flags: libc::c_int)",
            ),
            ("libc::MAP_SHARED,", "flags,"),
            ("map_file(&fd, len)", "map_file(&fd, len, libc::MAP_SHARED)"),
            (
                "map_file(&fd, bytes / size_of::<i32>())",
                "map_file(&fd, bytes / size_of::<i32>(), libc::MAP_PRIVATE)",
            ),
        ],
        caught_by: "writes_are_shared_between_processes",
    },
    Mutant {
        name: "no munmap on drop",
        edits: &[(
            "let rv = unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len * size_of::<i32>()) };",
            "let rv = 0;",
        )],
        caught_by: "drop_unmaps_the_file",
    },
    Mutant {
        name: "munmap of len bytes, not len * 4",
        edits: &[(
            "libc::munmap(self.ptr.as_ptr().cast(), self.len * size_of::<i32>())",
            "libc::munmap(self.ptr.as_ptr().cast(), self.len)",
        )],
        caught_by: "drop_unmaps_the_file",
    },
    Mutant {
        name: "empty array calls mmap (EINVAL)",
        edits: &[(
            "    if len == 0 {\n        // mmap refuses",
            "    if len == usize::MAX {\n        // mmap refuses",
        )],
        caught_by: "empty_array_maps_nothing",
    },
    Mutant {
        name: "a descriptor leaked",
        edits: &[(
            "Ok(unsafe { OwnedFd::from_raw_fd(fd) })",
            "unsafe { libc::dup(fd) };\n    Ok(unsafe { OwnedFd::from_raw_fd(fd) })",
        )],
        caught_by: "no_descriptor_left_open",
    },
    Mutant {
        name: "print-array prints squares without reading the file",
        edits: &[(
            "for (i, value) in array.iter().enumerate() {",
            "for (i, value) in (0..10).map(|i: i32| i * i).enumerate() {",
        )],
        caught_by: "print_array_prints_each_element",
    },
    Mutant {
        name: "error message does not name the call",
        edits: &[(
            "write!(f, \"Failed call: {}: {}\", self.call, self.source)",
            "write!(f, \"{}\", self.source)",
        )],
        caught_by: "print_array_reports_missing_file",
    },
    Mutant {
        name: "a failed call exits 0",
        edits: &[("ExitCode::from(1)", "ExitCode::SUCCESS")],
        caught_by: "print_array_reports_missing_file",
    },
    Mutant {
        name: "create without O_TRUNC keeps old contents",
        edits: &[(
            "libc::O_CREAT | libc::O_TRUNC | libc::O_RDWR",
            "libc::O_CREAT | libc::O_RDWR",
        )],
        caught_by: "round_trip_through_the_file",
    },
    Mutant {
        name: "open maps at most ten elements",
        edits: &[(
            "map_file(&fd, bytes / size_of::<i32>())",
            "map_file(&fd, (bytes / size_of::<i32>()).min(ARRAY_LEN))",
        )],
        caught_by: "round_trip_through_the_file",
    },
];

/// The solution's `src/` as a student would hand it in (the library named
/// `lesson1`), with `edits` applied, in a fresh folder.
fn submission(edits: &[(&str, &str)]) -> tempfile::TempDir {
    let solution = root().join("solutions/lesson1-mmap-io");
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy_renamed(&solution.join("src"), &dir.path().join("src"));
    let lib = dir.path().join("src/lib.rs");
    let mut text = fs::read_to_string(&lib).expect("lib.rs");
    for (old, new) in edits {
        assert!(
            text.contains(old),
            "the solution no longer contains {old:?}: update this mutant"
        );
        text = text.replace(old, new);
    }
    fs::write(&lib, text).expect("write lib.rs");
    // Ignored by the grader (it uses its own), but a submission has one.
    fs::copy(solution.join("Cargo.toml"), dir.path().join("Cargo.toml")).expect("Cargo.toml");
    dir
}

fn copy_renamed(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create folder");
    for entry in fs::read_dir(from).expect("read folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_renamed(&path, &to.join(entry.file_name()));
        } else {
            let text = fs::read_to_string(&path).expect("a source file");
            fs::write(
                to.join(entry.file_name()),
                text.replace("lesson1_solution", "lesson1"),
            )
            .expect("write a source file");
        }
    }
}

/// Grades a submission; returns the JSON report.
fn graded(dir: &Path) -> Value {
    let run = grade(&[
        "lesson1",
        "--submission",
        dir.to_str().expect("a UTF-8 path"),
        "--format",
        "json",
    ]);
    assert!(
        run.code == 0 || run.code == 1,
        "grade could not grade (exit {}):\n{}",
        run.code,
        run.stderr
    );
    run.json()
}

fn status(report: &Value, name: &str) -> String {
    test(report, name)["outcome"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_untouched_solution_handed_in_scores_full_marks() {
    let report = graded(submission(&[]).path());
    assert_eq!(report["score"], report["max_score"], "{report:#}");
}

#[test]
fn each_mutant_fails_the_test_named_for_it() {
    let mut missed = Vec::new();
    for mutant in MUTANTS {
        let report = graded(submission(mutant.edits).path());
        assert_eq!(
            report["compiled"], true,
            "{}: did not compile: {}",
            mutant.name, report["compile_errors"]
        );
        let got = status(&report, mutant.caught_by);
        if got != "failed" {
            missed.push(format!(
                "{}: {} reported {got}",
                mutant.name, mutant.caught_by
            ));
        }
    }
    assert!(
        missed.is_empty(),
        "mutants not caught:\n{}",
        missed.join("\n")
    );
}

#[test]
fn every_suite_test_catches_some_mutant() {
    let named: BTreeSet<&str> = MUTANTS.iter().map(|m| m.caught_by).collect();
    let course = fs::read_to_string(root().join("course.toml")).expect("course.toml");
    let table: toml::Table = course.parse().expect("course.toml is TOML");
    let lesson1 = table["lesson"]
        .as_array()
        .and_then(|lessons| lessons.iter().find(|l| l["id"].as_str() == Some("lesson1")))
        .expect("lesson1 in course.toml");
    for test in lesson1["test"].as_array().expect("lesson1 has tests") {
        let name = test["name"].as_str().expect("a test name");
        assert!(
            named.contains(name),
            "no mutant is listed as caught by {name}"
        );
    }
}
