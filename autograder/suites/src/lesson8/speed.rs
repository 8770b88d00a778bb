//! Speed: the student's library against the system allocator, under the
//! same program, in the same test (see [`super::measure`]). The course's
//! two Collatz programs in one and four threads, and the traces.

use std::fmt::Write as _;

use std::rc::Rc;

use heaplab_kit::Realloc;
use heaplab_protocol::{Failure, Measured};

use super::measure::{self, median, Round, Setup};
use super::space;
use super::traces::{self, Use};
use crate::alloc::InstrumentedPages;
use crate::harness::Test;
use crate::trace::{performance_index, Trace};

/// Interleaved rounds of every measurement.
pub const ROUNDS: usize = 5;
/// A run of the student's may take this many times the system's before it
/// is stopped (it would earn nothing anyway).
const SLACK: f64 = 20.0;
/// Seconds of the system allocator's CPU time a trace's timed run lasts.
const TRACE_SECONDS: f64 = 0.15;

/// One of the course's two programs.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// `list` or `vector`.
    pub program: &'static str,
    pub threads: u32,
    /// The Collatz sequences of 1 to `top` are built.
    pub top: u64,
}

impl Workload {
    pub fn args(&self) -> Vec<String> {
        vec![
            self.program.to_string(),
            self.threads.to_string(),
            self.top.to_string(),
        ]
    }

    pub fn title(&self) -> String {
        let s = if self.threads == 1 { "" } else { "s" };
        format!(
            "{} of the Collatz sequences of 1 to {}, {} thread{s}",
            self.program, self.top, self.threads
        )
    }
}

/// The course's four workloads, as lesson 8 measures them.
pub const WORKLOADS: [Workload; 4] = [
    Workload {
        program: "list",
        threads: 1,
        top: 200_000,
    },
    Workload {
        program: "list",
        threads: 4,
        top: 200_000,
    },
    Workload {
        program: "vector",
        threads: 1,
        top: 1_000_000,
    },
    Workload {
        program: "vector",
        threads: 4,
        top: 1_000_000,
    },
];

/// The speed test `name` of `workload`.
pub fn program_test(name: &'static str, workload: Workload) -> Test {
    Test::measured(name, move |_| {
        let setup = Setup::from_artifacts()?;
        let rounds = measure::rounds(&setup, &workload.args(), ROUNDS, SLACK)?;
        same_output(&workload.title(), &rounds)?;
        let done = rounds.len();
        let ratios: Vec<f64> = rounds
            .iter()
            .map(|r| r.system.cpu / r.student.cpu.max(1e-4))
            .collect();
        let value = median(&ratios);
        Ok(Measured {
            value,
            summary: format!(
                "{value:.2}× the system allocator's speed (CPU time, the median of {done} rounds)"
            ),
            table: program_table(&workload, &rounds, &ratios),
        })
    })
}

/// Every round printed the system's output (a stopped run printed nothing
/// to compare).
pub fn same_output(title: &str, rounds: &[Round]) -> Result<(), Failure> {
    let want = &rounds[0].system.stdout;
    for r in rounds.iter().filter(|r| !r.student.stopped) {
        if &r.student.stdout != want || &r.system.stdout != want {
            return Err(Failure::new(
                format!("{title}: the output differs with your library"),
                format!("{want:?} (the system allocator's)"),
                format!("{:?}", r.student.stdout),
            )
            .check("same output"));
        }
    }
    Ok(())
}

fn program_table(workload: &Workload, rounds: &[Round], ratios: &[f64]) -> String {
    let mut t = format!(
        "{}\nround  system CPU  wall     yours CPU  wall     speed\n",
        workload.title()
    );
    for (i, (r, ratio)) in rounds.iter().zip(ratios).enumerate() {
        if r.student.stopped {
            let _ = writeln!(
                t,
                "{:>5}  {:>8.3} s {:>6.3} s  stopped after {SLACK} times the system's wall time: \
                 at most {ratio:.2}×",
                i + 1,
                r.system.cpu,
                r.system.wall
            );
            continue;
        }
        let _ = writeln!(
            t,
            "{:>5}  {:>8.3} s {:>6.3} s  {:>7.3} s {:>6.3} s  {ratio:.2}×",
            i + 1,
            r.system.cpu,
            r.system.wall,
            r.student.cpu,
            r.student.wall
        );
    }
    t
}

