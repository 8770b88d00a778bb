//! The malloc-lab trace format (`.rep`): read and write, in its two
//! dialects.
//!
//! ```text
//!   CS:APP (Bryant & O'Hallaron)           CMU 15-213
//!   20000  suggested heap size (unused)    1      weight: what the trace scores
//!   3      number of ids: all in 0..3      3      number of ids
//!   5      operations that follow          5      operations that follow
//!   1      weight (unused)                 640    data bytes: the peak payload
//!   a 0 512      allocate block 0 of 512 bytes
//!   a 1 128
//!   r 0 640      resize block 0 to 640 bytes, keeping its contents
//!   f 1          free block 1
//!   f 0
//! ```
//!
//! Both headers are four numbers, so the file says which it is: a header is
//! 15-213's when its first number is a weight (0 to 3) *and* its fourth is
//! the trace's peak payload (the most bytes live at once, which the parser
//! computes); any other header is CS:APP's, whose suggested heap size is
//! never that small in practice and whose weight is rarely the peak. A
//! caller that knows the dialect says so with [`parse_as`], which then also
//! checks the 15-213 weight and data bytes, with a line-numbered error when
//! they are wrong.
//!
//! A 15-213 weight says what the trace is scored on ([`Trace::scoring`]): 0
//! nothing, 1 utilization and throughput, 2 utilization only, 3 throughput
//! only. CS:APP's weight is not used: its traces score both.
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

/// An operation and the line of the file it came from (1-based), so a failure
/// during replay can point at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    pub line: usize,
    pub kind: OpKind,
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

/// Which malloc-lab's header a trace has (see the module's documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    /// CS:APP's: `heap-size ids ops weight`.
    #[default]
    CsApp,
    /// CMU 15-213's: `weight ids ops data-bytes`.
    Cmu213,
}

/// What a trace is scored on, by its weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scoring {
    pub utilization: bool,
    pub throughput: bool,
}

/// A parsed trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The file's stem (`binary` for `traces/binary.rep`), used in tables.
    pub name: String,
    /// Which header the file has.
    pub dialect: Dialect,
    /// The header's size: CS:APP's suggested heap size (field 1, not used
    /// to replay), or 15-213's data bytes (field 4, the peak payload).
    pub suggested_heap: usize,
    /// Header field 2: ids are in `0..num_ids`.
    pub num_ids: usize,
    /// The header's weight: CS:APP's field 4 (not used), or 15-213's field
    /// 1 (0 to 3, see [`Trace::scoring`]).
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

/// The header's fields, named for both dialects until the file says which.
const HEADER_FIELDS: [&str; 4] = [
    "the suggested heap size (or, in a 15-213 trace, the weight)",
    "the number of ids",
    "the number of operations",
    "the weight (or, in a 15-213 trace, the data bytes)",
];

/// The largest 15-213 weight: 0 scores nothing, 1 both, 2 utilization, 3
/// throughput.
pub const MAX_CMU_WEIGHT: usize = 3;

/// Parses the text of a `.rep` file of either dialect, telling them apart
/// by the header (see the module's documentation). `file` names it in
/// error messages; the trace's [`name`](Trace::name) is its stem.
pub fn parse(file: &str, text: &str) -> Result<Trace, ParseError> {
    let (header, body) = parse_body(file, text)?;
    let [first, _, _, fourth] = header.numbers;
    let dialect = if first <= MAX_CMU_WEIGHT && fourth == body.peak_payload {
        Dialect::Cmu213
    } else {
        Dialect::CsApp
    };
    Ok(trace(file, dialect, header, body))
}

/// Parses the text of a `.rep` file whose dialect the caller knows. A
/// 15-213 header must have a weight of 0 to 3 and, as data bytes, the
/// trace's peak payload.
pub fn parse_as(file: &str, text: &str, dialect: Dialect) -> Result<Trace, ParseError> {
    let (header, body) = parse_body(file, text)?;
    if dialect == Dialect::Cmu213 {
        let [weight, _, _, data_bytes] = header.numbers;
        let err = |line: usize, message: String| ParseError {
            file: file.to_string(),
            line,
            message,
        };
        if weight > MAX_CMU_WEIGHT {
            return Err(err(
                header.lines[0],
                format!("expected a 15-213 weight (0 nothing, 1 utilization and throughput, 2 utilization, 3 throughput), found {weight}"),
            ));
        }
        if data_bytes != body.peak_payload {
            return Err(err(
                header.lines[3],
                format!(
                    "expected the data bytes, the most bytes the trace has live at once, {}; found {data_bytes}",
                    body.peak_payload
                ),
            ));
        }
    }
    Ok(trace(file, dialect, header, body))
}

/// The header's four numbers, and the line each was on.
struct Header {
    numbers: [usize; 4],
    lines: [usize; 4],
}

