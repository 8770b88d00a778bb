//! A footprint over a trace as SVG: the bytes mapped (a solid line) and the
//! payload live (a dashed line) against the operations, on one byte scale.
//! The gap between the lines is what utilization loses. Lines differ by
//! dash, not by colour alone.

use std::fmt::Write;

use heaplab_protocol::footprint::Footprint;

use super::escape::{attr, text};
use super::svg::bytes;

const W: f64 = 800.0;
const LEFT: f64 = 96.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 28.0;
const PLOT_H: f64 = 140.0;

/// The footprint of `f` as one `<svg>` element.
pub fn footprint(f: &Footprint) -> String {
    let height = TOP + PLOT_H + 30.0;
    let max_y = f
        .samples
        .iter()
        .map(|s| s.1.max(s.2))
        .max()
        .unwrap_or(0)
        .max(1);
    let max_x = f.samples.iter().map(|s| s.0).max().unwrap_or(0).max(1);
    let mut out = format!(
        "<svg class=\"plot\" viewBox=\"0 0 {W} {height}\" width=\"{W}\" height=\"{height}\" \
         role=\"img\" aria-label=\"{}\">",
        attr(&format!("footprint over the {} workload", f.workload))
    );
    let _ = write!(
        out,
        "<text x=\"{LEFT}\" y=\"14\">{}: <tspan class=\"key-mapped\">── bytes mapped</tspan> \
         <tspan class=\"key-live\">- - payload live</tspan></text>\
         <rect class=\"frame\" x=\"{LEFT}\" y=\"{TOP}\" width=\"{}\" height=\"{PLOT_H}\"/>\
         <text class=\"small end\" x=\"{}\" y=\"{}\">{}</text>\
         <text class=\"small end\" x=\"{}\" y=\"{}\">0</text>\
         <text class=\"small end\" x=\"{}\" y=\"{}\">{max_x} operations</text>",
        text(&format!("traces/{}.rep", f.workload)),
        W - LEFT - RIGHT,
        LEFT - 6.0,
        TOP + 10.0,
        bytes(max_y as u64),
        LEFT - 6.0,
        TOP + PLOT_H,
        W - RIGHT,
        TOP + PLOT_H + 16.0,
    );
    for (class, pick) in [
        (
            "mapped",
            (|s: &(usize, usize, usize)| s.1) as fn(&(usize, usize, usize)) -> usize,
        ),
        ("live", |s| s.2),
    ] {
        let points: Vec<String> = f
            .samples
            .iter()
            .map(|s| {
                let x = LEFT + (W - LEFT - RIGHT) * s.0 as f64 / max_x as f64;
                let y = TOP + PLOT_H - PLOT_H * pick(s) as f64 / max_y as f64;
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = write!(
            out,
            "<polyline class=\"{class}\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_lines_on_one_scale() {
        let f = Footprint {
            workload: "binary".into(),
            samples: vec![(0, 0, 0), (50, 8192, 1000), (100, 8192, 4096)],
        };
        let svg = footprint(&f);
        let doc = scraper::Html::parse_fragment(&svg);
        let line = |class: &str| {
            let css = scraper::Selector::parse(&format!("polyline.{class}")).unwrap();
            let e = doc.select(&css).next().unwrap();
            e.value().attr("points").unwrap().to_string()
        };
        // Mapped reaches the top (the most bytes), live half of it at the end.
        assert_eq!(line("mapped"), "96.0,168.0 438.0,28.0 780.0,28.0");
        assert_eq!(line("live"), "96.0,168.0 438.0,150.9 780.0,98.0");
        assert!(svg.contains("8 KiB") && svg.contains("100 operations"));
        assert!(svg.contains("traces/binary.rep"));
    }
}
