//! Lesson 2's suite: the bump allocator (`BumpHeap`).
//!
//! Random sequences check one property each (aligned, inside mapped pages,
//! no overlap, contents kept, page and chunk counts, no reuse, maps only when
//! needed); named scenarios check one idea each; fault injection checks that
//! a refused map gives `None` and breaks nothing; four tests check the
//! student's own page source. Each kind is a table below or in its file:
//!
//! - [`PROPERTIES`] here, and [`maps_only_when_needed`], the bump heap's own
//!   rule, run after every operation;
//! - `scenarios`: the named scenarios and fault injection (lesson 3 runs
//!   most of them again, with headers);
//! - `page_source`: `MmapPages`, outside the heap.

use std::rc::Rc;

use heaplab_kit::Heap;
use heaplab_protocol::checks;

use crate::alloc::{self, Check, Config, InstrumentedPages, OpMix};
use crate::harness::{Suite, Test};
use crate::own_pages::OwnPages;

mod maps_only_when_needed;
mod page_source;
pub(crate) mod scenarios;

pub(crate) use maps_only_when_needed::maps_only_when_needed;

/// The checks every lesson 2 and 3 test keeps on: the page source's
/// contract (and, always, blocks inside mapped pages).
pub(crate) const BASE: [Check; 1] = [Check::SourceContract];

/// Every check of a bump heap without headers.
pub(crate) const BUMP_CHECKS: [Check; 10] = [
    Check::SourceContract,
    Check::InsideMapped,
    Check::Aligned,
    Check::NoOverlap,
    Check::ContentsKept,
    Check::UsableSize,
    Check::PageStats,
    Check::ChunkStats,
    Check::NoFreeList,
    Check::NoReuse,
];

/// Random sequences per property: a bump heap is quick to check, so many.
pub(crate) const CASES: u32 = 256;

/// Lesson 2's properties, one idea each: the test's name and the checks it
/// runs after every operation besides `BASE` (the page source's contract).
pub const PROPERTIES: [(&str, &[Check]); 7] = [
    ("blocks_are_aligned", &[Check::Aligned]),
    ("blocks_are_inside_mapped_pages", &[Check::InsideMapped]),
    ("blocks_do_not_overlap", &[Check::NoOverlap]),
    ("blocks_keep_their_contents", &[Check::ContentsKept]),
    ("stats_count_pages", &[Check::PageStats]),
    (
        "stats_count_chunks",
        &[Check::ChunkStats, Check::NoFreeList],
    ),
    ("freed_memory_is_not_reused", &[Check::NoReuse]),
];

/// `base` plus `more`.
pub(crate) fn checks(more: &[Check]) -> Vec<Check> {
    BASE.iter().chain(more).copied().collect()
}

/// Lesson 2's tests, over heaps made by `make` (`student::BumpHeap::new`).
pub fn suite<H, F>(make: F) -> Suite
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let make = Rc::new(make);
    let prop = |more: &[Check]| Config::<H>::new(&checks(more)).cases(CASES);
    let mut tests: Vec<Test> = PROPERTIES
        .iter()
        .map(|&(name, more)| alloc::property(name, make.clone(), prop(more)))
        .collect();
    tests.push(alloc::property(
        "maps_only_when_needed",
        make.clone(),
        prop(&[]).hook(checks::MAPS_WHEN_NEEDED, maps_only_when_needed(0)),
    ));
    tests.push(alloc::property(
        "survives_refused_maps",
        make.clone(),
        Config::new(&BUMP_CHECKS).ops(refusing()).cases(CASES),
    ));
    tests.extend(scenarios::tests(&make, &scenarios::lesson2(), |more| {
        Config::new(&checks(more))
    }));
    Suite {
        tests,
        programs: vec![crate::trace::replay_program(&make)],
    }
}

/// The default operation mix, with a refused map now and then.
pub(crate) fn refusing() -> OpMix {
    OpMix {
        refuse_next_map: 1,
        ..OpMix::default()
    }
}

/// Lesson 2's tests plus four that check the student's own page source
/// (`MmapPages`), which `suite` cannot reach: the grader hands the heap its
/// own pages instead. `pages` makes the student's source where the tests
/// can look at it from the outside: `heaplab_suites::remote::own_pages` in
/// the checker, `heaplab_suites::own_pages::local_pages(student::MmapPages::new)`
/// in a local harness.
pub fn suite_with_pages<H, F, P, G>(make: F, pages: G) -> Suite
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
    P: OwnPages + 'static,
    G: Fn() -> P + 'static,
{
    let mut suite = suite(make);
    suite.tests.extend(page_source::tests(Rc::new(pages)));
    suite
}
