//! Reports of a graded run: human (streamed as tests finish), TAP for
//! Inkfish, Gradescope's and PrairieLearn's results.json, Autolab's score
//! line, and heaplab's own JSON.

pub mod autolab;
pub mod causes;
pub mod gradescope;
pub mod html;
pub mod human;
pub mod images;
pub mod json;
pub mod leaderboard;
pub mod markdown;
pub mod prairielearn;
pub mod tap;

use std::time::Duration;

use crate::build::Variant;
use crate::course::{Course, Lesson};
use crate::runner::TestResult;
use heaplab_protocol::confinement::Confinement;
use heaplab_protocol::Outcome;

/// Everything known about one graded run.
pub struct Graded<'a> {
    /// The course (hints by check, the root the report's paths start from).
    pub course: &'a Course,
    pub lesson: &'a Lesson,
    pub variant: Variant,
    /// The crate under test as shown to the reader.
    pub crate_shown: String,
    pub seed: u64,
    pub results: Vec<TestResult<'a>>,
    /// The compiler's errors when the crate did not compile (may hold ANSI colour).
    pub compile_errors: Option<String>,
    /// The command that grades this crate again (without `--test`/`--seed`).
    pub replay_base: String,
    /// All test names of the lesson, to decide when `--exact` is needed.
    pub all_names: Vec<String>,
    pub elapsed: Duration,
    /// The confinement layers the tests ran under (none before a build).
    pub confinement: Option<Result<Confinement, String>>,
}

impl<'a> Graded<'a> {
    pub fn score(&self) -> u32 {
        self.results.iter().map(|r| r.earned).sum()
    }

    pub fn max_score(&self) -> u32 {
        self.results.iter().map(|r| r.spec.points).sum()
    }

    /// The earlier test whose failure has the same cause as result
    /// `index` (`report::causes`), which shows it in full.
    pub fn same_as(&self, index: usize) -> Option<&TestResult<'a>> {
        let key = causes::key(&self.results.get(index)?.outcome)?;
        self.results[..index]
            .iter()
            .find(|r| causes::key(&r.outcome).as_ref() == Some(&key))
    }

    /// The hint for a result: the one for the rule that broke, else the
    /// test's own (`course.toml`'s `[checks]`, `[lesson.checks]`, `hint`).
    pub fn hint<'s>(&'s self, r: &'s TestResult) -> Option<&'s str> {
        let check = check_of(&r.outcome);
        let found = self.course.manifest.hint(self.lesson, r.spec, check);
        found.map(|(hint, _)| hint)
    }

    /// The exact command that runs one test again with this run's seed.
    pub fn replay(&self, name: &str) -> String {
        let ambiguous = self.all_names.iter().any(|n| n != name && n.contains(name));
        format!(
            "{} --test {}{} --seed {}",
            self.replay_base,
            shell_quote(name),
            if ambiguous { " --exact" } else { "" },
            self.seed
        )
    }
}

/// Quotes `s` for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=,+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The check of the failure a measured test gets when the correctness gate
/// kept it from running.
pub const GATE_CHECK: &str = "correctness gate";

/// What [`details`] includes besides the failure itself.
#[derive(Clone, Copy, Debug)]
pub struct Shown {
    /// The hint (`hint: ...`).
    pub hint: bool,
    /// The seed and the command that replays the test.
    pub replay: bool,
}

/// The text a reader needs to understand a failed test: the reason, the
/// suite's message, the stderr of a crash, the hint and the replay command.
/// Plain text, no colour.
pub fn failure_details(graded: &Graded, r: &TestResult, with_replay: bool) -> String {
    let shown = Shown {
        hint: true,
        replay: with_replay,
    };
    details(graded, r, shown)
}

/// A failed test's text, with the parts `shown` asks for.
pub fn details(graded: &Graded, r: &TestResult, shown: Shown) -> String {
    let mut out = Vec::new();
    if let Some(measured) = r.outcome.measured() {
        out.push(measured_details(r, measured));
        if let Some(hint) = graded.hint(r).filter(|_| shown.hint && !r.full()) {
            out.push(format!("hint: {hint}"));
        }
        return anstream::adapter::strip_str(&out.join("\n")).to_string();
    }
    match (&r.outcome, r.outcome.failure()) {
        // The failure says it all: what, expected, found, where, the
        // sequence, the pictures, the stderr of a crash.
        (_, Some(failure)) => out.push(heaplab_protocol::stderr::without_thread_ids(
            failure.to_string().trim_end(),
        )),
        (Outcome::NotImplemented { location }, None) => {
            out.push(human::todo_line(graded, location));
        }
        (other, None) => out.push(reason(other)),
    }
    // A measured test that did not run because of the gate has nothing of
    // its own to hint at or replay.
    let gated = r.outcome.failure().is_some_and(|f| f.check == GATE_CHECK);
    if let Some(hint) = graded.hint(r).filter(|_| shown.hint && !gated) {
        out.push(format!("hint: {hint}"));
    }
    if shown.replay && !gated && !matches!(r.outcome, Outcome::DidNotCompile { .. }) {
        out.push(format!(
            "seed {}; replay: {}",
            graded.seed,
            graded.replay(&r.spec.name)
        ));
    }
    let stopped = r.outcome.failure().is_some_and(|f| f.stopped.is_some());
    if shown.replay && stopped {
        out.push(format!(
            "in a debugger: {} --debug {} --seed {} (prints the command that stops just before \
             that step)",
            graded.replay_base,
            shell_quote(&r.spec.name),
            graded.seed
        ));
    }
    anstream::adapter::strip_str(&out.join("\n")).to_string()
}

/// What a measured test found, its points between the manifest's
/// thresholds, why they were withheld if they were, and the table.
pub fn measured_details(r: &TestResult, measured: &heaplab_protocol::Measured) -> String {
    let mut out = format!("measured: {}", measured.summary.trim());
    if let Some(scale) = &r.spec.measure {
        out.push_str(&format!(
            "\npoints: {} of {} ({} earns none, {} earns all, linear between)",
            scale.points(r.spec.points, measured.value),
            r.spec.points,
            number(scale.zero),
            number(scale.full)
        ));
    }
    if let Some(why) = &r.withheld {
        out.push_str(&format!("\n{why}"));
    }
    if !measured.table.trim().is_empty() {
        out.push_str(&format!("\n{}", measured.table.trim_end()));
    }
    out
}

/// A threshold as the manifest writes it: `0.5`, `1`, `0.85`.
fn number(x: f64) -> String {
    let text = format!("{x:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The rule an outcome broke, as hints know it (`""`: none named).
pub fn check_of(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::TimedOut { .. } => heaplab_protocol::checks::TIMEOUT,
        other => other.failure().map_or("", |f| f.check.as_str()),
    }
}

/// One line saying why a test that has no failure to show earned nothing.
pub fn reason(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Passed => String::new(),
        Outcome::NotImplemented { location } => {
            format!("not implemented yet: reached todo!() at {location}")
        }
        Outcome::TimedOut { after } => format!(
            "the test ran past its {after} s and was stopped (far too slow, or stuck outside \
             any one operation)"
        ),
        Outcome::KitError { message } => format!(
            "this test could not be run; the grading kit's trouble, not your code's:\n{message}"
        ),
        Outcome::DidNotCompile { .. } => "did not compile".into(),
        other => other.label().into(),
    }
}

pub fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_leaves_plain_words_alone() {
        assert_eq!(shell_quote("lesson4"), "lesson4");
        assert_eq!(shell_quote("/tmp/my dir"), "'/tmp/my dir'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
