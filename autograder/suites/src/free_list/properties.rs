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
use crate::alloc::{self, Check, CheckResult, Config, Failure, InstrumentedPages, Session, State};
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

/// A lesson's own rule, run after every operation: its check name
/// (`heaplab_protocol::checks`) and the check.
type Rule<H> = (&'static str, fn(&State<'_, H>) -> CheckResult);

/// A row of the properties' table: the test's name, the built-in checks it
/// runs besides [`BASE`], and the heap checker's rule it adds, if any.
type Row<H> = (&'static str, &'static [Check], Option<Rule<H>>);

/// The properties every free-list lesson runs, one idea each.
fn common<H: Heap>() -> Vec<Row<H>> {
    vec![
        ("blocks_are_aligned_and_inside_mapped_pages", &[], None),
        ("blocks_do_not_overlap", &[Check::NoOverlap], None),
        ("contents_are_kept", &[Check::ContentsKept], None),
        (
            "headers_hold_chunk_sizes",
            &[Check::Headers, Check::UsableSize],
            None,
        ),
        (
            "stats_match_the_page_source",
            &[Check::PageStats, Check::ChunkStats],
            None,
        ),
        (
            "free_list_is_consistent",
            &[Check::Headers],
            Some((checks::FREE_LENGTH, free_list_consistent::<H>)),
        ),
        (
            "every_byte_belongs_to_one_chunk",
            &[Check::Headers],
            Some((checks::LOST_BYTES, chunks_tile_runs::<H>)),
        ),
    ]
}

/// The properties of coalescing (lessons 5 and 6).
fn coalescing<H: Heap>() -> Vec<Row<H>> {
    vec![
        (
            "free_list_is_in_address_order",
            &[Check::Headers],
            Some((checks::ADDRESS_ORDER, address_ordered::<H>)),
        ),
        (
            "freed_run_is_one_chunk",
            &[Check::Headers],
            Some((checks::EMPTY_RUN, empty_run_is_one_chunk::<H>)),
        ),
    ]
}

/// The properties every free-list lesson runs, and those of coalescing
/// when `rules` say so; last, random map refusals.
pub fn properties<H, F>(make: &Rc<F>, rules: Rules) -> Vec<Test>
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let mut rows = common::<H>();
    if rules.coalescing {
        rows.extend(coalescing::<H>());
    }
    let mut tests: Vec<Test> = rows
        .into_iter()
        .map(|(name, checks, rule)| {
            let mut config = config::<H>(&with_base(checks), rules);
            if let Some((what, check)) = rule {
                config = config.hook(what, check);
            }
            alloc::property(name, make.clone(), config)
        })
        .collect();
    // Fault injection: maps refused at random; malloc says None, never
    // panics, and the blocks already handed out keep their bytes.
    let mut refusals = config::<H>(
        &with_base(&[Check::NoOverlap, Check::ContentsKept, Check::ChunkStats]),
        rules,
    );
    refusals.ops.refuse_next_map = 1;
    tests.push(alloc::property(
        "random_map_refusals_are_survived",
        make.clone(),
        refusals,
    ));
    tests
}
