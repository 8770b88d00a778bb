//! `grade carry`: a lesson whose starter leaves the previous lesson's
//! exercises to do (`gives_previous = false`) gets the student's own code
//! for them, and the helpers that code calls; its own TODOs stay; nothing
//! else changes. On a small course made for the test.

mod common;

use std::path::Path;

use common::grade;

const COURSE: &str = r#"
[[lesson]]
id = "lesson1"
title = "one"
dir = "one"
checker = "x"

[[lesson.test]]
name = "t"
title = "t"
points = 1

[[lesson]]
id = "lesson2"
title = "two"
dir = "two"
checker = "x"
gives_previous = false

[[lesson.test]]
name = "t"
title = "t"
points = 1
"#;

/// The student's finished lesson 1.
const ONE: &str = "\
pub struct Heap {
    n: u8,
}

impl Heap {
    pub fn grow(&mut self) -> u8 {
        self.bump(2)
    }

    fn bump(&mut self, by: u8) -> u8 {
        self.n += by;
        self.n
    }

    fn unused(&self) -> u8 {
        0
    }
}

pub fn answer() -> u8 {
    42
}
";

/// Lesson 2's starter: lesson 1's exercises to do again, and its own.
const TWO: &str = "\
pub struct Heap {
    n: u8,
}

impl Heap {
    pub fn grow(&mut self) -> u8 {
        // TODO: grow by two (lesson 1)
        todo!()
    }

    pub fn shrink(&mut self) -> u8 {
        // TODO: shrink by one
        todo!()
    }
}

pub fn answer() -> u8 {
    // TODO: the answer (lesson 1)
    todo!()
}
";

fn course(dir: &Path, course: &str) -> String {
    for (lesson, text) in [("one", ONE), ("two", TWO)] {
        let src = dir.join("lessons").join(lesson).join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("lib.rs"), text).unwrap();
    }
    let manifest = dir.join("course.toml");
    std::fs::write(&manifest, course).unwrap();
    manifest.to_string_lossy().into_owned()
}

fn two(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("lessons/two/src/lib.rs")).unwrap()
}

#[test]
fn the_students_own_code_fills_the_earlier_todos() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = course(dir.path(), COURSE);
    let run = grade(&["carry", "lesson2", "--dry-run", "--manifest", &manifest]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("would be copied"), "{}", run.stdout);
    assert_eq!(two(dir.path()), TWO, "--dry-run changes nothing");

    let run = grade(&["carry", "lesson2", "--manifest", &manifest]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for line in [
        "impl::grow ← your code",
        "answer ← your code",
        "impl::bump ← your helper",
    ] {
        assert!(run.stdout.contains(line), "{line}:\n{}", run.stdout);
    }
    let text = two(dir.path());
    assert!(
        text.contains("pub fn grow(&mut self) -> u8 {\n        self.bump(2)\n    }"),
        "{text}"
    );
    assert!(text.contains("fn bump(&mut self, by: u8) -> u8"), "{text}");
    assert!(
        text.contains("pub fn answer() -> u8 {\n    42\n}"),
        "{text}"
    );
    assert!(
        text.contains("// TODO: shrink by one\n        todo!()"),
        "its own TODO stays: {text}"
    );
    assert!(
        !text.contains("fn unused"),
        "a helper nothing calls stays behind: {text}"
    );
    assert!(syn::parse_file(&text).is_ok(), "still Rust: {text}");

    // A second carry finds nothing left to fill.
    let run = grade(&["carry", "lesson2", "--manifest", &manifest]);
    assert!(run.stdout.contains("Nothing to carry"), "{}", run.stdout);
    assert_eq!(two(dir.path()), text);
}

#[test]
fn a_starter_that_gives_the_solution_has_nothing_to_carry() {
    let dir = tempfile::tempdir().unwrap();
    let given = COURSE.replace("gives_previous = false\n", "");
    let manifest = course(dir.path(), &given);
    std::fs::write(dir.path().join("lessons/two/src/lib.rs"), ONE).unwrap();
    let run = grade(&["carry", "lesson2", "--manifest", &manifest]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("gives lesson1's solution"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_first_lesson_has_nothing_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = course(dir.path(), COURSE);
    let run = grade(&["carry", "lesson1", "--manifest", &manifest]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("first lesson"), "{}", run.stderr);
}
