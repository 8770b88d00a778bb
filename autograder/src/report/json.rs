//! heaplab's own JSON report (schema `heaplab-grade/2`, documented in
//! docs/grading.md).

use serde::Serialize;

use super::leaderboard::{self, Entry};
use super::{failure_details, Graded};
use heaplab_protocol::confinement::Confinement;
use heaplab_protocol::Outcome;

pub const SCHEMA: &str = "heaplab-grade/2";

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    lesson: &'a str,
    title: &'a str,
    variant: &'static str,
    #[serde(rename = "crate")]
    crate_path: &'a str,
    seed: u64,
    score: u32,
    max_score: u32,
    compiled: bool,
    compile_errors: Option<String>,
    elapsed_ms: u64,
    /// The layers the student's processes ran under (null: not built).
    confinement: Option<Confinement>,
    /// Why the confinement could not be set up, if it could not.
    confinement_error: Option<String>,
    tests: Vec<TestEntry<'a>>,
    /// The lesson's leaderboard columns (lessons with measured tests).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    leaderboard: Vec<Entry>,
}

#[derive(Serialize)]
struct TestEntry<'a> {
    name: &'a str,
    title: &'a str,
    points: u32,
    score: u32,
    hidden: bool,
    outcome: &'a Outcome,
    /// Why a measured test's points were withheld, if they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    withheld: Option<&'a str>,
    /// What a student is shown for a failure: reason, message, hint, replay.
    details: String,
    replay: String,
    duration_ms: u64,
    stdout: String,
    stderr: String,
}

pub fn render(graded: &Graded) -> String {
    let strip = |s: &str| anstream::adapter::strip_str(s).to_string();
    let tests = graded
        .results
        .iter()
        .map(|r| TestEntry {
            name: &r.spec.name,
            title: &r.spec.title,
            points: r.spec.points,
            score: r.earned,
            hidden: r.spec.hidden,
            outcome: &r.outcome,
            withheld: r.withheld.as_deref(),
            details: if r.outcome.passed() {
                String::new()
            } else {
                failure_details(graded, r, false)
            },
            replay: graded.replay(&r.spec.name),
            duration_ms: r.elapsed.as_millis() as u64,
            stdout: r.stdout.clone(),
            stderr: r.stderr.clone(),
        })
        .collect();
    let report = Report {
        schema: SCHEMA,
        lesson: &graded.lesson.id,
        title: &graded.lesson.title,
        variant: graded.variant.slug(),
        crate_path: &graded.crate_shown,
        seed: graded.seed,
        score: graded.score(),
        max_score: graded.max_score(),
        compiled: graded.compile_errors.is_none(),
        compile_errors: graded.compile_errors.as_deref().map(strip),
        elapsed_ms: graded.elapsed.as_millis() as u64,
        confinement: graded.confinement.clone().and_then(Result::ok),
        confinement_error: graded.confinement.clone().and_then(Result::err),
        tests,
        leaderboard: leaderboard::entries(graded),
    };
    serde_json::to_string_pretty(&report).expect("reports always serialize") + "\n"
}
