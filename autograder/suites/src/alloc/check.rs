//! The named properties checked after every operation, and how a lesson
//! picks them ([`Config`]) and adds its own ([`Config::hook`]).

use std::ops::RangeInclusive;

use heaplab_kit::layout::{HEADER_BYTES, SIZE_OFFSET};
use heaplab_kit::{Heap, ALIGN};
use heaplab_protocol::checks;

use super::model::{LiveBlock, Model};
use super::pages::{PageEvent, PageLog};
use super::picture::Picture;

/// A check that did not hold: what broke, what was expected, what was
/// found (the kit's one failure type, from `heaplab-protocol`).
pub use heaplab_protocol::Failure;

/// The result of one check.
pub type CheckResult = Result<(), Failure>;

/// The operation just done, as the checks see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    /// Nothing yet: the heap was just made.
    Start,
    /// `malloc(size)`: `Some(id)` names the new block, `None` means it
    /// returned `None` (allowed only when the page source refused).
    Malloc { size: usize, id: Option<usize> },
    /// `free(aN)` of this block (no longer in the model's live list).
    Free(LiveBlock),
    /// `write(aN)`.
    Write { id: usize },
    /// The page source was told to refuse its next map.
    RefuseNextMap,
    /// No operation: the test asked for the checks ([`Session::check_now`](super::Session::check_now)).
    Nothing,
}

/// What the engine hands every check after an operation.
pub struct State<'a, H> {
    pub heap: &'a H,
    pub model: &'a Model,
    pub log: &'a PageLog,
    /// The operation just done.
    pub done: &'a Done,
    /// The page source calls made by that operation.
    pub page_events: &'a [PageEvent],
    /// Bytes of header in front of each payload (0 or [`HEADER_BYTES`]).
    pub header: usize,
}

/// The built-in properties, checked after every operation when selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Every pointer is [`ALIGN`] (16)-byte aligned.
    Aligned,
    /// Every block (with its header) lies inside one run the source mapped.
    /// Always checked for a new block before the engine touches it, selected
    /// or not: the engine never reads or writes outside mapped pages.
    InsideMapped,
    /// No two live blocks (with their headers) overlap.
    NoOverlap,
    /// Every written live block still holds the bytes written to it.
    ContentsKept,
    /// `usable_size(p)` is at least the size asked; `None` only from a heap
    /// without headers (lesson 2's), which cannot tell.
    UsableSize,
    /// Lessons 3-6 layout: the word 16 bytes before the payload is the chunk
    /// size, a multiple of 16, holding header and request, inside the mapping;
    /// `usable_size` is that minus 16.
    Headers,
    /// `stats()` pages mapped and unmapped equal the source's record.
    PageStats,
    /// `stats()` chunks allocated and freed equal the successful mallocs and
    /// the frees done.
    ChunkStats,
    /// No free list: `free_length` is 0 and `free_blocks()` is empty
    /// (lessons 2 and 3).
    NoFreeList,
    /// No block is placed where a freed block was (lessons 2 and 3).
    NoReuse,
    /// The page source's contract held: whole-page map lengths, unmaps that
    /// match one map exactly.
    SourceContract,
}

impl Check {
    /// Every built-in check, in the order they run.
    pub const ALL: [Check; 11] = [
        Check::SourceContract,
        Check::InsideMapped,
        Check::Aligned,
        Check::Headers,
        Check::NoOverlap,
        Check::ContentsKept,
        Check::UsableSize,
        Check::PageStats,
        Check::ChunkStats,
        Check::NoFreeList,
        Check::NoReuse,
    ];

    /// The check's name in messages and hints (`heaplab_protocol::checks`).
    pub fn name(self) -> &'static str {
        match self {
            Check::Aligned => checks::ALIGNED,
            Check::InsideMapped => checks::INSIDE_MAPPED,
            Check::NoOverlap => checks::NO_OVERLAP,
            Check::ContentsKept => checks::CONTENTS_KEPT,
            Check::UsableSize => checks::USABLE_SIZE,
            Check::Headers => checks::SIZE_HEADER,
            Check::PageStats => checks::PAGE_STATS,
            Check::ChunkStats => checks::CHUNK_STATS,
            Check::NoFreeList => checks::NO_FREE_LIST,
            Check::NoReuse => checks::NO_REUSE,
            Check::SourceContract => checks::PAGE_SOURCE_CONTRACT,
        }
    }
}

