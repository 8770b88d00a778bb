//! `grade stubs --measure`: how much reference code repeats between lesson
//! crates, and how much of that repetition a maintainer keeps by hand.
//!
//! For each lesson with a solution crate, the lines of its `.rs` files that
//! equal the previous lesson's file of the same name (the lines a diff of
//! the two files leaves unchanged), and of those, how many the source holds
//! twice: every one, for two hand-kept crates; for two crates cut from the
//! reference, only lines that come from two different reference lines.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use similar::{capture_diff_slices, Algorithm, DiffOp};

use super::files::read_crate;
use super::plan::{course_lessons, PlanError};
use super::reference::Reference;

/// One lesson's count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    /// Lines of the crate's `.rs` files.
    pub lines: usize,
    /// Of those, lines equal to the previous lesson's file of the same name.
    pub same_as_previous: usize,
    /// Of those, lines the source holds in two places.
    pub written_twice: usize,
}

/// Every lesson's count, in course order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repetition {
    pub rows: Vec<Row>,
}

/// Where a line is written: a source file and its 1-based line.
type Origin = (PathBuf, usize);
/// A crate's `.rs` files: path in the crate → lines with their origins.
type Sources = BTreeMap<PathBuf, Vec<(Origin, String)>>;

/// Counts the repetition in the solution crates of the course at `root`.
pub fn measure(root: &Path) -> Result<Repetition, PlanError> {
    let reference = Reference::load(root)?;
    let mut rows = Vec::new();
    let mut previous: Option<Sources> = None;
    for lesson in course_lessons(&root.join("course.toml"))? {
        let solution_dir = root.join("solutions").join(&lesson.dir);
        let sources = match reference
            .as_ref()
            .and_then(|r| Some((r, r.lesson(&lesson.id)?)))
        {
            Some((reference, of)) => from_reference(reference, of)?,
            None if solution_dir.join("Cargo.toml").is_file() => hand_kept(&solution_dir)?,
            None => {
                previous = None;
                continue;
            }
        };
        let (same_as_previous, written_twice) = match &previous {
            Some(previous) => shared(previous, &sources),
            None => (0, 0),
        };
        rows.push(Row {
            id: lesson.id,
            lines: sources.values().map(Vec::len).sum(),
            same_as_previous,
            written_twice,
        });
        previous = Some(sources);
    }
    Ok(Repetition { rows })
}

fn is_rust(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "rs")
}

fn from_reference(
    reference: &Reference,
    lesson: &super::ReferenceLesson,
) -> Result<Sources, PlanError> {
    let files = reference.solution_lines(lesson)?;
    Ok(files
        .into_iter()
        .filter(|(rel, _)| is_rust(rel))
        .map(|(rel, lines)| {
            let source = reference.crate_dir.join(&rel);
            let lines = lines
                .into_iter()
                .map(|l| ((source.clone(), l.origin), l.text.trim_end().to_string()))
                .collect();
            (rel, lines)
        })
        .collect())
}

fn hand_kept(dir: &Path) -> Result<Sources, PlanError> {
    let files = read_crate(dir)?;
    Ok(files
        .into_iter()
        .filter(|(rel, _)| is_rust(rel))
        .map(|(rel, bytes)| {
            let source = dir.join(&rel);
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let lines = text
                .lines()
                .enumerate()
                .map(|(i, l)| ((source.clone(), i + 1), l.trim_end().to_string()))
                .collect();
            (rel, lines)
        })
        .collect())
}

/// Lines of `current` equal to `previous`'s file of the same name, and how
/// many of those come from two different places in the source.
fn shared(previous: &Sources, current: &Sources) -> (usize, usize) {
    let (mut same, mut twice) = (0, 0);
    for (rel, new) in current {
        let Some(old) = previous.get(rel) else {
            continue;
        };
        let old_text: Vec<&str> = old.iter().map(|(_, t)| t.as_str()).collect();
        let new_text: Vec<&str> = new.iter().map(|(_, t)| t.as_str()).collect();
        for op in capture_diff_slices(Algorithm::Myers, &old_text, &new_text) {
            if let DiffOp::Equal {
                old_index,
                new_index,
                len,
            } = op
            {
                same += len;
                twice += (0..len)
                    .filter(|i| old[old_index + i].0 != new[new_index + i].0)
                    .count();
            }
        }
    }
    (same, twice)
}

impl fmt::Display for Repetition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<10} {:>7} {:>18} {:>15}",
            "lesson", "lines", "same as previous", "written twice"
        )?;
        for row in &self.rows {
            writeln!(
                f,
                "{:<10} {:>7} {:>18} {:>15}",
                row.id, row.lines, row.same_as_previous, row.written_twice
            )?;
        }
        let sum = |field: fn(&Row) -> usize| self.rows.iter().map(field).sum::<usize>();
        writeln!(
            f,
            "{:<10} {:>7} {:>18} {:>15}",
            "total",
            sum(|r| r.lines),
            sum(|r| r.same_as_previous),
            sum(|r| r.written_twice)
        )
    }
}
