//! The utilization tests lessons 5 and 6 grade with: the reference heaps
//! pass them, heaps that do not reuse memory well fail them, and the
//! numbers they judge are the same on every run.

use std::rc::Rc;

use heaplab_kit::Heap;
use heaplab_protocol::Outcome;
use heaplab_suites::alloc::InstrumentedPages;
use heaplab_suites::harness::run_one;
use heaplab_suites::trace::generate::{self, DEFAULT_SEED};
use heaplab_suites::trace::{metered, replay, utilization_test, HeapAllocator};

/// The tests the lessons register (kept in step with lesson5.rs and lesson6.rs
/// by `suites_register_the_utilization_tests`).
const LESSON5: [(&str, &str, u32); 2] = [
    ("utilization_binary_at_least_80", "binary", 80),
    ("utilization_coalescing_at_least_70", "coalescing", 70),
];
const LESSON6: [(&str, &str, u32); 2] = [
    ("utilization_big_blocks_at_least_90", "big-blocks", 90),
    ("utilization_realloc_at_least_65", "realloc", 65),
];

fn outcome<H, F>(test: (&'static str, &'static str, u32), make: F) -> Outcome
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let (name, workload, percent) = test;
    run_one(
        &utilization_test(name, workload, percent, &Rc::new(make)),
        0,
    )
}

fn failed_with(report: &Outcome, words: &str) -> bool {
    matches!(report, Outcome::Failed { failure } if failure.what.contains(words))
}

#[test]
fn the_lesson5_reference_passes_lesson5s_tests() {
    for test in LESSON5 {
        assert_eq!(
            outcome(test, lesson5_solution::CoalescingHeap::new),
            Outcome::Passed,
            "{}",
            test.0
        );
    }
}

#[test]
fn the_lesson6_reference_passes_lesson5s_and_lesson6s_tests() {
    for test in LESSON5.into_iter().chain(LESSON6) {
        assert_eq!(
            outcome(test, lesson6_solution::BigHeap::new),
            Outcome::Passed,
            "{}",
            test.0
        );
    }
}

#[test]
fn a_heap_that_never_reuses_fails_every_utilization_test() {
    for test in LESSON5.into_iter().chain(LESSON6) {
        let report = outcome(test, lesson2_solution::BumpHeap::new);
        assert!(
            failed_with(&report, "utilization on the"),
            "{}: {report:?}",
            test.0
        );
    }
}

#[test]
fn a_free_list_that_does_not_merge_fails_lesson5s_tests() {
    for test in LESSON5 {
        let report = outcome(test, lesson4_solution::FreeListHeap::new);
        assert!(failed_with(&report, "at least"), "{}: {report:?}", test.0);
    }
}

#[test]
fn a_heap_without_the_big_path_fails_lesson6s_tests() {
    for test in LESSON6 {
        let report = outcome(test, lesson5_solution::CoalescingHeap::new);
        assert!(failed_with(&report, "at least"), "{}: {report:?}", test.0);
    }
}

#[test]
fn a_stub_is_reported_as_not_implemented() {
    let report = outcome(LESSON5[0], lesson5::CoalescingHeap::new);
    assert!(
        matches!(report, Outcome::NotImplemented { .. }),
        "{report:?}"
    );
}

#[test]
fn utilization_is_the_same_on_every_run() {
    for name in ["binary", "realloc", "big-blocks"] {
        let trace = generate::workload(name, DEFAULT_SEED).unwrap();
        let peaks: Vec<(usize, usize)> = (0..3)
            .map(|_| {
                let (pages, log) = metered();
                let heap = lesson6_solution::BigHeap::new(pages);
                let c = replay::checked(&trace, &mut HeapAllocator(heap), &log);
                assert_eq!(c.failure, None);
                (c.peak_live, c.peak_mapped)
            })
            .collect();
        assert!(peaks.windows(2).all(|w| w[0] == w[1]), "{name}: {peaks:?}");
    }
}

#[test]
fn suites_register_the_utilization_tests() {
    let names = |suite: heaplab_suites::harness::Suite| -> Vec<&'static str> {
        suite.tests.iter().map(|t| t.name).collect()
    };
    let l5 = names(heaplab_suites::lesson5::suite(
        lesson5_solution::CoalescingHeap::new,
    ));
    let l6 = names(heaplab_suites::lesson6::suite(
        lesson6_solution::BigHeap::new,
    ));
    for (name, ..) in LESSON5 {
        assert!(l5.contains(&name), "lesson 5 lacks {name}");
    }
    // Lesson 6 keeps lesson 5's, as it keeps the rest of lesson 5's suite.
    for (name, ..) in LESSON5.into_iter().chain(LESSON6) {
        assert!(l6.contains(&name), "lesson 6 lacks {name}");
    }
}

#[test]
fn allocator_lessons_have_the_replay_program() {
    let suite = heaplab_suites::lesson4::suite(lesson4_solution::FreeListHeap::new);
    assert!(suite.programs.iter().any(|p| p.name == "replay"));
}