/// A check a lesson adds: called after every operation.
pub type HookFn<H> = Box<dyn Fn(&State<'_, H>) -> CheckResult>;
/// A layer a lesson adds to the picture (free chunks, list order...).
pub type PainterFn<H> = Box<dyn Fn(&H, &Model, &PageLog, &mut Picture)>;
/// A lesson's look at the heap after the student's process stopped (it may
/// read memory, not ask the heap): it paints what it finds on the picture
/// of the pages as they were left, and returns what it found.
pub type PostMortemFn<H> = Box<dyn Fn(&H, &Model, &PageLog, &mut Picture) -> Option<Finding>>;

/// What a look after a stop found: a note for the report, and the rule it
/// shows broken when it names one (a free list that became a cycle), which
/// then keys the report's hint instead of the stop itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub note: String,
    pub check: Option<&'static str>,
}

/// A weighted mix of request sizes: `(weight, sizes)` buckets.
#[derive(Clone, Debug)]
pub struct SizeMix(pub Vec<(u32, RangeInclusive<usize>)>);

impl SizeMix {
    /// Sizes 0 to three pages (4 KiB pages assumed), mostly small.
    pub fn standard() -> Self {
        SizeMix(vec![
            (1, 0..=0),
            (8, 1..=32),
            (6, 33..=256),
            (3, 257..=4096),
            (1, 4097..=3 * 4096),
        ])
    }
}

/// Weights of the operations in a random sequence.
#[derive(Clone, Debug)]
pub struct OpMix {
    pub malloc: u32,
    pub free: u32,
    pub write: u32,
    /// Tell the page source to refuse its next map (fault injection).
    pub refuse_next_map: u32,
    pub sizes: SizeMix,
    /// Operations in one sequence, at most.
    pub max_ops: usize,
}

impl Default for OpMix {
    fn default() -> Self {
        OpMix {
            malloc: 5,
            free: 3,
            write: 3,
            refuse_next_map: 0,
            sizes: SizeMix::standard(),
            max_ops: 40,
        }
    }
}

/// What a property or scenario checks, and how its random sequences look.
pub struct Config<H> {
    /// Built-in checks, run in [`Check::ALL`]'s order after every operation.
    pub checks: Vec<Check>,
    /// Lesson checks, run after the built-in ones.
    pub hooks: Vec<(&'static str, HookFn<H>)>,
    /// Lesson layers of the picture, painted under the live blocks.
    pub painters: Vec<PainterFn<H>>,
    /// Bytes of header in front of every payload (0, or [`HEADER_BYTES`] from lesson 3 on).
    pub header: usize,
    /// With headers: before every `free`, check that the block's header still
    /// holds a chunk size, and report it if not instead of calling `free`.
    pub guard_headers: bool,
    /// Looks at the heap after the student's process stopped.
    pub post_mortems: Vec<PostMortemFn<H>>,
    pub ops: OpMix,
    /// Random sequences tried (fewer under Miri).
    pub cases: u32,
}

impl<H: Heap> Config<H> {
    /// These built-in checks, no header, the default mix, 64 cases.
    pub fn new(checks: &[Check]) -> Self {
        Config {
            checks: checks.to_vec(),
            hooks: Vec::new(),
            painters: Vec::new(),
            header: 0,
            guard_headers: true,
            post_mortems: Vec::new(),
            ops: OpMix::default(),
            cases: if cfg!(miri) { 3 } else { 64 },
        }
    }

    /// Blocks carry a [`HEADER_BYTES`]-byte header in front of the payload: checks
    /// and the picture count it as part of the block.
    pub fn with_headers(mut self) -> Self {
        self.header = HEADER_BYTES;
        self
    }

