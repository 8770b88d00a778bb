//! The properties every free-list lesson runs: random sequences, one idea
//! each, each with the guards it needs.

use std::rc::Rc;

use heaplab_kit::{Block, Heap};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use super::{
    address_ordered, chunks_tile_runs, config, empty_run_is_one_chunk, free_list_consistent,
    live_chunk, show, with_base, Rules, BASE,
};
use crate::alloc::{self, Check, Config, Failure, InstrumentedPages, Session};
use crate::cases;
use crate::harness::{Ctx, Test};
use heaplab_protocol::checks;

/// A seeded runner for the properties this module drives itself (same seed
/// scheme as `alloc::check_property`: the seed and the test's name).
fn runner(ctx: &Ctx, name: &str, cases: u32) -> TestRunner {
    cases::runner(ctx.seed, name, cases, 1024, *b"heaplab-freelist")
}

/// Memory is reused: malloc a random list of sizes, free them all in a
/// random order, then malloc the same sizes again, the last freed first (the
/// order lesson 4's list now holds them): every block must come from a freed
/// chunk, and not one new page may be mapped.
pub fn memory_is_reused<H, F>(name: &'static str, make: Rc<F>, rules: Rules) -> Test
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let config = Rc::new(config::<H>(&BASE, rules));
    Test::new(name, move |ctx| {
        let sizes = proptest::collection::vec(
            prop_oneof![4 => 0..=64usize, 3 => 65..=600usize, 1 => 601..=3000usize],
            1..=24,
        );
        let strategy = sizes.prop_flat_map(|sizes| {
            let order: Vec<usize> = (0..sizes.len()).collect();
            (Just(sizes), Just(order).prop_shuffle())
        });
        let mut runner = runner(ctx, name, 48);
        cases::run(&mut runner, &strategy, found, |(sizes, order)| {
            reuse_case(&*make, &config, &sizes, &order)
        })
    })
}

fn reuse_case<H: Heap>(
    make: &dyn Fn(InstrumentedPages) -> H,
    config: &Config<H>,
    sizes: &[usize],
    order: &[usize],
) -> Result<(), Failure> {
    let mut s = Session::new(make, config)?;
    let mut ids = Vec::new();
    for &size in sizes {
        ids.push(s.malloc(size)?);
    }
    let freed: Vec<Block> = ids
        .iter()
        .map(|&id| live_chunk(s.heap(), s.block(id)))
        .collect();
    for &i in order {
        s.free(ids[i])?;
    }
    let pages = s.log().pages_mapped();
    s.note("(from here on, every size again, the last freed first)");
    for &i in order.iter().rev() {
        let size = sizes[i];
        let id = s.malloc(size)?;
        let mapped = s.log().pages_mapped();
        let chunk = live_chunk(s.heap(), s.block(id));
        let reused = freed
            .iter()
            .any(|f| f.addr <= chunk.addr && chunk.end() <= f.end());
        s.ensure(mapped == pages && reused, || {
            Failure::new(
                format!(
                    "malloc({size}) did not reuse a freed chunk, although one of that size was \
                     at the head of the free list"
                ),
                format!(
                    "a chunk inside one of the chunks freed above (the one freed last that is \
                     not taken again yet: {}), and {pages} pages mapped as before",
                    show(&freed[i])
                ),
                format!("a chunk {}; {mapped} pages mapped", show(&chunk)),
            )
            .at(chunk.addr)
        })?;
    }
    s.free_all()?;
    s.finish()
}

/// The note under a failure of a random case.
fn found<T: ?Sized>(_: &T) -> String {
    "(the shortest failing case found, then every live block freed)".to_string()
}

/// The properties every free-list lesson runs: one idea each, each with the
/// guards it needs (alignment, the page source's contract, headers).
pub fn properties<H, F>(make: &Rc<F>, rules: Rules) -> Vec<Test>
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let prop = |name, config| alloc::property(name, make.clone(), config);
    let mut tests = vec![
        prop(
            "blocks_are_aligned_and_inside_mapped_pages",
            config::<H>(&[Check::SourceContract, Check::Aligned], rules),
        ),
        prop(
            "blocks_do_not_overlap",
            config::<H>(&with_base(&[Check::NoOverlap]), rules),
        ),
        prop(
            "contents_are_kept",
            config::<H>(&with_base(&[Check::ContentsKept]), rules),
        ),
        prop(
            "headers_hold_chunk_sizes",
            config::<H>(&with_base(&[Check::Headers, Check::UsableSize]), rules),
        ),
        prop(
            "stats_match_the_page_source",
            config::<H>(&with_base(&[Check::PageStats, Check::ChunkStats]), rules),
        ),
        prop(
            "free_list_is_consistent",
            config::<H>(&with_base(&[Check::Headers]), rules)
                .hook(checks::FREE_LENGTH, free_list_consistent::<H>),
        ),
        prop(
            "every_byte_belongs_to_one_chunk",
            config::<H>(&with_base(&[Check::Headers]), rules)
                .hook(checks::LOST_BYTES, chunks_tile_runs::<H>),
        ),
    ];
    if rules.coalescing {
        tests.push(prop(
            "free_list_is_in_address_order",
            config::<H>(&with_base(&[Check::Headers]), rules)
                .hook(checks::ADDRESS_ORDER, address_ordered::<H>),
        ));
        tests.push(prop(
            "freed_run_is_one_chunk",
            config::<H>(&with_base(&[Check::Headers]), rules)
                .hook(checks::EMPTY_RUN, empty_run_is_one_chunk::<H>),
        ));
    }
    // Fault injection: maps refused at random; malloc says None, never
    // panics, and the blocks already handed out keep their bytes.
    let mut refusals = config::<H>(
        &with_base(&[Check::NoOverlap, Check::ContentsKept, Check::ChunkStats]),
        rules,
    );
    refusals.ops.refuse_next_map = 1;
    tests.push(prop("random_map_refusals_are_survived", refusals));
    tests
}
