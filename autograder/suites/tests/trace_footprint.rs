//! A failed utilization test carries the heap's footprint over its trace,
//! for the HTML report to plot: lesson 4's heap (it never merges free
//! chunks) under lesson 5's test on the `coalescing` workload.

use heaplab_protocol::Outcome;
use heaplab_suites::harness::{run_one, DEFAULT_SEED};
use heaplab_suites::lesson5;

#[test]
fn a_failed_utilization_test_carries_its_footprint() {
    let suite = lesson5::suite(lesson4_solution::FreeListHeap::new);
    let test = suite
        .tests
        .iter()
        .find(|t| t.name == "utilization_coalescing_at_least_70")
        .expect("lesson 5 has the test");
    let Outcome::Failed { failure } = run_one(test, DEFAULT_SEED) else {
        panic!("a heap that never merges should fail the coalescing workload");
    };
    assert!(failure
        .what
        .contains("utilization on the `coalescing` workload"));
    let footprint = failure.footprint.expect("the footprint travels with it");
    assert_eq!(footprint.workload, "coalescing");
    assert!(footprint.samples.len() > 10, "{:?}", footprint.samples);
    let peak = |pick: fn(&(usize, usize, usize)) -> usize| {
        footprint.samples.iter().map(pick).max().unwrap()
    };
    assert!(peak(|s| s.1) > peak(|s| s.2), "more mapped than live");
    assert!(
        footprint.samples.windows(2).all(|w| w[0].0 <= w[1].0),
        "by operation"
    );
}
