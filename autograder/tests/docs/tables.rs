//! Each lesson page's test table is course.toml's tests for that lesson:
//! the same names, in the same order, with the same points and titles.

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
    let [table] = tables.as_slice() else {
        return vec![format!(
            "{}: want exactly one table headed `| {} |` (the tests of {} in course.toml), found {}",
            page.name,
            HEADER.join(" | "),
            lesson.id,
            tables.len()
        )];
    };
    // Hidden tests are graded on the servers but not described to students.
    let tests: Vec<&Test> = lesson.tests.iter().filter(|t| !t.hidden).collect();
    let mut problems = Vec::new();
    for (i, test) in tests.iter().enumerate() {
        let want = [
            format!("`{}`", test.name),
            test.points.to_string(),
            test.title.clone(),
        ];
        match table.rows.get(i) {
            None => problems.push(format!(
                "{}:{}: row {} is missing: want | {} |",
                page.name,
                table.line,
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
    for (line, cells) in table.rows.iter().skip(tests.len()) {
        problems.push(format!(
            "{}:{line}: a row for no test of {} in course.toml (or a hidden one): | {} |",
            page.name,
            lesson.id,
            cells.join(" | ")
        ));
    }
    problems
}
