//! Lesson 5's suite: the free list in address order, and `free` merging a
//! chunk with its free neighbours. Lesson 4's checks still run.

use std::rc::Rc;

use heaplab_kit::Heap;

use crate::alloc::InstrumentedPages;
use crate::free_list::{self, Rules};
use crate::harness::{Suite, Test};

/// The merge scenarios and the lecture's case, for lessons 5 and 6.
pub fn coalescing_scenarios<H, F>(make: &Rc<F>, rules: Rules) -> Vec<Test>
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    vec![
        free_list::scenario("free_merges_with_the_block_after", make, rules, |s| {
            free_list::merge_case(s, &[1, 0], "the free block after it")
        }),
        free_list::scenario("free_merges_with_the_block_before", make, rules, |s| {
            free_list::merge_case(s, &[0, 1], "the free block before it")
        }),
        free_list::scenario("free_merges_with_both_neighbours", make, rules, |s| {
            free_list::merge_case(s, &[0, 2, 1], "the free blocks on both sides")
        }),
        free_list::scenario("lecture_fragmentation_case", make, rules, move |s| {
            // Ten 816-byte chunks make 8160 bytes: enough for 5000. Lesson 6
            // serves 5000 on the big path, so there the request is the
            // largest small one, a chunk just under a page.
            let request = if rules.big_blocks {
                s.page_size() - 32
            } else {
                5000
            };
            free_list::lecture_case(s, 200, 10, request)
        }),
    ]
}

/// Lesson 5's tests for the heap `make` builds.
pub fn suite<H: Heap + 'static>(make: impl Fn(InstrumentedPages) -> H + 'static) -> Suite {
    let make = Rc::new(make);
    let rules = Rules::LESSON5;
    let mut tests = free_list::properties(&make, rules);
    tests.extend(free_list::scenarios(&make, rules));
    tests.extend(coalescing_scenarios(&make, rules));
    // Utilization on heaplab's generated workloads (traces/), a small share of the points.
    for (name, workload, percent) in [
        ("utilization_binary_at_least_80", "binary", 80),
        ("utilization_coalescing_at_least_70", "coalescing", 70),
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
