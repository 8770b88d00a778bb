//! `--as replay [--json] [--min-time-ms N] TRACE...`: replays trace files
//! against a heap linked into the same program and against the system
//! allocator, in one process, and reports utilization and throughput.
//!
//! `grade bench` runs it once per trace, so a trace that crashes the heap
//! costs that trace only.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::crash;
use crate::footprint::Footprint;
use crate::rep::{self, Trace};
use crate::replay::{self, Allocator, SystemAllocator};
use crate::report::{performance_index, table, Failure, ReplayReport, TraceResult};

const USAGE: &str = "usage: subject --as replay [--json] [--min-time-ms N] TRACE.rep...";

/// The `replay` program's `main`: `make` gives a fresh allocator and the
/// record of its pages for each replay.
pub fn main<A: Allocator, M: Footprint>(args: &[String], make: &dyn Fn() -> (A, M)) -> ExitCode {
    let mut json = false;
    let mut min_time = Duration::from_millis(200);
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--min-time-ms" => match it.next().and_then(|n| n.parse().ok()) {
                Some(ms) => min_time = Duration::from_millis(ms),
                None => {
                    eprintln!("replay: --min-time-ms needs a number of milliseconds\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            flag if flag.starts_with("--") => {
                eprintln!("replay: unknown option {flag}\n{USAGE}");
                return ExitCode::from(2);
            }
            file => files.push(file.to_string()),
        }
    }
    if files.is_empty() {
        eprintln!("replay: no trace files given\n{USAGE}");
        return ExitCode::from(2);
    }
    let mut traces = Vec::new();
    for file in &files {
        match rep::read(Path::new(file)) {
            Ok(trace) => traces.push((file, trace)),
            Err(e) => {
                eprintln!("replay: {e}");
                return ExitCode::from(2);
            }
        }
    }
    crash::install();
    let mut report = ReplayReport::default();
    for (file, trace) in &traces {
        report.traces.push(crash::guard(file, trace, || {
            replay_trace(file, trace, make, min_time)
        }));
    }
    if json {
        println!(
            "{}",
            serde_json::to_string(&report).expect("a report always serializes")
        );
    } else {
        print!("{}", table(&report));
    }
    if report.traces.iter().all(|t| t.error.is_none()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Checked replay on a fresh heap, then timed replays of the heap and of
/// the system allocator.
pub fn replay_trace<A: Allocator, M: Footprint>(
    file: &str,
    trace: &Trace,
    make: &dyn Fn() -> (A, M),
    min_time: Duration,
) -> TraceResult {
    let checked = {
        crash::phase(crash::Phase::Checked);
        let (mut alloc, meter) = make();
        replay::checked(trace, &mut alloc, &meter)
    };
    let mut error = checked.failure.clone();
    let mut ops_per_sec = 0.0;
    if error.is_none() {
        crash::phase(crash::Phase::TimedHeap);
        match best_time(trace, &mut || make().0, min_time) {
            Ok(ops) => ops_per_sec = ops,
            Err(f) => error = Some(f),
        }
    }
    crash::phase(crash::Phase::TimedSystem);
    let system_ops_per_sec = best_time(trace, &mut || SystemAllocator, min_time).unwrap_or(0.0);
    let utilization = if error.is_some() {
        0.0
    } else {
        checked.utilization()
    };
    let index = if error.is_some() {
        0.0
    } else {
        performance_index(utilization, ops_per_sec, system_ops_per_sec)
    };
    TraceResult {
        file: file.to_string(),
        name: trace.name.clone(),
        ops: trace.ops.len(),
        error,
        peak_live: checked.peak_live,
        peak_mapped: checked.peak_mapped,
        utilization,
        ops_per_sec,
        system_ops_per_sec,
        index,
        timeline: checked.timeline,
    }
}

/// Operations a second of the fastest of several timed replays, each on a
/// fresh allocator from `make` (at least three, and until `min_time` has
/// passed): the fastest run is the one least disturbed by the rest of the
/// machine. A fresh heap each time, as malloc-lab's driver does, so a heap
/// that never reuses memory does not pile up mappings from run to run.
pub fn best_time<A: Allocator>(
    trace: &Trace,
    make: &mut dyn FnMut() -> A,
    min_time: Duration,
) -> Result<f64, Failure> {
    let mut best = Duration::MAX;
    let mut total = Duration::ZERO;
    let mut runs = 0;
    while runs < 3 || (total < min_time && runs < 1000) {
        let t = replay::timed(trace, &mut make())?;
        best = best.min(t);
        total += t;
        runs += 1;
    }
    let secs = best.as_secs_f64().max(1e-9);
    Ok(trace.ops.len() as f64 / secs)
}
