//! The HTML report of a broken lesson 4 heap (the reference solution with
//! one line planted: an exact fit is handed out but left on the free list):
//! a valid, self-contained HTML document with a stepper per failing sequence,
//! an SVG drawing per step, and the same page working in a real browser
//! (headless Chromium: stepping with the keys and the buttons, no script
//! errors).

mod browser;
mod common;

use std::path::{Path, PathBuf};

use browser::{dump_dom, instrumented};
use common::{grade, grade_fixture};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

/// The planted bug: the branch that hands out a whole chunk forgets to
/// unlink it.
const UNLINK: &str = "self.relink(prev, next);\n";
const FORGET: &str = "let _ = (prev, next);\n";

/// A copy of the lesson 4 solution with the bug planted, in `dir`.
fn broken_lesson4(dir: &Path) -> PathBuf {
    let crate_dir = dir.join("lesson4-broken");
    let solution = common::root().join("solutions/lesson4-free-list");
    common::copy_crate(&solution, &crate_dir);
    common::plant(&crate_dir, "src/free_list.rs", UNLINK, FORGET);
    crate_dir
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

fn all<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    doc.select(&sel(css)).collect()
}

fn within<'a>(e: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    e.select(&sel(css)).collect()
}

fn words(e: ElementRef) -> String {
    e.text().collect()
}

/// Nothing in the page is loaded from elsewhere: no element names a
/// source, a stylesheet or a link out of the page, and no style imports.
fn assert_self_contained(doc: &Html, html: &str) {
    for e in all(doc, "*") {
        for (name, value) in e.value().attrs() {
            let name = name.to_ascii_lowercase();
            if ["src", "href", "xlink:href", "action", "srcset", "poster"].contains(&name.as_str())
            {
                assert!(
                    value.starts_with('#'),
                    "<{}> {name}={value:?} leaves the page",
                    e.value().name()
                );
            }
        }
    }
    assert!(all(doc, "link, img, iframe, object, embed").is_empty());
    for banned in ["url(", "@import", "http:", "https:"] {
        assert!(!html.contains(banned), "the report holds {banned:?}");
    }
    let csp = all(doc, "meta[http-equiv=\"Content-Security-Policy\"]");
    assert_eq!(csp.len(), 1);
    assert!(csp[0]
        .value()
        .attr("content")
        .unwrap()
        .starts_with("default-src 'none'"));
}

/// What every failure section shows: message, hint, replay; a stepper with
/// one drawing per recorded step, the last with what broke.
fn assert_failures_drawn(doc: &Html, submission: &Path) -> usize {
    let sections = all(doc, "section.failure");
    assert!(sections.len() >= 5, "the planted bug fails several tests");
    let mut steps_seen = 0;
    for s in &sections {
        let title = words(within(*s, "h2")[0]);
        assert_eq!(within(*s, "pre.message").len(), 1, "{title}");
        let replay = words(within(*s, "p.replay code")[0]);
        let expected = format!("cargo grade lesson4 --submission {}", submission.display());
        assert!(replay.starts_with(&expected), "{title}: {replay}");
        let Some(stepper) = within(*s, "div.stepper").first().copied() else {
            continue;
        };
        let figures = within(stepper, "figure.step");
        let count: usize = stepper.value().attr("data-steps").unwrap().parse().unwrap();
        assert_eq!(figures.len(), count, "{title}");
        for f in &figures {
            assert_eq!(
                within(*f, "svg.heap").len(),
                1,
                "{title}: one drawing a step"
            );
        }
        let last = figures.last().unwrap();
        assert_eq!(
            within(*last, ".broke").len(),
            1,
            "{title}: the last step says what broke"
        );
        assert!(
            !within(*last, "svg.heap g.chunk").is_empty(),
            "{title}: chunks drawn"
        );
        steps_seen += count;
    }
    assert!(
        steps_seen > sections.len(),
        "steps recorded, not just the last"
    );
    steps_seen
}

