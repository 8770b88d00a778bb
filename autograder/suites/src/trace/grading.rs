//! The utilization tests lessons 5 and 6 give points for: replay one of the
//! generated workloads with every check on and require a share of the mapped
//! memory to hold live payload. Deterministic: utilization depends only on
//! the heap's choices, never on the machine's speed.

use std::rc::Rc;

use heaplab_kit::Heap;

use super::generate::{self, DEFAULT_SEED};
use super::pages::metered;
use super::replay::{self, HeapAllocator};
use crate::alloc::InstrumentedPages;
use crate::harness::Test;

/// A test named `name` that passes when the heap `make` builds keeps a
/// utilization of at least `min_percent` on `workload` (one of
/// [`generate::WORKLOADS`], for [`DEFAULT_SEED`]: the file `traces/<workload>.rep`).
///
/// Panics (when the suite is built) if `workload` is not a known workload.
pub fn utilization_test<H, F>(
    name: &'static str,
    workload: &'static str,
    min_percent: u32,
    make: &Rc<F>,
) -> Test
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let about = generate::WORKLOADS
        .iter()
        .find(|w| w.name == workload)
        .unwrap_or_else(|| panic!("utilization_test: no workload named {workload:?}"))
        .about;
    let make = make.clone();
    Test::new(name, move |_ctx| {
        let trace = generate::workload(workload, DEFAULT_SEED).expect("checked above");
        let (pages, log) = metered();
        let mut heap = HeapAllocator(make(pages));
        let checked = replay::checked(&trace, &mut heap, &log);
        if let Some(failure) = &checked.failure {
            return Err(format!(
                "the `{workload}` workload (traces/{workload}.rep) failed at {failure}\n\
                 Replay it with `cargo grade bench <lesson> --traces traces` to see every trace."
            ));
        }
        let percent = 100.0 * checked.utilization();
        if percent >= f64::from(min_percent) {
            return Ok(());
        }
        Err(format!(
            "utilization on the `{workload}` workload (traces/{workload}.rep) is {percent:.1}%, \
             at least {min_percent}% is needed.\n\
             The workload: {about}.\n\
             At most {} bytes of payload were live at once, but the heap had {} bytes mapped \
             at its peak ({} more than the payload).\n\
             Memory freed must be found again: look at how free chunks are split, merged and \
             searched. `cargo grade bench <lesson> --plot footprint.svg` draws the footprint \
             over the trace.",
            checked.peak_live,
            checked.peak_mapped,
            checked.peak_mapped.saturating_sub(checked.peak_live),
        ))
    })
}
