//! The check that `free` does not walk the free list
//! (`free_list::free_does_not_walk_the_list`) fails for the reason it names,
//! with no clock: lesson 4's `free`, a push at the head, passes; lesson 5's
//! and lesson 6's, which walk the address-ordered list to the chunk's place,
//! fail it.

use std::rc::Rc;

use heaplab_kit::Heap;
use heaplab_protocol::Outcome;
use heaplab_suites::alloc::InstrumentedPages;
use heaplab_suites::free_list::free_does_not_walk;
use heaplab_suites::harness::{run_one, DEFAULT_SEED};

/// The check's outcome on the heap `make` builds.
fn outcome<H: Heap + 'static>(make: impl Fn(InstrumentedPages) -> H + 'static) -> Outcome {
    run_one(&free_does_not_walk(&Rc::new(make)), DEFAULT_SEED)
}

#[test]
fn a_free_that_pushes_at_the_head_passes() {
    let got = outcome(lesson4_solution::FreeListHeap::new);
    assert!(matches!(got, Outcome::Passed), "{got:?}");
}

#[test]
fn a_free_that_walks_the_list_fails_naming_the_walk() {
    for (lesson, got) in [
        ("lesson 5", outcome(lesson5_solution::CoalescingHeap::new)),
        ("lesson 6", outcome(lesson6_solution::BigHeap::new)),
    ] {
        let Outcome::Failed { failure } = &got else {
            panic!("{lesson}: {got:?}");
        };
        assert!(
            failure.to_string().contains("walked the free list"),
            "{lesson}: {failure}"
        );
    }
}
