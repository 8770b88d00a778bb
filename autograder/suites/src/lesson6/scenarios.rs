//! Lesson 6's scenarios, as a table ([`big_path`]): a big block's mapping of
//! its own, the threshold, and a refused big map.

use heaplab_kit::layout::HEADER_BYTES;
use heaplab_kit::{align_up, Heap, ALIGN};

use crate::alloc::{self, Failure, Mapping, PageEvent, Session};
use crate::free_list::Row;

/// The big path's scenarios.
pub(super) fn big_path<H: Heap>() -> Vec<Row<H>> {
    vec![
        (
            "big_block_gets_pages_of_its_own",
            big_block_gets_pages_of_its_own,
        ),
        (
            "threshold_is_a_one_page_chunk",
            threshold_is_a_one_page_chunk,
        ),
        (
            "refused_big_map_leaves_the_heap_working",
            refused_big_map_leaves_the_heap_working,
        ),
    ]
}

/// The mappings made since event `n`.
fn maps_since(log: &alloc::PageLog, n: usize) -> Vec<Mapping> {
    log.events_since(n)
        .into_iter()
        .filter_map(|e| match e {
            PageEvent::Mapped(m) => Some(m),
            _ => None,
        })
        .collect()
}

/// A big block gets one mapping of its own, and neither its `malloc` nor
/// its `free` touches the free list.
fn big_block_gets_pages_of_its_own<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let page = s.page_size();
    let small = s.malloc(100)?;
    s.write(small)?;
    let walk = s.heap().free_blocks();
    let mark = s.log().event_count();
    let big = s.malloc(3 * page)?;
    s.write(big)?;
    let want = align_up(3 * page + HEADER_BYTES, page).expect("small");
    let maps = maps_since(s.log(), mark);
    let chunk = s.block(big).addr - HEADER_BYTES;
    s.ensure(
        matches!(maps.as_slice(), [m] if m.addr == chunk && m.len == want),
        || {
            Failure::new(
                format!("malloc({}) did not get a mapping of its own", 3 * page),
                format!("one map({want}) starting with the block's header, at {chunk:#x}"),
                format!("{maps:x?}"),
            )
        },
    )?;
    let after = s.heap().free_blocks();
    s.ensure(after == walk, || {
        Failure::new(
            "a big malloc changed the free list",
            format!("{walk:x?}"),
            format!("{after:x?}"),
        )
    })?;
    s.free(big)?;
    let after = s.heap().free_blocks();
    s.ensure(after == walk, || {
        Failure::new(
            "freeing a big block changed the free list",
            format!("{walk:x?} (big blocks are never on it)"),
            format!("{after:x?}"),
        )
    })
}

/// A chunk just under a page stays small; a chunk of exactly one page,
/// header included, takes the big path.
fn threshold_is_a_one_page_chunk<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let page = s.page_size();
    s.malloc(16)?;
    // page - 32 bytes: a chunk of page - 16, small; page - 31: a chunk
    // of one page, big.
    let below_bytes = page - HEADER_BYTES - ALIGN;
    let mark = s.log().event_count();
    let below = s.malloc(below_bytes)?;
    let maps = maps_since(s.log(), mark);
    let addr = s.block(below).addr;
    s.ensure(maps.is_empty(), || {
        Failure::new(
            format!(
                "malloc({}) (a chunk of {} bytes, under a page) took the big path",
                below_bytes,
                page - ALIGN
            ),
            "no new mapping: the run mapped by malloc(16) has room",
            format!("{maps:x?}"),
        )
        .at(addr)
    })?;
    let mark = s.log().event_count();
    let at = s.malloc(below_bytes + 1)?;
    let maps = maps_since(s.log(), mark);
    let chunk = s.block(at).addr - HEADER_BYTES;
    s.ensure(
        matches!(maps.as_slice(), [m] if m.addr == chunk && m.len == page),
        || {
            Failure::new(
                format!(
                    "malloc({}) (a chunk of exactly one page, header included) did not \
                     take the big path",
                    below_bytes + 1
                ),
                format!("one map({page}) holding only this chunk, at {chunk:#x}"),
                format!("{maps:x?}"),
            )
            .at(chunk + HEADER_BYTES)
        },
    )
}

/// A refused big map returns `None`; the small path goes on working.
fn refused_big_map_leaves_the_heap_working<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let page = s.page_size();
    alloc::fault::survives_map_failure(s, &[100, 2 * page, 700], 5 * page, &[100, 5 * page, 2000])
}
