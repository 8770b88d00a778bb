//! The heap of one step drawn as SVG: a pure function of a [`HeapState`].
//!
//! ```text
//!            free list ╭──────────────╮ 2      ╭─ cycle ─╮
//!   run 1  [H|  a0 payload  |H· free #1 ·····|H· free #2 ··|░░ unused ░░]
//!   4 KiB   0x1000                                              0x2000
//! ```
//!
//! Each run of pages is a band, its chunks drawn to scale inside it (a chunk
//! too small to see gets 2 px). Headers are dark boxes, a live payload a
//! light box with a solid edge and the block's name, a free chunk a white
//! box with a dashed edge and its place in the list (`#1` is the head), the
//! mapped space no chunk covers a grey band. What broke is outlined thick
//! and dashed and marked `✗`. The free list is a chain of arrows above the
//! bands, in list order; a cycle's arrow is dashed and says so. Every kind
//! differs by edge, fill lightness and label, not by colour alone: the
//! drawing reads printed in black and white. The styles are the page's
//! [`STYLE`] (classes only here, so each step costs few bytes).
//!
//! Elements carry `data-` attributes (`data-addr`, `data-order`,
//! `data-from`/`data-to`) for tests and browsers to check what is drawn.

use std::fmt::Write;

use heaplab_protocol::heap_state::{HeapState, ListEnd};

use super::escape::{attr, text};

/// The drawing's width, in px.
pub const WIDTH: f64 = 800.0;
/// Where the bands start (room for the run's label on the left).
const LEFT: f64 = 96.0;
/// The bands' width.
const BAND_W: f64 = WIDTH - LEFT - 40.0;
/// Above each band: room for the free list's arrows.
const LANE: f64 = 30.0;
const BAND_H: f64 = 34.0;
/// Below each band: the addresses of its ends.
const BELOW: f64 = 18.0;
const ROW: f64 = LANE + BAND_H + BELOW;
/// The smallest width a chunk or header is drawn with.
const MIN_W: f64 = 2.0;

/// The drawing's classes, for the page's `<style>`.
pub const STYLE: &str = include_str!("heap.css");

/// One line of a band: a run, or a stretch of a long run.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Line {
    /// The index of the run in `state.runs`.
    run: usize,
    /// The first line of its run.
    first: bool,
    addr: u64,
    len: u64,
    /// Bytes a full line of this run holds (the scale).
    per_line: u64,
    /// Several lines inside one chunk (or one stretch of unused pages),
    /// drawn as one: this line is not to scale.
    cut: bool,
}

impl Line {
    fn end(&self) -> u64 {
        self.addr + self.len
    }

    fn x(&self, addr: u64) -> f64 {
        let scale = if self.cut { self.len } else { self.per_line };
        LEFT + (addr.clamp(self.addr, self.end()) - self.addr) as f64 * BAND_W / scale as f64
    }
}

/// Bytes one line of a band holds: 1 KiB, so a 48-byte chunk is some 30 px
/// wide (more for a run of over 4 MiB, to keep the lines few).
fn per_line(len: u64) -> u64 {
    len.div_ceil(4096).next_multiple_of(16).max(1024)
}

/// What covers `[a, b)` whole: the chunk starting at `Some(addr)`, unused
/// pages (`Some(u64::MAX)`), or several things (`None`). `chunks` are
/// `(start, end)` by address.
fn whole(chunks: &[(u64, u64)], a: u64, b: u64) -> Option<u64> {
    let first = chunks.partition_point(|c| c.1 <= a);
    let mut touching = chunks[first..].iter().take_while(|c| c.0 < b);
    match (touching.next(), touching.next()) {
        (None, _) => Some(u64::MAX),
        (Some(&(s, e)), None) if s <= a && b <= e => Some(s),
        _ => None,
    }
}

