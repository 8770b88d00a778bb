//! Numbers a page quotes, checked against the kit: each is followed by a
//! marker naming where it comes from, e.g. `5024<!-- n:chunk(5000) -->`.
//!
//! | key | the number |
//! | --- | --- |
//! | `chunk(N)` | chunk bytes, header included, lesson 3's reference gives `malloc(N)` |
//! | `usable(N)` | that chunk less its header: the usable size |
//! | `lesson6.chunk(N)` | lesson 6's header word for `malloc(N)` (a big block: the mapped length) |
//! | `lecture.F(lessonN)` | a field of [`Lecture`] for lesson 4's or 5's reference |
//! | `util(lessonN,TRACE)`, `peak_live(…)`, `peak_mapped(…)`, `peak_pages(…)` | `cargo grade bench lessonN --solution`: traces/ and docs/experiments/; `util(lessonN,average)` the mean |
//! | `shown` | a number printed in the page's checked output just above |
//!
//! An integer is written plain (507904) or with commas (32,896), as the
//! page likes; utilization with one decimal (91.9%).
//!
//! [`Lecture`]: crate::reference::Lecture

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use serde_json::Value;

use crate::markdown::Page;
use crate::reference;

const OPEN: &str = "<!-- n:";
const CLOSE: &str = " -->";

/// One marked number on a page.
pub struct Marked {
    pub line: usize,
    /// Byte offset of the number in the page's text.
    pub start: usize,
    pub value: String,
    pub key: String,
}

/// Every marked number of `page`, and markers with no number before them.
pub fn marked(page: &Page) -> (Vec<Marked>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let text = &page.text;
    let mut from = 0;
    while let Some(at) = text[from..].find(OPEN).map(|i| from + i) {
        let line = text[..at].lines().count().max(1);
        let Some(len) = text[at..].find(CLOSE) else {
            problems.push(format!(
                "{}:{line}: a marker that is never closed",
                page.name
            ));
            break;
        };
        let key = text[at + OPEN.len()..at + len].trim().to_string();
        let start = number_start(&text[..at]);
        let value = text[start..at].to_string();
        if value.is_empty() {
            problems.push(format!(
                "{}:{line}: marker {key} follows no number",
                page.name
            ));
        } else {
            found.push(Marked {
                line,
                start,
                value,
                key,
            });
        }
        from = at + len;
    }
    (found, problems)
}

/// Where the number that ends `before` starts: digits with `,`, `.` and
/// `%` (507904, 32,896, 91.9%), or hex (0x21).
fn number_start(before: &str) -> usize {
    let word = before
        .rfind(|c: char| !(c.is_ascii_hexdigit() || "x,.%".contains(c)))
        .map_or(0, |i| i + 1);
    if before[word..].starts_with("0x") {
        return word;
    }
    word + before[word..]
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(before.len() - word)
}

/// What the kit says each key is; computed once per key.
pub struct Facts {
    root: std::path::PathBuf,
    bench: Mutex<HashMap<String, Value>>,
}

impl Facts {
    pub fn new(root: &Path) -> Facts {
        Facts {
            root: root.to_path_buf(),
            bench: Mutex::new(HashMap::new()),
        }
    }

    /// The number `key` names: plain digits, or a percentage.
    pub fn value(&self, key: &str) -> Result<String, String> {
        if let Some(n) = argument(key, "chunk(") {
            return Ok(reference::chunk_bytes(parse(key, n)?).to_string());
        }
        if let Some(n) = argument(key, "usable(") {
            return Ok(
                (reference::chunk_bytes(parse(key, n)?) - reference::HEADER_BYTES).to_string(),
            );
        }
        if let Some(n) = argument(key, "lesson6.chunk(") {
            return Ok(reference::lesson6_chunk_bytes(parse(key, n)?).to_string());
        }
        if let Some(rest) = key.strip_prefix("lecture.") {
            return lecture(key, rest);
        }
        for field in ["util", "peak_live", "peak_mapped", "peak_pages"] {
            if let Some(args) = argument(key, &format!("{field}(")) {
                let (lesson, trace) = args
                    .split_once(',')
                    .ok_or_else(|| format!("{key}: want {field}(lessonN,TRACE)"))?;
                return self.bench_number(field, lesson.trim(), trace.trim());
            }
        }
        Err(format!(
            "{key}: no such key (see autograder/tests/docs/numbers.rs)"
        ))
    }