/// The speed test on every trace that scores throughput: the geometric
/// mean of the traces' ratios (each the median of its rounds). Its table
/// is malloc lab's driver's: each trace's utilization too (`make`'s heap
/// over the grader's pages, as `utilization_traces` measures it) and the
/// performance index `P = 0.6·U + 0.4·min(1, speed)`, shown, not graded.
pub fn traces_test<H, F>(name: &'static str, make: &Rc<F>) -> Test
where
    H: Realloc + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let make = make.clone();
    Test::measured(name, move |_| {
        let setup = Setup::from_artifacts()?;
        let mut table =
            String::from("trace              ops  replays  speed (median)   util      P  rounds\n");
        let mut ratios = Vec::new();
        let mut indexes = Vec::new();
        for trace in traces::traces(Use::Throughput) {
            let file = traces::file_of(&trace)?;
            let ratio = trace_ratio(&setup, &file.to_string_lossy(), &trace.name)?;
            let checked = space::checked_replay(&*make, &trace);
            let utilization = checked.failure.is_none().then(|| checked.utilization());
            table.push_str(&trace_row(&trace, &ratio, utilization));
            indexes.extend(utilization.map(|u| performance_index(u, ratio.median, 1.0)));
            ratios.push(ratio.median);
        }
        let mean_index = indexes.iter().sum::<f64>() / indexes.len().max(1) as f64;
        let _ = writeln!(
            table,
            "performance index P = 0.6·util + 0.4·min(1, speed), malloc lab's: mean {:.1}%",
            100.0 * mean_index
        );
        let value = measure::geometric_mean(&ratios);
        Ok(Measured {
            value,
            summary: format!(
                "{value:.2}× the system allocator's speed on {} traces (CPU time; the \
                 geometric mean of each trace's median of {ROUNDS} rounds)",
                ratios.len()
            ),
            table,
        })
    })
}

/// One line of the traces' table: the speed, and malloc lab's
/// utilization and index when the checked replay succeeded.
fn trace_row(trace: &Trace, ratio: &TraceRatio, utilization: Option<f64>) -> String {
    let (util, index) = match utilization {
        Some(u) => (
            format!("{:.1}%", 100.0 * u),
            format!("{:.1}%", 100.0 * performance_index(u, ratio.median, 1.0)),
        ),
        None => ("failed".to_string(), "-".to_string()),
    };
    let rounds: Vec<String> = ratio.rounds.iter().map(|r| format!("{r:.2}")).collect();
    format!(
        "{:<16} {:>6}  {:>7}  {:>13.2}×  {util:>6} {index:>6}  {}\n",
        trace.name,
        trace.ops.len(),
        ratio.replays,
        ratio.median,
        rounds.join(" ")
    )
}

/// A trace's speed ratio.
struct TraceRatio {
    replays: u64,
    rounds: Vec<f64>,
    median: f64,
}

/// Replays of `file`, timed on both allocators: each run is `replays`
/// replays, less the same program's time for none (starting and reading
/// the trace).
fn trace_ratio(setup: &Setup, file: &str, name: &str) -> Result<TraceRatio, Failure> {
    let args = |n: u64| vec!["replay".to_string(), file.to_string(), n.to_string()];
    let base = |student: bool| -> Result<f64, Failure> {
        let times: Result<Vec<f64>, Failure> = (0..3)
            .map(|_| {
                measure::sample(setup, student, &args(0), std::time::Duration::from_secs(60))
                    .map(|s| s.cpu)
                    .map_err(|e| Failure::text(format!("trace {name}, read and not replayed: {e}")))
            })
            .collect();
        Ok(median(&times?))
    };
    let (base_system, base_student) = (base(false)?, base(true)?);
    let probe = 20;
    let once = measure::sample(
        setup,
        false,
        &args(probe),
        std::time::Duration::from_secs(60),
    )
    .map_err(|e| Failure::text(format!("trace {name}: {e}")))?;
    let per_replay = ((once.cpu - base_system) / probe as f64).max(1e-5);
    let replays = ((TRACE_SECONDS / per_replay) as u64).clamp(5, 20_000);
    let rounds = measure::rounds(setup, &args(replays), ROUNDS, SLACK)
        .map_err(|f| Failure::text(format!("trace {name}: {}", f.what)))?;
    let ratios: Vec<f64> = rounds
        .iter()
        .map(|r| {
            let system = (r.system.cpu - base_system).max(1e-4);
            if r.student.stopped {
                return 1.0 / SLACK;
            }
            system / (r.student.cpu - base_student).max(1e-4)
        })
        .collect();
    Ok(TraceRatio {
        replays,
        median: median(&ratios),
        rounds: ratios,
    })
}
