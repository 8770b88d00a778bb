//! Lesson 6's suite: chunks of a page or more get pages of their own and are
//! unmapped on free; the small path is lesson 5's and keeps its checks. The
//! big path's scenarios are [`scenarios`]'s table.

use std::rc::Rc;

use heaplab_kit::Heap;

use crate::alloc::{self, Check, InstrumentedPages};
use crate::free_list::{self, Rules};
use crate::harness::Suite;

mod scenarios;

/// Utilization on heaplab's generated workloads (traces/), a small share of
/// the points: lesson 5's [`crate::lesson5::UTILIZATION`], which the big
/// path must not spoil, and two of its own, in the same form.
pub const BIG_UTILIZATION: [(&str, &str, u32); 2] = [
    ("utilization_big_blocks_at_least_90", "big-blocks", 90),
    ("utilization_realloc_at_least_65", "realloc", 65),
];

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
    let mut rows = free_list::common();
    rows.extend(free_list::coalescing(rules));
    rows.extend(scenarios::big_path());
    tests.extend(free_list::tests(&make, rules, &rows));
    let utilization = crate::lesson5::UTILIZATION
        .into_iter()
        .chain(BIG_UTILIZATION);
    for (name, workload, percent) in utilization {
        tests.push(crate::trace::utilization_test(
            name, workload, percent, &make,
        ));
    }
    Suite {
        tests,
        programs: vec![crate::trace::replay_program(&make)],
    }
}
