//! A text picture of the heap's pages: one character per 16 bytes, in rows
//! of 64 characters (1 KiB a row), one block of rows per mapping.
//!
//! The picture is built in layers: [`Picture::new`] starts with every mapped
//! byte as `.`, then whoever knows something paints over it — the engine
//! paints live blocks (a letter each) and their headers (`H`), a lesson can
//! paint free chunks (`-`, or a digit for list order) through a painter
//! (see [`Config::painter`](super::Config::painter)). Painting a letter where
//! another letter already is gives `X`: two blocks share those 16 bytes.
//!
//! A layer that knows the free list also hands it over as data
//! ([`Picture::set_free_list`]): the report's drawing of each step takes
//! the list from there, in list order, however the layer found it.

use heaplab_protocol::heap_state::ListEnd;

use super::pages::{Mapping, PageLog};

/// Bytes one character stands for.
pub const CELL: usize = 16;
/// Characters in one row.
pub const ROW_CELLS: usize = 64;
/// At most this many mappings are drawn; the rest are counted.
pub const MAX_MAPPINGS: usize = 6;

struct Run {
    mapping: Mapping,
    cells: Vec<char>,
}

/// A picture of the mapped pages, painted in layers, rendered by
/// [`render`](Picture::render).
pub struct Picture {
    runs: Vec<Run>,
    legend: Vec<String>,
    notes: Vec<String>,
    focus: Vec<usize>,
    free_list: Option<FreeList>,
}

/// The free list as a layer found it: `(address, size)` of each chunk in
/// list order, and how the list ended.
pub type FreeList = (Vec<(usize, usize)>, ListEnd);

impl Picture {
    /// Every live mapping of `log`, all `.`.
    pub fn new(log: &PageLog) -> Self {
        let runs = log
            .mappings()
            .into_iter()
            .map(|m| Run {
                mapping: m,
                cells: vec!['.'; m.len.div_ceil(CELL)],
            })
            .collect();
        Picture {
            runs,
            legend: vec![". mapped, unused".to_string()],
            notes: Vec::new(),
            focus: Vec::new(),
            free_list: None,
        }
    }

    /// Records the free list a layer found: `(address, size)` of each chunk
    /// in list order, and how the list ended.
    pub fn set_free_list(&mut self, chunks: Vec<(usize, usize)>, end: ListEnd) {
        self.free_list = Some((chunks, end));
    }

    /// The free list a layer recorded, if one did.
    pub fn free_list(&self) -> Option<&FreeList> {
        self.free_list.as_ref()
    }

    /// Paints `ch` on every cell that `[addr, addr + len)` touches; returns
    /// false when the range lies in no mapping at all.
    pub fn paint(&mut self, addr: usize, len: usize, ch: char) -> bool {
        self.paint_with(addr, len, |_| ch)
    }

    /// Paints a block's letter: a cell already holding a letter becomes `X`.
    pub fn paint_block(&mut self, addr: usize, len: usize, ch: char) -> bool {
        self.paint_with(addr, len, |old| {
            if old.is_ascii_lowercase() || old == 'X' {
                'X'
            } else {
                ch
            }
        })
    }

    /// Paints every touched cell with `f(old character)`.
    pub fn paint_with(&mut self, addr: usize, len: usize, f: impl Fn(char) -> char) -> bool {
        let end = addr.saturating_add(len.max(1));
        let mut hit = false;
        for run in &mut self.runs {
            let (start, stop) = (addr.max(run.mapping.addr), end.min(run.mapping.end()));
            if start >= stop {
                continue;
            }
            hit = true;
            let first = (start - run.mapping.addr) / CELL;
            let last = (stop - 1 - run.mapping.addr) / CELL;
            for cell in &mut run.cells[first..=last] {
                *cell = f(*cell);
            }
        }
        hit
    }

    /// Adds a line to the legend (`"- free chunk"`), once.
    pub fn legend(&mut self, line: impl Into<String>) {
        let line = line.into();
        if !self.legend.contains(&line) {
            self.legend.push(line);
        }
    }

    /// Adds a note printed under the picture (`"a3 at 0x1000: in no mapping"`).
    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }

    /// Makes sure the mapping holding `addr` is drawn, before the others.
    pub fn focus(&mut self, addr: usize) {
        self.focus.push(addr);
    }

    /// The picture as text: the legend, then each mapping's rows, address
    /// offsets from the mapping's start, runs of identical rows folded.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // The legend, wrapped to about 88 columns.
        let mut line = format!("  one character per {CELL} bytes:");
        for item in &self.legend {
            if line.len() + item.len() + 3 > 88 {
                out.push_str(&line);
                out.push('\n');
                line = "   ".to_string();
            }
            line.push_str("  ");
            line.push_str(item);
        }
        out.push_str(&line);
        out.push('\n');
        if self.runs.is_empty() {
            out.push_str("  (nothing is mapped)\n");
        }
        let mut order: Vec<usize> = (0..self.runs.len()).collect();
        order.sort_by_key(|&i| {
            let m = self.runs[i].mapping;
            let focused = self.focus.iter().any(|&a| a >= m.addr && a < m.end());
            (!focused, m.serial)
        });
        for &i in order.iter().take(MAX_MAPPINGS) {
            self.render_run(&self.runs[i], &mut out);
        }
        if self.runs.len() > MAX_MAPPINGS {
            out.push_str(&format!(
                "  ({} more mappings not drawn)\n",
                self.runs.len() - MAX_MAPPINGS
            ));
        }
        for note in &self.notes {
            out.push_str(&format!("  {note}\n"));
        }
        out
    }

    fn render_run(&self, run: &Run, out: &mut String) {
        let m = run.mapping;
        out.push_str(&format!(
            "  map #{} at {:#x}, {} bytes:\n",
            m.serial, m.addr, m.len
        ));
        let rows: Vec<String> = run
            .cells
            .chunks(ROW_CELLS)
            .map(|c| c.iter().collect())
            .collect();
        let mut r = 0;
        while r < rows.len() {
            let mut same = r + 1;
            while same < rows.len() && rows[same] == rows[r] {
                same += 1;
            }
            out.push_str(&format!("    +{:#07x} {}\n", r * ROW_CELLS * CELL, rows[r]));
            if same - r > 1 {
                out.push_str(&format!(
                    "    {:9}({} more rows the same, to +{:#x})\n",
                    "",
                    same - r - 1,
                    (same * ROW_CELLS * CELL).min(m.len) - 1
                ));
            }
            r = same;
        }
    }
}
