//! What watch mode shows after each grade: the score on top, then the
//! first failure in full (its hint on `h`), or every test's line (`l`),
//! and the keys at the bottom. The screen is cut to the terminal's height.

use anstyle::{AnsiColor, Style};

use crate::report::human::label;
use crate::report::{details, Graded, Shown};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const PASS: Style = AnsiColor::Green.on_default().bold();
const FAIL: Style = AnsiColor::Red.on_default().bold();

/// What the screen shows under the score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The first failure, without its hint.
    Failure,
    /// The first failure and its hint.
    Hint,
    /// Every test, one line each.
    List,
}

/// Facts about the grade the screen shows besides the report.
pub struct Stamp<'a> {
    /// Grades done since watch mode started.
    pub number: usize,
    pub seconds: f64,
    /// The folder watched, as shown.
    pub watching: &'a str,
    /// How saves are noticed.
    pub how: &'a str,
}

/// The screen, as lines of text (with colour), at most `rows` of them.
pub fn render(graded: &Graded, view: View, stamp: &Stamp, rows: usize) -> Vec<String> {
    let (score, max) = (graded.score(), graded.max_score());
    let style = if score == max { PASS } else { FAIL };
    let mut top = vec![format!(
        "{BOLD}{}: {}{BOLD:#}  {style}{score}/{max}{style:#}  {DIM}(grade #{}, {:.1} s){DIM:#}",
        graded.lesson.id, graded.lesson.title, stamp.number, stamp.seconds
    )];
    top.push(String::new());
    let body = match view {
        _ if graded.compile_errors.is_some() => compile_errors(graded),
        View::List => list(graded),
        View::Failure | View::Hint => first_failure(graded, view == View::Hint),
    };
    let keys = format!(
        "{DIM}watching {} ({}) · h hint · l list · r regrade · q quit{DIM:#}",
        stamp.watching, stamp.how
    );
    let room = rows.saturating_sub(top.len() + 2).max(3);
    top.extend(cut(body, room));
    top.push(String::new());
    top.push(keys);
    top
}

/// The compiler's errors (the first ones, as the report keeps them).
fn compile_errors(graded: &Graded) -> Vec<String> {
    let errors = graded.compile_errors.as_deref().unwrap_or("");
    let mut lines = vec![format!(
        "{FAIL}{} does not compile{FAIL:#}: every test scores 0. The compiler said:",
        graded.lesson.id
    )];
    lines.push(String::new());
    lines.extend(errors.lines().map(String::from));
    lines
}

/// The first test that lost points, in full, then a line about the rest.
fn first_failure(graded: &Graded, hint: bool) -> Vec<String> {
    let failing: Vec<usize> = (0..graded.results.len())
        .filter(|&i| !graded.results[i].outcome.passed())
        .collect();
    let Some(&first) = failing.first() else {
        return vec![format!(
            "{PASS}Full marks: every test passes.{PASS:#} Next: `cargo grade status`."
        )];
    };
    let r = &graded.results[first];
    let (word, style) = label(r);
    let mut lines = vec![format!(
        "{style}{word}{style:#}  {}  {DIM}{}{DIM:#}",
        r.spec.title, r.spec.name
    )];
    let shown = Shown { hint, replay: true };
    lines.extend(details(graded, r, shown).lines().map(|l| format!("  {l}")));
    if !hint && graded.hint(r).is_some() {
        lines.push(format!("  {DIM}(h shows the hint){DIM:#}"));
    }
    let same = failing[1..]
        .iter()
        .filter(|&&i| {
            graded
                .same_as(i)
                .is_some_and(|f| f.spec.name == r.spec.name)
        })
        .count();
    let others = failing.len() - 1;
    if others > 0 {
        lines.push(String::new());
        lines.push(format!(
            "{others} more test{} lose points{}; l lists them",
            if others == 1 { "" } else { "s" },
            if same > 0 {
                format!(", {same} of them for the same cause")
            } else {
                String::new()
            }
        ));
    }
    lines
}

/// Every test, one line each, as the report's lines.
fn list(graded: &Graded) -> Vec<String> {
    graded
        .results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (word, style) = label(r);
            let same = graded
                .same_as(i)
                .map(|f| format!("  (same cause as {})", f.spec.name))
                .unwrap_or_default();
            format!(
                "{style}{word:<5}{style:#} {:>5}  {}  {DIM}{}{same}{DIM:#}",
                format!("{}/{}", r.earned, r.spec.points),
                r.spec.title,
                r.spec.name
            )
        })
        .collect()
}

/// At most `room` lines, the last saying how many were left out.
fn cut(mut lines: Vec<String>, room: usize) -> Vec<String> {
    if lines.len() > room {
        let left = lines.len() - (room - 1);
        lines.truncate(room - 1);
        lines.push(format!(
            "{DIM}… {left} more lines: `cargo grade` with the same lesson shows them all{DIM:#}"
        ));
    }
    lines
}