/// The lines of every run, top to bottom; lines a single chunk (or unused
/// stretch) covers whole, one after the other, are drawn as one.
fn lines(state: &HeapState) -> Vec<Line> {
    let mut chunks: Vec<(u64, u64)> = state
        .live
        .iter()
        .map(|c| (c.addr, c.size))
        .chain(state.free.iter().map(|c| (c.addr, c.size)))
        .map(|(a, s)| (a, a.saturating_add(s)))
        .collect();
    chunks.sort_unstable();
    let mut out: Vec<Line> = Vec::new();
    for (i, r) in state.runs.iter().enumerate() {
        let per_line = per_line(r.len);
        let mut at = r.addr;
        let mut last_whole = None;
        while at < r.end() {
            let len = per_line.min(r.end() - at);
            let covered = whole(&chunks, at, at + len);
            match out.last_mut() {
                Some(line) if covered.is_some() && covered == last_whole => {
                    line.len += len;
                    line.cut = true;
                }
                _ => out.push(Line {
                    run: i,
                    first: at == r.addr,
                    addr: at,
                    len,
                    per_line,
                    cut: false,
                }),
            }
            last_whole = covered;
            at += len;
        }
    }
    out
}

/// Where part of a chunk lands: a line and the left and right edges.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Seg {
    line: usize,
    x0: f64,
    x1: f64,
}

impl Seg {
    /// The top of the band this part is in.
    fn top(&self) -> f64 {
        band_top(self.line)
    }
}

fn band_top(line: usize) -> f64 {
    line as f64 * ROW + LANE
}

/// Where `[addr, addr + len)` lands: one part per line it crosses, within
/// the run that holds `addr`; none when no run does.
fn place(lines: &[Line], addr: u64, len: u64) -> Vec<Seg> {
    let end = addr.saturating_add(len.max(1));
    let Some(run) = lines
        .iter()
        .find(|l| l.addr <= addr && addr < l.end())
        .map(|l| l.run)
    else {
        return Vec::new();
    };
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.run == run && l.addr < end && addr < l.end())
        .map(|(i, l)| {
            let x0 = l.x(addr);
            Seg {
                line: i,
                x0,
                x1: l.x(end).max(x0 + MIN_W),
            }
        })
        .collect()
}

/// A number as SVG wants it: at most one decimal.
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Bytes in words: `4 KiB`, `96 B`.
pub fn bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

/// The heap `state` as one `<svg>` element; `label` names it for screen
/// readers (`heap after step 3`). A run of pages is a band of lines of
/// 1 KiB, to scale, but for lines that one chunk or unused stretch covers
/// whole: those are drawn as one line, marked as cut.
pub fn draw(state: &HeapState, label: &str) -> String {
    if state.runs.is_empty() {
        return format!(
            "<svg class=\"heap\" viewBox=\"0 0 {w} 40\" width=\"{w}\" height=\"40\" role=\"img\" \
             aria-label=\"{a}\"><text class=\"note\" x=\"8\" y=\"24\">no pages mapped yet</text></svg>",
            w = n(WIDTH),
            a = attr(label)
        );
    }
    let d = Drawing {
        state,
        lines: lines(state),
    };
    let notes = notes(state);
    let bottom = d.lines.len() as f64 * ROW;
    let height = bottom + notes.len() as f64 * 16.0 + 6.0;
    let mut out = format!(
        "<svg class=\"heap\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         aria-label=\"{a}\" data-list-end=\"{e}\">",
        w = n(WIDTH),
        h = n(height),
        a = attr(label),
        e = end_name(&state.list_end)
    );
    for i in 0..d.lines.len() {
        d.line(&mut out, i);
    }
    d.live(&mut out);
    d.free(&mut out);
    d.links(&mut out);
    d.focus(&mut out);
    for (i, note) in notes.iter().enumerate() {
        let y = bottom + 14.0 + i as f64 * 16.0;
        let _ = write!(
            out,
            "<text class=\"note\" x=\"8\" y=\"{}\">{}</text>",
            n(y),
            text(note)
        );
    }
    out.push_str("</svg>");
    out
}

