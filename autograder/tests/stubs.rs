//! One source for stubs: `lessons/` is exactly what `grade stubs` makes of
//! `solutions/`, and the marker rules do what the instructors' guide says.

use std::fs;
use std::path::{Path, PathBuf};

use heaplab_autograder::stubs;

use stubs::{generate, plan, stub_source, Change, Files};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The committed student crates are the generator's output, byte for byte.
#[test]
fn lessons_are_generated_from_solutions() {
    let plans = plan(&repo_root(), None).unwrap_or_else(|e| panic!("grade stubs: {e}"));
    let mut report = String::new();
    for lesson in &plans {
        for change in &lesson.changes {
            report.push_str(&format!("{}: {change}\n", lesson.id));
            // A whole missing or extra file is named, not printed.
            if matches!(change, Change::Differs(_)) {
                let diff = stubs::diff(change, &lesson.expected, &lesson.actual);
                let lines: Vec<&str> = diff.lines().collect();
                report.push_str(&lines[..lines.len().min(80)].join("\n"));
                report.push('\n');
            }
        }
    }
    assert!(
        report.is_empty(),
        "lessons/ is not what the generator makes of solutions/; \
         run `just stubs` and commit lessons/:\n{report}"
    );
}

// ---- marker rules -------------------------------------------------------

#[test]
fn begin_with_text_becomes_todo_at_its_indentation() {
    let solution = "\
fn area(w: usize, h: usize) -> usize {
    // BEGIN SOLUTION: multiply the sides
    let a = w * h;
    a
    // END SOLUTION
}
";
    let stub = "\
fn area(w: usize, h: usize) -> usize {
    // TODO: multiply the sides
    todo!()
}
";
    assert_eq!(stub_source(solution).unwrap(), stub);
}

#[test]
fn begin_without_text_is_removed() {
    let solution = "\
use std::fmt;
// BEGIN SOLUTION
use std::mem;
// END SOLUTION

pub struct Heap {
    pub len: usize,
    // BEGIN SOLUTION
    head: usize,
    // END SOLUTION
}
";
    let stub = "\
use std::fmt;

pub struct Heap {
    pub len: usize,
}
";
    assert_eq!(stub_source(solution).unwrap(), stub);
}

#[test]
fn stub_line_appears_only_in_the_stub() {
    let solution = "\
pub struct Heap {
    // BEGIN SOLUTION
    head: Option<usize>,
    // END SOLUTION
    // STUB: // add the fields your heap needs
}
";
    let stub = "\
pub struct Heap {
    // add the fields your heap needs
}
";
    assert_eq!(stub_source(solution).unwrap(), stub);
}

#[test]
fn everything_else_is_kept_byte_for_byte() {
    // Odd spacing, tabs, CRLF endings, a missing final newline, and comments
    // that mention markers without being one.
    let solution = "/// Says `BEGIN` and `END`.\r\n\tfn f() {\r\n\t\t// BEGIN SOLUTION: do it\r\n\t\t1;\r\n\t\t// END SOLUTION\r\n\t}  \r\nlet s = \"// END SOLUTION\";";
    let stub = "/// Says `BEGIN` and `END`.\r\n\tfn f() {\r\n\t\t// TODO: do it\r\n\t\ttodo!()\r\n\t}  \r\nlet s = \"// END SOLUTION\";";
    assert_eq!(stub_source(solution).unwrap(), stub);
    let plain = "fn main() {\n    println!(\"hi\");\n}\n\n\n";
    assert_eq!(stub_source(plain).unwrap(), plain);
}

#[test]
fn several_blocks_in_one_file() {
    let solution = "\
fn a() -> u8 {
    // BEGIN SOLUTION: return one
    1
    // END SOLUTION
}
fn b() -> u8 {
    let x = 2;
    // BEGIN SOLUTION: finish b
    x
    // END SOLUTION
}
";
    let stub = "\
fn a() -> u8 {
    // TODO: return one
    todo!()
}
fn b() -> u8 {
    let x = 2;
    // TODO: finish b
    todo!()
}
";
    assert_eq!(stub_source(solution).unwrap(), stub);
}

