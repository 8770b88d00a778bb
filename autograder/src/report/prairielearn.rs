//! PrairieLearn's `results.json` for an external grader: `gradable`,
//! `score` (a fraction in [0, 1]), `message`, `output`, and per test `name`,
//! `description`, `points`, `max_points`, `message`, `output`, and for a
//! failure the report draws, `images` (`report::images`: the heap as the
//! failing sequence left it, a utilization test's footprint).
//!
//! A graded run is always gradable, a crate that does not compile included
//! (it scores 0 and the compiler's errors are the output). A grade that could
//! not be made at all is the wrapper's to report, as `gradable: false` (so
//! the attempt is not charged): this report exists only for a finished grade.

use serde::Serialize;

use super::images::{self, Image};
use super::{failure_details, Graded};
use crate::runner::TestResult;
use heaplab_protocol::Outcome;

/// PrairieLearn refuses results over 1 MB.
const RESULTS_LIMIT: usize = 1024 * 1024;

/// A test's output and message are cut well before that.
const OUTPUT_LIMIT: usize = 16 * 1024;

/// Bytes of images (their `data:` URLs) one results file carries at most:
/// a quarter of the limit, and never more than the text leaves of it (less
/// a margin). Images past it are left out; the message and the replay
/// command still say what broke.
const IMAGES_LIMIT: usize = 256 * 1024;
const MARGIN: usize = 16 * 1024;

#[derive(Serialize)]
struct Results {
    gradable: bool,
    score: f64,
    message: String,
    output: String,
    tests: Vec<TestEntry>,
}

#[derive(Serialize)]
struct TestEntry {
    name: String,
    description: String,
    points: u32,
    max_points: u32,
    message: String,
    output: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<Image>,
}

pub fn render(graded: &Graded) -> String {
    let (score, max) = (graded.score(), graded.max_score());
    let message = format!(
        "heaplab {}: {}, seed {}. Score {score}/{max}.",
        graded.lesson.id, graded.lesson.title, graded.seed
    );
    let output = match &graded.compile_errors {
        Some(errors) => format!(
            "Your code did not compile; every test scores 0. The compiler said:\n\n{}",
            anstream::adapter::strip_str(errors)
        ),
        None => String::new(),
    };
    let mut tests: Vec<TestEntry> = graded.results.iter().map(|r| entry(graded, r)).collect();
    let text_bytes = serde_json::to_string(&tests).map_or(RESULTS_LIMIT, |t| t.len());
    let mut room = IMAGES_LIMIT.min(RESULTS_LIMIT.saturating_sub(text_bytes + MARGIN));
    for (test, r) in tests.iter_mut().zip(&graded.results) {
        test.images = drawings(r, &mut room);
    }
    let results = Results {
        gradable: true,
        score: if max == 0 {
            0.0
        } else {
            f64::from(score) / f64::from(max)
        },
        message,
        output: head(&output),
        tests,
    };
    serde_json::to_string_pretty(&results).expect("results always serialize") + "\n"
}

/// A test's entry, without images.
fn entry(graded: &Graded, r: &TestResult) -> TestEntry {
    let failed = !r.outcome.passed();
    let compile = matches!(r.outcome, Outcome::DidNotCompile { .. });
    let message = if !failed || compile {
        r.outcome.label().to_string()
    } else if r.spec.hidden {
        format!("{} (hidden test: details withheld)", r.outcome.label())
    } else {
        failure_details(graded, r, true)
    };
    let shown = failed && !r.spec.hidden;
    TestEntry {
        name: r.spec.name.clone(),
        description: r.spec.title.clone(),
        points: r.earned,
        max_points: r.spec.points,
        message: head(&message),
        output: if shown {
            tail(&r.stderr)
        } else {
            String::new()
        },
        images: Vec::new(),
    }
}

/// A shown failure's images, while `room` (bytes of their URLs) lasts.
fn drawings(r: &TestResult, room: &mut usize) -> Vec<Image> {
    if r.outcome.passed() || r.spec.hidden {
        return Vec::new();
    }
    let mut drawn = Vec::new();
    for image in r
        .outcome
        .failure()
        .map(images::of_failure)
        .unwrap_or_default()
    {
        if image.url.len() <= *room {
            *room -= image.url.len();
            drawn.push(image);
        }
    }
    drawn
}

/// `text` without colour, its first [`OUTPUT_LIMIT`] bytes at most (a
/// compiler's first errors are the ones to read).
fn head(text: &str) -> String {
    let text = anstream::adapter::strip_str(text).to_string();
    if text.len() <= OUTPUT_LIMIT {
        return text;
    }
    let mut end = OUTPUT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[… cut]", &text[..end])
}

/// `text` without colour, its last [`OUTPUT_LIMIT`] bytes at most (a
/// crash's last lines are the ones to read).
fn tail(text: &str) -> String {
    let text = anstream::adapter::strip_str(text).to_string();
    if text.len() <= OUTPUT_LIMIT {
        return text;
    }
    let mut start = text.len() - OUTPUT_LIMIT;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("[… cut]\n{}", &text[start..])
}
