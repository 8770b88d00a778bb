//! A text picture of the heap's pages: one character per 16 bytes, in rows
//! of 64 characters (1 KiB a row; 32 or 16 when the reader's screen is
//! narrower, see [`row_cells`]), one block of rows per mapping.
//!
//! The picture is built in layers: [`Picture::new`] starts with every mapped
//! byte as `.`, then whoever knows something paints over it — the engine
//! paints live blocks (a letter each) and their headers (`H`), a lesson can
//! paint free chunks (`-`, or a digit for list order) through a painter
//! (see [`Config::painter`](super::Config::painter)). Painting a letter where
//! another letter already is gives `X`: two blocks share those 16 bytes.
//!
//! A picture fits a screen: it draws the mappings where the failure is
//! ([`Picture::focus`]), each other mapping as one line, and in a long
//! mapping the rows around the failure, with a count of the rows left out.
//! Its legend names the block of every letter drawn (letters repeat every 26
//! blocks, and the legend says so when two drawn blocks share one).
//!
//! A layer that knows the free list also hands it over as data
//! ([`Picture::set_free_list`]): the report's drawing of each step takes
//! the list from there, in list order, however the layer found it.

use std::sync::OnceLock;

use heaplab_protocol::heap_state::ListEnd;

use super::pages::{Mapping, PageLog};

/// Bytes one character stands for.
pub const CELL: usize = 16;
/// Characters in one row, when the screen is wide enough or not known.
pub const ROW_CELLS: usize = 64;
/// Mappings drawn when none holds the failure (the first ones).
pub const DRAWN_MAPPINGS: usize = 2;
/// Lines of rows one mapping gets at most; the rest are left out, counted.
pub const MAX_ROWS: usize = 16;
/// Rows kept on each side of the row the failure is in.
const AROUND_FOCUS: usize = 3;
/// Blocks named in the legend at most.
const MAX_NAMED: usize = 12;
pub use heaplab_protocol::COLUMNS_ENV;
/// Columns in front of a row: the report's indent and the row's offset.
const ROW_PREFIX: usize = 4 + 11;

/// Characters per row: 64, or 32 or 16 when [`COLUMNS_ENV`] says the
/// reader's screen is too narrow for 64 (rows stay a power of two cells, so
/// their offsets stay round).
pub fn row_cells() -> usize {
    cells_for(screen_columns())
}

/// The reader's screen width, from [`COLUMNS_ENV`], if the grader gave it.
fn screen_columns() -> Option<usize> {
    static COLUMNS: OnceLock<Option<usize>> = OnceLock::new();
    *COLUMNS.get_or_init(|| {
        std::env::var(COLUMNS_ENV)
            .ok()
            .and_then(|c| c.parse::<usize>().ok())
    })
}

/// Columns the legend's lines may take.
fn legend_width() -> usize {
    screen_columns().map_or(76, |c| c.saturating_sub(4).clamp(40, 76))
}

fn cells_for(columns: Option<usize>) -> usize {
    let Some(columns) = columns else {
        return ROW_CELLS;
    };
    [64, 32]
        .into_iter()
        .find(|&cells| ROW_PREFIX + cells <= columns)
        .unwrap_or(16)
}

struct Run {
    mapping: Mapping,
    cells: Vec<char>,
}

