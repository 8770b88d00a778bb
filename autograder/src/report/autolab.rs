//! Autolab's report: a plain summary for the student (each test, and why a
//! failed one failed), then, as the last line, the score Autolab reads:
//! `{"scores": {"<test name>": points, ...}}`, one key per test of the
//! lesson, which are the assessment's problem names; for a lesson with
//! measured tests, also `"scoreboard": [value, ...]`, one value per
//! leaderboard column in the manifest's order (the assessment's scoreboard
//! columns must be declared in that order).

use super::{failure_details, indent, leaderboard, Graded};
use heaplab_protocol::Outcome;

pub fn render(graded: &Graded) -> String {
    let mut scores = serde_json::Map::new();
    for r in &graded.results {
        scores.insert(r.spec.name.clone(), r.earned.into());
    }
    let mut out = summary(graded);
    let board: Vec<f64> = leaderboard::entries(graded)
        .iter()
        .map(|e| e.value)
        .collect();
    let last = if board.is_empty() {
        serde_json::json!({ "scores": scores })
    } else {
        serde_json::json!({ "scores": scores, "scoreboard": board })
    };
    out.push_str(&last.to_string());
    out.push('\n');
    out
}

/// The plain-text report: each test with its points, and why a failed one
/// failed (a hidden test's details are withheld).
pub fn summary(graded: &Graded) -> String {
    let mut out = format!(
        "heaplab {}: {} ({}), seed {}\n",
        graded.lesson.id, graded.lesson.title, graded.crate_shown, graded.seed
    );
    if let Some(errors) = &graded.compile_errors {
        out.push_str("did not compile; every test scores 0. The compiler said:\n");
        out.push_str(&indent(
            &anstream::adapter::strip_str(errors).to_string(),
            "  ",
        ));
        out.push('\n');
    }
    for r in &graded.results {
        out.push_str(&format!(
            "{:<5} {:>3}/{:<3} {} ({})\n",
            r.outcome.label(),
            r.earned,
            r.spec.points,
            r.spec.title,
            r.spec.name
        ));
        if !r.outcome.passed() && !matches!(r.outcome, Outcome::DidNotCompile { .. }) {
            let details = if r.spec.hidden {
                "hidden test: details withheld".to_string()
            } else {
                failure_details(graded, r, true)
            };
            out.push_str(&indent(&details, "      "));
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "Score: {}/{}\n",
        graded.score(),
        graded.max_score()
    ));
    out
}
