//! The `replay` program of a local harness (the suite and the student's
//! crate in one process): `harness --as replay TRACE...` over the grader's
//! instrumented pages. The program itself is `heaplab_traces::program`.

use std::rc::Rc;

use heaplab_kit::{Heap, Realloc};
use heaplab_traces::program::main;
use heaplab_traces::replay::{HeapAllocator, ReallocAllocator};

use super::pages::metered;
use crate::alloc::InstrumentedPages;
use crate::harness::Program;

/// The `replay` program for a lesson whose heap `make` builds; `r`
/// operations are replayed as malloc, copy, free. A lesson's `suite()` adds
/// it with `programs: vec![crate::trace::replay_program(&make)]`.
pub fn replay_program<H, F>(make: &Rc<F>) -> Program
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let make = make.clone();
    Program::new("replay", move |args: &[String]| {
        main(args, &|| {
            let (pages, log) = metered();
            (HeapAllocator(make(pages)), log)
        })
    })
}

/// The `replay` program for a heap with its own [`Realloc`]: `r`
/// operations call it.
pub fn replay_program_realloc<H, F>(make: &Rc<F>) -> Program
where
    H: Realloc + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let make = make.clone();
    Program::new("replay", move |args: &[String]| {
        main(args, &|| {
            let (pages, log) = metered();
            (ReallocAllocator(make(pages)), log)
        })
    })
}
