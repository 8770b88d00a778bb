//! The little of Markdown the checks need: fenced blocks with their info
//! strings, pipe tables, and paragraphs, each with its line number.

use std::path::{Path, PathBuf};

/// One page of docs/, read whole.
pub struct Page {
    /// The page's path from the course root, e.g. `docs/lesson5.md`.
    pub name: String,
    /// Where the page is on disk.
    pub path: PathBuf,
    pub text: String,
}

impl Page {
    pub fn read(root: &Path, name: &str) -> Page {
        let path = root.join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        Page {
            name: name.to_string(),
            path,
            text,
        }
    }

    /// A page that is not on disk (for the checks' own tests).
    pub fn from_text(name: &str, text: &str) -> Page {
        Page {
            name: name.to_string(),
            path: PathBuf::from(name),
            text: text.to_string(),
        }
    }

    /// The page's fenced blocks, in order.
    pub fn fences(&self) -> Vec<Fence> {
        let mut fences = Vec::new();
        let mut open: Option<Fence> = None;
        for (i, line) in self.text.lines().enumerate() {
            let trimmed = line.trim_start();
            match open.as_mut() {
                Some(fence) if trimmed.trim_end() == "```" => {
                    fence.end = i;
                    fences.push(open.take().unwrap());
                }
                Some(fence) => {
                    // A fence indented inside a list item: its lines are too.
                    let indent = line.len() - trimmed.len();
                    fence
                        .body
                        .push(line[indent.min(fence.indent)..].to_string());
                }
                None => {
                    if let Some(info) = trimmed.strip_prefix("```") {
                        let mut words = info.split_whitespace().map(str::to_string);
                        open = Some(Fence {
                            line: i + 1,
                            end: i,
                            indent: line.len() - trimmed.len(),
                            lang: words.next().unwrap_or_default(),
                            attrs: words.collect(),
                            body: Vec::new(),
                        });
                    }
                }
            }
        }
        if let Some(fence) = open {
            panic!(
                "{}:{}: a fenced block that is never closed",
                self.name, fence.line
            );
        }
        fences
    }

    /// The page's lines outside fenced blocks, each with its number (from 1).
    pub fn prose_lines(&self) -> Vec<(usize, &str)> {
        let mut inside = false;
        let mut lines = Vec::new();
        for (i, line) in self.text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                inside = !inside;
            } else if !inside {
                lines.push((i + 1, line));
            }
        }
        lines
    }

    /// The pipe tables outside fenced blocks.
    pub fn tables(&self) -> Vec<Table> {
        let mut tables: Vec<Table> = Vec::new();
        let mut previous = 0;
        for (number, line) in self.prose_lines() {
            let row = line.trim();
            if !row.starts_with('|') {
                continue;
            }
            let cells = cells(row);
            match tables.last_mut() {
                Some(table) if previous + 1 == number => {
                    if !cells.iter().all(|c| c.chars().all(|ch| "-: ".contains(ch))) {
                        table.rows.push((number, cells));
                    }
                }
                _ => tables.push(Table {
                    line: number,
                    header: cells,
                    rows: Vec::new(),
                }),
            }
            previous = number;
        }
        tables
    }

    /// Paragraphs outside fenced blocks: runs of non-blank lines, with the
    /// number of their first line.
    pub fn paragraphs(&self) -> Vec<(usize, String)> {
        let mut paragraphs: Vec<(usize, String)> = Vec::new();
        let mut previous = 0;
        for (number, line) in self.prose_lines() {
            if line.trim().is_empty() {
                continue;
            }
            match paragraphs.last_mut() {
                Some((_, text)) if previous + 1 == number => {
                    text.push('\n');
                    text.push_str(line);
                }
                _ => paragraphs.push((number, line.to_string())),
            }
            previous = number;
        }
        paragraphs
    }
}

/// A fenced block: ```` ```lang attr attr ````, its lines, its closing fence.
pub struct Fence {
    /// Line number (from 1) of the opening fence.
    pub line: usize,
    /// Index (from 0) of the closing fence's line.
    pub end: usize,
    /// Spaces before the opening fence.
    pub indent: usize,
    pub lang: String,
    pub attrs: Vec<String>,
    pub body: Vec<String>,
}

/// A pipe table: its header cells and its rows (line number, cells).
pub struct Table {
    pub line: usize,
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// The cells of one table row, trimmed, with `\|` read as `|`.
pub fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            _ => cells.last_mut().unwrap().push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
}
