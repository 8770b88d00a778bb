//! The report a student reads in a terminal, printed test by test as the
//! tests finish (in manifest order).
//!
//! One cause is said once: the first test that fails on a rule (or a crash,
//! a `todo!()`) shows the failure in full; later tests with the same cause
//! ([`super::causes`]) get one line that names it. `--verbose` shows every
//! failure in full. A crate that does not compile gets the compiler's errors
//! once and one line for the score.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anstyle::{AnsiColor, Style};

use super::{causes, failure_details, indent, Graded};
use crate::build::Variant;
use crate::runner::TestResult;
use heaplab_protocol::Outcome;

const PASS: Style = AnsiColor::Green.on_default().bold();
const FAIL: Style = AnsiColor::Red.on_default().bold();
const TODO: Style = AnsiColor::Yellow.on_default().bold();
const PART: Style = AnsiColor::Yellow.on_default().bold();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

/// How far a failure's details are indented under its test's line.
const DETAILS: &str = "    ";

/// Writes to stdout; colour only on a terminal and without `NO_COLOR`.
pub struct Human<W: Write = anstream::AutoStream<std::io::Stdout>> {
    out: W,
    /// Every failure in full, not once per cause.
    pub verbose: bool,
    /// Cause key → the first test that showed it.
    shown: HashMap<String, String>,
}

impl Default for Human {
    fn default() -> Self {
        Self::new()
    }
}

impl Human {
    pub fn new() -> Self {
        Human::to(anstream::AutoStream::auto(std::io::stdout()))
    }
}

/// The status word of a result (a measured test's depends on its points), and its colour.
pub fn label(r: &TestResult) -> (&'static str, Style) {
    match &r.outcome {
        Outcome::Passed => ("PASS", PASS),
        Outcome::NotImplemented { .. } => ("TODO", TODO),
        Outcome::Failed { .. } => ("FAIL", FAIL),
        Outcome::Crashed { .. } => ("CRASH", FAIL),
        Outcome::Hung { .. } => ("HANG", FAIL),
        Outcome::TimedOut { .. } => ("TIME", FAIL),
        Outcome::ExitedEarly { .. } => ("EXIT", FAIL),
        Outcome::KitError { .. } => ("KIT", FAIL),
        Outcome::DidNotCompile { .. } => ("FAIL", FAIL),
        Outcome::Measured { .. } if r.withheld.is_some() => ("HELD", PART),
        Outcome::Measured { .. } if r.full() => ("PASS", PASS),
        Outcome::Measured { .. } if r.earned > 0 => ("PART", PART),
        Outcome::Measured { .. } => ("LOW", FAIL),
    }
}

impl<W: Write> Human<W> {
    /// A report written to `out` (colour as `out` takes it).
    pub fn to(out: W) -> Self {
        Human {
            out,
            verbose: false,
            shown: HashMap::new(),
        }
    }

    /// The writer, back.
    pub fn into_inner(self) -> W {
        self.out
    }

    pub fn header(&mut self, graded: &Graded, tests: usize) {
        let _ = writeln!(
            self.out,
            "{BOLD}{}: {}{BOLD:#} {DIM}({}, {tests} test{}, seed {}){DIM:#}",
            graded.lesson.id,
            graded.lesson.title,
            graded.crate_shown,
            if tests == 1 { "" } else { "s" },
            graded.seed
        );
        if let Some(confinement) = &graded.confinement {
            let _ = writeln!(
                self.out,
                "{DIM}confined: {}{DIM:#}",
                crate::runner::confinement::line(confinement)
            );
        }
    }

    /// The compiler's errors, once, and the one line that scores them.
    pub fn compile_errors(&mut self, graded: &Graded, errors: &str) {
        let tests = graded.lesson.tests.len();
        let _ = writeln!(
            self.out,
            "\n{FAIL}{} did not compile{FAIL:#}. The compiler said:\n\n{errors}\n\n\
             {FAIL}every test scores 0{FAIL:#} ({tests} test{}) until it compiles; \
             fix the first error first.",
            graded.lesson.id,
            if tests == 1 { "" } else { "s" },
        );
    }

    /// One test: its line, then its failure in full, or one line naming the
    /// test that showed the same cause.
    pub fn test(&mut self, graded: &Graded, r: &TestResult) {
        if matches!(r.outcome, Outcome::DidNotCompile { .. }) {
            return; // said once, by compile_errors
        }
        let (label, style) = label(r);
        let points = format!("{}/{}", r.earned, r.spec.points);
        let _ = writeln!(
            self.out,
            "{style}{label:<5}{style:#} {points:>5}  {}  {DIM}{}{DIM:#}",
            r.spec.title, r.spec.name
        );
        if r.outcome.passed() {
            return;
        }
        let key = causes::key(&r.outcome);
        let first = key
            .as_ref()
            .and_then(|k| self.shown.get(k))
            .filter(|_| !self.verbose)
            .cloned();
        if let Some(first) = first {
            let what = match &r.outcome {
                Outcome::NotImplemented { .. } => "the same todo!()".to_string(),
                other => match super::check_of(other) {
                    "" => "the same failure".to_string(),
                    check => format!("the same broken rule ({check})"),
                },
            };
            let _ = writeln!(self.out, "{DETAILS}{DIM}{what} as {first}, above{DIM:#}");
            return;
        }
        if let Some(k) = key {
            self.shown.insert(k, r.spec.name.clone());
        }
        let details = failure_details(graded, r, true);
        let _ = writeln!(self.out, "{}", indent(&details, DETAILS));
    }

    pub fn footer(&mut self, graded: &Graded) {
        let (score, max) = (graded.score(), graded.max_score());
        let style = if score == max { PASS } else { FAIL };
        let _ = writeln!(self.out, "\n{style}Score: {score}/{max}{style:#}");
        let _ = self.out.flush();
    }
}

/// A `todo!()` in one line: where, and what the `// TODO:` above it asks.
pub fn todo_line(graded: &Graded, location: &str) -> String {
    let task = todo_task(graded, location)
        .map(|t| format!(": {t}"))
        .unwrap_or_default();
    format!("not implemented yet: todo!() at {location}{task}")
}

/// The text of the `// TODO:` comment just above `file:line:col`, read
/// from the crate under test.
fn todo_task(graded: &Graded, location: &str) -> Option<String> {
    let mut parts = location.rsplitn(3, ':');
    let (_col, line, file) = (parts.next()?, parts.next()?, parts.next()?);
    let line: usize = line.parse().ok()?;
    let path: PathBuf = match &graded.variant {
        Variant::Submission(dir) => dir.join(file),
        _ => graded.course.root.join(file),
    };
    let text = std::fs::read_to_string(path).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let above = lines.get(line.checked_sub(4)?..line.checked_sub(1)?)?;
    above
        .iter()
        .rev()
        .find_map(|l| l.trim().strip_prefix("// TODO:"))
        .map(|t| t.trim().to_string())
}
