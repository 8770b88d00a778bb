//! Each lesson page's test table is course.toml's tests for that lesson:
//! the same names, in the same order, with the same points and titles. A
//! page in parts (lesson 7) has a table per part: their rows, one after the
//! other, are the lesson's tests.

use serde::Deserialize;

use crate::markdown::Page;

/// The header every lesson page's test table has.
pub const HEADER: [&str; 3] = ["test", "points", "what it checks"];

#[derive(Deserialize)]
pub struct Manifest {
    #[serde(rename = "lesson")]
    pub lessons: Vec<Lesson>,
}

#[derive(Deserialize)]
pub struct Lesson {
    pub id: String,
    /// The lesson's folder under lessons/ and solutions/.
    pub dir: String,
    pub page: String,
    #[serde(default, rename = "test")]
    pub tests: Vec<Test>,
}

#[derive(Deserialize)]
pub struct Test {
    pub name: String,
    pub title: String,
    pub points: u32,
    #[serde(default)]
    pub hidden: bool,
}

/// What is wrong with `page`'s test table for `lesson`, one line each.
pub fn problems(lesson: &Lesson, page: &Page) -> Vec<String> {
    let tables: Vec<_> = page
        .tables()
        .into_iter()
        .filter(|t| t.header == HEADER)
        .collect();
    let Some(last) = tables.last() else {
        return vec![format!(
            "{}: want a table headed `| {} |` (the tests of {} in course.toml), found none",
            page.name,
            HEADER.join(" | "),
            lesson.id,
        )];
    };
    let rows: Vec<&(usize, Vec<String>)> = tables.iter().flat_map(|t| &t.rows).collect();
    // Hidden tests are graded on the servers but not described to students.
    let tests: Vec<&Test> = lesson.tests.iter().filter(|t| !t.hidden).collect();
    let mut problems = Vec::new();
    for (i, test) in tests.iter().enumerate() {
        let want = [
            format!("`{}`", test.name),
            test.points.to_string(),
            test.title.clone(),
        ];
        match rows.get(i) {
            None => problems.push(format!(
                "{}:{}: row {} is missing: want | {} |",
                page.name,
                last.line,
                i + 1,
                want.join(" | ")
            )),
            Some((line, cells)) if cells[..] != want[..] => problems.push(format!(
                "{}:{line}: row {} differs from course.toml\n  page:        | {} |\n  course.toml: | {} |",
                page.name,
                i + 1,
                cells.join(" | "),
                want.join(" | ")
            )),
            Some(_) => {}
        }
    }
    for (line, cells) in rows.iter().skip(tests.len()) {
        problems.push(format!(
            "{}:{line}: a row for no test of {} in course.toml (or a hidden one): | {} |",
            page.name,
            lesson.id,
            cells.join(" | ")
        ));
    }
    problems
}
