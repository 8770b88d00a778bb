//! The bench report for people (a table) and for programs (JSON), and the
//! one-line summary of a trace shown while the bench runs.

use std::fmt::Write as _;

use heaplab_traces::report::{ReplayReport, TraceResult};

use crate::course::Lesson;
use crate::report::leaderboard::{self, Entry};

/// One trace, on one line.
pub(super) fn summary(t: &TraceResult) -> String {
    match &t.error {
        Some(e) => format!("FAILED: {e}"),
        None => format!(
            "utilization {:.1}%, {} ops/s (system {} ops/s)",
            100.0 * t.utilization,
            si(t.ops_per_sec),
            si(t.system_ops_per_sec)
        ),
    }
}

/// `12.3 M`, `456 k`.
fn si(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.2} G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// `1.5 MiB`.
pub(super) fn bytes(n: usize) -> String {
    let x = n as f64;
    if x >= (1u64 << 30) as f64 {
        format!("{:.2} GiB", x / (1u64 << 30) as f64)
    } else if x >= (1 << 20) as f64 {
        format!("{:.2} MiB", x / (1 << 20) as f64)
    } else if x >= 1024.0 {
        format!("{:.1} KiB", x / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// The heap's speed over the system allocator's, in the same process.
fn ratio(t: &TraceResult) -> f64 {
    if t.system_ops_per_sec > 0.0 {
        t.ops_per_sec / t.system_ops_per_sec
    } else {
        0.0
    }
}

/// Averages over the traces, a failed trace counting 0.
struct Averages {
    utilization: f64,
    ratio: f64,
    index: f64,
}

/// The averages over the report's traces.
fn averages(report: &ReplayReport) -> Averages {
    let n = report.traces.len().max(1) as f64;
    let sum = |f: &dyn Fn(&TraceResult) -> f64| report.traces.iter().map(f).sum::<f64>() / n;
    Averages {
        utilization: sum(&|t| t.utilization),
        ratio: sum(&|t| if t.error.is_some() { 0.0 } else { ratio(t) }),
        index: sum(&|t| t.index),
    }
}

/// The report as a table.
pub(super) fn human(lesson: &Lesson, shown: &str, report: &ReplayReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} ({shown}) against the system allocator\n",
        lesson.id
    );
    let _ = writeln!(
        out,
        "{:<16} {:>6} {:>10} {:>10} {:>6}  {:>10} {:>10} {:>7} {:>6}",
        "trace", "ops", "peak live", "peak map", "util", "ops/s", "system", "ratio", "P"
    );
    for t in &report.traces {
        let _ = writeln!(
            out,
            "{:<16} {:>6} {:>10} {:>10} {:>5.1}%  {:>10} {:>10} {:>7.3} {:>5.1}%",
            t.name,
            t.ops,
            bytes(t.peak_live),
            bytes(t.peak_mapped),
            100.0 * t.utilization,
            si(t.ops_per_sec),
            si(t.system_ops_per_sec),
            ratio(t),
            100.0 * t.index
        );
        if let Some(e) = &t.error {
            let _ = writeln!(out, "  FAILED (scores 0): {e}");
        }
    }
    let avg = averages(report);
    let _ = writeln!(
        out,
        "{:<16} {:>6} {:>10} {:>10} {:>5.1}%  {:>10} {:>10} {:>7.3} {:>5.1}%",
        "average",
        "",
        "",
        "",
        100.0 * avg.utilization,
        "",
        "",
        avg.ratio,
        100.0 * avg.index
    );
    let _ = writeln!(
        out,
        "\nutil = peak live payload / peak mapped bytes; ratio = heap ops/s / system ops/s \
         (same process); P = 0.6 util + 0.4 min(1, ratio). See docs/traces.md."
    );
    out
}

/// The report as JSON (docs/traces.md).
pub(super) fn json(lesson: &Lesson, shown: &str, report: &ReplayReport) -> String {
    let avg = averages(report);
    let value = serde_json::json!({
        "lesson": lesson.id,
        "crate": shown,
        "traces": report.traces,
        "average": {
            "utilization": avg.utilization,
            "ratio": avg.ratio,
            "index": avg.index,
        },
        "leaderboard": leaderboard(report),
    });
    serde_json::to_string_pretty(&value).expect("a report always serializes")
}

/// The bench's leaderboard, in the shape of the graded one (Gradescope's
/// `leaderboard` entries): `speed`, the geometric mean of the traces' speed
/// ratios measured here (in one process, as this table shows them; lesson
/// 8's graded speed is measured under `LD_PRELOAD`, docs/lesson8.md), and
/// `utilization`, the mean utilization. A failed trace counts 0.
fn leaderboard(report: &ReplayReport) -> Vec<Entry> {
    let ratios: Vec<f64> = report
        .traces
        .iter()
        .map(|t| if t.error.is_some() { 0.0 } else { ratio(t) })
        .collect();
    vec![
        Entry {
            name: "speed".into(),
            value: leaderboard::geometric_mean(&ratios),
            order: "desc",
        },
        Entry {
            name: "utilization".into(),
            value: leaderboard::round(averages(report).utilization),
            order: "desc",
        },
    ]
}
