//! Gradescope's `results.json`: `score`, `execution_time`, `output`, and per
//! test `name`, `score`, `max_score`, `status`, `output`, `visibility`;
//! and, for a lesson with measured tests, the `leaderboard`. The outputs
//! are Markdown (`output_format: "md"`, see [`super::markdown`]).

use serde::Serialize;

use super::leaderboard::{self, Entry};
use super::{markdown, Graded};

#[derive(Serialize)]
struct Results {
    score: u32,
    execution_time: f64,
    output: String,
    output_format: &'static str,
    tests: Vec<TestEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    leaderboard: Vec<Entry>,
}

#[derive(Serialize)]
struct TestEntry {
    name: String,
    score: u32,
    max_score: u32,
    status: &'static str,
    output: String,
    output_format: &'static str,
    visibility: &'static str,
}

pub fn render(graded: &Graded) -> String {
    let mut output = format!(
        "heaplab {}: {}, seed {}. Score {}/{}.",
        graded.lesson.id,
        graded.lesson.title,
        graded.seed,
        graded.score(),
        graded.max_score()
    );
    if let Some(errors) = &graded.compile_errors {
        output.push_str("\n\nYour code did not compile; the compiler said:\n\n");
        output.push_str(&markdown::code_block(
            &anstream::adapter::strip_str(errors).to_string(),
        ));
    }
    let tests = graded
        .results
        .iter()
        .map(|r| TestEntry {
            name: format!("{} ({})", r.spec.title, r.spec.name),
            score: r.earned,
            max_score: r.spec.points,
            status: if r.full() { "passed" } else { "failed" },
            output: if r.outcome.passed() {
                String::new()
            } else {
                markdown::failure(graded, r)
            },
            output_format: "md",
            // Hidden tests show only once the instructor publishes grades.
            visibility: if r.spec.hidden {
                "after_published"
            } else {
                "visible"
            },
        })
        .collect();
    let results = Results {
        score: graded.score(),
        execution_time: (graded.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        output,
        output_format: "md",
        tests,
        leaderboard: leaderboard::entries(graded),
    };
    serde_json::to_string_pretty(&results).expect("results always serialize") + "\n"
}
