//! The checker's own walk of the free list, read from the heap's memory:
//! what the report shows when the student's process stopped (a `malloc`
//! that never returns because the list has become a cycle, a `free` that
//! crashed on a broken link), when the heap can no longer be asked.
//!
//! ```text
//!   chunk ─┬──────────────┬──────────────┬───────────────┐
//!          │ size: usize  │ flags: usize │ next: address │   a free chunk: its list link
//!          └──────────────┴──────────────┴───────────────┘   is the word right after the
//!          0              8              16 = LINK_OFFSET   16-byte header (lessons 4-7)
//! ```
//!
//! The walk starts from chunks the checker knows were on the list (the
//! list's first chunk before the step, the chunk just freed), follows each
//! link, and stops at the list's end (0), at a chunk it has seen before (a
//! cycle), or at a link that leads out of the mapped pages.

use std::collections::HashMap;

use heaplab_kit::layout::{HEADER_BYTES, LINK_OFFSET, MIN_CHUNK_BYTES};
use heaplab_kit::{Heap, ALIGN};
use heaplab_protocol::heap_state::ListEnd;

use heaplab_protocol::checks;

use crate::alloc::{Finding, Model, PageLog, Picture};

/// Chunks walked at most (a list this long is reported as such).
const LIMIT: usize = 100_000;

/// How a walk ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// A null link: the list ends.
    Null,
    /// The link of the last chunk points back to chunk number `to` (0-based).
    Cycle { to: usize },
    /// A link to an address outside every mapping (or not 16-aligned).
    Outside { addr: usize },
    /// More than `LIMIT` chunks.
    TooLong,
}

/// The chunks one walk visited, in order, and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walk {
    pub chunks: Vec<usize>,
    pub end: End,
}

/// The word at `addr` (inside a mapping of `log`, checked by the caller).
fn word(addr: usize) -> usize {
    // SAFETY: the caller checked that [addr, addr + 8) lies inside a live
    // mapping of the page source, whose runs are exposed when mapped; an
    // unaligned read is fine for any address.
    unsafe { std::ptr::with_exposed_provenance::<usize>(addr).read_unaligned() }
}

/// Walks the list from `head` through the links in memory.
pub fn walk(log: &PageLog, head: usize) -> Walk {
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut chunks = Vec::new();
    let mut at = head;
    let end = loop {
        if at == 0 {
            break End::Null;
        }
        if let Some(&to) = seen.get(&at) {
            break End::Cycle { to };
        }
        if !at.is_multiple_of(ALIGN)
            || log
                .mapping_holding(at, LINK_OFFSET + size_of::<usize>())
                .is_none()
        {
            break End::Outside { addr: at };
        }
        if chunks.len() >= LIMIT {
            break End::TooLong;
        }
        seen.insert(at, chunks.len());
        chunks.push(at);
        at = word(at + LINK_OFFSET);
    };
    Walk { chunks, end }
}

/// The walk in words: `#1 0x… → #2 0x… → back to #1: the list has a cycle`.
pub fn describe(w: &Walk) -> String {
    let shown: Vec<String> = w
        .chunks
        .iter()
        .take(12)
        .enumerate()
        .map(|(i, a)| format!("#{} {a:#x}", i + 1))
        .collect();
    let mut line = shown.join(" → ");
    if w.chunks.len() > 12 {
        line.push_str(&format!(" → … ({} chunks)", w.chunks.len()));
    }
    let last = w.chunks.len();
    let tail = match &w.end {
        End::Null => format!(" → end of list ({last} chunks)"),
        End::Cycle { to } => format!(
            " → back to #{}: free chunk #{last}'s next points back to #{}, the list has a \
             cycle, so a walk of it never ends",
            to + 1,
            to + 1
        ),
        End::Outside { addr } => format!(
            " → {addr:#x}: free chunk #{last}'s next leads outside the mapped pages (a link \
             overwritten, or a chunk used after it was handed out)"
        ),
        End::TooLong => format!(" → … more than {LIMIT} chunks"),
    };
    line.push_str(&tail);
    line
}

/// Where the walks start: the chunk freed last, then the list's chunks as
/// the heap reported them before the step (its first chunk first), then
/// the first chunk of each run that no live block holds (a run's first
/// chunk is free before anything is handed out of it: a hang in the very
/// first malloc still gets a walk).
fn heads<H: Heap>(heap: &H, model: &Model, log: &PageLog) -> Vec<usize> {
    let mut heads: Vec<usize> = model
        .freed
        .last()
        .map(|&(start, _)| start)
        .into_iter()
        .collect();
    heads.extend(heap.free_blocks().iter().map(|b| b.addr));
    let mut runs = log.mappings();
    runs.sort_by_key(|m| m.addr);
    heads.extend(runs.iter().map(|m| m.addr).filter(|&a| {
        !model
            .live
            .iter()
            .any(|b| b.addr.saturating_sub(HEADER_BYTES) == a)
    }));
    let mut seen = std::collections::HashSet::new();
    heads.retain(|h| seen.insert(*h));
    heads
}

/// The post-mortem of the free-list lessons: the most telling walk (a cycle
/// or a broken link if any start shows one, else the walk from the first
/// start), with the walked chunks painted on `pic` in list order.
pub fn post_mortem<H: Heap>(
    heap: &H,
    model: &Model,
    log: &PageLog,
    pic: &mut Picture,
) -> Option<Finding> {
    let starts = heads(heap, model, log);
    let walks: Vec<(usize, Walk)> = starts.iter().map(|&h| (h, walk(log, h))).collect();
    // A cycle is the most telling; then a link out of the pages; then the
    // walk from the first start.
    let (head, chosen) = walks
        .iter()
        .find(|(_, w)| matches!(w.end, End::Cycle { .. }))
        .or_else(|| walks.iter().find(|(_, w)| w.end != End::Null))
        .or_else(|| walks.first())?;
    paint(chosen, log, pic);
    Some(Finding {
        note: format!(
            "\nthe checker's own walk of the free list, read from memory from {head:#x}:\n  {}",
            describe(chosen)
        ),
        check: matches!(chosen.end, End::Cycle { .. }).then_some(checks::LIST_CYCLE),
    })
}

/// Paints the walked chunks as free chunks, numbered in walk order.
fn paint(w: &Walk, log: &PageLog, pic: &mut Picture) {
    let mut list = Vec::new();
    for (i, &addr) in w.chunks.iter().enumerate().take(512) {
        // The chunk's size word, if it is a plausible size inside the run.
        let size = word(addr);
        let size = match log.mapping_holding(addr, 1) {
            Some(m)
                if size >= MIN_CHUNK_BYTES && size.is_multiple_of(ALIGN) && m.holds(addr, size) =>
            {
                size
            }
            _ => MIN_CHUNK_BYTES,
        };
        list.push((addr, size));
        pic.paint(addr, size, '-');
        let mark = if i < 9 {
            char::from(b'1' + i as u8)
        } else {
            '+'
        };
        pic.paint(addr, HEADER_BYTES, mark);
    }
    let end = match w.end {
        End::Null => ListEnd::Null,
        End::Cycle { to } => ListEnd::Cycle { to },
        End::Outside { addr } => ListEnd::Outside { addr: addr as u64 },
        End::TooLong => ListEnd::TooLong,
    };
    pic.set_free_list(list, end);
    if !w.chunks.is_empty() {
        pic.legend("- free chunk");
        pic.legend("1-9 a chunk's header, numbered in the order the checker walked the list");
    }
}
