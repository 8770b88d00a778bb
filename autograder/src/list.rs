//! `grade --list`: the lessons of the manifest and their tests.

use std::io::Write;

use anstyle::Style;

use crate::course::{Course, Lesson};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

pub fn print(course: &Course, only: Option<&Lesson>) {
    let mut out = anstream::stdout();
    let lessons: Vec<&Lesson> = match only {
        Some(l) => vec![l],
        None => course.manifest.lessons.iter().collect(),
    };
    for (i, lesson) in lessons.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(out);
        }
        let mut notes = Vec::new();
        if !lesson.has_suite() {
            notes.push("suite not wired up yet".to_string());
        }
        if !course.solution_dir(lesson).is_dir() {
            notes.push("no solution yet".to_string());
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", notes.join(", "))
        };
        let _ = writeln!(
            out,
            "{BOLD}{}{BOLD:#}  {}  {DIM}lessons/{}, {} test{}, {} point{}{notes}{DIM:#}",
            lesson.id,
            lesson.title,
            lesson.dir,
            lesson.tests.len(),
            if lesson.tests.len() == 1 { "" } else { "s" },
            lesson.max_points(),
            if lesson.max_points() == 1 { "" } else { "s" },
        );
        if let Some(page) = &lesson.page {
            let _ = writeln!(out, "  {DIM}lesson page: {page}{DIM:#}");
        }
        let width = lesson.tests.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for test in &lesson.tests {
            let _ = writeln!(
                out,
                "  {:>3} pt  {:<width$}  {}{}",
                test.points,
                test.name,
                test.title,
                if test.hidden { " (hidden)" } else { "" },
            );
        }
    }
    // The layers this machine gives the student's processes, probed with
    // this program standing in for theirs.
    if let Ok(exe) = std::env::current_exe() {
        let memory = course.manifest.defaults.memory_mib << 20;
        let layers = crate::runner::confinement::probe(&exe, memory);
        let _ = writeln!(
            out,
            "\n{DIM}student code runs confined: {}{DIM:#}",
            crate::runner::confinement::line(&layers)
        );
        for layer in layers.iter().flat_map(|c| &c.layers) {
            let state = if layer.on { "on " } else { "off" };
            let _ = writeln!(
                out,
                "  {DIM}{state} {}: {}{DIM:#}",
                layer.name, layer.detail
            );
        }
    }
    let _ = out.flush();
}
