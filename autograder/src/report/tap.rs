//! TAP as Inkfish scores it: exactly one plan line `1..N`; test lines
//! `ok N - description` / `not ok N - description`; every other line starts
//! with `# `. A test worth k points prints k test points, so passed/total is
//! the weighted score.

use super::{failure_details, Graded};
use heaplab_protocol::Outcome;

pub fn render(graded: &Graded) -> String {
    let total = graded.max_score();
    let mut out = String::new();
    out.push_str(&format!(
        "# heaplab {}: {} ({}), seed {}\n",
        graded.lesson.id,
        line(&graded.lesson.title),
        line(&graded.crate_shown),
        graded.seed
    ));
    out.push_str(&format!("1..{total}\n"));
    if let Some(errors) = &graded.compile_errors {
        out.push_str("# did not compile; the compiler said:\n");
        out.push_str(&comment(&anstream::adapter::strip_str(errors).to_string()));
    }
    let mut n = 0;
    for r in &graded.results {
        let ok = r.outcome.passed();
        let k = r.spec.points;
        // A measured test's points pass one by one: the first `earned` are ok.
        let ok_points = r.earned;
        for i in 1..=k {
            n += 1;
            let part = if k > 1 {
                format!(" [{i}/{k}]")
            } else {
                String::new()
            };
            out.push_str(&format!(
                "{} {n} - {}{part}\n",
                if i <= ok_points { "ok" } else { "not ok" },
                description(&r.spec.title, &r.spec.name)
            ));
        }
        if k == 0 {
            out.push_str(&format!(
                "# (0 points) {}: {}\n",
                line(&r.spec.name),
                r.outcome.label()
            ));
        }
        // A compile failure's errors were printed once, above.
        let compile_failure = matches!(r.outcome, Outcome::DidNotCompile { .. });
        if !ok && !compile_failure {
            let details = if r.spec.hidden {
                format!("{} (hidden test: details withheld)", r.outcome.label())
            } else {
                failure_details(graded, r, true)
            };
            out.push_str(&comment(&details));
        }
    }
    out.push_str(&format!("# Score: {}/{}\n", graded.score(), total));
    out
}

/// Every line prefixed `# `, so no diagnostic can read as a test line.
fn comment(text: &str) -> String {
    let mut out = String::new();
    for l in text.lines() {
        out.push_str("# ");
        out.push_str(&l.replace('\r', ""));
        out.push('\n');
    }
    out
}

/// One line, with `#` escaped so it cannot start a TAP directive (`# TODO`
/// would excuse a failure in some TAP consumers).
fn description(title: &str, name: &str) -> String {
    let d = format!("{} ({})", line(title), line(name));
    d.replace('\\', "\\\\").replace('#', "\\#")
}

fn line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
