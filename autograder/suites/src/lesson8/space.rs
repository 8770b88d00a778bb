//! Space: utilization on the traces (peak live payload over peak mapped
//! bytes, as `grade bench` measures it, on the student's heap over the
//! grader's pages: deterministic), and the peak resident memory of the
//! course's programs against the system allocator's.

use std::fmt::Write as _;
use std::rc::Rc;

use heaplab_kit::Realloc;
use heaplab_protocol::{Failure, Measured};

use super::measure::{self, median, Setup};
use super::speed::{same_output, WORKLOADS};
use super::traces::{self, Use};
use crate::alloc::InstrumentedPages;
use crate::harness::Test;
use crate::trace::{metered, replay, Checked, ReallocAllocator, Trace};

/// Rounds of each program for its peak memory.
const RSS_ROUNDS: usize = 3;

/// Mean utilization over every trace that scores it.
pub fn utilization_test<H, F>(name: &'static str, make: &Rc<F>) -> Test
where
    H: Realloc + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let make = make.clone();
    Test::measured(name, move |_| {
        let mut table =
            String::from("trace              ops   peak live  peak mapped  utilization\n");
        let mut all = Vec::new();
        for trace in traces::traces(Use::Utilization) {
            let checked = checked_replay(&*make, &trace);
            if let Some(failure) = &checked.failure {
                return Err(Failure::text(format!(
                    "the `{}` trace failed at {failure}\n`cargo grade bench lesson8` replays \
                     every trace the same way.",
                    trace.name
                ))
                .check("trace replay"));
            }
            let u = checked.utilization();
            let _ = writeln!(
                table,
                "{:<16} {:>6}  {:>10}  {:>11}  {:>10.1}%",
                trace.name,
                trace.ops.len(),
                checked.peak_live,
                checked.peak_mapped,
                100.0 * u
            );
            all.push(u);
        }
        let value = all.iter().sum::<f64>() / all.len().max(1) as f64;
        Ok(Measured {
            value,
            summary: format!(
                "mean utilization {:.1}% on {} traces (peak live payload / peak mapped bytes)",
                100.0 * value,
                all.len()
            ),
            table,
        })
    })
}

/// `trace` replayed with every check on `make`'s heap over fresh grader's
/// pages: its peaks, its utilization, or the first thing that went wrong.
pub fn checked_replay<H, F>(make: &F, trace: &Trace) -> Checked
where
    H: Realloc,
    F: Fn(InstrumentedPages) -> H,
{
    let (pages, log) = metered();
    let mut heap = ReallocAllocator(make(pages));
    replay::checked(trace, &mut heap, &log)
}

/// The peak resident memory of the course's programs with the student's
/// library, over the system allocator's: the geometric mean over the
/// programs of the medians (below 1: less memory than the system).
pub fn memory_test(name: &'static str) -> Test {
    Test::measured(name, move |_| {
        let setup = Setup::from_artifacts()?;
        let mut table = String::from(
            "program                                             system KiB  yours KiB  ratio\n",
        );
        let mut ratios = Vec::new();
        for workload in WORKLOADS {
            let rounds = measure::rounds(&setup, &workload.args(), RSS_ROUNDS, 20.0)?;
            same_output(&workload.title(), &rounds)?;
            // A run stopped for its time has no peak to compare.
            let rounds: Vec<_> = rounds.into_iter().filter(|r| !r.student.stopped).collect();
            if rounds.is_empty() {
                return Err(Failure::text(format!(
                    "{}: your library's run was stopped at its time limit (20 times the \
                     system's), so its peak memory could not be measured",
                    workload.title()
                )));
            }
            let kib = |student: bool| {
                let xs: Vec<f64> = rounds
                    .iter()
                    .map(|r| if student { &r.student } else { &r.system }.rss_kib as f64)
                    .collect();
                median(&xs)
            };
            let (system, student) = (kib(false), kib(true));
            let ratio = student / system.max(1.0);
            let _ = writeln!(
                table,
                "{:<50} {system:>11.0}  {student:>9.0}  {ratio:.2}",
                workload.title()
            );
            ratios.push(ratio);
        }
        let value = measure::geometric_mean(&ratios);
        Ok(Measured {
            value,
            summary: format!(
                "{value:.2} times the system allocator's peak resident memory (the geometric \
                 mean over the programs of the median of {RSS_ROUNDS} runs)"
            ),
            table,
        })
    })
}
