//! The utilization tests lessons 5 and 6 give points for: replay one of the
//! generated workloads with every check on and require a share of the mapped
//! memory to hold live payload. Deterministic: utilization depends only on
//! the heap's choices, never on the machine's speed.

use std::rc::Rc;

use heaplab_kit::Heap;
use heaplab_protocol::footprint::Footprint;
use heaplab_protocol::Failure;

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
            return Err(Failure::text(format!(
                "the `{workload}` workload (traces/{workload}.rep) failed at {failure}\n\
                 `cargo grade bench` on this lesson replays every trace the same way."
            )));
        }
        let percent = 100.0 * checked.utilization();
        if percent >= f64::from(min_percent) {
            return Ok(());
        }
        let footprint = Footprint {
            workload: workload.to_string(),
            samples: checked
                .timeline
                .iter()
                .map(|p| (p.op, p.mapped, p.live))
                .collect(),
        };
        let mut failure = Failure::text(format!(
            "utilization on the `{workload}` workload (traces/{workload}.rep) is {percent:.1}%; \
             at least {min_percent}% is needed.\n\
             The workload: {about}.\n\
             At most {} of payload were live at once, but the heap had {} mapped at its \
             peak: {} more than the payload.\n\
             Memory that is freed must be found again: look at how free chunks are split, \
             merged and searched. `cargo grade bench` on this lesson with \
             `--plot footprint.svg` draws the footprint over the whole trace.",
            bytes(checked.peak_live),
            bytes(checked.peak_mapped),
            bytes(checked.peak_mapped.saturating_sub(checked.peak_live)),
        ));
        failure.footprint = Some(footprint);
        Err(failure)
    })
}

/// `1000 bytes`, `2.9 MiB (3014656 bytes)`: exact, and readable when large.
fn bytes(n: usize) -> String {
    if n < 1 << 20 {
        format!("{n} bytes")
    } else {
        format!("{:.1} MiB ({n} bytes)", n as f64 / f64::from(1 << 20))
    }
}