#[test]
fn a_broken_lesson4_gets_a_self_contained_html_report_that_steps_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let submission = broken_lesson4(dir.path());
    let report = dir.path().join("out/report.html");
    let sub = submission.to_str().unwrap();
    let args = [
        "lesson4",
        "--submission",
        sub,
        "--format",
        "html",
        "--output",
    ];
    let graded = grade(&[&args[..], &[report.to_str().unwrap()]].concat());
    assert_eq!(graded.code, 1, "points lost:\n{}", graded.stderr);
    let html = std::fs::read_to_string(&report).unwrap();
    let doc = Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_self_contained(&doc, &html);
    let score = words(all(&doc, "#score")[0]);
    assert!(score.parse::<u32>().unwrap() < 34, "{score}");
    assert_failures_drawn(&doc, &submission);
    assert!(html.len() < 500 * 1024, "{} bytes", html.len());

    // --html beside the terminal report, for one test.
    let beside = dir.path().join("beside.html");
    let graded = grade(&[
        "lesson4",
        "--submission",
        sub,
        "--test",
        "free_list_is_consistent",
        "--html",
        beside.to_str().unwrap(),
    ]);
    assert_eq!(graded.code, 1, "{}", graded.stderr);
    assert!(
        graded.stdout.contains("free_list_is_consistent"),
        "the human report too"
    );
    let one = Html::parse_document(&std::fs::read_to_string(&beside).unwrap());
    assert_eq!(all(&one, "section.failure").len(), 1);
    assert_eq!(all(&one, "div.stepper").len(), 1);

    in_chromium(&report, dir.path());
}

#[test]
fn a_hidden_test_keeps_its_details() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.html");
    let graded = grade_fixture(&[
        "misbehave",
        "--solution",
        "--include-hidden",
        "--test",
        "fa",
        "--html",
        report.to_str().unwrap(),
    ]);
    assert_eq!(graded.code, 1, "{}", graded.stderr);
    let html = std::fs::read_to_string(&report).unwrap();
    let doc = Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    let hidden = all(&doc, "section#test-fake_report")[0];
    assert_eq!(
        words(within(hidden, "p.hidden")[0]),
        "hidden test: details withheld"
    );
    assert!(within(hidden, "pre, .hint, .replay").is_empty());
    // A test that is not hidden shows its message: the answer it wanted.
    let shown = all(&doc, "section#test-fails")[0];
    assert!(words(within(shown, "pre.message")[0]).contains("expected"));
}

// ---------------------------------------------------------------------------
// The page in headless Chromium.

/// Put last in `<body>`: steps the first sequence back with ← to its start
/// (one press more than needed), forward with the `next` button to its
/// end, then moves the second with → once it was clicked; after each move,
/// notes what shows. The notes and the errors go into `<pre id="drive">`.
const DRIVE: &str = r#"<script>
(function () {
  var notes = [];
  function note(s) {
    var shown = [].filter.call(s.querySelectorAll("figure.step"), function (f) { return !f.hidden; });
    var svg = shown.length === 1 ? shown[0].querySelector("svg.heap") : null;
    var box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    var hiddenBox = [].filter.call(s.querySelectorAll("figure.step"), function (f) { return f.hidden; })
      .map(function (f) { return f.getBoundingClientRect().height; });
    notes.push({
      counter: s.querySelector(".counter").textContent,
      shown: shown.length,
      step: shown.length ? Number(shown[0].getAttribute("data-step")) : -1,
      chunks: svg ? svg.querySelectorAll("g.chunk").length : -1,
      links: svg ? svg.querySelectorAll("g.link").length : -1,
      rects: svg ? svg.querySelectorAll("rect").length : -1,
      width: box.width, height: box.height,
      hidden_heights: hiddenBox,
      prev_disabled: s.querySelector(".prev").disabled,
      next_disabled: s.querySelector(".next").disabled
    });
  }
  function key(k) { document.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true })); }
  var steppers = document.querySelectorAll(".stepper");
  var first = steppers[0], n = first.querySelectorAll("figure.step").length;
  note(first);
  for (var i = 0; i < n; i++) { key("ArrowLeft"); note(first); }
  for (var j = 1; j < n; j++) { first.querySelector(".next").click(); note(first); }
  var second = steppers[1];
  second.querySelector(".prev").click(); note(second);
  key("ArrowRight"); note(second);
  var pre = document.createElement("pre");
  pre.id = "drive";
  pre.textContent = JSON.stringify({ notes: notes, errors: window.__errors, steps: n });
  document.body.appendChild(pre);
})();
</script>"#;

