//! The HTML report: one self-contained file (no network, no external
//! scripts, styles or fonts; its Content-Security-Policy forbids loading
//! anything) with the score, each failure's message, hint and replay
//! command, for a failing sequence the heap drawn after every operation
//! ([`stepper`]), stepped through with buttons or the arrow keys, and for a
//! failed utilization test the footprint over its trace ([`plot`]). Without
//! scripts, and printed, every step shows, one under the other.

mod escape;
pub mod plot;
mod stepper;
pub mod svg;

use std::fmt::Write;

use super::{failure_details, Graded};
use crate::runner::TestResult;
use escape::{attr, text};

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// Nothing may be loaded from anywhere: styles and the script are inline.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/// The whole report, one HTML document.
pub fn render(graded: &Graded) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>heaplab {id}: {score}/{max}</title><style>{STYLE}{heap}</style></head><body>\n",
        id = text(&graded.lesson.id),
        score = graded.score(),
        max = graded.max_score(),
        heap = svg::STYLE,
    );
    header(&mut out, graded);
    summary(&mut out, graded);
    if let Some(errors) = &graded.compile_errors {
        let plain = anstream::adapter::strip_str(errors).to_string();
        let _ = writeln!(
            out,
            "<h2>Your code did not compile</h2><pre class=\"compile\">{}</pre>",
            text(&plain)
        );
    }
    for r in graded.results.iter().filter(|r| !r.outcome.passed()) {
        failure(&mut out, graded, r);
    }
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
    out
}

fn header(out: &mut String, graded: &Graded) {
    let _ = writeln!(
        out,
        "<header><h1>heaplab {id}: {title}</h1>\
         <p class=\"score\">Score: <span id=\"score\">{score}</span> / {max}</p>\
         <p>{shown} ({variant}), seed {seed}, graded in {secs:.1} s</p></header>",
        id = text(&graded.lesson.id),
        title = text(&graded.lesson.title),
        score = graded.score(),
        max = graded.max_score(),
        shown = text(&graded.crate_shown),
        variant = graded.variant.slug(),
        seed = graded.seed,
        secs = graded.elapsed.as_secs_f64(),
    );
}

/// A table of every test: title, name, points, outcome; a failed test
/// links to its section.
fn summary(out: &mut String, graded: &Graded) {
    out.push_str(
        "<table class=\"tests\"><thead><tr><th>test</th><th>points</th><th>outcome</th></tr>\
         </thead><tbody>\n",
    );
    for r in &graded.results {
        let name = if r.outcome.passed() {
            format!(
                "{} (<code>{}</code>)",
                text(&r.spec.title),
                text(&r.spec.name)
            )
        } else {
            format!(
                "<a href=\"#{}\">{}</a> (<code>{}</code>)",
                attr(&anchor(&r.spec.name)),
                text(&r.spec.title),
                text(&r.spec.name)
            )
        };
        let _ = writeln!(
            out,
            "<tr class=\"{}\"><td>{name}</td><td class=\"points\">{} / {}</td>\
             <td class=\"outcome\">{}</td></tr>",
            if r.earned == r.spec.points {
                "passed"
            } else {
                "lost"
            },
            r.earned,
            r.spec.points,
            text(r.outcome.label()),
        );
    }
    out.push_str("</tbody></table>\n");
}

/// The id of a test's section.
fn anchor(name: &str) -> String {
    format!("test-{name}")
}

/// A failed test: what broke (message), the hint, the command that replays
/// it, and the heap step by step when the checker recorded it; for a hidden
/// test, none of it.
fn failure(out: &mut String, graded: &Graded, r: &TestResult) {
    let _ = writeln!(
        out,
        "<section class=\"failure\" id=\"{}\"><h2>{} (<code>{}</code>): {} / {}, {}</h2>",
        attr(&anchor(&r.spec.name)),
        text(&r.spec.title),
        text(&r.spec.name),
        r.earned,
        r.spec.points,
        text(r.outcome.label()),
    );
    if r.spec.hidden {
        // As in TAP: a hidden test's failure says nothing of the test.
        out.push_str("<p class=\"hidden\">hidden test: details withheld</p></section>\n");
        return;
    }
    let hint = r.spec.hint.trim();
    let details = failure_details(graded, r, false);
    let message = details
        .strip_suffix(&format!("hint: {hint}"))
        .filter(|_| !hint.is_empty())
        .unwrap_or(&details)
        .trim_end();
    let _ = writeln!(out, "<pre class=\"message\">{}</pre>", text(message));
    if !hint.is_empty() {
        let _ = writeln!(out, "<p class=\"hint\">{}</p>", text(hint));
    }
    let _ = writeln!(
        out,
        "<p class=\"replay\">replay: <code>{}</code></p>",
        text(&graded.replay(&r.spec.name))
    );
    if let Some(f) = r.outcome.failure().filter(|f| !f.steps.is_empty()) {
        stepper::render(out, f);
    }
    if let Some(footprint) = r.outcome.failure().and_then(|f| f.footprint.as_ref()) {
        out.push_str("<figure class=\"footprint\">");
        out.push_str(&plot::footprint(footprint));
        out.push_str("</figure>\n");
    }
    out.push_str("</section>\n");
}