    fn bench_number(&self, field: &str, lesson: &str, trace: &str) -> Result<String, String> {
        if trace == "average" && field == "util" {
            let report = self.bench(lesson, None)?;
            return Ok(percent(&report["average"]["utilization"]));
        }
        for folder in [None, Some("docs/experiments")] {
            let report = self.bench(lesson, folder)?;
            let traces = report["traces"].as_array().cloned().unwrap_or_default();
            if let Some(t) = traces.iter().find(|t| t["name"] == trace) {
                if !t["error"].is_null() {
                    return Err(format!("{lesson} fails {trace}: {}", t["error"]));
                }
                return Ok(match field {
                    "util" => percent(&t["utilization"]),
                    "peak_pages" => (t["peak_mapped"].as_u64().unwrap_or(0)
                        / reference::page_bytes() as u64)
                        .to_string(),
                    _ => t[field].as_u64().unwrap_or(0).to_string(),
                });
            }
        }
        Err(format!("no trace {trace} in traces/ or docs/experiments/"))
    }

    /// `grade bench LESSON --solution --format json` (on `folder`'s traces),
    /// run once.
    fn bench(&self, lesson: &str, folder: Option<&str>) -> Result<Value, String> {
        let id = format!("{lesson} {folder:?}");
        if let Some(report) = self.bench.lock().unwrap().get(&id) {
            return Ok(report.clone());
        }
        let mut args = vec![
            "bench",
            lesson,
            "--solution",
            "--format",
            "json",
            "--min-time-ms",
            "1",
        ];
        if let Some(folder) = folder {
            args.extend(["--traces", folder]);
        }
        let out = Command::new(env!("CARGO_BIN_EXE_grade"))
            .args(&args)
            .current_dir(&self.root)
            .env("NO_COLOR", "1")
            .env_remove("HEAPLAB_MANIFEST")
            .output()
            .map_err(|e| format!("cannot run grade: {e}"))?;
        let report: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
            format!(
                "grade {} printed no JSON ({e}):\n{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
        self.bench.lock().unwrap().insert(id, report.clone());
        Ok(report)
    }
}

fn lecture(key: &str, rest: &str) -> Result<String, String> {
    let (field, lesson) = rest
        .strip_suffix(')')
        .and_then(|r| r.split_once('('))
        .ok_or_else(|| format!("{key}: want lecture.FIELD(lesson4|lesson5)"))?;
    let case = match lesson {
        "lesson4" => reference::lecture_lesson4(),
        "lesson5" => reference::lecture_lesson5(),
        _ => {
            return Err(format!(
                "{key}: the lecture's case is computed for lesson4 and lesson5"
            ))
        }
    };
    let n = match field {
        "runs" => case.runs,
        "tail" => case.tail,
        "hole" => case.hole,
        "new_pages" => case.new_pages,
        "tail_after" => case.tail_after,
        "hole_after" => case.hole_after,
        _ => {
            return Err(format!(
                "{key}: no field {field} (runs, tail, hole, new_pages, tail_after, hole_after)"
            ))
        }
    };
    Ok(n.to_string())
}

/// The argument of `prefix…)` in `key`.
fn argument<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    key.strip_prefix(prefix)?.strip_suffix(')')
}

fn parse(key: &str, n: &str) -> Result<usize, String> {
    n.parse().map_err(|_| format!("{key}: {n} is not a size"))
}

/// Whether the page's `written` is the kit's `value` (digits, or a
/// percentage): plain, or with commas between groups of three digits.
pub fn same(written: &str, value: &str) -> bool {
    written == value || written == with_commas(value)
}

/// `value` written in the style of `written`: with commas if it has any.
pub fn restyle(written: &str, value: &str) -> String {
    if written.contains(',') {
        with_commas(value)
    } else {
        value.to_string()
    }
}

/// 32896 as 32,896 (a percentage stays as it is).
fn with_commas(digits: &str) -> String {
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return digits.to_string();
    }
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn percent(fraction: &Value) -> String {
    format!("{:.1}%", 100.0 * fraction.as_f64().unwrap_or(f64::NAN))
}