/// What the driving script noted, read back from the dumped page.
fn drive(page: &str, dir: &Path, name: &str) -> Value {
    let file = dir.join(name);
    std::fs::write(&file, page).unwrap();
    let dom = Html::parse_document(&dump_dom(&file, &dir.join("profile")));
    let found = all(&dom, "pre#drive");
    assert_eq!(found.len(), 1, "the driving script ran to its end");
    serde_json::from_str(&words(found[0])).unwrap()
}

fn in_chromium(report: &Path, dir: &Path) {
    // The error catcher catches: a page that throws is seen to throw.
    let throws = "<!DOCTYPE html><html><head></head><body><script>nosuch();</script></body></html>";
    let record = "<script>var pre = document.createElement('pre'); pre.id = 'drive';\
                  pre.textContent = JSON.stringify({ errors: window.__errors });\
                  document.body.appendChild(pre);</script>";
    let caught = drive(&instrumented(throws, record), dir, "throws.html");
    assert!(
        caught["errors"][0].as_str().unwrap().contains("nosuch"),
        "{caught}"
    );

    let html = std::fs::read_to_string(report).unwrap();
    let seen = drive(&instrumented(&html, DRIVE), dir, "driven.html");
    assert_eq!(
        seen["errors"],
        Value::Array(vec![]),
        "script errors: {seen}"
    );
    check_steps(&seen, &Html::parse_document(&html));
}

/// Every move showed one step, the counter and the buttons agree with it,
/// and what the browser drew is what the page holds for that step.
fn check_steps(seen: &Value, doc: &Html) {
    let n = seen["steps"].as_u64().unwrap() as usize;
    assert!(n >= 2, "the first sequence has steps to move through");
    let notes = seen["notes"].as_array().unwrap();
    // At the start the last step; ← n times: n-1 .. 1, then 1 again; then
    // next to n.
    let mut at: Vec<usize> = vec![n];
    at.extend((1..n).rev());
    at.push(1);
    at.extend(2..=n);
    let first = all(doc, "div.stepper")[0];
    let figures = within(first, "figure.step");
    for (note, &i) in notes.iter().zip(&at) {
        assert_eq!(note["counter"], format!("step {i} of {n}"), "{note}");
        assert_eq!(note["shown"], 1, "{note}");
        assert_eq!(note["prev_disabled"], i == 1);
        assert_eq!(note["next_disabled"], i == n);
        let figure = figures[i - 1];
        let step: usize = figure.value().attr("data-step").unwrap().parse().unwrap();
        assert_eq!(note["step"], step);
        assert_eq!(note["chunks"], within(figure, "g.chunk").len(), "{note}");
        assert_eq!(note["links"], within(figure, "g.link").len(), "{note}");
        assert_eq!(note["rects"], within(figure, "rect").len(), "{note}");
        assert!(
            note["width"].as_f64().unwrap() > 300.0,
            "drawn, at its size: {note}"
        );
        assert!(note["height"].as_f64().unwrap() > 30.0, "{note}");
        let hidden = note["hidden_heights"].as_array().unwrap();
        assert!(hidden.iter().all(|h| h.as_f64() == Some(0.0)), "{note}");
    }
    assert_eq!(notes.len(), at.len() + 2);
    // The second sequence: `previous` clicked, then → moves it (not the first).
    let second = &notes[at.len()..];
    let m = within(all(doc, "div.stepper")[1], "figure.step").len();
    assert_eq!(second[0]["counter"], format!("step {} of {m}", m - 1));
    assert_eq!(second[1]["counter"], format!("step {m} of {m}"));
}
