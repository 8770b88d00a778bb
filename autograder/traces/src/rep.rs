//! The CS:APP malloc-lab trace format (`.rep`): read and write.
//!
//! ```text
//! 20000        suggested heap size (bytes; informational)
//! 3            number of ids: every id is in 0..3
//! 5            number of operations that follow
//! 1            weight (informational)
//! a 0 512      allocate block 0 of 512 bytes
//! a 1 128
//! r 0 640      resize block 0 to 640 bytes, keeping its contents
//! f 1          free block 1
//! f 0
//! ```
//!
//! The parser checks the file as a whole before anything is replayed: every
//! operation is well formed, every id is in range, a block is allocated before
//! it is resized or freed and never allocated twice while live, and the header's
//! operation count matches. A bad file gives one [`ParseError`] naming the
//! file, the line and what was expected; the parser never panics.

use std::fmt;

/// Largest block size a trace may ask for: malloc-lab stores sizes in an `int`.
pub const MAX_SIZE: usize = i32::MAX as usize;
/// Largest number of ids a trace may declare, so a header cannot make the
/// replayer reserve an absurd table.
pub const MAX_IDS: usize = 1 << 24;

/// One operation of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// `a id size`: allocate `size` bytes and call the block `id`.
    Alloc { id: usize, size: usize },
    /// `f id`: free block `id`.
    Free { id: usize },
    /// `r id size`: resize block `id` to `size` bytes, keeping the first
    /// `min(old, new)` bytes.
    Realloc { id: usize, size: usize },
}

/// The operation as a `.rep` line writes it: `a 3 24`, `f 3`, `r 3 100`.
impl std::fmt::Display for OpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            OpKind::Alloc { id, size } => write!(f, "a {id} {size}"),
            OpKind::Free { id } => write!(f, "f {id}"),
            OpKind::Realloc { id, size } => write!(f, "r {id} {size}"),
        }
    }
}

/// An operation and the line of the file it came from (1-based), so a failure
/// during replay can point at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    pub line: usize,
    pub kind: OpKind,
}

/// A parsed trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The file's stem (`binary` for `traces/binary.rep`), used in tables.
    pub name: String,
    /// Header field 1: the heap size malloc-lab suggests; not used to replay.
    pub suggested_heap: usize,
    /// Header field 2: ids are in `0..num_ids`.
    pub num_ids: usize,
    /// Header field 4: malloc-lab's weight of the trace in its average.
    pub weight: usize,
    pub ops: Vec<Op>,
}

/// Why a trace file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line number; 0 when the problem is the file as a whole.
    pub line: usize,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

const HEADER_FIELDS: [&str; 4] = [
    "the suggested heap size",
    "the number of ids",
    "the number of operations",
    "the weight",
];

/// Parses the text of a `.rep` file. `file` names it in error messages; the
/// trace's [`name`](Trace::name) is its stem.
pub fn parse(file: &str, text: &str) -> Result<Trace, ParseError> {
    let err = |line: usize, message: String| ParseError {
        file: file.to_string(),
        line,
        message,
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (header, last_line) = parse_header(&mut lines).map_err(|(n, m)| err(n, m))?;
    let [suggested_heap, num_ids, num_ops, weight] = header;
    if num_ids > MAX_IDS {
        return Err(err(
            last_line,
            format!("the header declares {num_ids} ids; at most {MAX_IDS} are supported"),
        ));
    }

    // Whether each id is live, to reject operations the replay could not do.
    let mut live = vec![false; num_ids];
    let mut ops = Vec::with_capacity(num_ops.min(1 << 20));
    for (n, line) in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let kind = parse_op(&words).map_err(|m| err(n, m))?;
        replayable(kind, &mut live).map_err(|m| err(n, m))?;
        ops.push(Op { line: n, kind });
    }
    if ops.len() != num_ops {
        return Err(err(
            0,
            format!(
                "the header declares {num_ops} operations but the file has {}",
                ops.len()
            ),
        ));
    }
    Ok(Trace {
        name: stem(file),
        suggested_heap,
        num_ids,
        weight,
        ops,
    })
}