/// A drawing of [`draw`] (or of `plot`) as a file of its own, for an
/// `<img>`, a Markdown image or a data URL: with the SVG namespace, which
/// a browser needs to show it outside a page, its styles inside it, and a
/// white ground, so it reads the same on a dark page.
pub fn standalone(svg: &str) -> String {
    let Some(rest) = svg.strip_prefix("<svg") else {
        return svg.to_string();
    };
    let open_end = rest.find('>').map_or(rest.len(), |i| i + 1);
    let (open, inner) = rest.split_at(open_end);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\"{open}<style>{STYLE}</style>\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>{inner}\n"
    )
}

fn end_name(end: &ListEnd) -> &'static str {
    match end {
        ListEnd::Null => "null",
        ListEnd::Cycle { .. } => "cycle",
        ListEnd::Outside { .. } => "outside",
        ListEnd::TooLong => "too-long",
    }
}

/// A state and where its bytes land.
struct Drawing<'a> {
    state: &'a HeapState,
    lines: Vec<Line>,
}

impl Drawing<'_> {
    /// A line of a band: on its left the run's number, size and first
    /// address (on its first line) or the line's first address; the band,
    /// all unused until chunks cover it.
    fn line(&self, out: &mut String, i: usize) {
        let line = self.lines[i];
        let run = self.state.runs[line.run];
        let top = band_top(i);
        let _ = write!(out, "<g class=\"run\" data-addr=\"{:#x}\">", line.addr);
        if line.first {
            let _ = write!(
                out,
                "<text x=\"4\" y=\"{}\">run {}</text><text class=\"small\" x=\"4\" y=\"{}\">{}\
                 </text><text class=\"small\" x=\"4\" y=\"{}\">{:#x}</text>",
                n(top + 11.0),
                run.serial,
                n(top + 22.0),
                bytes(run.len),
                n(top + 33.0),
                line.addr
            );
        } else {
            let _ = write!(
                out,
                "<text class=\"small\" x=\"4\" y=\"{}\">{:#x}</text>",
                n(top + BAND_H / 2.0 + 4.0),
                line.addr
            );
        }
        rect(out, "unused", LEFT, line.x(line.end()), top);
        if line.cut {
            let _ = write!(
                out,
                "<text class=\"small cut\" x=\"{}\" y=\"{}\">⋯ {} on this line, not to scale ⋯</text>",
                n(LEFT + BAND_W / 2.0),
                n(top + BAND_H + 13.0),
                bytes(line.len)
            );
        }
        out.push_str("</g>");
    }

    /// Draws a chunk's parts as `class` boxes with its header in front, and
    /// `long` (or `short`, when `long` does not fit) in its widest part.
    fn chunk(&self, out: &mut String, segs: &[Seg], class: &str, long: &str, short: &str) {
        for s in segs {
            rect(out, class, s.x0, s.x1, s.top());
        }
        let mut room: Vec<(f64, Seg)> = segs.iter().map(|s| (s.x1 - s.x0, *s)).collect();
        if self.state.header > 0 {
            let first = segs[0];
            let line = self.lines[first.line];
            let end = (first.x0 + self.state.header as f64 * BAND_W / line.per_line as f64)
                .max(first.x0 + MIN_W)
                .min(first.x1);
            rect(out, "hdr", first.x0, end, first.top());
            room[0] = (first.x1 - end, Seg { x0: end, ..first });
        }
        let Some(&(_, widest)) = room.iter().max_by(|a, b| a.0.total_cmp(&b.0)) else {
            return;
        };
        let fits = |s: &str| widest.x1 - widest.x0 >= 6.5 * s.chars().count() as f64 + 4.0;
        let shown = if fits(long) { long } else { short };
        let mid = n((widest.x0 + widest.x1) / 2.0);
        if fits(shown) {
            let _ = write!(
                out,
                "<text class=\"label\" x=\"{mid}\" y=\"{}\">{}</text>",
                n(widest.top() + BAND_H / 2.0 + 4.0),
                text(shown)
            );
        } else if segs[0].x1 - segs[0].x0 >= 5.0 * short.chars().count() as f64 {
            // Too narrow inside: under the box, smaller.
            let first = segs[0];
            let _ = write!(
                out,
                "<text class=\"label below\" x=\"{}\" y=\"{}\">{}</text>",
                n((first.x0 + first.x1) / 2.0),
                n(first.top() + BAND_H + 11.0),
                text(short)
            );
        }
    }

    fn live(&self, out: &mut String) {
        for c in &self.state.live {
            let segs = place(&self.lines, c.addr, c.size);
            if segs.is_empty() {
                continue;
            }
            let _ = write!(
                out,
                "<g class=\"chunk live\" data-addr=\"{:#x}\"><title>{}: chunk at {:#x}, {} with \
                 its header ({} asked)</title>",
                c.addr,
                text(&c.name),
                c.addr,
                bytes(c.size),
                bytes(c.requested)
            );
            self.chunk(out, &segs, "payload", &c.name, &c.name);
            out.push_str("</g>");
        }
    }

    fn free(&self, out: &mut String) {
        for (i, c) in self.state.free.iter().enumerate() {
            let segs = place(&self.lines, c.addr, c.size);
            if segs.is_empty() {
                continue;
            }
            let _ = write!(
                out,
                "<g class=\"chunk free\" data-addr=\"{:#x}\" data-order=\"{}\"><title>free #{}: \
                 chunk at {:#x}, {}</title>",
                c.addr,
                i + 1,
                i + 1,
                c.addr,
                bytes(c.size)
            );
            let short = format!("#{}", i + 1);
            self.chunk(out, &segs, "free", &format!("free {short}"), &short);
            out.push_str("</g>");
        }
    }

    /// Where an arrow of the list starts or ends on free chunk `i`: above
    /// its header.
    fn anchor(&self, i: usize) -> Option<(f64, f64)> {
        let c = self.state.free.get(i)?;
        let s = *place(&self.lines, c.addr, c.size).first()?;
        Some((s.x0 + MIN_W.min(s.x1 - s.x0) / 2.0 + 1.0, s.top()))
    }

    /// The free list: an arrow from `free list` to the head, then one from
    /// each chunk to the next; how the list ends after the last.
    fn links(&self, out: &mut String) {
        let Some(first) = self.anchor(0) else {
            return;
        };
        let lane = first.1 - LANE;
        let _ = write!(
            out,
            "<text class=\"small\" x=\"4\" y=\"{}\">free list</text>",
            n(lane + 12.0)
        );
        arrow(out, (LEFT - 40.0, lane + 16.0), first, "head", "1", "link");
        for i in 1..self.state.free.len() {
            if let (Some(a), Some(b)) = (self.anchor(i - 1), self.anchor(i)) {
                arrow(out, a, b, &i.to_string(), &(i + 1).to_string(), "link");
            }
        }
        let last_i = self.state.free.len() - 1;
        let Some(last) = self.anchor(last_i) else {
            return;
        };
        let from = (last_i + 1).to_string();
        match self.state.list_end {
            ListEnd::Null => end_text(out, last, "null"),
            ListEnd::Cycle { to } => {
                if let Some(b) = self.anchor(to) {
                    arrow(out, last, b, &from, &(to + 1).to_string(), "link cycle");
                    end_text(out, last, &format!("back to #{}: a cycle", to + 1));
                }
            }
            ListEnd::Outside { addr } => {
                let edge = (WIDTH - 6.0, last.1 - 4.0);
                arrow(out, last, edge, &from, "outside", "link outside");
                end_text(out, last, &format!("to {addr:#x}, outside the pages"));
            }
            ListEnd::TooLong => end_text(out, last, "… the list goes on"),
        }
    }

    /// The chunk holding each address of `state.focus`, outlined; an
    /// address in no chunk gets its 16 bytes outlined.
    fn focus(&self, out: &mut String) {
        let state = self.state;
        for &addr in &state.focus {
            let chunk = state
                .live
                .iter()
                .map(|c| (c.addr, c.size))
                .chain(state.free.iter().map(|c| (c.addr, c.size)))
                .find(|&(a, s)| a <= addr && addr < a.saturating_add(s.max(1)));
            let (at, len) = chunk.unwrap_or((addr, 16));
            let segs = place(&self.lines, at, len);
            if segs.is_empty() {
                continue;
            }
            let _ = write!(out, "<g class=\"focus\" data-addr=\"{addr:#x}\">");
            for s in &segs {
                let _ = write!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                    n(s.x0 - 2.0),
                    n(s.top() - 2.0),
                    n(s.x1 - s.x0 + 4.0),
                    n(BAND_H + 4.0),
                );
            }
            let s = segs[0];
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\">✗</text></g>",
                n((s.x0 + s.x1) / 2.0),
                n(s.top() - 5.0),
            );
        }
    }
}

