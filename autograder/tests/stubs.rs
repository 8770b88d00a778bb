//! One source for solutions and stubs: `solutions/` is exactly what `grade
//! stubs` makes of `reference/` (for the lessons it lists), `lessons/` what it
//! makes of `solutions/`, and the marker rules do what `stubs/mod.rs` says.

use std::fs;
use std::path::{Path, PathBuf};

use heaplab_autograder::stubs;

use stubs::{generate, lesson_source, plan, stub_source, syntax_for, Change, Earlier, Files};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The committed solution and student crates are the generator's output,
/// byte for byte.
#[test]
fn solutions_and_lessons_are_generated() {
    let plans = plan(&repo_root(), None).unwrap_or_else(|e| panic!("grade stubs: {e}"));
    let mut report = String::new();
    for lesson in &plans {
        for generated in lesson.crates() {
            for change in &generated.changes {
                let dir = generated
                    .dir
                    .strip_prefix(repo_root())
                    .unwrap_or(&generated.dir);
                report.push_str(&format!("{}: {change}\n", dir.display()));
                // A whole missing or extra file is named, not printed.
                if matches!(change, Change::Differs(_)) {
                    let diff = stubs::diff(change, &generated.expected, &generated.actual);
                    let lines: Vec<&str> = diff.lines().collect();
                    report.push_str(&lines[..lines.len().min(80)].join("\n"));
                    report.push('\n');
                }
            }
        }
    }
    assert!(
        report.is_empty(),
        "solutions/ or lessons/ is not what the generator makes of reference/ and \
         solutions/; edit reference/crate/ (not the generated crates), run `just stubs` \
         and commit solutions/ and lessons/:\n{report}"
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
fn a_file_of_solution_code_only_is_left_out_of_the_stub() {
    let manifest = "[package]\nname = \"lesson4-solution\"\nversion = \"0.1.0\"\n";
    let files = Files::from([
        (PathBuf::from("Cargo.toml"), manifest.as_bytes().to_vec()),
        (PathBuf::from("src/lib.rs"), b"pub fn f() {}\n".to_vec()),
        (
            PathBuf::from("src/fit.rs"),
            b"// BEGIN SOLUTION\n//! Only the solution's.\npub fn g() {}\n// END SOLUTION\n"
                .to_vec(),
        ),
        (PathBuf::from("src/empty.rs"), Vec::new()),
    ]);
    let stub = stubs::stub_crate(Path::new("solutions/x"), &files).unwrap();
    let names: Vec<_> = stub.keys().map(|p| p.display().to_string()).collect();
    assert_eq!(names, ["Cargo.toml", "src/empty.rs", "src/lib.rs"]);
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

// ---- lesson markers (the cumulative reference) ---------------------------

/// `text`, a reference `.rs` file, as lesson `n`'s crate has it.
fn lesson(text: &str, n: u32) -> String {
    lesson_with(text, n, Earlier::Solved)
}

fn lesson_with(text: &str, n: u32, earlier: Earlier) -> String {
    let rust = syntax_for(Path::new("src/lib.rs")).unwrap();
    lesson_source(text, rust, n, earlier)
        .unwrap_or_else(|e| panic!("line {}: {}", e.line, e.message))
}

#[test]
fn a_region_is_kept_only_in_its_lessons() {
    let reference = "\
fn a() {}
// LESSONS 5..
fn b() {}
// END LESSONS
// LESSONS 4
fn c() {}
// END LESSONS
// LESSONS 4..=5
fn d() {}
// END LESSONS
";
    assert_eq!(lesson(reference, 3), "fn a() {}\n");
    assert_eq!(lesson(reference, 4), "fn a() {}\nfn c() {}\nfn d() {}\n");
    assert_eq!(lesson(reference, 5), "fn a() {}\nfn b() {}\nfn d() {}\n");
    assert_eq!(lesson(reference, 9), "fn a() {}\nfn b() {}\n");
}

#[test]
fn else_lessons_gives_other_lessons_another_branch() {
    let reference = "\
pub struct Heap {
    // LESSONS 3
    next: usize,
    // ELSE LESSONS 4..=5
    list: usize,
    // ELSE LESSONS 6..
    list: usize,
    big: usize,
    // END LESSONS
}
";
    assert_eq!(
        lesson(reference, 3),
        "pub struct Heap {\n    next: usize,\n}\n"
    );
    assert_eq!(
        lesson(reference, 5),
        "pub struct Heap {\n    list: usize,\n}\n"
    );
    assert_eq!(
        lesson(reference, 7),
        "pub struct Heap {\n    list: usize,\n    big: usize,\n}\n"
    );
    assert_eq!(lesson(reference, 2), "pub struct Heap {\n}\n");
}

#[test]
fn nested_regions_keep_what_both_keep() {
    let reference = "\
// LESSONS 4..
fn four() {}
// LESSONS 6..
fn six() {}
// END LESSONS
// END LESSONS
";
    assert_eq!(lesson(reference, 3), "");
    assert_eq!(lesson(reference, 5), "fn four() {}\n");
    assert_eq!(lesson(reference, 6), "fn four() {}\nfn six() {}\n");
}

#[test]
fn a_solution_is_a_todo_in_its_lesson_and_given_later() {
    let reference = "\
fn grow() -> u8 {
    // BEGIN SOLUTION 4: map a run
    7
    // END SOLUTION
}
// BEGIN SOLUTION 4

fn relink() {}
// END SOLUTION
";
    assert_eq!(
        lesson(reference, 4),
        "fn grow() -> u8 {\n    // BEGIN SOLUTION: map a run\n    7\n    // END SOLUTION\n}\n\
         // BEGIN SOLUTION\n\nfn relink() {}\n// END SOLUTION\n"
    );
    assert_eq!(
        lesson(reference, 5),
        "fn grow() -> u8 {\n    7\n}\n\nfn relink() {}\n"
    );
    // With `gives_previous = false`, lesson 5's stub leaves lesson 4's work
    // to do, and says it is lesson 4's (`grade carry` finds it so).
    assert_eq!(
        lesson_with(reference, 5, Earlier::Todo),
        lesson(reference, 4).replace("map a run", "map a run (lesson 4)")
    );
    // And the stub pass then makes a TODO of it.
    assert_eq!(
        stub_source(&lesson_with(reference, 5, Earlier::Todo)).unwrap(),
        "fn grow() -> u8 {\n    // TODO: map a run (lesson 4)\n    todo!()\n}\n"
    );
}

#[test]
fn untagged_solutions_and_stub_lines_pass_through_to_every_lesson() {
    let reference = "\
pub struct Heap {
    // STUB 4: // add your fields
    // STUB: // every lesson's note
}
// BEGIN SOLUTION

#[cfg(test)]
mod tests {}
// END SOLUTION
";
    let expected = "\
pub struct Heap {
    // STUB: // add your fields
    // STUB: // every lesson's note
}
// BEGIN SOLUTION

