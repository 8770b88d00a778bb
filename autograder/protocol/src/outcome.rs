//! How one test ended, as the checker tells the grader (one JSON line on the
//! checker's standard output) and as the grader's reports show it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::footprint::Footprint;
use crate::heap_state::HeapStep;

/// Steps of a long failing sequence a failure keeps (besides step 0): the
/// last ones, which lead to the failure.
pub const MAX_STEPS: usize = 60;

/// How one test ended. Every case is here; a test earns its points only
/// when [`Outcome::Passed`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    /// A check did not hold: which, what was expected and found, the
    /// shortest sequence of operations, a picture.
    Failed {
        failure: Failure,
    },
    /// The student's code reached `todo!()` at `location` (`file:line:col`).
    NotImplemented {
        location: String,
    },
    /// The student's process was killed by `signal` (`SIGSEGV`); `cause`
    /// when its stderr says more (`stack overflow`, `out of memory`). The
    /// failure names the operation it died in, the shortest sequence that
    /// still dies, and the heap as it was left.
    Crashed {
        signal: String,
        cause: Option<String>,
        failure: Failure,
    },
    /// The student's process did not answer within `after_ms` and was
    /// killed: the operation it hung in, the shortest sequence that still
    /// hangs, and the checker's own walk of the free list.
    Hung {
        after_ms: u64,
        failure: Failure,
    },
    /// The student's process exited (with `code`) in the middle of an
    /// operation.
    ExitedEarly {
        code: i32,
        failure: Failure,
    },
    /// The whole test ran past its time limit (seconds) and was stopped.
    TimedOut {
        after: f64,
    },
    /// The test could not be run: the kit's fault, not the student's (its
    /// processes could not be started, the checker failed). Costs the grade
    /// its "full marks or not" (exit 2), never the student points silently.
    KitError {
        message: String,
    },
    /// The crate under test does not compile: the compiler's errors.
    DidNotCompile {
        errors: String,
    },
    /// A measured test (lesson 8's speed and space) ran to the end: what it
    /// measured. Its points are not the checker's to give: the grader gives
    /// them from the value, between the thresholds `course.toml` sets.
    Measured {
        measured: Measured,
    },
}

/// What a measured test found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// The figure points are given for, in the unit `course.toml`'s
    /// thresholds are written in: a speed ratio to the system allocator
    /// (above 1: faster), a utilization (0 to 1), a memory ratio.
    pub value: f64,
    /// The value in words, one line (`0.87× the system allocator's speed`).
    pub summary: String,
    /// What was measured, run by run: a table for the reader.
    pub table: String,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Passed)
    }

    /// What a measured test measured, if this is its outcome.
    pub fn measured(&self) -> Option<&Measured> {
        match self {
            Outcome::Measured { measured } => Some(measured),
            _ => None,
        }
    }

    /// The failure behind this outcome, if it has one.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Outcome::Failed { failure }
            | Outcome::Crashed { failure, .. }
            | Outcome::Hung { failure, .. }
            | Outcome::ExitedEarly { failure, .. } => Some(failure),
            _ => None,
        }
    }

    /// A short label: `passed`, `failed`, `not implemented`, `crashed`...
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed { .. } => "failed",
            Outcome::NotImplemented { .. } => "not implemented",
            Outcome::Crashed { .. } => "crashed",
            Outcome::Hung { .. } => "hung",
            Outcome::ExitedEarly { .. } => "exited early",
            Outcome::TimedOut { .. } => "timed out",
            Outcome::KitError { .. } => "kit error",
            Outcome::DidNotCompile { .. } => "did not compile",
            Outcome::Measured { .. } => "measured",
        }
    }
}

/// What the checker prints for the grader: one JSON line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckerReport {
    pub outcome: Outcome,
    /// The last of what the student's processes wrote (capped).
    pub stdout: String,
    pub stderr: String,
}

/// A check that did not hold, in parts: reports show them as fields, and
/// hints are looked up by [`check`](Failure::check).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The rule that broke, as hints know it: `aligned`, `no overlap`,
    /// `free list`, `crash`, `hang`… Empty for a failure in words only.
    pub check: String,
    /// One line (or, for a failure in words only, the whole message).
    pub what: String,
    pub expected: String,
    pub found: String,
    /// The step it broke at (1-based) and that step's operation.
    pub step: Option<(usize, String)>,
    /// The operations that lead to it, as code; the shortest found.
    pub operations: Vec<String>,
    /// Pictures of the pages: `(caption, picture)`.
    pub pictures: Vec<(String, String)>,
    /// Whatever else helps: how the sequence was found, the list walk, the
    /// last lines the process wrote to stderr.
    pub notes: Vec<String>,
    /// Set when the student's process crashed, hung or exited during the
    /// step: the outcome is then that, not a failed check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<crate::Stopped>,
    /// The heap after each operation of the failing sequence, for the
    /// report to draw (recorded only for a failure; at most the last
    /// [`MAX_STEPS`] of a long sequence, after step 0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<HeapStep>,
    /// The heap's footprint over the trace a utilization test replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footprint: Option<Footprint>,
    /// Addresses the picture should show first (not reported).
    #[serde(skip)]
    pub focus: Vec<usize>,
}