/// The operations, and the most payload they have live at once.
struct Body {
    ops: Vec<Op>,
    peak_payload: usize,
}

/// The trace from its dialect, header and operations.
fn trace(file: &str, dialect: Dialect, header: Header, body: Body) -> Trace {
    let [first, num_ids, _, fourth] = header.numbers;
    let (suggested_heap, weight) = match dialect {
        Dialect::CsApp => (first, fourth),
        Dialect::Cmu213 => (fourth, first),
    };
    Trace {
        name: stem(file),
        dialect,
        suggested_heap,
        num_ids,
        weight,
        ops: body.ops,
    }
}

/// Reads the header and checks every operation (the dialect aside).
fn parse_body(file: &str, text: &str) -> Result<(Header, Body), ParseError> {
    let err = |line: usize, message: String| ParseError {
        file: file.to_string(),
        line,
        message,
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (header, last_line) = parse_header(&mut lines).map_err(|(n, m)| err(n, m))?;
    let [_, num_ids, num_ops, _] = header.numbers;
    if num_ids > MAX_IDS {
        return Err(err(
            last_line,
            format!("the header declares {num_ids} ids; at most {MAX_IDS} are supported"),
        ));
    }
    // Each id's size while it is live (None when it is not), to reject
    // operations the replay could not do and to find the peak payload.
    let mut live: Vec<Option<usize>> = vec![None; num_ids];
    let (mut live_bytes, mut peak_payload) = (0usize, 0usize);
    let mut ops = Vec::with_capacity(num_ops.min(1 << 20));
    for (n, line) in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let kind = parse_op(&words).map_err(|m| err(n, m))?;
        let (id, now) = replayable(kind, &live).map_err(|m| err(n, m))?;
        live_bytes = live_bytes - live[id].unwrap_or(0) + now.unwrap_or(0);
        peak_payload = peak_payload.max(live_bytes);
        live[id] = now;
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
    Ok((header, Body { ops, peak_payload }))
}

/// The header: four numbers, one a line in malloc-lab's files; any
/// whitespace between them is accepted. With the line it ended on, or the
/// line and message of what is wrong.
fn parse_header<'t>(
    lines: &mut impl Iterator<Item = (usize, &'t str)>,
) -> Result<(Header, usize), (usize, String)> {
    let mut header = Header {
        numbers: [0; 4],
        lines: [0; 4],
    };
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
            header.numbers[filled] = word.parse().map_err(|_| {
                (
                    n,
                    format!(
                        "expected {} (a non-negative number), found {word:?}",
                        HEADER_FIELDS[filled]
                    ),
                )
            })?;
            header.lines[filled] = n;
            filled += 1;
        }
    }
    Ok((header, last_line))
}

/// Whether the replay can do `kind` with `live` (each id's size while it
/// is live): its id, and that id's size after it (`None`: not live).
fn replayable(kind: OpKind, live: &[Option<usize>]) -> Result<(usize, Option<usize>), String> {
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
    let now = match (kind, live[id]) {
        (OpKind::Alloc { .. }, Some(_)) => {
            return Err(format!("block {id} is allocated again before it was freed"));
        }
        (OpKind::Free { .. }, None) => {
            return Err(format!("block {id} is freed but is not allocated"));
        }
        (OpKind::Realloc { .. }, None) => {
            return Err(format!("block {id} is resized but is not allocated"));
        }
        (OpKind::Alloc { size, .. } | OpKind::Realloc { size, .. }, _) => Some(size),
        (OpKind::Free { .. }, Some(_)) => None,
    };
    Ok((id, now))
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
    /// What the trace is scored on: a 15-213 weight decides; a CS:APP
    /// trace scores both.
    pub fn scoring(&self) -> Scoring {
        let (utilization, throughput) = match (self.dialect, self.weight) {
            (Dialect::CsApp, _) | (Dialect::Cmu213, 1) => (true, true),
            (Dialect::Cmu213, 2) => (true, false),
            (Dialect::Cmu213, 3) => (false, true),
            (Dialect::Cmu213, _) => (false, false),
        };
        Scoring {
            utilization,
            throughput,
        }
    }

    /// The trace in `.rep` form, as malloc-lab's driver reads it: the four
    /// header numbers one a line, in the trace's dialect, then one
    /// operation a line.
    pub fn to_rep(&self) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(16 * self.ops.len() + 64);
        let (first, fourth) = match self.dialect {
            Dialect::CsApp => (self.suggested_heap, self.weight),
            Dialect::Cmu213 => (self.weight, self.suggested_heap),
        };
        let _ = writeln!(out, "{first}");
        let _ = writeln!(out, "{}", self.num_ids);
        let _ = writeln!(out, "{}", self.ops.len());
        let _ = writeln!(out, "{fourth}");
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