#[cfg(test)]
mod tests {}
// END SOLUTION
";
    assert_eq!(lesson(reference, 4), expected);
    assert_eq!(
        lesson(reference, 5),
        expected.replace("    // STUB: // add your fields\n", "")
    );
}

#[test]
fn blank_lines_are_tidied_where_regions_are_cut() {
    let reference = "\
// LESSONS 5..
//! Lesson 5's crate.
// ELSE LESSONS 4
//! Lesson 4's crate.
// END LESSONS

use std::ptr;
// LESSONS 5..

use std::fmt;
// END LESSONS

impl Heap {
    // LESSONS 5..
    fn merge() {}

    // END LESSONS
    fn split() {}
    // LESSONS 5..

    fn walk() {}
    // END LESSONS
}
// LESSONS 5..

fn tail() {}
// END LESSONS
";
    assert_eq!(
        lesson(reference, 4),
        "//! Lesson 4's crate.\n\nuse std::ptr;\n\nimpl Heap {\n    fn split() {}\n}\n"
    );
    assert_eq!(
        lesson(reference, 5),
        "//! Lesson 5's crate.\n\nuse std::ptr;\n\nuse std::fmt;\n\nimpl Heap {\n    fn merge() {}\n\n    \
         fn split() {}\n\n    fn walk() {}\n}\n\nfn tail() {}\n"
    );
    // Lesson 3 keeps nothing but blank lines: the crate has no such file.
    let only_five = "// LESSONS 5..\nfn five() {}\n// END LESSONS\n\n";
    assert_eq!(lesson(only_five, 3), "");
}