impl Failure {
    /// A failure in three parts.
    pub fn new(
        what: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Failure {
            what: what.into(),
            expected: expected.into(),
            found: found.into(),
            ..Failure::default()
        }
    }

    /// A failure in words only.
    pub fn text(message: impl Into<String>) -> Self {
        Failure {
            what: message.into(),
            ..Failure::default()
        }
    }

    /// Names the rule that broke.
    pub fn check(mut self, check: impl Into<String>) -> Self {
        self.check = check.into();
        self
    }

    /// Adds a line to the notes.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Shows the mapping holding `addr` first in the picture.
    pub fn at(mut self, addr: usize) -> Self {
        self.focus.push(addr);
        self
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::text(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::text(message)
    }
}

/// The failure as a student reads it in a terminal: what broke, expected
/// and found, where, the operations, the pictures, the notes.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.what.trim_end())?;
        if !self.expected.is_empty() || !self.found.is_empty() {
            writeln!(f, "  expected: {}", self.expected)?;
            writeln!(f, "  found:    {}", self.found)?;
        }
        match (&self.step, self.check.is_empty()) {
            (Some((n, op)), true) => writeln!(f, "  (after step {n}: {op})")?,
            (Some((n, op)), false) => writeln!(f, "  ({}, after step {n}: {op})", self.check)?,
            (None, _) => {}
        }
        if !self.operations.is_empty() {
            writeln!(f, "\noperations:")?;
            write!(f, "{}", wrap_operations(&self.operations, 88))?;
        }
        for (caption, picture) in &self.pictures {
            writeln!(f, "\n{caption}:")?;
            write!(f, "{}", picture.trim_end_matches('\n'))?;
            writeln!(f)?;
        }
        for note in &self.notes {
            writeln!(f, "{}", note.trim_end())?;
        }
        Ok(())
    }
}

/// Joins operations with `; `, wrapped to `width` columns, indented.
pub fn wrap_operations(ops: &[String], width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from(" ");
    for (i, op) in ops.iter().enumerate() {
        let piece = if i + 1 < ops.len() {
            format!(" {op};")
        } else {
            format!(" {op}")
        };
        if line.len() + piece.len() > width && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from(" ");
        }
        line.push_str(&piece);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reads_top_down() {
        let mut f = Failure::new("a1 overlaps a0", "apart", "[0x10, 0x40)").check("no overlap");
        f.step = Some((2, "a1 = malloc(8)".into()));
        f.operations = vec!["a0 = malloc(24)".into(), "a1 = malloc(8)".into()];
        f.pictures.push(("pages".into(), "aaaXbb\n".into()));
        let text = f.to_string();
        assert_eq!(
            text,
            "a1 overlaps a0\n  expected: apart\n  found:    [0x10, 0x40)\n  \
             (no overlap, after step 2: a1 = malloc(8))\n\noperations:\n  a0 = malloc(24); \
             a1 = malloc(8)\n\npages:\naaaXbb\n"
        );
    }

    #[test]
    fn steps_stay_out_of_the_json_when_empty() {
        let mut f = Failure::text("broke");
        let json = serde_json::to_string(&f).unwrap();
        assert!(
            !json.contains("steps") && !json.contains("footprint"),
            "{json}"
        );
        f.steps.push(HeapStep {
            step: 1,
            operation: "a0 = malloc(8)".into(),
            ..HeapStep::default()
        });
        let json = serde_json::to_string(&f).unwrap();
        assert!(
            json.contains(r#""steps":[{"step":1,"operation":"a0 = malloc(8)""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Failure>(&json).unwrap(), f);
    }

    #[test]
    fn outcomes_travel_as_tagged_json_shapes() {
        let o = Outcome::Hung {
            after_ms: 1000,
            failure: Failure::text("stuck"),
        };
        let json = serde_json::to_string(&o).unwrap();
        assert!(
            json.starts_with(r#"{"status":"hung","after_ms":1000"#),
            "{json}"
        );
        let back: Outcome = serde_json::from_str(&json).unwrap();
        assert_eq!(back, o);
        assert_eq!(o.label(), "hung");
        assert!(o.failure().is_some());
    }
}
