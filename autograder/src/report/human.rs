//! The report a student reads in a terminal, printed test by test as the
//! tests finish (in manifest order).

use std::io::Write;

use anstyle::{AnsiColor, Style};

use super::{failure_details, indent, Graded};
use crate::runner::TestResult;
use heaplab_protocol::Outcome;

const PASS: Style = AnsiColor::Green.on_default().bold();
const FAIL: Style = AnsiColor::Red.on_default().bold();
const TODO: Style = AnsiColor::Yellow.on_default().bold();
const PART: Style = AnsiColor::Yellow.on_default().bold();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

/// Writes to stdout; colour only on a terminal and without `NO_COLOR`.
pub struct Human {
    out: anstream::AutoStream<std::io::Stdout>,
}

impl Default for Human {
    fn default() -> Self {
        Self::new()
    }
}

impl Human {
    pub fn new() -> Self {
        Human {
            out: anstream::AutoStream::auto(std::io::stdout()),
        }
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

    pub fn compile_errors(&mut self, lesson_id: &str, errors: &str) {
        let _ = writeln!(
            self.out,
            "\n{FAIL}{lesson_id} did not compile{FAIL:#}; every test scores 0. The compiler said:\n\n{errors}\n"
        );
    }

    pub fn test(&mut self, graded: &Graded, r: &TestResult) {
        let (label, style) = match &r.outcome {
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
        };
        let points = format!("{}/{}", r.earned, r.spec.points);
        let _ = writeln!(
            self.out,
            "{style}{label:<5}{style:#} {points:>5}  {}  {DIM}{}{DIM:#}",
            r.spec.title, r.spec.name
        );
        if matches!(r.outcome, Outcome::Passed | Outcome::DidNotCompile { .. }) {
            if let Outcome::DidNotCompile { .. } = r.outcome {
                let _ = writeln!(self.out, "{}", indent("did not compile", "             "));
            }
            return;
        }
        let details = failure_details(graded, r, true);
        let _ = writeln!(self.out, "{}", indent(&details, "             "));
    }

    pub fn footer(&mut self, graded: &Graded) {
        let (score, max) = (graded.score(), graded.max_score());
        let style = if score == max { PASS } else { FAIL };
        let _ = writeln!(self.out, "\n{style}Score: {score}/{max}{style:#}");
        let _ = self.out.flush();
    }
}
