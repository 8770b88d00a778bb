//! The heap checker of the free-list lessons: rules about the free list
//! (`free_blocks()`), the chunks that tile each run, and lesson 6's big
//! blocks, each a hook run after every operation.

use heaplab_kit::layout::{HEADER_BYTES, MIN_CHUNK_BYTES};
use heaplab_kit::{align_up, Block, Heap, ALIGN};

use super::{chunk_bytes_for, chunks_in, is_big, live_chunk, position, show, show_walk};
use crate::alloc::{CheckResult, Done, Failure, Mapping, PageEvent, State};

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
                format!("chunk #{n} at {:#x} of {} bytes", f.addr, f.size),
            )
            .at(f.addr));
        }
        if state.log.mapping_holding(f.addr, f.size).is_none() {
            return Err(Failure::new(
                format!("free chunk #{n} is not inside one mapped run"),
                "every free chunk inside the pages of one map call",
                format!("chunk #{n} is {}", show(f)),
            )
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
            .at(b.addr));
        }
    }
    Ok(())
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
        ));
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
            .at(b.addr));
        }
    }
    Ok(())
}

/// Every byte of a small run belongs to exactly one chunk, live or free: the
/// chunks tile each mapping from its first byte to its last. (A big block's
/// mapping holds one live chunk, which may end before the mapping does.)
pub fn chunks_tile_runs<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let walk = state.heap.free_blocks();
    let page = state.log.page_size();
    for m in state.log.mappings() {
        let chunks = chunks_in(state.heap, state.model, &walk, &m);
        let mut at = m.addr;
        for (c, owner) in &chunks {
            let name = match owner {
                Some(b) => format!("{}'s chunk", b.name()),
                None => format!("free chunk #{}", position(&walk, *c)),
            };
            if c.addr > at {
                return Err(Failure::new(
                    format!(
                        "{} bytes of map #{} belong to no chunk: lost memory (a split's rest not put \
                         back on the list? a new run's rest dropped? a block never freed?)",
                        c.addr - at,
                        m.serial
                    ),
                    format!("a live or free chunk starting at {at:#x}"),
                    format!("nothing until {name} at {:#x}", c.addr),
                )
                .at(at));
            }
            if c.addr < at {
                return Err(Failure::new(
                    format!("{name} overlaps the chunk before it in map #{}", m.serial),
                    format!("chunks side by side: the next one starting at {at:#x}"),
                    format!("{name} is {}", show(c)),
                )
                .at(c.addr));
            }
            at = c.end();
        }
        let lone_big = matches!(chunks.as_slice(), [(_, Some(b))] if is_big(b.size, page));
        if at < m.end() && !lone_big {
            return Err(Failure::new(
                format!(
                    "the last {} bytes of map #{} belong to no chunk: lost memory (a split's rest \
                     or a new run's rest not put on the list?)",
                    m.end() - at,
                    m.serial
                ),
                format!(
                    "chunks covering map #{} to its end, {:#x}",
                    m.serial,
                    m.end()
                ),
                format!("the last chunk ends at {at:#x}"),
            )
            .at(at));
        }
        if at > m.end() {
            return Err(Failure::new(
                format!("a chunk runs past the end of map #{}", m.serial),
                format!("every chunk inside its run, which ends at {:#x}", m.end()),
                format!("the last chunk ends at {at:#x}"),
            )
            .at(m.end() - 1));
        }
    }
    Ok(())
}

/// Lesson 5 on: a run with no live block in it is one free chunk, the whole
/// run (freeing every block of a run merges it back together).
pub fn empty_run_is_one_chunk<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let walk = state.heap.free_blocks();
    for m in state.log.mappings() {
        let chunks = chunks_in(state.heap, state.model, &walk, &m);
        if chunks.iter().any(|(_, owner)| owner.is_some()) {
            continue;
        }
        let whole = Block {
            addr: m.addr,
            size: m.len,
        };
        if chunks.len() != 1 || chunks[0].0 != whole {
            let found: Vec<String> = chunks.iter().map(|(c, _)| show(c)).collect();
            return Err(Failure::new(
                format!(
                    "map #{} holds no live block, but is not one free chunk: freeing its blocks \
                     should have merged them all",
                    m.serial
                ),
                format!("one free chunk, the whole run {}", show(&whole)),
                if found.is_empty() {
                    "no free chunk in it at all".to_string()
                } else {
                    format!("{} free chunks: {}", found.len(), found.join(", "))
                },
            )
            .at(m.addr));
        }
    }
    Ok(())
}

/// Lesson 6: a big block gets one mapping of its own, from its chunk's first
/// byte, whole pages, no more than it needs; freeing it unmaps exactly that
/// mapping; the small path never unmaps.
pub fn big_blocks_own_their_pages<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let page = state.log.page_size();
    let maps: Vec<Mapping> = state
        .page_events
        .iter()
        .filter_map(|e| match e {
            PageEvent::Mapped(m) => Some(*m),
            _ => None,
        })
        .collect();
    let unmaps: Vec<String> = state
        .page_events
        .iter()
        .filter_map(|e| match e {
            PageEvent::Unmapped(m) => Some(format!("unmap({:#x}, {})", m.addr, m.len)),
            PageEvent::BadUnmap { addr, len } => Some(format!("unmap({addr:#x}, {len})")),
            _ => None,
        })
        .collect();
    match state.done {
        Done::Malloc { size, id: Some(id) } if is_big(*size, page) => {
            let b = state.model.block(*id).expect("a new block is live");
            let chunk = b.addr - HEADER_BYTES;
            let need = chunk_bytes_for(*size).unwrap_or(usize::MAX);
            let want = align_up(need, page).unwrap_or(usize::MAX);
            let ok = matches!(maps.as_slice(), [m] if m.addr == chunk && m.len == want);
            if !ok {
                let found: Vec<String> = maps
                    .iter()
                    .map(|m| format!("map({}) = {:#x}", m.len, m.addr))
                    .collect();
                return Err(Failure::new(
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
                .at(b.addr));
            }
        }
        Done::Free(b) if is_big(b.size, page) => {
            let chunk = b.addr - HEADER_BYTES;
            let mapping = state.log.events().iter().rev().find_map(|e| match e {
                PageEvent::Mapped(m) if m.addr == chunk => Some(*m),
                _ => None,
            });
            let want = mapping.map_or_else(
                || format!("unmap({chunk:#x}, ...)"),
                |m| format!("unmap({:#x}, {}) (map #{})", m.addr, m.len, m.serial),
            );
            let ok = matches!(state.page_events, [PageEvent::Unmapped(m)] if m.addr == chunk);
            if !ok {
                return Err(Failure::new(
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
                .at(chunk));
            }
        }
        Done::Free(b) if !unmaps.is_empty() => {
            return Err(Failure::new(
                format!("free({}) of a small block unmapped pages", b.name()),
                "no unmap: small chunks go back on the free list; their runs stay mapped",
                unmaps.join(", "),
            )
            .at(b.addr));
        }
        _ => {}
    }
    Ok(())
}
