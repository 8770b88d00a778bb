//! The checks themselves fail on pages that break the conventions: a wrong
//! table row, a task list that is not the stub's TODOs, a command outside a
//! console block, a number without its
//! marker's value, an absolute speed, an undated ratio.

use crate::markdown::Page;
use crate::{console, numbers, speeds, tables, tasks};

#[test]
fn a_wrong_table_row_is_named() {
    let lesson = tables::Lesson {
        id: "lesson9".into(),
        dir: "lesson9-x".into(),
        page: "docs/lesson9.md".into(),
        tests: vec![tables::Test {
            name: "blocks_are_aligned".into(),
            title: "every pointer is 16-byte aligned".into(),
            points: 2,
            hidden: false,
        }],
    };
    let page = Page::from_text(
        "docs/lesson9.md",
        "| test | points | what it checks |\n| --- | ---: | --- |\n\
         | `blocks_are_aligned` | 1 | every pointer is 16-byte aligned |\n\
         | `extra_test` | 1 | not in the manifest |\n",
    );
    let problems = tables::problems(&lesson, &page);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("row 1 differs"), "{}", problems[0]);
    assert!(problems[1].contains("extra_test"), "{}", problems[1]);
    // A page in parts: a table each, read one after the other.
    let parts = Page::from_text(
        "docs/lesson9.md",
        "## Part A\n\n| test | points | what it checks |\n| --- | ---: | --- |\n\
         | `blocks_are_aligned` | 2 | every pointer is 16-byte aligned |\n\n\
         ## Part B\n\n| test | points | what it checks |\n| --- | ---: | --- |\n\
         | `extra_test` | 1 | not in the manifest |\n",
    );
    let problems = tables::problems(&lesson, &parts);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("extra_test"), "{}", problems[0]);
}

#[test]
fn a_task_table_unlike_the_stub_is_named() {
    let stub = tempfile::tempdir().unwrap();
    std::fs::create_dir(stub.path().join("src")).unwrap();
    std::fs::write(
        stub.path().join("src/heap.rs"),
        "impl Heap for H {\n    fn malloc(&mut self) {\n        // TODO: carve\n    }\n\n    \
         fn free(&mut self) {\n        // TODO: count\n    }\n}\n\n\
         unsafe impl GlobalAlloc for L {\n    unsafe fn alloc(&self) {\n        // TODO: a\n    }\n}\n",
    )
    .unwrap();
    let lesson = tables::Lesson {
        id: "lesson9".into(),
        dir: "lesson9-x".into(),
        page: "docs/lesson9.md".into(),
        tests: Vec::new(),
    };
    let page = |rows: &str| {
        Page::from_text(
            "docs/lesson9.md",
            &format!("| item | file | what it does |\n| --- | --- | --- |\n{rows}"),
        )
    };
    let right = page(
        "| `H::malloc(size)`, `free` | `heap.rs` | carve, count |\n\
         | `GlobalAlloc for L` | `heap.rs` | alloc |\n",
    );
    assert_eq!(
        tasks::problems(&lesson, &right, stub.path()),
        Vec::<String>::new()
    );
    let wrong = page("| `malloc`, `realloc` | `heap.rs` | carve |\n");
    let problems = tasks::problems(&lesson, &wrong, stub.path());
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].contains("heap.rs:7 (in free)"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].contains("heap.rs:13 (in alloc)"),
        "{}",
        problems[1]
    );
    assert!(problems[2].contains("`realloc`"), "{}", problems[2]);
}

#[test]
fn a_command_outside_a_console_block_is_refused() {
    let page = Page::from_text(
        "docs/x.md",
        "```text\ncargo grade lesson4\n```\n\n```console frobnicate\nno command here\n```\n",
    );
    let (_, problems) = console::sessions(&page);
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn commands_run_as_a_finished_student_types_them() {
    for (typed, run) in [
        ("cargo grade lesson4", "cargo grade lesson4 --solution"),
        (
            "cargo grade bench lesson5 --plot f.svg",
            "cargo grade bench lesson5 --solution --min-time-ms 1 --plot f.svg",
        ),
        (
            "cargo grade bench lesson6 --solution",
            "cargo grade bench lesson6 --solution",
        ),
        ("cd lessons/lesson1-mmap-io", "cd solutions/lesson1-mmap-io"),
        (
            "rm a && cargo run -q --bin print-array; echo $?",
            "rm a && cargo run -q --bin print-array-solution; echo $?",
        ),
        ("cargo test -p lesson2", "cargo test -p lesson2-solution"),
        ("cargo grade --list", "cargo grade --list"),
    ] {
        assert_eq!(console::as_finished_student(typed), run);
    }
}

#[test]
fn marked_numbers_are_read_with_their_keys() {
    let page = Page::from_text(
        "docs/x.md",
        "a chunk of 5024<!-- n:chunk(5000) --> bytes, U = 91.9%<!-- n:util(lesson5,binary) -->,\n\
         a tail of 32,896<!-- n:lecture.tail(lesson4) -->, word 0x21<!-- n:shown -->, and <!-- n:chunk(1) -->\n",
    );
    let (marked, problems) = numbers::marked(&page);
    let read: Vec<(&str, &str)> = marked
        .iter()
        .map(|m| (m.value.as_str(), m.key.as_str()))
        .collect();
    assert_eq!(
        read,
        [
            ("5024", "chunk(5000)"),
            ("91.9%", "util(lesson5,binary)"),
            ("32,896", "lecture.tail(lesson4)"),
            ("0x21", "shown"),
        ]
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(numbers::same("32,896", "32896") && numbers::same("32896", "32896"));
    assert!(!numbers::same("32,89", "32896") && !numbers::same("48.7%", "48.8%"));
}

#[test]
fn speeds_must_be_dated_ratios() {
    let page = Page::from_text(
        "docs/x.md",
        "It ran at 61.76 M ops/s.\n\n\
         It was 4.3× slower.\n\n\
         It was 4.3× slower (`cargo grade bench lesson4 --solution`, measured on 2026-11-28).\n\n\
         200 × malloc(800) is not a speed.\n",
    );
    let problems = speeds::problems(&page);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains(":1:") && problems[1].contains(":3:"),
        "{problems:?}"
    );
}
