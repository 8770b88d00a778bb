//! Lesson 6's suite: chunks of a page or more get pages of their own and are
//! unmapped on free; the small path is lesson 5's and keeps its checks.

use std::rc::Rc;

use heaplab_kit::{align_up, Heap};

use crate::alloc::{self, Check, Failure, InstrumentedPages, Mapping, PageEvent};
use crate::free_list::{self, Rules};
use crate::harness::Suite;

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

/// Lesson 6's tests for the heap `make` builds.
pub fn suite<H: Heap + 'static>(make: impl Fn(InstrumentedPages) -> H + 'static) -> Suite {
    let make = Rc::new(make);
    let rules = Rules::LESSON6;
    let mut tests = free_list::properties(&make, rules);
    tests.push(alloc::property(
        "big_blocks_are_unmapped_exactly",
        make.clone(),
        free_list::config::<H>(&[Check::Aligned, Check::Headers], rules).hook(
            heaplab_protocol::checks::BIG_BLOCK_PAGES,
            free_list::big_blocks_own_their_pages::<H>,
        ),
    ));
    tests.extend(free_list::scenarios(&make, rules));
    tests.extend(crate::lesson5::coalescing_scenarios(&make, rules));
    tests.push(free_list::scenario(
        "big_block_gets_pages_of_its_own",
        &make,
        rules,
        |s| {
            let page = s.page_size();
            let small = s.malloc(100)?;
            s.write(small)?;
            let walk = s.heap().free_blocks();
            let mark = s.log().event_count();
            let big = s.malloc(3 * page)?;
            s.write(big)?;
            let want = align_up(3 * page + 16, page).expect("small");
            let maps = maps_since(s.log(), mark);
            let chunk = s.block(big).addr - 16;
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
        },
    ));
    tests.push(free_list::scenario(
        "threshold_is_a_one_page_chunk",
        &make,
        rules,
        |s| {
            let page = s.page_size();
            s.malloc(16)?;
            // page - 32 bytes: a chunk of page - 16, small; page - 31: a chunk
            // of one page, big.
            let mark = s.log().event_count();
            let below = s.malloc(page - 32)?;
            let maps = maps_since(s.log(), mark);
            let addr = s.block(below).addr;
            s.ensure(maps.is_empty(), || {
                Failure::new(
                    format!(
                        "malloc({}) (a chunk of {} bytes, under a page) took the big path",
                        page - 32,
                        page - 16
                    ),
                    "no new mapping: the run mapped by malloc(16) has room",
                    format!("{maps:x?}"),
                )
                .at(addr)
            })?;
            let mark = s.log().event_count();
            let at = s.malloc(page - 31)?;
            let maps = maps_since(s.log(), mark);
            let chunk = s.block(at).addr - 16;
            s.ensure(
                matches!(maps.as_slice(), [m] if m.addr == chunk && m.len == page),
                || {
                    Failure::new(
                        format!(
                            "malloc({}) (a chunk of exactly one page, header included) did not \
                             take the big path",
                            page - 31
                        ),
                        format!("one map({page}) holding only this chunk, at {chunk:#x}"),
                        format!("{maps:x?}"),
                    )
                    .at(chunk + 16)
                },
            )
        },
    ));
    tests.push(free_list::scenario(
        "refused_big_map_leaves_the_heap_working",
        &make,
        rules,
        |s| {
            let page = s.page_size();
            alloc::fault::survives_map_failure(
                s,
                &[100, 2 * page, 700],
                5 * page,
                &[100, 5 * page, 2000],
            )
        },
    ));
    // Utilization on heaplab's generated workloads (traces/), a small share of the points:
    // lesson 5's two, which the big path must not spoil, and two of its own.
    for (name, workload, percent) in [
        ("utilization_binary_at_least_80", "binary", 80),
        ("utilization_coalescing_at_least_70", "coalescing", 70),
        ("utilization_big_blocks_at_least_90", "big-blocks", 90),
        ("utilization_realloc_at_least_65", "realloc", 65),
    ] {
        tests.push(crate::trace::utilization_test(
            name, workload, percent, &make,
        ));
    }
    Suite {
        tests,
        programs: vec![crate::trace::replay_program(&make)],
    }
}