fn rect(out: &mut String, class: &str, x0: f64, x1: f64, top: f64) {
    let _ = write!(
        out,
        "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
        n(x0),
        n(top),
        n(x1 - x0),
        n(BAND_H)
    );
}

/// A note beside the last chunk of the list, in its lane.
fn end_text(out: &mut String, at: (f64, f64), s: &str) {
    let _ = write!(
        out,
        "<text class=\"small list-end\" x=\"{}\" y=\"{}\">{}</text>",
        n((at.0 + 6.0).min(WIDTH - 150.0)),
        n(at.1 - 4.0),
        text(s)
    );
}

/// A curved arrow from `a` to `b` over the lane, with its head drawn (no
/// markers, hence no ids: each drawing stands alone).
fn arrow(out: &mut String, a: (f64, f64), b: (f64, f64), from: &str, to: &str, class: &str) {
    let lift = if (b.0 - a.0).abs() < 1.0 { 40.0 } else { 0.0 };
    // The curve's peak stays inside the drawing, above the top line too.
    let c = (
        (a.0 + b.0) / 2.0 + lift,
        (a.1.min(b.1) - LANE + 4.0).max(2.0),
    );
    let (dx, dy) = (b.0 - c.0, b.1 - c.1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let base = (b.0 - 7.0 * ux, b.1 - 7.0 * uy);
    let _ = write!(
        out,
        "<g class=\"{class}\" data-from=\"{from}\" data-to=\"{to}\"><path d=\"M{} {} Q{} {} {} {}\"/>\
         <path class=\"tip\" d=\"M{} {}L{} {}L{} {}Z\"/></g>",
        n(a.0),
        n(a.1),
        n(c.0),
        n(c.1),
        n(base.0),
        n(base.1),
        n(b.0),
        n(b.1),
        n(base.0 - 4.0 * uy),
        n(base.1 + 4.0 * ux),
        n(base.0 + 4.0 * uy),
        n(base.1 - 4.0 * ux),
    );
}

/// Lines under the bands: what could not be drawn where it belongs (the
/// first few of each kind).
fn notes(state: &HeapState) -> Vec<String> {
    let mut notes = Vec::new();
    let outside = |addr: u64| !state.runs.iter().any(|r| r.addr <= addr && addr < r.end());
    for c in state.free.iter().filter(|c| outside(c.addr)).take(3) {
        notes.push(format!(
            "a free chunk at {:#x} lies outside the mapped pages",
            c.addr
        ));
    }
    for c in state.live.iter().filter(|c| outside(c.addr)).take(3) {
        notes.push(format!(
            "{}'s chunk at {:#x} lies outside the mapped pages",
            c.name, c.addr
        ));
    }
    for &addr in state.focus.iter().filter(|&&a| outside(a)).take(3) {
        notes.push(format!("✗ {addr:#x}, outside the mapped pages, broke"));
    }
    if state.left_out > 0 {
        notes.push(format!("{} more chunks not drawn", state.left_out));
    }
    notes
}

#[cfg(test)]
mod tests;
