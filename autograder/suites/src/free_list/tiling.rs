//! The heap checker's rules about runs: every byte of a small run belongs to
//! exactly one chunk, and (lesson 5 on) a run with nothing live in it is one
//! free chunk. Each is a hook run after every operation.

use heaplab_kit::{Block, Heap};

use super::{chunks_in, is_big, position, show};
use crate::alloc::{CheckResult, Failure, State};
use heaplab_protocol::checks;

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
                .check(checks::LOST_BYTES)
                .at(at));
            }
            if c.addr < at {
                return Err(Failure::new(
                    format!("{name} overlaps the chunk before it in map #{}", m.serial),
                    format!("chunks side by side: the next one starting at {at:#x}"),
                    format!("{name} is {}", show(c)),
                )
                .check(checks::CHUNKS_OVERLAP)
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
            .check(checks::LOST_BYTES)
            .at(at));
        }
        if at > m.end() {
            return Err(Failure::new(
                format!("a chunk runs past the end of map #{}", m.serial),
                format!("every chunk inside its run, which ends at {:#x}", m.end()),
                format!("the last chunk ends at {at:#x}"),
            )
            .check(checks::CHUNKS_OVERLAP)
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
            .check(checks::EMPTY_RUN)
            .at(m.addr));
        }
    }
    Ok(())
}
