//! Lesson 3's suite: size headers (`HeaderHeap`).
//!
//! Lesson 2's properties, now with the 16-byte header counted as part of
//! every block, plus the header itself: the word 16 bytes before each payload
//! is the chunk size, and `usable_size` reads it. The properties are lesson
//! 2's table and [`HEADER_PROPERTIES`]; the scenarios, mostly lesson 2's
//! again, are [`scenarios`]'s table.

use std::rc::Rc;

use heaplab_kit::layout::HEADER_BYTES;
use heaplab_kit::Heap;
use heaplab_protocol::checks;

use crate::alloc::{self, Check, CheckResult, Config, Done, Failure, InstrumentedPages, State};
use crate::harness::{Suite, Test};
use crate::lesson2::{self, checks, maps_only_when_needed, CASES};

mod scenarios;

/// The property lesson 3 adds to lesson 2's [`lesson2::PROPERTIES`], in
/// the same form.
pub const HEADER_PROPERTIES: [(&str, &[Check]); 1] =
    [("headers_hold_chunk_sizes", &[Check::Headers])];

/// Lesson 3's tests, over heaps made by `make` (`student::HeaderHeap::new`).
pub fn suite<H, F>(make: F) -> Suite
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let make = Rc::new(make);
    let config = |more: &[Check]| Config::<H>::new(&checks(more)).with_headers();
    let prop = |more: &[Check]| config(more).cases(CASES);
    let mut tests: Vec<Test> = lesson2::PROPERTIES
        .iter()
        .chain(&HEADER_PROPERTIES)
        .map(|&(name, more)| alloc::property(name, make.clone(), prop(more)))
        .collect();
    tests.push(alloc::property(
        "usable_size_covers_the_request",
        make.clone(),
        prop(&[Check::UsableSize]).hook(checks::USABLE_SIZE, usable_size_reported::<H>),
    ));
    tests.push(alloc::property(
        "maps_only_when_needed",
        make.clone(),
        prop(&[]).hook(
            checks::MAPS_WHEN_NEEDED,
            maps_only_when_needed(HEADER_BYTES),
        ),
    ));
    tests.push(alloc::property(
        "survives_refused_maps",
        make.clone(),
        Config::new(&Check::ALL)
            .with_headers()
            .ops(lesson2::refusing())
            .cases(CASES),
    ));
    tests.extend(lesson2::scenarios::tests(
        &make,
        &scenarios::lesson3(),
        config,
    ));
    Suite {
        tests,
        programs: vec![crate::trace::replay_program(&make)],
    }
}

/// After a `malloc`, `usable_size` of the new block reports a size.
fn usable_size_reported<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let Done::Malloc { id: Some(id), .. } = state.done else {
        return Ok(());
    };
    let b = state.model.block(*id).expect("the new block is live");
    // SAFETY: b came from this heap's malloc and is not freed.
    match unsafe { state.heap.usable_size(b.ptr) } {
        Some(_) => Ok(()),
        None => Err(Failure::new(
            format!("usable_size({}) returned None", b.name()),
            "the usable bytes, read from the block's header",
            "None",
        )),
    }
}
