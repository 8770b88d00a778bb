//! `grade bench --plot FILE.svg`: one panel per trace, footprint (mapped
//! bytes) and live payload over the operations, on the same byte scale.
//! Plain SVG text, written by hand: two polylines a panel need no plotting
//! crate.

use std::fmt::Write as _;

use heaplab_traces::report::{ReplayReport, Sample, TraceResult};

use super::table::bytes;
use crate::course::Lesson;

/// The picture's width.
const W: f64 = 720.0;
/// The height a trace's panel takes, title and axis labels included.
const PANEL: f64 = 170.0;
/// The margin left of the plots (byte labels).
const LEFT: f64 = 80.0;
/// The margin right of the plots.
const RIGHT: f64 = 20.0;
/// The height above the first panel (title and legend).
const TOP: f64 = 50.0;
/// The height of a plot inside its panel.
const PLOT_H: f64 = 110.0;
/// The line colours: mapped bytes, live payload.
const MAPPED: &str = "#d62728";
const LIVE: &str = "#1f77b4";

/// The whole picture: a title, the legend, one panel per trace.
pub fn svg(lesson: &Lesson, shown: &str, report: &ReplayReport) -> String {
    let height = TOP + PANEL * report.traces.len() as f64 + 10.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{} ({}): footprint and live payload per trace</text>"#,
        escape(&lesson.id),
        escape(shown)
    );
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="34" x2="{}" y2="34" stroke="{MAPPED}" stroke-width="2"/><text x="{}" y="38">mapped bytes</text><line x1="{}" y1="34" x2="{}" y2="34" stroke="{LIVE}" stroke-width="2"/><text x="{}" y="38">live payload</text>"##,
        LEFT + 20.0,
        LEFT + 25.0,
        LEFT + 130.0,
        LEFT + 150.0,
        LEFT + 155.0
    );
    for (i, t) in report.traces.iter().enumerate() {
        panel(&mut s, t, TOP + PANEL * i as f64 + 25.0);
    }
    s.push_str("</svg>\n");
    s
}

/// A trace's panel, its plot's top at `y0`: title, frame, axis labels, and
/// the two lines.
fn panel(s: &mut String, t: &TraceResult, y0: f64) {
    let x1 = W - RIGHT;
    let title = match &t.error {
        Some(e) => format!("{}: FAILED at line {}", t.name, e.line),
        None => format!("{}: utilization {:.1}%", t.name, 100.0 * t.utilization),
    };
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="{}" font-weight="bold">{}</text>"#,
        y0 - 8.0,
        escape(&title)
    );
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{y0}" width="{}" height="{PLOT_H}" fill="none" stroke="#999"/>"##,
        x1 - LEFT
    );
    let max_y = t
        .timeline
        .iter()
        .map(|p| p.mapped.max(p.live))
        .max()
        .unwrap_or(0)
        .max(1);
    let max_x = t.timeline.iter().map(|p| p.op).max().unwrap_or(0).max(1);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text>"#,
        LEFT - 5.0,
        y0 + 10.0,
        bytes(max_y),
        LEFT - 5.0,
        y0 + PLOT_H
    );
    let _ = writeln!(
        s,
        r#"<text x="{x1}" y="{}" text-anchor="end">{max_x} operations</text>"#,
        y0 + PLOT_H + 15.0
    );
    let scale = |p: &Sample, value: usize| {
        let x = LEFT + (x1 - LEFT) * p.op as f64 / max_x as f64;
        let y = y0 + PLOT_H - PLOT_H * value as f64 / max_y as f64;
        format!("{x:.1},{y:.1}")
    };
    for (color, pick) in [
        (MAPPED, (|p: &Sample| p.mapped) as fn(&Sample) -> usize),
        (LIVE, |p: &Sample| p.live),
    ] {
        let points: Vec<String> = t.timeline.iter().map(|p| scale(p, pick(p))).collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#,
            points.join(" ")
        );
    }
}

/// `text` safe inside an SVG element.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