#[test]
fn toml_files_take_lesson_markers_as_hash_comments() {
    let toml = syntax_for(Path::new("Cargo.toml")).unwrap();
    let reference = "\
[package]
# LESSONS 4
name = \"lesson4-solution\"
# ELSE LESSONS 5
name = \"lesson5-solution\"
# END LESSONS
version = \"0.1.0\"
";
    let five = lesson_source(reference, toml, 5, Earlier::Solved).unwrap();
    assert_eq!(
        five,
        "[package]\nname = \"lesson5-solution\"\nversion = \"0.1.0\"\n"
    );
    let solution = lesson_source("# BEGIN SOLUTION 5\n", toml, 5, Earlier::Solved);
    assert!(solution
        .unwrap_err()
        .message
        .contains("belong in .rs files"));
    assert!(
        syntax_for(Path::new("README.md")).is_none(),
        "copied as it is"
    );
}

/// The error for a reference file, as lesson `n` sees it.
fn lesson_error(text: &str, n: u32) -> (usize, String) {
    let rust = syntax_for(Path::new("src/lib.rs")).unwrap();
    let e = lesson_source(text, rust, n, Earlier::Solved)
        .expect_err("a misused marker must be an error");
    (e.line, e.message)
}

#[test]
fn misused_lesson_markers_are_errors_at_their_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("fn f() {}\n// LESSONS 4..\nfn g() {}\n", 2, "never ended"),
        ("fn f() {}\n// END LESSONS\n", 2, "no `LESSONS` before it"),
        ("// ELSE LESSONS 5\n", 1, "no `LESSONS` before it"),
        (
            "// LESSONS 4..\n// ELSE LESSONS 6\n// END LESSONS\n",
            2,
            "overlaps lessons 4..",
        ),
        (
            "// LESSONS 5..\n// LESSONS 3\n// END LESSONS\n// END LESSONS\n",
            2,
            "never be kept",
        ),
        ("// LESSONS 4..6\n// END LESSONS\n", 1, "`..=`"),
        ("// LESSONS four\n// END LESSONS\n", 1, "not a range"),
        ("// LESSONS 6..=4\n// END LESSONS\n", 1, "empty range"),
        (
            "// LESSONS 4..\n// BEGIN SOLUTION 4\n// END LESSONS\n// END SOLUTION\n",
            3,
            "end the block first",
        ),
        (
            "// BEGIN SOLUTION 4\n// LESSONS 4..\n// END SOLUTION\n// END LESSONS\n",
            3,
            "end the region",
        ),
        (
            "// BEGIN SOLUTION 4\n// BEGIN SOLUTION 4\n// END SOLUTION\n// END SOLUTION\n",
            2,
            "do not nest",
        ),
        (
            "// BEGIN SOLUTION 4\n// STUB 4: x\n// END SOLUTION\n",
            2,
            "inside the solution block",
        ),
        (
            "fn f() {\n    // BEGIN SOLUTION: x\n    // END SOLUTION\n}\n",
            2,
            "names the lesson",
        ),
        (
            "// BEGIN SOLUTION 6: x\n// END SOLUTION\n",
            1,
            "before lesson 6 sets it",
        ),
        ("// STUB 6: x\n", 1, "before lesson 6 sets it"),
        ("// BEGIN SOLUTION 4:\n// END SOLUTION\n", 1, "needs a text"),
        (
            "// BEGIN SOLUTION four\n// END SOLUTION\n",
            1,
            "malformed marker",
        ),
        ("// END SOLUTION\n", 1, "no `BEGIN SOLUTION`"),
    ];
    for (text, line, says) in cases {
        let (at, message) = lesson_error(text, 5);
        assert_eq!(
            (at, message.contains(says)),
            (*line, true),
            "{text:?}: {message}"
        );
    }
}

