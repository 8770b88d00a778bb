//! The scenarios of coalescing (lessons 5 and 6) as a table
//! ([`coalescing`]): the three merges and the lecture's fragmentation case.

use heaplab_kit::layout::HEADER_BYTES;
use heaplab_kit::{Block, Heap, ALIGN};

use super::scenarios::{neighbours, Row};
use super::{free_chunk_sizes, live_chunk, show, Rules};
use crate::alloc::{Failure, Session};

/// The merge scenarios and the lecture's case, for lessons 5 and 6.
pub fn coalescing<H: Heap>(rules: Rules) -> Vec<Row<H>> {
    let lecture: Row<H> = if rules.big_blocks {
        ("lecture_fragmentation_case", lecture_case_below_a_page)
    } else {
        ("lecture_fragmentation_case", lecture_case_5000)
    };
    vec![
        (
            "free_merges_with_the_block_after",
            merges_with_the_block_after,
        ),
        (
            "free_merges_with_the_block_before",
            merges_with_the_block_before,
        ),
        (
            "free_merges_with_both_neighbours",
            merges_with_both_neighbours,
        ),
        lecture,
    ]
}

fn merges_with_the_block_after<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    merge_case(s, &[1, 0], "the free block after it")
}

fn merges_with_the_block_before<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    merge_case(s, &[0, 1], "the free block before it")
}

fn merges_with_both_neighbours<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    merge_case(s, &[0, 2, 1], "the free blocks on both sides")
}

/// The lecture's case as lesson 5 tells it: ten 816-byte chunks make 8160
/// bytes, enough for 5000.
fn lecture_case_5000<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    lecture_case(s, 200, 10, 5000)
}

/// Lesson 6 serves 5000 on the big path, so there the request is the
/// largest small one, a chunk just under a page.
fn lecture_case_below_a_page<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let request = s.page_size() - HEADER_BYTES - ALIGN;
    lecture_case(s, 200, 10, request)
}

/// The lecture's fragmentation case: `count` blocks of 800 bytes, the heap
/// otherwise full (maps refused, 800-byte blocks taken until none fits),
/// then `freed` neighbouring blocks freed: `malloc(request)` must be served
/// from their merged chunk, without new pages.
pub fn lecture_case<H: Heap>(
    s: &mut Session<'_, H>,
    count: usize,
    freed: usize,
    request: usize,
) -> Result<(), Failure> {
    let ids = fill_with_800s(s, count)?;
    let (span, neighbours) = neighbouring_chunks(s, &ids, freed)?;
    for &id in neighbours {
        s.free(id)?;
    }
    let got = s.try_malloc(request)?;
    let walk = s.heap().free_blocks();
    let Some(id) = got else {
        return Err(s.fail_now(
            Failure::new(
                format!(
                    "malloc({request}) needed new pages after {freed} neighbouring 800-byte \
                     blocks were freed"
                ),
                format!("a block from their merged chunk {}", show(&span)),
                format!(
                    "None (it asked for pages); the free list is {}",
                    free_chunk_sizes(&walk)
                ),
            )
            .at(span.addr),
        ));
    };
    let c = live_chunk(s.heap(), s.block(id));
    s.ensure(c.addr >= span.addr && c.end() <= span.end(), || {
        Failure::new(
            format!("malloc({request}) was not served from the merged chunk"),
            format!("a chunk inside {}", show(&span)),
            format!("a chunk {}", show(&c)),
        )
        .at(c.addr)
    })
}

/// `count` blocks of 800 bytes, then, with every map refused from here on,
/// as many more as fit: the blocks, by address.
fn fill_with_800s<H: Heap>(s: &mut Session<'_, H>, count: usize) -> Result<Vec<usize>, Failure> {
    let mut ids = Vec::new();
    for _ in 0..count {
        ids.push(s.malloc(800)?);
    }
    s.log().refuse_all_maps(true);
    s.note("(the page source refuses every map from here on)");
    for _ in 0..10_000 {
        match s.try_malloc(800)? {
            Some(id) => ids.push(id),
            None => break,
        }
    }
    ids.sort_by_key(|&id| s.block(id).addr);
    Ok(ids)
}

/// The first `freed` blocks of `ids` (by address) whose chunks lie side by
/// side in one run: the span of their chunks, and the blocks.
fn neighbouring_chunks<'i, H: Heap>(
    s: &Session<'_, H>,
    ids: &'i [usize],
    freed: usize,
) -> Result<(Block, &'i [usize]), Failure> {
    let chunks: Vec<Block> = ids
        .iter()
        .map(|&id| live_chunk(s.heap(), s.block(id)))
        .collect();
    let start = (0..chunks.len().saturating_sub(freed - 1)).find(|&i| {
        chunks[i..i + freed]
            .windows(2)
            .all(|w| w[0].end() == w[1].addr)
            && s.log()
                .mapping_holding(chunks[i].addr, chunks[i + freed - 1].end() - chunks[i].addr)
                .is_some()
    });
    let Some(start) = start else {
        return Err(s.fail_now(Failure::new(
            format!("no {freed} of the 800-byte blocks are neighbours in one run"),
            format!("runs big enough for {freed} chunks of 816 bytes side by side (RUN_MIN_BYTES)"),
            "every run holds fewer, or the chunks are not side by side",
        )));
    };
    let span = Block {
        addr: chunks[start].addr,
        size: chunks[start + freed - 1].end() - chunks[start].addr,
    };
    Ok((span, &ids[start..start + freed]))
}
/// The three merges of lesson 5, with the block before, after, and both:
/// `order` frees A, B, C (neighbours, in address order) by index; the
/// result must be one free chunk from A's start to the end of the last.
pub fn merge_case<H: Heap>(
    s: &mut Session<'_, H>,
    order: &[usize],
    what: &str,
) -> Result<(), Failure> {
    let ids = neighbours(s, 3, 100)?;
    let chunks: Vec<Block> = ids
        .iter()
        .map(|&id| live_chunk(s.heap(), s.block(id)))
        .collect();
    let freed: Vec<Block> = order.iter().map(|&i| chunks[i]).collect();
    for &i in order {
        s.free(ids[i])?;
    }
    let lo = freed.iter().map(|c| c.addr).min().expect("some");
    let hi = freed.iter().map(|c| c.end()).max().expect("some");
    let want = Block {
        addr: lo,
        size: hi - lo,
    };
    let walk = s.heap().free_blocks();
    s.ensure(walk.contains(&want), || {
        Failure::new(
            format!("free did not merge the chunk with {what}"),
            format!("one free chunk {}", show(&want)),
            format!("the free list is {}", free_chunk_sizes(&walk)),
        )
        .at(lo)
    })
}
