//! Reports of a graded run: human (streamed as tests finish), TAP for
//! Inkfish, Gradescope's results.json, and heaplab's own JSON.

pub mod autolab;
pub mod gradescope;
pub mod html;
pub mod human;
pub mod json;
pub mod markdown;
pub mod tap;

use std::time::Duration;

use crate::build::Variant;
use crate::course::Lesson;
use crate::runner::TestResult;
use heaplab_protocol::confinement::Confinement;
use heaplab_protocol::Outcome;

/// Everything known about one graded run.
pub struct Graded<'a> {
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

impl Graded<'_> {
    pub fn score(&self) -> u32 {
        self.results.iter().map(|r| r.earned).sum()
    }

    pub fn max_score(&self) -> u32 {
        self.results.iter().map(|r| r.spec.points).sum()
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

/// The text a reader needs to understand a failed test: the reason, the
/// suite's message, the stderr of a crash, the hint and the replay command.
/// Plain text, no colour.
pub fn failure_details(graded: &Graded, r: &TestResult, with_replay: bool) -> String {
    let mut out = Vec::new();
    match r.outcome.failure() {
        // The failure says it all: what, expected, found, where, the
        // sequence, the pictures, the stderr of a crash.
        Some(failure) => out.push(without_thread_ids(failure.to_string().trim_end())),
        None => out.push(reason(&r.outcome)),
    }
    if !r.spec.hint.trim().is_empty() {
        out.push(format!("hint: {}", r.spec.hint.trim()));
    }
    if with_replay && !matches!(r.outcome, Outcome::DidNotCompile { .. }) {
        out.push(format!(
            "seed {}; replay: {}",
            graded.seed,
            graded.replay(&r.spec.name)
        ));
    }
    anstream::adapter::strip_str(&out.join("\n")).to_string()
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

/// `thread 'main' (23565) has overflowed` → `thread 'main' has overflowed`:
/// the id changes every run, and a report should not.
fn without_thread_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("' (") {
        let (before, after) = rest.split_at(at + 1);
        out.push_str(before);
        let digits = after[2..].bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[2 + digits..].starts_with(')') {
            rest = &after[3 + digits..];
        } else {
            out.push_str(&after[..2]);
            rest = &after[2..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_ids_are_dropped() {
        assert_eq!(
            without_thread_ids("thread 'main' (23565) has overflowed its stack"),
            "thread 'main' has overflowed its stack"
        );
        assert_eq!(without_thread_ids("a ' (x) b"), "a ' (x) b");
    }

    #[test]
    fn quoting_leaves_plain_words_alone() {
        assert_eq!(shell_quote("lesson4"), "lesson4");
        assert_eq!(shell_quote("/tmp/my dir"), "'/tmp/my dir'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
