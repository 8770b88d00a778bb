//! The status board: every lesson, its last score and when, a bar, and the
//! next thing to do.

use std::io::Write;

use anstyle::{AnsiColor, Style};

use super::record::{last_edit, now, Record};
use crate::course::{Course, Lesson};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const DONE: Style = AnsiColor::Green.on_default().bold();
const TODO: Style = AnsiColor::Yellow.on_default().bold();
/// Cells of a lesson's bar.
const BAR: usize = 10;

/// One lesson's line: what the board knows of it.
pub struct Row<'c> {
    pub lesson: &'c Lesson,
    pub record: Option<Record>,
}

/// Writes the board for `rows` to `out`.
pub fn print(out: &mut impl Write, course: &Course, rows: &[Row]) -> std::io::Result<()> {
    writeln!(
        out,
        "{BOLD}Your lessons{BOLD:#} {DIM}(lessons/, as last graded; `cargo grade status --refresh` grades them all again){DIM:#}"
    )?;
    let title = rows.iter().map(|r| r.lesson.title.len()).max().unwrap_or(0);
    let (mut earned, mut max) = (0, 0);
    for row in rows {
        let lesson = row.lesson;
        let points = lesson.max_points();
        max += points;
        let Some(record) = &row.record else {
            writeln!(
                out,
                "  {:<8} {:<title$}  {}  {:>7}  {DIM}not graded yet{DIM:#}",
                lesson.id,
                lesson.title,
                bar(0, points),
                format!("-/{points}"),
            )?;
            continue;
        };
        let score = record.score(lesson);
        earned += score;
        let style = if score == points { DONE } else { TODO };
        writeln!(
            out,
            "  {:<8} {:<title$}  {style}{}{style:#}  {:>7}  {DIM}{}{}{DIM:#}",
            lesson.id,
            lesson.title,
            bar(score, points),
            format!("{score}/{points}"),
            ago(record.graded_at),
            edited_since(course, lesson, record),
        )?;
    }
    writeln!(
        out,
        "  {:<8} {:<title$}  {}  {:>7}",
        "total",
        "",
        bar(earned, max),
        format!("{earned}/{max}")
    )?;
    writeln!(out)?;
    next(out, course, rows)
}

/// The next thing to do: the first lesson short of full marks, its first
/// test that lost points, and the commands that go on from there.
fn next(out: &mut impl Write, course: &Course, rows: &[Row]) -> std::io::Result<()> {
    let open = rows.iter().find(|r| match &r.record {
        None => true,
        Some(rec) => rec.score(r.lesson) < r.lesson.max_points(),
    });
    let Some(row) = open else {
        return writeln!(out, "{DONE}Every lesson has full marks.{DONE:#}");
    };
    let id = &row.lesson.id;
    let Some(record) = &row.record else {
        writeln!(
            out,
            "{BOLD}Next:{BOLD:#} {id}, {}: not graded yet",
            row.lesson.title
        )?;
        return writeln!(
            out,
            "  cargo grade {id} --watch    grades it now and again on every save"
        );
    };
    let Some(test) = record.first_lost(row.lesson) else {
        return writeln!(out, "{BOLD}Next:{BOLD:#} cargo grade {id}");
    };
    writeln!(
        out,
        "{BOLD}Next:{BOLD:#} {id}, {} {DIM}({}){DIM:#}",
        test.title, test.name
    )?;
    let check = record
        .tests
        .get(&test.name)
        .map_or("", |t| t.check.as_str());
    if let Some((hint, _)) = course.manifest.hint(row.lesson, test, check) {
        let rule = if check.is_empty() {
            String::new()
        } else {
            format!("{check}: ")
        };
        writeln!(out, "  {DIM}hint: {rule}{hint}{DIM:#}")?;
    }
    writeln!(
        out,
        "  cargo grade {id} --test {} --exact    the failure in full",
        test.name
    )?;
    writeln!(out, "  cargo grade {id} --watch    regrades on every save")
}

/// `█████░░░░░`: `score` of `max` in [`BAR`] cells.
fn bar(score: u32, max: u32) -> String {
    let full = if max == 0 {
        0
    } else {
        (score as usize * BAR).div_ceil(max as usize).min(BAR)
    };
    let full = if score < max { full.min(BAR - 1) } else { full };
    format!("{}{}", "█".repeat(full), "░".repeat(BAR - full))
}

/// `just now`, `5 min ago`, `3 h ago`, `2 days ago`.
fn ago(when: u64) -> String {
    let secs = now().saturating_sub(when);
    match secs {
        0..60 => "just now".to_string(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// `, edited since` when a file of the lesson's crate changed after it was
/// graded.
fn edited_since(course: &Course, lesson: &Lesson, record: &Record) -> &'static str {
    match last_edit(&course.student_dir(lesson)) {
        Some(t) if t > record.graded_at => ", edited since",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_only_at_full_marks() {
        assert_eq!(bar(0, 30), "░░░░░░░░░░");
        assert_eq!(bar(29, 30), "█████████░");
        assert_eq!(bar(30, 30), "██████████");
        assert_eq!(bar(1, 30), "█░░░░░░░░░");
    }
}