#[test]
fn misspelled_lesson_markers_are_errors_not_leaks() {
    for typo in [
        "// LESSON 4..",
        "//LESSONS 4..",
        "//  LESSONS 4..",
        "// END LESSON",
        "// ELSE LESSON 5",
        "// BEGIN SOLUTION 4 map a run",
        "// STUB 4 code",
    ] {
        let text = format!("fn f() {{\n    {typo}\n}}\n");
        let (line, message) = lesson_error(&text, 5);
        assert_eq!(line, 2, "{typo}");
        assert!(message.contains("malformed marker"), "{typo}: {message}");
    }
    // Prose that merely mentions lessons is not a marker.
    let prose = "// lessons 4 to 6 share this walk\nfn f() {}\n";
    assert_eq!(lesson(prose, 5), prose);
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
    let lesson = &plans[0].stub;
    assert!(
        plans[0].solution.is_none(),
        "no reference: the solution is hand-kept"
    );
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

    stubs::write(&lesson.dir, &lesson.expected, &lesson.changes).unwrap();
    assert!(plan(root, None).unwrap()[0].stub.changes.is_empty());
    assert!(!root.join("lessons/lesson9-x/src/old").exists());
    assert!(root.join("lessons/lesson9-x/target/keep").exists());

    // One lesson by name; an unknown one, or one with no solution, is an error.
    assert_eq!(plan(root, Some("lesson9")).unwrap().len(), 1);
    let unknown = plan(root, Some("lesson99")).unwrap_err().to_string();
    assert!(unknown.contains("no lesson \"lesson99\""), "{unknown}");
    let unsolved = plan(root, Some("lesson10")).unwrap_err().to_string();
    assert!(unsolved.contains("no solution crate"), "{unsolved}");
}

// ---- a whole reference ----------------------------------------------------

const REFERENCE_COURSE: &str = "\
[[lesson]]
id = \"lesson4\"
dir = \"lesson4-list\"

[[lesson]]
id = \"lesson5\"
dir = \"lesson5-merge\"
";

const REFERENCE_TOML: &str = "\
[package]
# LESSONS 4
name = \"lesson4-solution\"
# ELSE LESSONS 5
name = \"lesson5-solution\"
# END LESSONS
version = \"0.1.0\"
edition = \"2021\"
";

const REFERENCE_LIB: &str = "\
//! A heap.
// LESSONS 5..

mod merge;
// END LESSONS

pub fn grow() -> u8 {
    // BEGIN SOLUTION 4: map a run
    7
    // END SOLUTION
}
";

const REFERENCE_MERGE: &str = "\
// LESSONS 5..
//! Merging, from lesson 5 on.

pub fn merge() -> u8 {
    // BEGIN SOLUTION 5: join the neighbours
    2
    // END SOLUTION
}
// END LESSONS
";

/// A course of two lessons cut from one reference; `lesson5` is what
/// course.toml says more of lesson 5 (`gives_previous`).
fn reference_course(root: &Path, lesson5: &str) {
    fs::write(
        root.join("course.toml"),
        format!("{REFERENCE_COURSE}{lesson5}"),
    )
    .unwrap();
    let manifest = "[[lesson]]\nid = \"lesson4\"\n\n[[lesson]]\nid = \"lesson5\"\n";
    write_files(
        &root.join("reference"),
        &[
            ("lessons.toml", manifest.as_bytes()),
            ("crate/Cargo.toml", REFERENCE_TOML.as_bytes()),
            ("crate/src/lib.rs", REFERENCE_LIB.as_bytes()),
            ("crate/src/merge.rs", REFERENCE_MERGE.as_bytes()),
            ("crate/NOTES.md", b"# LESSONS 5 is not a marker here\n"),
        ],
    );
}

