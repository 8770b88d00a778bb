//! The heap checker's rule about lesson 6's big blocks, a hook run after
//! every operation.

use heaplab_kit::layout::HEADER_BYTES;
use heaplab_kit::{align_up, Heap};

use super::{chunk_bytes_for, is_big};
use crate::alloc::{CheckResult, Done, Failure, LiveBlock, Mapping, PageEvent, State};
use heaplab_protocol::checks;

/// Lesson 6: a big block gets one mapping of its own, from its chunk's first
/// byte, whole pages, no more than it needs; freeing it unmaps exactly that
/// mapping; the small path never unmaps.
pub fn big_blocks_own_their_pages<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let page = state.log.page_size();
    let unmaps = unmaps_made(state);
    match state.done {
        Done::Malloc { size, id: Some(id) } if is_big(*size, page) => {
            let b = state.model.block(*id).expect("a new block is live");
            big_malloc_mapped(state, *size, b)
        }
        Done::Free(b) if is_big(b.size, page) => big_free_unmapped(state, b, &unmaps),
        Done::Free(b) if !unmaps.is_empty() => Err(Failure::new(
            format!("free({}) of a small block unmapped pages", b.name()),
            "no unmap: small chunks go back on the free list; their runs stay mapped",
            unmaps.join(", "),
        )
        .check(checks::SMALL_UNMAP)
        .at(b.addr)),
        _ => Ok(()),
    }
}

/// `malloc(size)`, big, made block `b`: one map of its chunk rounded up to
/// pages, starting with its header.
fn big_malloc_mapped<H>(state: &State<'_, H>, size: usize, b: &LiveBlock) -> CheckResult {
    let page = state.log.page_size();
    let maps: Vec<Mapping> = state
        .page_events
        .iter()
        .filter_map(|e| match e {
            PageEvent::Mapped(m) => Some(*m),
            _ => None,
        })
        .collect();
    let chunk = b.addr - HEADER_BYTES;
    let need = chunk_bytes_for(size).unwrap_or(usize::MAX);
    let want = align_up(need, page).unwrap_or(usize::MAX);
    if matches!(maps.as_slice(), [m] if m.addr == chunk && m.len == want) {
        return Ok(());
    }
    let found: Vec<String> = maps
        .iter()
        .map(|m| format!("map({}) = {:#x}", m.len, m.addr))
        .collect();
    Err(Failure::new(
        format!(
            "malloc({size}) is big (its chunk, header included, is at least a page) \
             but did not get pages of its own"
        ),
        format!(
            "one map({want}) (the {need}-byte chunk rounded up to pages) whose first \
             16 bytes are {}'s header, at {chunk:#x}",
            b.name()
        ),
        if found.is_empty() {
            format!("no map call; {} is at {:#x}", b.name(), b.addr)
        } else {
            format!("{}; {} is at {:#x}", found.join(", "), b.name(), b.addr)
        },
    )
    .check(checks::BIG_BLOCK_PAGES)
    .at(b.addr))
}

/// `free(b)`, big: exactly the mapping made for it unmapped, nothing else.
fn big_free_unmapped<H>(state: &State<'_, H>, b: &LiveBlock, unmaps: &[String]) -> CheckResult {
    let chunk = b.addr - HEADER_BYTES;
    if matches!(state.page_events, [PageEvent::Unmapped(m)] if m.addr == chunk) {
        return Ok(());
    }
    let mapping = state.log.events().iter().rev().find_map(|e| match e {
        PageEvent::Mapped(m) if m.addr == chunk => Some(*m),
        _ => None,
    });
    let want = mapping.map_or_else(
        || format!("unmap({chunk:#x}, ...)"),
        |m| format!("unmap({:#x}, {}) (map #{})", m.addr, m.len, m.serial),
    );
    Err(Failure::new(
        format!(
            "free({}) of a big block did not unmap exactly the pages mapped for it",
            b.name()
        ),
        format!("{want}, and nothing else"),
        if unmaps.is_empty() {
            "no unmap call (the pages stay mapped: a leak)".to_string()
        } else {
            unmaps.join(", ")
        },
    )
    .check(checks::BIG_BLOCK_UNMAP)
    .at(chunk))
}

/// The unmaps the operation just done made (exact or not), as calls.
fn unmaps_made<H>(state: &State<'_, H>) -> Vec<String> {
    state
        .page_events
        .iter()
        .filter_map(|e| match e {
            PageEvent::Unmapped(m) => Some(format!("unmap({:#x}, {})", m.addr, m.len)),
            PageEvent::BadUnmap { addr, len } => Some(format!("unmap({addr:#x}, {len})")),
            _ => None,
        })
        .collect()
}
