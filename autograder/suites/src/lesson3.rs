//! Lesson 3's suite: size headers (`HeaderHeap`).
//!
//! Lesson 2's properties, now with the 16-byte header counted as part of
//! every block, plus the header itself: the word 16 bytes before each payload
//! is the chunk size, and `usable_size` reads it.

use std::rc::Rc;

use heaplab_kit::Heap;

use crate::alloc::{
    self, fault, header_word, Check, Config, Done, Failure, InstrumentedPages, OpMix, HEADER,
};
use crate::harness::Suite;
use crate::lesson2::{
    checks, expect_maps, free_is_counted, malloc_zero_is_unique, maps_only_when_needed, CASES,
};
use heaplab_protocol::checks;

/// Every check of a bump heap with headers.
const HEADER_CHECKS: [Check; 11] = [
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

/// Lesson 3's tests, over heaps made by `make` (`student::HeaderHeap::new`).
pub fn suite<H, F>(make: F) -> Suite
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let make = Rc::new(make);
    let m = || make.clone();
    let prop = |more: &[Check]| Config::<H>::new(&checks(more)).with_headers().cases(CASES);
    let tests = vec![
        // Properties, one idea each, over random sequences.
        alloc::property("blocks_are_aligned", m(), prop(&[Check::Aligned])),
        alloc::property(
            "blocks_are_inside_mapped_pages",
            m(),
            prop(&[Check::InsideMapped]),
        ),
        alloc::property("blocks_do_not_overlap", m(), prop(&[Check::NoOverlap])),
        alloc::property(
            "blocks_keep_their_contents",
            m(),
            prop(&[Check::ContentsKept]),
        ),
        alloc::property("headers_hold_chunk_sizes", m(), prop(&[Check::Headers])),
        alloc::property(
            "usable_size_covers_the_request",
            m(),
            prop(&[Check::UsableSize]).hook(checks::USABLE_SIZE, |state| {
                let Done::Malloc { id: Some(id), .. } = state.done else {
                    return Ok(());
                };
                let b = state.model.block(*id).expect("the new block is live");
                // SAFETY: b came from this heap's malloc and is not freed.
                match unsafe { state.heap.usable_size(b.ptr) } {
                    Some(_) => Ok(()),
                    None => Err(Failure::new(
                        format!("usable_size({}) returned None", b.name()),
                        "the usable bytes, read from the block's header",
                        "None",
                    )),
                }
            }),
        ),
        alloc::property("stats_count_pages", m(), prop(&[Check::PageStats])),
        alloc::property(
            "stats_count_chunks",
            m(),
            prop(&[Check::ChunkStats, Check::NoFreeList]),
        ),
        alloc::property("freed_memory_is_not_reused", m(), prop(&[Check::NoReuse])),
        alloc::property(
            "maps_only_when_needed",
            m(),
            prop(&[]).hook(checks::MAPS_WHEN_NEEDED, maps_only_when_needed(HEADER)),
        ),
        alloc::property(
            "survives_refused_maps",
            m(),
            Config::new(&HEADER_CHECKS)
                .with_headers()
                .ops(OpMix {
                    refuse_next_map: 1,
                    ..OpMix::default()
                })
                .cases(CASES),
        ),
        // Scenarios, one idea each.
        alloc::scenario("one_byte_costs_one_page", m(), prop(&[]), |s| {
            let page = s.page_size();
            let mark = s.log().event_count();
            s.malloc(1)?;
            expect_maps(s, mark, &[page], "a0 = malloc(1)")?;
            let mark = s.log().event_count();
            s.malloc(1)?;
            expect_maps(s, mark, &[], "a1 = malloc(1), with a0's page mostly empty")
        }),
        alloc::scenario(
            "small_blocks_fill_a_page",
            m(),
            prop(&[Check::NoOverlap]),
            |s| {
                let page = s.page_size();
                let mark = s.log().event_count();
                for _ in 0..page / 32 {
                    s.malloc(16)?;
                }
                let what = format!("{} blocks of 16 bytes (32 with their headers)", page / 32);
                expect_maps(s, mark, &[page], &what)?;
                let mark = s.log().event_count();
                s.malloc(16)?;
                expect_maps(s, mark, &[page], "one more block, with the page full")
            },
        ),
        alloc::scenario(
            "header_counts_toward_pages",
            m(),
            prop(&[Check::Headers]),
            |s| {
                let page = s.page_size();
                let mark = s.log().event_count();
                s.malloc(page - HEADER)?;
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
            },
        ),
        alloc::scenario(
            "header_survives_neighbour_writes",
            m(),
            prop(&[Check::Headers, Check::ContentsKept]),
            |s| {
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
            },
        ),
        alloc::scenario(
            "usable_size_is_at_least_the_request",
            m(),
            prop(&[Check::UsableSize]),
            |s| {
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
            },
        ),
        alloc::scenario(
            "free_leaves_neighbours_alone",
            m(),
            prop(&[Check::Headers, Check::ContentsKept]),
            |s| {
                let ids = [s.malloc(24)?, s.malloc(100)?, s.malloc(8)?, s.malloc(40)?];
                for id in ids {
                    s.write(id)?;
                }
                s.free(ids[1])?;
                s.free(ids[3])?;
                s.free(ids[0])?;
                s.free(ids[2])
            },
        ),
        alloc::scenario(
            "malloc_zero_is_unique_and_freeable",
            m(),
            prop(&[Check::Aligned, Check::NoOverlap, Check::Headers]),
            malloc_zero_is_unique,
        ),
        alloc::scenario(
            "free_is_counted",
            m(),
            prop(&[Check::ChunkStats]),
            free_is_counted,
        ),
        // Fault injection.
        alloc::scenario(
            "refused_map_returns_none",
            m(),
            Config::new(&HEADER_CHECKS).with_headers(),
            |s| {
                let page = s.page_size();
                fault::survives_map_failure(s, &[24, 100, 3000], 2 * page, &[24, 5000])
            },
        ),
        alloc::scenario(
            "first_map_refused",
            m(),
            Config::new(&HEADER_CHECKS).with_headers(),
            |s| fault::first_map_fails(s, 1),
        ),
        alloc::scenario(
            "hopeless_request_returns_none",
            m(),
            Config::new(&HEADER_CHECKS).with_headers(),
            fault::hopeless_requests,
        ),
        // Misuse free must stop loudly.
        alloc::scenario(
            "double_free_is_stopped",
            m(),
            prop(&[]),
            alloc::misuse::double_free_is_stopped,
        ),
        alloc::scenario(
            "foreign_pointer_is_stopped",
            m(),
            prop(&[]),
            alloc::misuse::foreign_pointer_is_stopped,
        ),
    ];
    Suite {
        tests,
        programs: vec![crate::trace::replay_program(&make)],
    }
}