/// A picture of the mapped pages, painted in layers, rendered by
/// [`render`](Picture::render).
pub struct Picture {
    runs: Vec<Run>,
    legend: Vec<String>,
    /// The block each letter stands for, in the order they were named.
    names: Vec<(char, String)>,
    notes: Vec<String>,
    focus: Vec<usize>,
    row_cells: usize,
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
            names: Vec::new(),
            notes: Vec::new(),
            focus: Vec::new(),
            row_cells: row_cells(),
            free_list: None,
        }
    }

    /// Rows of `cells` characters instead of the screen's width.
    pub fn with_row_cells(mut self, cells: usize) -> Self {
        self.row_cells = cells.max(1);
        self
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

    /// Says which block `letter` stands for (`a` = `a0`): the legend names
    /// the blocks whose letters are drawn.
    pub fn name(&mut self, letter: char, block: impl Into<String>) {
        self.names.push((letter, block.into()));
    }

    /// Adds a note printed under the picture (`"a3 at 0x1000: in no mapping"`).
    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }

    /// Makes sure the mapping holding `addr` is drawn, and the rows around it.
    pub fn focus(&mut self, addr: usize) {
        self.focus.push(addr);
    }

    /// The picture as text: the legend, the drawn mappings' rows (offsets
    /// from the mapping's start, identical rows folded, rows far from the
    /// failure left out), a line for each mapping not drawn, the notes.
    pub fn render(&self) -> String {
        let drawn = self.drawn_runs();
        let mut rows = String::new();
        let mut letters = Vec::new();
        for &i in &drawn {
            letters.extend(self.render_run(&self.runs[i], &mut rows));
        }
        let mut out = self.render_legend(&letters);
        if self.runs.is_empty() {
            out.push_str("  (nothing is mapped)\n");
        }
        out.push_str(&rows);
        let others: Vec<String> = (0..self.runs.len())
            .filter(|i| !drawn.contains(i))
            .map(|i| format!("#{}", self.runs[i].mapping.serial))
            .collect();
        if !others.is_empty() {
            out.push_str(&format!(
                "  ({} more mapping{} not drawn: map {})\n",
                others.len(),
                if others.len() == 1 { "" } else { "s" },
                shorten(&others, 8)
            ));
        }
        for note in &self.notes {
            out.push_str(&format!("  {note}\n"));
        }
        out
    }

    /// The runs to draw, by index: those holding a focus address, else the
    /// first few, in the order they were mapped.
    fn drawn_runs(&self) -> Vec<usize> {
        let holds = |r: &Run, a: usize| a >= r.mapping.addr && a < r.mapping.end();
        let focused: Vec<usize> = (0..self.runs.len())
            .filter(|&i| self.focus.iter().any(|&a| holds(&self.runs[i], a)))
            .collect();
        if focused.is_empty() {
            (0..self.runs.len().min(DRAWN_MAPPINGS)).collect()
        } else {
            focused
        }
    }

    /// The legend, wrapped to about 80 columns: its lines, then the blocks
    /// whose letters were drawn.
    fn render_legend(&self, letters: &[char]) -> String {
        let mut items = self.legend.clone();
        let mut named = 0;
        let mut seen = Vec::new();
        let mut shared = false;
        for &(letter, _) in &self.names {
            if !letters.contains(&letter) || seen.contains(&letter) {
                continue;
            }
            seen.push(letter);
            let blocks: Vec<&str> = self
                .names
                .iter()
                .filter(|(l, _)| *l == letter)
                .map(|(_, n)| n.as_str())
                .collect();
            shared |= blocks.len() > 1;
            if named < MAX_NAMED {
                items.push(format!("{letter} = {}", blocks.join("/")));
            }
            named += 1;
        }
        if named > MAX_NAMED {
            items.push(format!("... ({} more letters)", named - MAX_NAMED));
        }
        if shared {
            items.push("(letters repeat every 26 blocks)".to_string());
        }
        let mut out = String::new();
        let width = legend_width();
        let mut line = format!("  one character per {CELL} bytes:");
        for item in &items {
            if line.len() + item.len() + 2 > width {
                out.push_str(&line);
                out.push('\n');
                line = "   ".to_string();
            }
            line.push_str("  ");
            line.push_str(item);
        }
        out.push_str(&line);
        out.push('\n');
        out
    }

    /// Draws one run into `out`; returns the letters it drew.
    fn render_run(&self, run: &Run, out: &mut String) -> Vec<char> {
        let m = run.mapping;
        out.push_str(&format!(
            "  map #{} at {:#x}, {} bytes:\n",
            m.serial, m.addr, m.len
        ));
        let width = self.row_cells;
        let rows: Vec<String> = run
            .cells
            .chunks(width)
            .map(|c| c.iter().collect())
            .collect();
        // Lines of the picture: (first row, rows folded into it).
        let mut lines = Vec::new();
        let mut r = 0;
        while r < rows.len() {
            let same = (r + 1..rows.len())
                .find(|&s| rows[s] != rows[r])
                .unwrap_or(rows.len());
            lines.push((r, same - r));
            r = same;
        }
        let focus_rows: Vec<usize> = self
            .focus
            .iter()
            .filter(|&&a| a >= m.addr && a < m.end())
            .map(|&a| (a - m.addr) / CELL / width)
            .collect();
        let keep = kept_lines(&lines, &focus_rows);
        let mut letters = Vec::new();
        let mut left_out = 0;
        for (i, &(first, count)) in lines.iter().enumerate() {
            if !keep[i] {
                left_out += count;
                continue;
            }
            if left_out > 0 {
                out.push_str(&format!("  {:9}({left_out} rows left out)\n", ""));
                left_out = 0;
            }
            letters.extend(rows[first].chars().filter(char::is_ascii_lowercase));
            out.push_str(&format!(
                "  +{:#07x} {}\n",
                first * width * CELL,
                rows[first]
            ));
            if count > 1 {
                out.push_str(&format!(
                    "  {:9}({} more rows the same, to +{:#x})\n",
                    "",
                    count - 1,
                    ((first + count) * width * CELL).min(m.len) - 1
                ));
            }
        }
        if left_out > 0 {
            out.push_str(&format!(
                "  {:9}({left_out} rows left out, to +{:#x})\n",
                "",
                m.len - 1
            ));
        }
        letters
    }
}