#[test]
fn the_reference_makes_each_lessons_solution_and_its_stub() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    reference_course(root, "");
    let plans = plan(root, None).unwrap();
    assert_eq!(plans.len(), 2);
    let four = plans[0]
        .solution
        .as_ref()
        .expect("lesson 4 is cut from the reference");
    let paths: Vec<_> = four.expected.keys().map(|p| p.to_str().unwrap()).collect();
    assert_eq!(
        paths,
        ["Cargo.toml", "NOTES.md", "src/lib.rs"],
        "no merge.rs before lesson 5"
    );
    assert_eq!(
        text(&four.expected, "src/lib.rs"),
        "//! A heap.\n\npub fn grow() -> u8 {\n    // BEGIN SOLUTION: map a run\n    7\n    // END SOLUTION\n}\n"
    );
    assert!(text(&four.expected, "Cargo.toml").contains("name = \"lesson4-solution\"\nversion"));
    assert_eq!(
        text(&four.expected, "NOTES.md"),
        "# LESSONS 5 is not a marker here\n"
    );
    assert_eq!(
        text(&plans[0].stub.expected, "src/lib.rs"),
        "//! A heap.\n\npub fn grow() -> u8 {\n    // TODO: map a run\n    todo!()\n}\n"
    );
    let five = &plans[1];
    assert_eq!(
        text(&five.solution.as_ref().unwrap().expected, "src/lib.rs"),
        "//! A heap.\n\nmod merge;\n\npub fn grow() -> u8 {\n    7\n}\n",
        "lesson 4's solution is given, solved"
    );
    assert_eq!(
        text(&five.stub.expected, "src/merge.rs"),
        "//! Merging, from lesson 5 on.\n\npub fn merge() -> u8 {\n    // TODO: join the neighbours\n    todo!()\n}\n"
    );

    // Writing makes solutions/ and lessons/ what the generator makes.
    for lesson in &plans {
        for generated in lesson.crates() {
            stubs::write(&generated.dir, &generated.expected, &generated.changes).unwrap();
        }
    }
    let again = plan(root, None).unwrap();
    assert!(again
        .iter()
        .flat_map(|l| l.crates())
        .all(|c| c.changes.is_empty()));
    assert!(root.join("solutions/lesson5-merge/src/merge.rs").is_file());
    assert!(root.join("lessons/lesson5-merge/src/merge.rs").is_file());
    assert!(!root.join("solutions/lesson4-list/src/merge.rs").exists());
}

#[test]
fn not_giving_the_previous_solution_leaves_earlier_lessons_work_to_do() {
    let dir = tempfile::tempdir().unwrap();
    reference_course(dir.path(), "gives_previous = false\n");
    let five = plan(dir.path(), Some("lesson5")).unwrap().remove(0);
    assert_eq!(
        text(&five.stub.expected, "src/lib.rs"),
        "//! A heap.\n\nmod merge;\n\npub fn grow() -> u8 {\n    // TODO: map a run (lesson 4)\n    \
         todo!()\n}\n"
    );
}

#[test]
fn reference_errors_name_the_reference_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    reference_course(root, "");
    let broken = REFERENCE_MERGE.replace("// END LESSONS\n", "");
    fs::write(root.join("reference/crate/src/merge.rs"), broken).unwrap();
    let e = plan(root, None).unwrap_err().to_string();
    let at = format!(
        "{}:1: ",
        root.join("reference/crate/src/merge.rs").display()
    );
    assert!(e.starts_with(&at) && e.contains("never ended"), "{e}");

    reference_course(root, "");
    fs::write(
        root.join("reference/lessons.toml"),
        "[[lesson]]\nid = \"lesson4\"\n\n[[lesson]]\nid = \"lesson9\"\n",
    )
    .unwrap();
    let e = plan(root, None).unwrap_err().to_string();
    assert!(
        e.contains("lists lesson \"lesson9\", which course.toml does not"),
        "{e}"
    );

    fs::write(
        root.join("reference/lessons.toml"),
        "[[lesson]]\nid = \"lesson4\"\nearlier = \"todo\"\n",
    )
    .unwrap();
    let e = plan(root, None).unwrap_err().to_string();
    assert!(
        e.contains("reference/lessons.toml") && e.contains("gives_previous = false"),
        "{e}"
    );
}
