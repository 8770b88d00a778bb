//! Lesson 3's named scenarios and fault injection, as a table
//! ([`lesson3`]): lesson 2's that still hold with headers, four about
//! the header itself, free's junk fill, and two misuses `free` must stop.

use heaplab_kit::layout::HEADER_BYTES;
use heaplab_kit::Heap;

use crate::alloc::{fault, header_word, junk, misuse, Check, Failure, Session};
use crate::lesson2::scenarios::{
    expect_maps, fill_a_page, first_map_refused, free_is_counted, malloc_zero_is_unique,
    one_byte_costs_one_page, refused_map_returns_none, Row,
};

/// Lesson 3's scenarios, then its fault injection.
pub(super) fn lesson3<H: Heap>() -> Vec<Row<H>> {
    vec![
        ("one_byte_costs_one_page", &[], one_byte_costs_one_page),
        (
            "small_blocks_fill_a_page",
            &[Check::NoOverlap],
            small_blocks_fill_a_page,
        ),
        (
            "header_counts_toward_pages",
            &[Check::Headers],
            header_counts_toward_pages,
        ),
        (
            "header_survives_neighbour_writes",
            &[Check::Headers, Check::ContentsKept],
            header_survives_neighbour_writes,
        ),
        (
            "usable_size_is_at_least_the_request",
            &[Check::UsableSize],
            usable_size_is_at_least_the_request,
        ),
        (
            "free_leaves_neighbours_alone",
            &[Check::Headers, Check::ContentsKept],
            free_leaves_neighbours_alone,
        ),
        (
            "free_fills_the_payload_with_junk",
            &[Check::Headers],
            junk::freed_payload_is_junk,
        ),
        (
            "malloc_zero_is_unique_and_freeable",
            &[Check::Aligned, Check::NoOverlap, Check::Headers],
            malloc_zero_is_unique,
        ),
        ("free_is_counted", &[Check::ChunkStats], free_is_counted),
        // Fault injection, with every check on.
        (
            "refused_map_returns_none",
            &Check::ALL,
            refused_map_returns_none,
        ),
        ("first_map_refused", &Check::ALL, first_map_refused),
        (
            "hopeless_request_returns_none",
            &Check::ALL,
            fault::hopeless_requests,
        ),
        // Misuse free must stop loudly.
        (
            "double_free_is_stopped",
            &[],
            misuse::double_free_is_stopped,
        ),
        (
            "foreign_pointer_is_stopped",
            &[],
            misuse::foreign_pointer_is_stopped,
        ),
    ]
}

/// A page's worth of 16-byte blocks with their headers takes one page; one
/// more takes another.
fn small_blocks_fill_a_page<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    fill_a_page(s, 32, " (32 with their headers)")
}

/// A request of a page less the header fits in one page; a page does not.
fn header_counts_toward_pages<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let page = s.page_size();
    let mark = s.log().event_count();
    s.malloc(page - HEADER_BYTES)?;
    expect_maps(
        s,
        mark,
        &[page],
        "a0 = malloc(page - 16): with its header, exactly one page",
    )?;
    let mark = s.log().event_count();
    s.malloc(page)?;
    expect_maps(
        s,
        mark,
        &[2 * page],
        "a1 = malloc(page): with its header, more than one page",
    )
}

/// Writing the blocks on both sides leaves a block's header as it was.
fn header_survives_neighbour_writes<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let a = s.malloc(24)?;
    let b = s.malloc(24)?;
    let c = s.malloc(24)?;
    s.write(a)?;
    s.write(c)?;
    let size = header_word(s.block(b));
    s.ensure(size == 48, || {
        Failure::new(
            "a1's header changed after a0 and a2 wrote their payloads",
            "48 (16 of header + 24 rounded up to 32)",
            size.to_string(),
        )
        .at(s.block(b).addr)
    })?;
    s.free(b)
}

/// `usable_size` of a block is at least the size asked, for sizes around
/// the rounding's edges.
fn usable_size_is_at_least_the_request<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    for size in [0, 1, 15, 16, 17, 24, 100, 4000, 5000] {
        let id = s.malloc(size)?;
        // SAFETY: id is a live block of this heap.
        let usable = unsafe { s.heap().usable_size(s.ptr(id)) };
        s.ensure(usable.is_some_and(|u| u >= size), || {
            Failure::new(
                format!("usable_size(a{id}) after malloc({size})"),
                format!("Some(n) with n >= {size}, read from the header"),
                format!("{usable:?}"),
            )
        })?;
    }
    Ok(())
}

/// Freeing blocks in any order leaves the others' headers and bytes alone.
fn free_leaves_neighbours_alone<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let ids = [s.malloc(24)?, s.malloc(100)?, s.malloc(8)?, s.malloc(40)?];
    for id in ids {
        s.write(id)?;
    }
    s.free(ids[1])?;
    s.free(ids[3])?;
    s.free(ids[0])?;
    s.free(ids[2])
}
