//! Lesson 8's suite: the challenge, a drop-in allocator faster than the C
//! library's, graded on correctness first, then on speed and space.
//!
//! The correctness gate holds for any allocator, whatever its layout (no
//! header is assumed, no free list is walked): alignment, overlap,
//! contents, usable size, `realloc`, `calloc` and aligned blocks, fault
//! injection and freed memory used again, on the student's heap over the
//! grader's pages; threads through the student's library, read from
//! outside; and lesson 7's `GlobalAlloc` contract, C functions, real
//! programs, statistics and Rust program (fork included).
//!
//! The measured tests (`Test::measured`) come after: the course's two
//! Collatz programs in one and four threads, and the traces, against the
//! system allocator in the same test ([`measure`]); utilization on the
//! traces; peak memory on the programs. `course.toml` gives them their
//! thresholds, and the grader runs them only when the gate passed.
//!
//! In the checker (course.toml):
//!
//! ```text
//! heaplab_suites::lesson8::suite(heaplab_suites::remote::heap, heaplab_suites::remote::shared)
//! ```

use std::rc::Rc;

use heaplab_kit::FullHeap;

use crate::alloc::InstrumentedPages;
use crate::harness::{Suite, Test};
use crate::lesson7::ops::{self, Layout, Rules};
use crate::lesson7::SharedApi;

pub mod measure;
mod reuse;
mod space;
mod speed;
mod threads;
pub mod traces;

pub use speed::{Workload, WORKLOADS};

/// Lesson 8's tests: `make` builds the student's heap on the grader's
/// pages; `shared` makes it behind the student's lock (the `GlobalAlloc`
/// contract).
pub fn suite<H, S>(
    make: impl Fn(InstrumentedPages) -> H + 'static,
    shared: impl Fn() -> S + 'static,
) -> Suite
where
    H: FullHeap + 'static,
    S: SharedApi + 'static,
{
    let make = Rc::new(make);
    let mut tests = ops::properties(&make, properties());
    tests.push(ops::out_of_memory_test(&make, Layout::Any));
    tests.push(reuse::test(&make));
    tests.push(threads::test());
    tests.push(crate::lesson7::global_alloc::test(&Rc::new(shared)));
    tests.extend(crate::lesson7::outside_tests());
    tests.extend(measured(&make));
    Suite {
        tests,
        programs: vec![crate::trace::replay_program_realloc(&make)],
    }
}

/// The property tests of the gate: random C-style calls, each test with a
/// mix of its own, checked from the outside only.
fn properties() -> [(&'static str, Rules); 5] {
    let rules = |weights: [u32; 7], max_shift: u32| Rules {
        weights,
        in_place: false,
        max_shift,
        layout: Layout::Any,
    };
    [
        (
            "blocks_are_aligned_apart_and_kept",
            rules([4, 2, 2, 3, 3, 3, 0], 12),
        ),
        ("realloc_keeps_contents", rules([4, 0, 0, 5, 2, 3, 0], 4)),
        (
            "calloc_zeroes_and_refuses_overflow",
            rules([3, 4, 0, 0, 3, 3, 0], 4),
        ),
        (
            "aligned_blocks_from_16_bytes_to_a_page",
            rules([2, 0, 5, 2, 3, 3, 0], 12),
        ),
        (
            "random_map_refusals_are_survived",
            rules([3, 2, 2, 3, 3, 2, 2], 12),
        ),
    ]
}

/// The measured tests, in the manifest's order.
fn measured<H, F>(make: &Rc<F>) -> Vec<Test>
where
    H: FullHeap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let [list_1, list_4, vector_1, vector_4] = WORKLOADS;
    vec![
        speed::program_test("speed_list_1_thread", list_1),
        speed::program_test("speed_list_4_threads", list_4),
        speed::program_test("speed_vector_1_thread", vector_1),
        speed::program_test("speed_vector_4_threads", vector_4),
        speed::traces_test("speed_traces", make),
        space::utilization_test("utilization_traces", make),
        space::memory_test("memory_programs"),
    ]
}
