//! Out of memory: each call returns `None` and leaves the heap, and the
//! block it was given, as they were.

use std::ptr::NonNull;

use heaplab_kit::FullHeap;

use super::run::Run;
use super::{Layout, Op, Rules};
use crate::alloc::{Failure, InstrumentedPages};

/// When the page source refuses, each call returns `None` and leaves the
/// block it was given (realloc) intact and usable.
pub(super) fn out_of_memory<H: FullHeap>(
    make: &dyn Fn(InstrumentedPages) -> H,
    layout: Layout,
) -> Result<(), Failure> {
    let rules = Rules {
        weights: [0; 7],
        in_place: false,
        max_shift: 12,
        layout,
    };
    let mut run = Run::new(make, rules)?;
    run.apply(Op::Malloc(100))?;
    run.apply(Op::Write(0))?;
    run.apply(Op::Malloc(100))?; // a neighbour in use: growing a0 must move it
    run.log.refuse_all_maps(true);
    run.record("(the page source refuses every map from here on)".to_string());
    let ptr = NonNull::new(run.live[0].addr as *mut u8).expect("non-null");
    type Call<H> = Box<dyn Fn(&mut H) -> Option<NonNull<u8>>>;
    let calls: [(&str, Call<H>); 4] = [
        // SAFETY: a0 is live; on None it stays live.
        (
            "a2 = realloc(a0, 1000000)",
            Box::new(move |h: &mut H| unsafe { h.realloc(ptr, 1_000_000) }),
        ),
        (
            "a2 = calloc(1000, 1000)",
            Box::new(|h: &mut H| h.calloc(1000, 1000)),
        ),
        (
            "a2 = aligned(4096, 2000000)",
            Box::new(|h: &mut H| h.malloc_aligned(4096, 2_000_000)),
        ),
        (
            "a2 = malloc(1000000)",
            Box::new(|h: &mut H| h.malloc(1_000_000)),
        ),
    ];
    for (line, call) in calls {
        run.record(line.to_string());
        if let Some(p) = call(&mut run.heap) {
            return Err(run.fail(
                format!("{line} returned a block"),
                "None: the page source refused, and nothing free is big enough",
                format!("{:#x}", p.as_ptr() as usize),
            ));
        }
        run.check()?;
    }
    run.log.refuse_all_maps(false);
    run.record("(the page source maps again)".to_string());
    run.apply(Op::Realloc(0, 50))?;
    run.free_all()
}