/// The header: four numbers, one a line in malloc-lab's files; any
/// whitespace between them is accepted. The numbers and the line the last
/// one is on, or the line and what is wrong with it.
fn parse_header<'t>(
    lines: &mut impl Iterator<Item = (usize, &'t str)>,
) -> Result<([usize; 4], usize), (usize, String)> {
    let mut header = [0usize; 4];
    let mut filled = 0;
    let mut last_line = 0;
    while filled < 4 {
        let Some((n, line)) = lines.next() else {
            return Err((
                last_line,
                format!(
                    "the file ends before the header is complete: expected {} (a number)",
                    HEADER_FIELDS[filled]
                ),
            ));
        };
        last_line = n;
        for word in line.split_whitespace() {
            if filled == 4 {
                return Err((
                    n,
                    format!(
                        "expected the first operation on its own line after the four header \
                         numbers, found {word:?}"
                    ),
                ));
            }
            header[filled] = word.parse().map_err(|_| {
                (
                    n,
                    format!(
                        "expected {} (a non-negative number), found {word:?}",
                        HEADER_FIELDS[filled]
                    ),
                )
            })?;
            filled += 1;
        }
    }
    Ok((header, last_line))
}

/// Whether the replay can do `kind` with the blocks `live` (by id) says are
/// allocated; updates `live`.
fn replayable(kind: OpKind, live: &mut [bool]) -> Result<(), String> {
    let id = match kind {
        OpKind::Alloc { id, .. } | OpKind::Free { id } | OpKind::Realloc { id, .. } => id,
    };
    let num_ids = live.len();
    if id >= num_ids {
        return Err(format!(
            "id {id} is out of range: the header declares {num_ids} ids (0 to {})",
            num_ids.saturating_sub(1)
        ));
    }
    match kind {
        OpKind::Alloc { .. } if live[id] => {
            Err(format!("block {id} is allocated again before it was freed"))
        }
        OpKind::Alloc { .. } => {
            live[id] = true;
            Ok(())
        }
        OpKind::Free { .. } if !live[id] => {
            Err(format!("block {id} is freed but is not allocated"))
        }
        OpKind::Free { .. } => {
            live[id] = false;
            Ok(())
        }
        OpKind::Realloc { .. } if !live[id] => {
            Err(format!("block {id} is resized but is not allocated"))
        }
        OpKind::Realloc { .. } => Ok(()),
    }
}

/// One operation line, already split into words.
fn parse_op(words: &[&str]) -> Result<OpKind, String> {
    let expected = "expected `a ID SIZE`, `f ID` or `r ID SIZE`";
    let number = |word: &str, what: &str| -> Result<usize, String> {
        word.parse::<usize>()
            .map_err(|_| format!("expected {what} (a non-negative number), found {word:?}"))
    };
    let size = |word: &str| -> Result<usize, String> {
        let size = number(word, "a size in bytes")?;
        if size > MAX_SIZE {
            return Err(format!(
                "size {size} is too large: at most {MAX_SIZE} bytes"
            ));
        }
        Ok(size)
    };
    match words {
        ["a", id, bytes] => Ok(OpKind::Alloc {
            id: number(id, "an id")?,
            size: size(bytes)?,
        }),
        ["r", id, bytes] => Ok(OpKind::Realloc {
            id: number(id, "an id")?,
            size: size(bytes)?,
        }),
        ["f", id] => Ok(OpKind::Free {
            id: number(id, "an id")?,
        }),
        ["a" | "r", ..] | ["f", ..] => Err(format!(
            "{expected}, found {:?} ({} words)",
            words.join(" "),
            words.len()
        )),
        _ => Err(format!("{expected}, found {:?}", words.join(" "))),
    }
}

/// `traces/binary.rep` → `binary`.
fn stem(file: &str) -> String {
    std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string())
}

impl Trace {
    /// The trace in `.rep` form, as malloc-lab's driver reads it: the four
    /// header numbers one a line, then one operation a line.
    pub fn to_rep(&self) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(16 * self.ops.len() + 64);
        let _ = writeln!(out, "{}", self.suggested_heap);
        let _ = writeln!(out, "{}", self.num_ids);
        let _ = writeln!(out, "{}", self.ops.len());
        let _ = writeln!(out, "{}", self.weight);
        for op in &self.ops {
            let _ = writeln!(out, "{}", op.kind);
        }
        out
    }

    /// The operation at `line` as written in the trace (empty if none is).
    pub fn line_text(&self, line: usize) -> String {
        self.ops
            .iter()
            .find(|o| o.line == line)
            .map(|o| o.kind.to_string())
            .unwrap_or_default()
    }
}

/// Reads and parses a trace file; an unreadable file is a [`ParseError`] too.
pub fn read(path: &std::path::Path) -> Result<Trace, ParseError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ParseError {
        file: file.clone(),
        line: 0,
        message: format!("cannot read the trace: {e}"),
    })?;
    parse(&file, &text)
}