/// Which lines of a run to draw: all when they fit in [`MAX_ROWS`], else
/// those nearest a focus row, as many as fit (or, without one, the first).
fn kept_lines(lines: &[(usize, usize)], focus_rows: &[usize]) -> Vec<bool> {
    if lines.len() <= MAX_ROWS {
        return vec![true; lines.len()];
    }
    let near = |radius: usize| -> Vec<bool> {
        lines
            .iter()
            .map(|&(first, count)| {
                focus_rows
                    .iter()
                    .any(|&f| f + radius >= first && f < first + count + radius)
            })
            .collect()
    };
    let fits = |keep: &[bool]| keep.iter().filter(|k| **k).count() < MAX_ROWS;
    let rows = lines.last().map_or(0, |&(first, count)| first + count);
    let mut keep = near(AROUND_FOCUS);
    for radius in AROUND_FOCUS + 1..rows {
        let wider = near(radius);
        if !fits(&wider) {
            break;
        }
        keep = wider;
    }
    if !keep.contains(&true) {
        keep.iter_mut().take(MAX_ROWS - 1).for_each(|k| *k = true);
    }
    keep
}

/// At most `n` items, joined, with a count of the rest.
fn shorten(items: &[String], n: usize) -> String {
    let mut out = items[..items.len().min(n)].join(", ");
    if items.len() > n {
        out.push_str(&format!(", … ({} more)", items.len() - n));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_shrink_to_fit_the_screen() {
        assert_eq!(cells_for(None), 64);
        assert_eq!(cells_for(Some(80)), 64);
        assert_eq!(cells_for(Some(78)), 32);
        assert_eq!(cells_for(Some(40)), 16);
    }

    #[test]
    fn a_long_run_keeps_the_rows_near_the_failure() {
        let lines: Vec<(usize, usize)> = (0..64).map(|r| (r, 1)).collect();
        let keep = kept_lines(&lines, &[40]);
        let kept: Vec<usize> = (0..64).filter(|&i| keep[i]).collect();
        assert_eq!(kept, (33..=47).collect::<Vec<_>>());
        let keep = kept_lines(&lines, &[1]);
        let kept: Vec<usize> = (0..64).filter(|&i| keep[i]).collect();
        assert_eq!(kept, (0..=14).collect::<Vec<_>>());
        let keep = kept_lines(&lines, &[]);
        assert_eq!(keep.iter().filter(|k| **k).count(), MAX_ROWS - 1);
        assert!(kept_lines(&lines[..10], &[]).iter().all(|k| *k));
    }
}
