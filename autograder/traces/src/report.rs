//! What a replay reports: per trace, the first correctness error, the
//! utilization, the throughput of the heap and of the system allocator, and
//! the timeline the plot draws. The harness prints it as JSON; `grade bench`
//! reads it. Only `std` and `serde` here, so the grader can include this file
//! without linking the suites.

use serde::{Deserialize, Serialize};

/// Prefix of the line the replay program writes to stderr when a fatal
/// signal (or the grader's SIGTERM at a timeout) stops it:
/// `HEAPLAB-REPLAY-STOPPED <phase> <line> <signal>`, phase 1 the checked
/// replay, 2 the heap's timed replay, 3 the system allocator's.
pub const STOPPED_TAG: &str = "HEAPLAB-REPLAY-STOPPED";

/// Where and why a replay stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Line of the trace file (0: not tied to one operation).
    pub line: usize,
    /// The operation, as written in the trace (`a 3 512`).
    pub op: String,
    /// What went wrong, in words a student can act on.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {} (`{}`): {}", self.line, self.op, self.message)
        }
    }
}

/// Footprint and live payload after some operation: one point of the plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Operations done so far.
    pub op: usize,
    /// Bytes mapped (the most within the sample's stretch of operations).
    pub mapped: usize,
    /// Payload bytes live (the most within the stretch).
    pub live: usize,
}

/// malloc-lab's performance index: `0.6·U + 0.4·min(1, T / T_system)`,
/// with `U` the utilization and `T` the throughput (operations a second).
pub fn performance_index(utilization: f64, ops_per_sec: f64, system_ops_per_sec: f64) -> f64 {
    let speed = if system_ops_per_sec > 0.0 {
        (ops_per_sec / system_ops_per_sec).min(1.0)
    } else {
        0.0
    };
    0.6 * utilization + 0.4 * speed
}

/// One trace's result, as `--json` prints it and `grade bench` reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceResult {
    /// The file as given.
    pub file: String,
    /// Its stem (`binary`).
    pub name: String,
    /// Operations in the trace.
    pub ops: usize,
    /// The first correctness error (or a file that would not parse): the
    /// trace scores 0.
    pub error: Option<Failure>,
    /// The most payload bytes live at once.
    pub peak_live: usize,
    /// The most bytes the heap had mapped at once.
    pub peak_mapped: usize,
    /// `peak_live / peak_mapped`; 0 after an error.
    pub utilization: f64,
    /// The heap's operations a second (best timed run); 0 after an error.
    pub ops_per_sec: f64,
    /// The system allocator's, measured in the same process.
    pub system_ops_per_sec: f64,
    /// `performance_index` of the above; 0 after an error.
    pub index: f64,
    /// Mapped bytes and live payload over the trace, for the plot.
    pub timeline: Vec<Sample>,
}

/// What `--json` prints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplayReport {
    pub traces: Vec<TraceResult>,
}

/// The human form of a report: one row a trace.
pub fn table(report: &ReplayReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<18} {:>7} {:>7} {:>12} {:>12} {:>7} {:>6}",
        "trace", "ops", "util", "ops/s", "system ops/s", "ratio", "P"
    );
    for t in &report.traces {
        let ratio = if t.system_ops_per_sec > 0.0 {
            t.ops_per_sec / t.system_ops_per_sec
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "{:<18} {:>7} {:>6.1}% {:>12.0} {:>12.0} {:>7.2} {:>6.1}",
            t.name,
            t.ops,
            100.0 * t.utilization,
            t.ops_per_sec,
            t.system_ops_per_sec,
            ratio,
            100.0 * t.index
        );
        if let Some(e) = &t.error {
            let _ = writeln!(out, "  error: {e}");
        }
    }
    out
}
