//! Lesson 5's suite: the free list in address order, and `free` merging a
//! chunk with its free neighbours. Lesson 4's checks still run.

use std::rc::Rc;

use heaplab_kit::Heap;

use crate::alloc::InstrumentedPages;
use crate::free_list::{self, Rules};
use crate::harness::Suite;

/// Utilization on heaplab's generated workloads (traces/), a small share of
/// the points: the test's name, the workload and the least percentage.
pub const UTILIZATION: [(&str, &str, u32); 2] = [
    ("utilization_binary_at_least_80", "binary", 80),
    ("utilization_coalescing_at_least_70", "coalescing", 70),
];

/// Lesson 5's tests for the heap `make` builds.
pub fn suite<H: Heap + 'static>(make: impl Fn(InstrumentedPages) -> H + 'static) -> Suite {
    let make = Rc::new(make);
    let rules = Rules::LESSON5;
    let mut tests = free_list::properties(&make, rules);
    let mut scenarios = free_list::common();
    scenarios.extend(free_list::coalescing(rules));
    tests.extend(free_list::tests(&make, rules, &scenarios));
    for (name, workload, percent) in UTILIZATION {
        tests.push(crate::trace::utilization_test(
            name, workload, percent, &make,
        ));
    }
    Suite {
        tests,
        programs: vec![crate::trace::replay_program(&make)],
    }
}