fn marker_error(text: &str) -> (usize, String) {
    let e = stub_source(text).expect_err("a misused marker must be an error");
    (e.line, e.message)
}

#[test]
fn end_without_begin_is_an_error_at_its_line() {
    let (line, message) = marker_error("fn f() {}\n\n// END SOLUTION\n");
    assert_eq!(line, 3);
    assert!(message.contains("no `// BEGIN SOLUTION`"), "{message}");
}

#[test]
fn unended_begin_is_an_error_at_its_line() {
    let (line, message) = marker_error("fn f() {\n    // BEGIN SOLUTION: x\n    1\n}\n");
    assert_eq!(line, 2);
    assert!(message.contains("never ended"), "{message}");
}

#[test]
fn nested_begin_is_an_error_naming_both_lines() {
    let (line, message) = marker_error(
        "// BEGIN SOLUTION\nfn f() {\n    // BEGIN SOLUTION: x\n    1\n    // END SOLUTION\n}\n// END SOLUTION\n",
    );
    assert_eq!(line, 3);
    assert!(message.contains("line 1"), "{message}");
}

#[test]
fn stub_inside_a_block_is_an_error() {
    let (line, message) = marker_error("// BEGIN SOLUTION\n// STUB: let x = 1;\n// END SOLUTION\n");
    assert_eq!(line, 2);
    assert!(message.contains("inside the solution block"), "{message}");
}

#[test]
fn begin_colon_without_text_is_an_error() {
    let (line, message) =
        marker_error("fn f() {\n    // BEGIN SOLUTION:   \n    // END SOLUTION\n}\n");
    assert_eq!(line, 2);
    assert!(message.contains("needs a text"), "{message}");
}

#[test]
fn misspelled_markers_are_errors_not_leaks() {
    for typo in [
        "//BEGIN SOLUTION",
        "// begin solution: x",
        "// BEGIN SOLUTION - x",
        "// END SOLUTION here",
        "/* END SOLUTION */",
        "// BEGIN SOLUTIONS",
    ] {
        let text = format!("fn f() {{\n    {typo}\n}}\n");
        let (line, message) = marker_error(&text);
        assert_eq!(line, 2, "{typo}");
        assert!(message.contains("malformed marker"), "{typo}: {message}");
    }
}

// ---- a whole crate ------------------------------------------------------

fn write_files(root: &Path, files: &[(&str, &[u8])]) {
    for (rel, bytes) in files {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
}

fn text(files: &Files, rel: &str) -> String {
    String::from_utf8(files[Path::new(rel)].clone()).unwrap()
}

const SOLUTION_TOML: &str = "\
[package]
name = \"lesson9-solution\"
version = \"0.1.0\"
edition = \"2021\"

[[bin]]
name = \"save-array-solution\"
path = \"src/bin/save-array.rs\"

[dependencies]
libc = \"0.2\"
";

#[test]
fn generates_a_renamed_crate_with_unused_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let solution = dir.path().join("solutions/lesson9-x");
    write_files(
        &solution,
        &[
            ("Cargo.toml", SOLUTION_TOML.as_bytes()),
            (
                "src/lib.rs",
                b"//! lesson9_solution: see lesson9-solution\npub fn f() -> u8 {\n    // BEGIN SOLUTION: return 7\n    7\n    // END SOLUTION\n}\n",
            ),
            (
                "src/bin/save-array.rs",
                b"fn main() { lesson9_solution::f(); }\n",
            ),
            (
                "tests/cli.rs",
                b"const BIN: &str = env!(\"CARGO_BIN_EXE_save-array-solution\");\n",
            ),
            ("README.md", b"# lesson9-solution\n// BEGIN SOLUTION is only for .rs\n"),
            ("data/blob.bin", &[0xff, 0xfe, 0x00, 0x80]),
            ("target/debug/junk", b"build output"),
        ],
    );
    let stub = generate(&solution).unwrap();
    let paths: Vec<_> = stub.keys().map(|p| p.to_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "Cargo.toml",
            "README.md",
            "data/blob.bin",
            "src/bin/save-array.rs",
            "src/lib.rs",
            "tests/cli.rs"
        ]
    );
    assert_eq!(
        text(&stub, "Cargo.toml"),
        SOLUTION_TOML
            .replace("lesson9-solution", "lesson9")
            .replace("save-array-solution", "save-array")
            + "\n[lints.rust]\nunused = \"allow\"\n"
    );
    assert_eq!(
        text(&stub, "src/lib.rs"),
        "//! lesson9: see lesson9\npub fn f() -> u8 {\n    // TODO: return 7\n    todo!()\n}\n"
    );
    assert_eq!(
        text(&stub, "src/bin/save-array.rs"),
        "fn main() { lesson9::f(); }\n"
    );
    assert_eq!(
        text(&stub, "tests/cli.rs"),
        "const BIN: &str = env!(\"CARGO_BIN_EXE_save-array\");\n"
    );
    assert_eq!(
        text(&stub, "README.md"),
        "# lesson9\n// BEGIN SOLUTION is only for .rs\n"
    );
    assert_eq!(stub[Path::new("data/blob.bin")], [0xff, 0xfe, 0x00, 0x80]);
}

