//! The heap checker's rules about the free list itself (`free_blocks()`),
//! each a hook run after every operation. The chunks that tile each run are
//! [`super::tiling`]'s, lesson 6's big blocks [`super::big_blocks`]'s.

use heaplab_kit::layout::MIN_CHUNK_BYTES;
use heaplab_kit::{Block, Heap, ALIGN};

use super::{live_chunk, position, show, show_walk};
use crate::alloc::{CheckResult, Failure, State};
use heaplab_protocol::checks;

/// The free list is sane enough to go on with: every free chunk a plausible
/// chunk inside one mapped run, overlapping no live chunk and no other free
/// chunk. Every free-list test checks this after every operation (a guard):
/// a list that breaks is reported at the step it broke, not later as a
/// `malloc` that loops forever on it.
pub fn list_is_sane<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let walk = state.heap.free_blocks();
    for (i, f) in walk.iter().enumerate() {
        let n = i + 1;
        if f.addr % ALIGN != 0 || f.size % ALIGN != 0 || f.size < MIN_CHUNK_BYTES {
            return Err(Failure::new(
                format!("free chunk #{n} on the list is not a valid chunk"),
                format!(
                    "a 16-aligned address and a size that is a multiple of 16, at least {MIN_CHUNK_BYTES} \
                     (a header and a list cell)"
                ),
                format!("chunk #{n} at {:#x} of {} bytes: {}", f.addr, f.size, invalid_because(f)),
            )
.check(checks::FREE_CHUNK_INVALID)
            .at(f.addr));
        }
        if state.log.mapping_holding(f.addr, f.size).is_none() {
            return Err(Failure::new(
                format!("free chunk #{n} is not inside one mapped run"),
                "every free chunk inside the pages of one map call",
                format!("chunk #{n} is {}", show(f)),
            )
            .check(checks::FREE_CHUNK_OUTSIDE)
            .at(f.addr));
        }
        for b in &state.model.live {
            let c = live_chunk(state.heap, b);
            if f.addr < c.end() && c.addr < f.end() {
                return Err(Failure::new(
                    format!(
                        "free chunk #{n} overlaps {}, which is live: a block handed out is still \
                         on the free list (or a split gave out its rest twice)",
                        b.name()
                    ),
                    format!(
                        "free chunks apart from live chunks; {}'s chunk is {}",
                        b.name(),
                        show(&c)
                    ),
                    format!("free chunk #{n} is {}", show(f)),
                )
                .check(checks::FREE_CHUNK_LIVE)
                .at(b.addr));
            }
        }
    }
    let mut sorted: Vec<(usize, Block)> = walk.iter().copied().enumerate().collect();
    sorted.sort_by_key(|(_, b)| b.addr);
    for pair in sorted.windows(2) {
        let ((i, a), (j, b)) = (pair[0], pair[1]);
        if b.addr < a.end() {
            return Err(Failure::new(
                format!(
                    "free chunks #{} and #{} overlap: the same memory is on the list twice",
                    i + 1,
                    j + 1
                ),
                "each free chunk on the list once, apart from the others",
                format!("#{} is {}, #{} is {}", i + 1, show(&a), j + 1, show(&b)),
            )
            .check(checks::FREE_CHUNKS_OVERLAP)
            .at(b.addr));
        }
    }
    Ok(())
}

/// Which rule of a chunk's shape `f` breaks, with its numbers.
fn invalid_because(f: &Block) -> String {
    if !f.addr.is_multiple_of(ALIGN) {
        format!("{:#x} is not a multiple of 16", f.addr)
    } else if !f.size.is_multiple_of(ALIGN) {
        format!("{} is not a multiple of 16", f.size)
    } else {
        format!(
            "{} is less than {MIN_CHUNK_BYTES}, too small for a header and a list cell",
            f.size
        )
    }
}

/// The free list checker: the list is sane ([`list_is_sane`]), and the walk
/// is as long as `stats().free_length` says.
pub fn free_list_consistent<H: Heap>(state: &State<'_, H>) -> CheckResult {
    list_is_sane(state)?;
    let walk = state.heap.free_blocks();
    let length = state.heap.stats().free_length;
    if length != walk.len() {
        return Err(Failure::new(
            "stats().free_length is not the length of the free list",
            format!(
                "{} (the chunks free_blocks() walks: {})",
                walk.len(),
                show_walk(&walk)
            ),
            format!("free_length {length}"),
        )
        .check(checks::FREE_LENGTH));
    }
    Ok(())
}

/// Lesson 5 on: the list is in address order, and no two free chunks of
/// one run touch.
pub fn address_ordered<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let walk = state.heap.free_blocks();
    for (i, pair) in walk.windows(2).enumerate() {
        let (a, b) = (pair[0], pair[1]);
        if b.addr <= a.addr {
            return Err(Failure::new(
                format!(
                    "the free list is not in address order: chunk #{} comes after #{} but lies below it",
                    i + 2,
                    i + 1
                ),
                "each free chunk at a higher address than the one before it on the list",
                format!("#{} at {:#x}, then #{} at {:#x}", i + 1, a.addr, i + 2, b.addr),
            )
.check(checks::ADDRESS_ORDER)
            .at(b.addr));
        }
    }
    let mut sorted = walk.clone();
    sorted.sort();
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let same_run = state
            .log
            .mapping_holding(a.addr, 1)
            .is_some_and(|m| m.holds(b.addr, b.size));
        if a.end() == b.addr && same_run {
            let (na, nb) = (position(&walk, a), position(&walk, b));
            return Err(Failure::new(
                format!("free chunks #{na} and #{nb} touch: free should have merged them into one"),
                format!(
                    "one free chunk {}",
                    show(&Block {
                        addr: a.addr,
                        size: a.size + b.size
                    })
                ),
                format!("#{na} is {} and #{nb} is {}", show(&a), show(&b)),
            )
            .check(checks::MISSED_MERGE)
            .at(b.addr));
        }
    }
    Ok(())
}