    /// Adds a check called after every operation (and once at the start).
    pub fn hook(
        mut self,
        name: &'static str,
        f: impl Fn(&State<'_, H>) -> CheckResult + 'static,
    ) -> Self {
        self.hooks.push((name, Box::new(f)));
        self
    }

    /// Adds a picture layer, painted after `.` and before headers and blocks.
    pub fn painter(mut self, f: impl Fn(&H, &Model, &PageLog, &mut Picture) + 'static) -> Self {
        self.painters.push(Box::new(f));
        self
    }

    /// Adds a look at the heap for after the student's process stopped.
    pub fn post_mortem(
        mut self,
        f: impl Fn(&H, &Model, &PageLog, &mut Picture) -> Option<Finding> + 'static,
    ) -> Self {
        self.post_mortems.push(Box::new(f));
        self
    }

    /// Sets the operation mix.
    pub fn ops(mut self, ops: OpMix) -> Self {
        self.ops = ops;
        self
    }

    /// Sets the number of random sequences (ignored under Miri, which runs 3).
    pub fn cases(mut self, cases: u32) -> Self {
        if !cfg!(miri) {
            self.cases = cases;
        }
        self
    }

    /// True when `check` is selected.
    pub fn has(&self, check: Check) -> bool {
        self.checks.contains(&check)
    }
}

/// Runs the selected built-in checks, then the hooks.
pub(crate) fn run_checks<H: Heap>(
    config: &Config<H>,
    state: &State<'_, H>,
) -> Result<(), (String, Failure)> {
    // The engine touches block memory (writes, pattern checks, headers), so
    // "inside mapped pages" is a guard for every property.
    inside_mapped(state).map_err(|f| (Check::InsideMapped.name().to_string(), f))?;
    still_mapped(state).map_err(|f| (checks::UNMAPPED_LIVE.to_string(), f))?;
    for check in Check::ALL {
        if check == Check::InsideMapped || !config.has(check) {
            continue;
        }
        let result = match check {
            Check::Aligned => aligned(state),
            Check::InsideMapped => Ok(()),
            Check::NoOverlap => no_overlap(state),
            Check::ContentsKept => contents_kept(state),
            Check::UsableSize => usable_size(state),
            Check::Headers => headers(state),
            Check::PageStats => page_stats(state),
            Check::ChunkStats => chunk_stats(state),
            Check::NoFreeList => no_free_list(state),
            Check::NoReuse => no_reuse(state),
            Check::SourceContract => source_contract(state),
        };
        result.map_err(|f| (check.name().to_string(), f))?;
    }
    for (name, hook) in &config.hooks {
        hook(state).map_err(|f| (name.to_string(), f))?;
    }
    Ok(())
}

fn new_block<'a, H>(state: &'a State<'_, H>) -> Option<&'a LiveBlock> {
    match state.done {
        Done::Malloc { id: Some(id), .. } => state.model.block(*id),
        _ => None,
    }
}

fn source_contract<H>(state: &State<'_, H>) -> CheckResult {
    match state.log.violations().first() {
        None => Ok(()),
        Some(v) => Err(Failure::new(
            "the heap broke the page source's contract",
            "map lengths that are whole pages; unmaps of exactly one earlier map",
            v.clone(),
        )),
    }
}

/// Every live block is still inside a mapping: the heap did not unmap pages
/// under a block it handed out (the engine would crash reading it).
fn still_mapped<H>(state: &State<'_, H>) -> CheckResult {
    if !state
        .page_events
        .iter()
        .any(|e| matches!(e, PageEvent::Unmapped(_)))
    {
        return Ok(());
    }
    for b in &state.model.live {
        let start = b.addr - state.header;
        if state
            .log
            .mapping_holding(start, b.extent() + state.header)
            .is_none()
        {
            let unmapped: Vec<String> = state
                .page_events
                .iter()
                .filter(|e| matches!(e, PageEvent::Unmapped(_)))
                .map(|e| e.to_string())
                .collect();
            return Err(Failure::new(
                format!("the heap unmapped {} while it was still live", b.name()),
                format!(
                    "[{start:#x}, {:#x}) still mapped until it is freed",
                    b.end()
                ),
                unmapped.join(", "),
            ));
        }
    }
    Ok(())
}

/// The new block's extent, header included, lies inside one mapping.
fn inside_mapped<H>(state: &State<'_, H>) -> CheckResult {
    let Some(b) = new_block(state) else {
        return Ok(());
    };
    let start = b.addr.wrapping_sub(state.header);
    let len = b.extent() + state.header;
    if b.addr < state.header || state.log.mapping_holding(start, len).is_none() {
        let what = if state.header > 0 {
            format!(
                "{} (header and payload) is not inside pages the heap mapped",
                b.name()
            )
        } else {
            format!("{} is not inside pages the heap mapped", b.name())
        };
        let runs: Vec<String> = state
            .log
            .mappings()
            .iter()
            .map(|m| format!("[{:#x}, {:#x})", m.addr, m.end()))
            .collect();
        return Err(Failure::new(
            what,
            format!(
                "[{:#x}, {:#x}) inside one of the mapped runs {}",
                start,
                start.wrapping_add(len),
                if runs.is_empty() {
                    "(none)".to_string()
                } else {
                    runs.join(", ")
                }
            ),
            format!(
                "[{:#x}, {:#x}) is not inside any single mapped run",
                start,
                start.wrapping_add(len)
            ),
        ));
    }
    Ok(())
}

fn aligned<H>(state: &State<'_, H>) -> CheckResult {
    let Some(b) = new_block(state) else {
        return Ok(());
    };
    if b.addr % ALIGN != 0 {
        return Err(Failure::new(
            format!("{} is not {ALIGN}-byte aligned", b.name()),
            format!("an address that is a multiple of {ALIGN} (ends in hex 0)"),
            format!(
                "{:#x} ({} past a multiple of {ALIGN})",
                b.addr,
                b.addr % ALIGN
            ),
        )
        .at(b.addr));
    }
    Ok(())
}

fn no_overlap<H>(state: &State<'_, H>) -> CheckResult {
    let Some(b) = new_block(state) else {
        return Ok(());
    };
    let h = state.header;
    let (start, end) = (b.addr - h, b.end());
    for other in &state.model.live {
        if other.id == b.id {
            continue;
        }
        let (o_start, o_end) = (other.addr - h, other.end());
        if start < o_end && o_start < end {
            let part = if h > 0 { " (headers included)" } else { "" };
            return Err(Failure::new(
                format!(
                    "{} overlaps {}, which is still live",
                    b.name(),
                    other.name()
                ),
                format!(
                    "{} outside {}'s [{o_start:#x}, {o_end:#x}){part}",
                    b.name(),
                    other.name()
                ),
                format!("{} is [{start:#x}, {end:#x}){part}", b.name()),
            )
            .at(b.addr));
        }
    }
    Ok(())
}

fn contents_kept<H>(state: &State<'_, H>) -> CheckResult {
    for b in &state.model.live {
        if b.pattern.is_empty() {
            continue;
        }
        // SAFETY: the block was checked to lie inside a live mapping when it
        // was returned, and the test still holds it (not freed).
        let bytes = unsafe { std::slice::from_raw_parts(b.ptr.as_ptr(), b.pattern.len()) };
        if bytes != b.pattern.as_slice() {
            let i = bytes
                .iter()
                .zip(&b.pattern)
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            let end = (i + 8).min(bytes.len());
            let culprit = state
                .model
                .live
                .iter()
                .find(|o| o.id != b.id && b.addr + i >= o.addr && b.addr + i < o.end())
                .map(|o| format!(" ({} covers that byte)", o.name()))
                .unwrap_or_default();
            return Err(Failure::new(
                format!(
                    "{} lost the bytes written to it: byte {i} (address {:#x}) changed{culprit}",
                    b.name(),
                    b.addr + i
                ),
                format!("bytes {i}.. = {:02x?}", &b.pattern[i..end]),
                format!("bytes {i}.. = {:02x?}", &bytes[i..end]),
            )
            .at(b.addr + i));
        }
    }
    Ok(())
}

fn usable_size<H: Heap>(state: &State<'_, H>) -> CheckResult {
    for b in &state.model.live {
        // SAFETY: b came from this heap's malloc and is not freed.
        let usable = unsafe { state.heap.usable_size(b.ptr) };
        if usable.is_none() && state.header > 0 {
            return Err(Failure::new(
                format!("usable_size({}) returned None", b.name()),
                format!(
                    "Some(n), n >= {}: a heap with headers reads the usable bytes from the \
                     block's header",
                    b.size
                ),
                "None",
            )
            .at(b.addr));
        }
        if let Some(u) = usable {
            if u < b.size {
                return Err(Failure::new(
                    format!(
                        "usable_size({}) is smaller than the size asked for",
                        b.name()
                    ),
                    format!("at least {}", b.size),
                    format!("{u}"),
                )
                .at(b.addr));
            }
        }
    }
    Ok(())
}

/// The chunk size in `b`'s header (the word at `b.addr - 16`).
pub fn header_word(b: &LiveBlock) -> usize {
    // SAFETY: the block's header lies inside a live mapping (checked when the
    // block was returned); unaligned read, so a misaligned block is no UB.
    unsafe {
        std::ptr::read_unaligned(
            b.ptr
                .as_ptr()
                .wrapping_sub(HEADER_BYTES - SIZE_OFFSET)
                .cast::<usize>(),
        )
    }
}

/// The rule a header word `size` breaks for block `b`, in words with the
/// numbers that show it (`40 is not a multiple of 16`), or `None` when it
/// is a chunk size that holds the block: a multiple of 16, at least the
/// header and the bytes asked, ending inside the block's run.
pub fn header_rule(b: &LiveBlock, size: usize, log: &PageLog) -> Option<String> {
    let chunk = b.addr - HEADER_BYTES;
    let need = b.extent() + HEADER_BYTES;
    if !size.is_multiple_of(ALIGN) {
        return Some(format!(
            "{size} is not a multiple of 16 ({size} = 16 × {} + {})",
            size / 16,
            size % 16
        ));
    }
    if size < need {
        let asked = match b.size {
            0 => "0 asked, which still takes a byte: malloc(0) returns a block of its own"
                .to_string(),
            n => format!("{n} asked"),
        };
        return Some(format!(
            "{size} is less than {need}: 16 of header + {asked} do not fit in {size} bytes"
        ));
    }
    let Some(m) = log.mapping_holding(chunk, 1) else {
        return Some(format!("the chunk at {chunk:#x} is in no mapping"));
    };
    (!m.holds(chunk, size)).then(|| {
        format!(
            "{size} bytes from {chunk:#x} end at {:#x}, past the end of map #{} at {:#x}",
            chunk.saturating_add(size),
            m.serial,
            m.end()
        )
    })
}

fn headers<H: Heap>(state: &State<'_, H>) -> CheckResult {
    for b in &state.model.live {
        let size = header_word(b);
        let chunk = b.addr - HEADER_BYTES;
        let need = b.extent() + HEADER_BYTES;
        if let Some(broken) = header_rule(b, size, state.log) {
            let culprit = state
                .model
                .live
                .iter()
                .find(|o| o.id != b.id && chunk < o.end() && o.addr < chunk + HEADER_BYTES)
                .map(|o| {
                    format!(
                        ": {} covers that header, so its bytes overwrote it",
                        o.name()
                    )
                })
                .unwrap_or_default();
            return Err(Failure::new(
                format!(
                    "{}'s header (the word at {:#x}, 16 bytes before the payload) is not its chunk size",
                    b.name(),
                    chunk
                ),
                format!(
                    "a multiple of 16, at least {need} (16 of header + {} asked{}), ending inside \
                     the mapping",
                    b.size,
                    if b.size == 0 { ", counted as 1" } else { "" }
                ),
                format!("{broken}{culprit}"),
            )
            .at(chunk));
        }
        // SAFETY: b came from this heap's malloc and is not freed.
        if let Some(u) = unsafe { state.heap.usable_size(b.ptr) } {
            if u != size - HEADER_BYTES {
                return Err(Failure::new(
                    format!("usable_size({}) does not match its header", b.name()),
                    format!("chunk size {size} - 16 = {}", size - HEADER_BYTES),
                    format!("{u}"),
                )
                .at(chunk));
            }
        }
    }
    Ok(())
}

fn page_stats<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let s = state.heap.stats();
    let (mapped, unmapped) = (state.log.pages_mapped(), state.log.pages_unmapped());
    if s.pages_mapped != mapped || s.pages_unmapped != unmapped {
        return Err(Failure::new(
            "stats() does not count the pages the heap really mapped and unmapped",
            format!("pages_mapped {mapped}, pages_unmapped {unmapped} (the page source's record)"),
            format!(
                "pages_mapped {}, pages_unmapped {}",
                s.pages_mapped, s.pages_unmapped
            ),
        ));
    }
    Ok(())
}

fn chunk_stats<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let s = state.heap.stats();
    let m = state.model;
    if s.chunks_allocated != m.mallocs || s.chunks_freed != m.frees {
        return Err(Failure::new(
            "stats() does not count the mallocs and frees done",
            format!(
                "chunks_allocated {} (successful mallocs), chunks_freed {} (frees)",
                m.mallocs, m.frees
            ),
            format!(
                "chunks_allocated {}, chunks_freed {}",
                s.chunks_allocated, s.chunks_freed
            ),
        ));
    }
    Ok(())
}

fn no_free_list<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let s = state.heap.stats();
    let walk = state.heap.free_blocks();
    if s.free_length != 0 || !walk.is_empty() {
        return Err(Failure::new(
            "this heap has no free list yet, but reports one",
            "free_length 0 and free_blocks() empty",
            format!(
                "free_length {}, free_blocks() has {} entries",
                s.free_length,
                walk.len()
            ),
        ));
    }
    Ok(())
}

fn no_reuse<H>(state: &State<'_, H>) -> CheckResult {
    let Some(b) = new_block(state) else {
        return Ok(());
    };
    let (start, end) = (b.addr - state.header, b.end());
    if let Some(&(f_start, f_end)) = state
        .model
        .freed
        .iter()
        .find(|&&(s, e)| start < e && s < end)
    {
        return Err(Failure::new(
            format!("{} reuses memory of a freed block", b.name()),
            "fresh memory: this heap does not reuse freed blocks (that comes with the free list)",
            format!(
                "{} is [{start:#x}, {end:#x}), a freed block was [{f_start:#x}, {f_end:#x})",
                b.name()
            ),
        )
        .at(b.addr));
    }
    Ok(())
}