#[test]
fn a_marker_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let solution = dir.path().join("lesson9-x");
    write_files(
        &solution,
        &[
            ("Cargo.toml", SOLUTION_TOML.as_bytes()),
            ("src/lib.rs", b"pub fn f() {}\n"),
            ("src/heap.rs", b"fn g() {\n    // END SOLUTION\n}\n"),
        ],
    );
    let e = generate(&solution).unwrap_err().to_string();
    let at = format!("{}:2: ", solution.join("src/heap.rs").display());
    assert!(e.starts_with(&at), "{e}");
}

const COURSE: &str = "\
[[lesson]]
id = \"lesson9\"
dir = \"lesson9-x\"

[[lesson]]
id = \"lesson10\"
dir = \"lesson10-y\"
";

#[test]
fn plan_and_write_make_the_lesson_equal_the_generator() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("course.toml"), COURSE).unwrap();
    write_files(
        &root.join("solutions/lesson9-x"),
        &[
            ("Cargo.toml", SOLUTION_TOML.as_bytes()),
            ("src/lib.rs", b"pub fn f() {}\n"),
        ],
    );
    // A stale lesson: a changed file, a file the solution dropped (in a
    // folder that becomes empty), and build output that must be left alone.
    write_files(
        &root.join("lessons/lesson9-x"),
        &[
            ("src/lib.rs", b"pub fn old() {}\n"),
            ("src/old/gone.rs", b"\n"),
            ("target/keep", b"\n"),
        ],
    );
    // lesson10 has no solution yet: skipped, not an error.
    let plans = plan(root, None).unwrap();
    assert_eq!(plans.len(), 1);
    let lesson = &plans[0];
    assert_eq!(
        lesson.changes,
        [
            Change::Missing("Cargo.toml".into()),
            Change::Differs("src/lib.rs".into()),
            Change::Extra("src/old/gone.rs".into()),
        ]
    );
    // Planning writes nothing.
    assert!(!root.join("lessons/lesson9-x/Cargo.toml").exists());

    stubs::write(&lesson.lesson_dir, &lesson.expected, &lesson.changes).unwrap();
    assert!(plan(root, None).unwrap()[0].changes.is_empty());
    assert!(!root.join("lessons/lesson9-x/src/old").exists());
    assert!(root.join("lessons/lesson9-x/target/keep").exists());

    // One lesson by name; an unknown one, or one with no solution, is an error.
    assert_eq!(plan(root, Some("lesson9")).unwrap().len(), 1);
    let unknown = plan(root, Some("lesson99")).unwrap_err().to_string();
    assert!(unknown.contains("no lesson \"lesson99\""), "{unknown}");
    let unsolved = plan(root, Some("lesson10")).unwrap_err().to_string();
    assert!(unsolved.contains("no solution crate"), "{unsolved}");
}
