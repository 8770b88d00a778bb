//! Typical student bugs graded end to end: each fixture is a lesson's
//! reference solution with one deliberate bug (an 8-byte header, a split
//! that leaves a 16-byte rest, a chunk handed out but left on the list,
//! coalescing with one neighbour only, runs not rounded to whole pages).
//! For each, the grade loses points, the first failing test names the rule
//! the bug breaks, the human report shows that rule's hint from course.toml
//! (not the test's own), says the shared cause in full once (later tests
//! one line each), and fits in a bounded number of lines.

mod common;

use std::path::Path;

use common::{grade, root};
use heaplab_protocol::manifest::{self, Manifest};
use serde_json::Value;

/// One planted bug (tests/student-bugs/bugs.toml): in `solution`'s
/// `file`, `from` becomes `to`.
#[derive(serde::Deserialize)]
struct Bug {
    name: String,
    lesson: String,
    solution: String,
    file: String,
    from: String,
    to: String,
    /// The rule the first failing test must name.
    check: String,
    /// The most lines its human report may take.
    #[serde(default = "two_screenfuls")]
    max_lines: usize,
}

/// The most lines a report with one bug may take: two screenfuls, when the
/// bug breaks one rule (measured lengths: docs/performance.md, "The
/// learner's loop").
fn two_screenfuls() -> usize {
    120
}

/// A fixed seed: the human and the JSON report are the same grade.
const SEED: &str = "7";

/// The bug called `name` in the table.
fn bug(name: &str) -> Bug {
    #[derive(serde::Deserialize)]
    struct Table {
        bug: Vec<Bug>,
    }
    let path = root().join("autograder/tests/student-bugs/bugs.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let table: Table = toml::from_str(&text).unwrap();
    let found = table.bug.into_iter().find(|b| b.name == name);
    found.unwrap_or_else(|| panic!("{} has no bug {name}", path.display()))
}

/// A copy of `bug.solution` with the bug planted, as a submission crate.
fn planted(bug: &Bug) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_crate(&root().join("solutions").join(&bug.solution), dir.path());
    common::plant(dir.path(), &bug.file, &bug.from, &bug.to);
    dir
}

/// One grade at a time: a grader running as root gives each worker slot a
/// user of its own and, after each test, kills every process of that user,
/// so two graders at once kill each other's student processes (a "crash:
/// killed" in the report).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The submission graded twice with one seed: the JSON report and the
/// human one (without colour).
fn graded(bug: &Bug, dir: &Path) -> (Value, String) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let base = [
        bug.lesson.as_str(),
        "--submission",
        dir.to_str().unwrap(),
        "--seed",
        SEED,
    ];
    let json = grade(&[&base[..], &["--format", "json"]].concat());
    assert_eq!(json.code, 1, "{}: points lost: {}", bug.lesson, json.stderr);
    let human = grade(&[&base[..], &["--format", "human"]].concat());
    assert_eq!(human.code, 1, "{}", human.stderr);
    (json.json(), human.stdout)
}

fn course() -> Manifest {
    manifest::parse(&std::fs::read_to_string(root().join("course.toml")).unwrap()).unwrap()
}

/// The lines of `report` that belong to test `name`: its status line and
/// the indented ones under it.
fn block<'r>(report: &'r str, name: &str) -> Vec<&'r str> {
    let mut lines = report.lines().skip_while(|l| {
        l.starts_with(' ') || l.split_whitespace().last().is_none_or(|w| w != name)
    });
    let head = lines.next().into_iter();
    let mut block: Vec<&str> = head
        .chain(lines.take_while(|l| l.starts_with(' ') || l.is_empty()))
        .collect();
    while block.last().is_some_and(|l| l.is_empty()) {
        block.pop();
    }
    block
}

/// The rule a test's failure names (`""`: none).
fn check_of(test: &Value) -> &str {
    test["outcome"]["failure"]["check"].as_str().unwrap_or("")
}

/// Grades `bug` and checks what the report says about it.
fn assert_reported(bug: &Bug) {
    let dir = planted(bug);
    let (json, human) = graded(bug, dir.path());
    let (score, max) = (json["score"].as_u64(), json["max_score"].as_u64());
    assert!(score < max, "{}: the bug loses no points", bug.lesson);

    let tests = json["tests"].as_array().unwrap();
    let failing: Vec<&Value> = tests.iter().filter(|t| t["score"] != t["points"]).collect();
    let first = failing[0];
    let name = first["name"].as_str().unwrap();
    assert_eq!(check_of(first), bug.check, "{name}: {:#}", first["outcome"]);

    // The hint is the rule's, not the test's own.
    let course = course();
    let lesson = course.lessons.iter().find(|l| l.id == bug.lesson).unwrap();
    let spec = lesson.tests.iter().find(|t| t.name == name).unwrap();
    let (hint, _) = course.hint(lesson, spec, &bug.check).unwrap();
    let shown = block(&human, name).join("\n");
    assert!(
        shown.contains(&format!("hint: {hint}")),
        "{name} does not show the hint of {}:\n{shown}",
        bug.check
    );
    if spec.hint.trim() != hint {
        assert!(
            spec.hint.trim().is_empty() || !shown.contains(spec.hint.trim()),
            "{name} shows its own hint:\n{shown}"
        );
    }

    // One cause, said once: every later test that broke the same rule the
    // same way gets one line naming the first.
    let same: Vec<&str> = failing[1..]
        .iter()
        .filter(|t| t["outcome"]["status"] == "failed" && check_of(t) == bug.check)
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let once = format!("the same broken rule ({}) as {name}, above", bug.check);
    if first["outcome"]["status"] == "failed" {
        for later in &same {
            let lines = block(&human, later);
            assert!(
                lines.len() == 2 && lines[1].contains(&once),
                "{later} does not say {once:?}:\n{human}"
            );
        }
    }

    let lines = human.lines().count();
    assert!(
        lines <= bug.max_lines,
        "{}: {lines} lines (at most {}):\n{human}",
        bug.lesson,
        bug.max_lines
    );
}

#[test]
fn lesson3_an_eight_byte_header_breaks_the_size_header() {
    assert_reported(&bug("eight-byte-header"));
}

#[test]
fn lesson4_a_split_leaving_sixteen_bytes_breaks_the_minimum_chunk() {
    assert_reported(&bug("sixteen-byte-rest"));
}

#[test]
fn lesson4_a_chunk_left_on_the_list_is_a_free_chunk_in_use() {
    assert_reported(&bug("left-on-the-list"));
}

#[test]
fn lesson5_coalescing_with_one_neighbour_leaves_neighbours_apart() {
    assert_reported(&bug("one-neighbour"));
}

#[test]
fn lesson2_runs_not_rounded_to_pages_break_the_page_source_contract() {
    assert_reported(&bug("pages-not-rounded"));
}
