//! First, next and best fit compared on heaplab's traces: each trace of
//! `traces/` (or of the folder given) replayed, every check on, by lesson 4's
//! and lesson 5's reference heaps under each placement policy, printing the
//! utilization and the free chunks each `malloc`'s searches read.
//!
//! `cargo run -q -p heaplab-suites --example fits [DIR]`; docs/lesson4.md
//! ("Predict, then measure: first, next or best fit") shows its output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use heaplab_kit::Heap;
use heaplab_suites::alloc::PageLog;
use heaplab_suites::trace::generate::WORKLOADS;
use heaplab_suites::trace::{metered, read, replay, HeapAllocator, Trace};
use lesson4_solution::FreeListHeap;
use lesson5_solution::CoalescingHeap;

/// What one heap under one policy did on one trace.
#[derive(Clone, Copy)]
struct Outcome {
    utilization: f64,
    /// Free chunks read by the searches, per `malloc` (a resize is one too).
    reads_per_malloc: f64,
}

/// A row per trace, a column per policy (`Fit::ALL`'s order: lessons 4
/// and 5 each have their own `Fit`, in the same order).
type Table = Vec<[Outcome; 3]>;

fn main() -> ExitCode {
    let folder = std::env::args().nth(1).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../traces"),
        PathBuf::from,
    );
    match run(&folder) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("fits: {why}");
            ExitCode::FAILURE
        }
    }
}

fn run(folder: &Path) -> Result<(), String> {
    let traces = read_traces(folder)?;
    let lesson4 = table(&traces, |trace, policy| {
        let (pages, log) = metered();
        let heap = FreeListHeap::with_fit(pages, lesson4_solution::Fit::ALL[policy]);
        replay_one(trace, heap, &log, FreeListHeap::visits)
    })?;
    let lesson5 = table(&traces, |trace, policy| {
        let (pages, log) = metered();
        let heap = CoalescingHeap::with_fit(pages, lesson5_solution::Fit::ALL[policy]);
        replay_one(trace, heap, &log, CoalescingHeap::visits)
    })?;
    print_table("lesson 4, FreeListHeap (newest first)", &traces, &lesson4);
    println!();
    print_table(
        "lesson 5, CoalescingHeap (address order)",
        &traces,
        &lesson5,
    );
    Ok(())
}

/// The folder's `.rep` files: heaplab's workloads in their usual order,
/// then any other file by name.
fn read_traces(folder: &Path) -> Result<Vec<Trace>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(|e| format!("cannot read {}: {e}", folder.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "rep"))
        .collect();
    let rank = |path: &PathBuf| {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let known = WORKLOADS.iter().position(|w| w.name == stem);
        (known.unwrap_or(WORKLOADS.len()), stem.to_string())
    };
    paths.sort_by_key(rank);
    if paths.is_empty() {
        return Err(format!("no .rep file in {}", folder.display()));
    }
    paths
        .iter()
        .map(|path| read(path).map_err(|e| e.to_string()))
        .collect()
}

/// Every trace under every policy (an index into `Fit::ALL`), by `replay`.
fn table(
    traces: &[Trace],
    replay: impl Fn(&Trace, usize) -> Result<Outcome, String>,
) -> Result<Table, String> {
    traces
        .iter()
        .map(|trace| {
            let [first, next, best] = [0, 1, 2].map(|policy| replay(trace, policy));
            Ok([first?, next?, best?])
        })
        .collect()
}

/// `trace` replayed on `heap` with every check on; `visits` reads the
/// heap's count of free chunks its searches read.
fn replay_one<H: Heap>(
    trace: &Trace,
    heap: H,
    log: &PageLog,
    visits: fn(&H) -> u64,
) -> Result<Outcome, String> {
    let mut heap = HeapAllocator(heap);
    let checked = replay::checked(trace, &mut heap, log);
    if let Some(failure) = &checked.failure {
        return Err(format!("{} failed: {failure}", trace.name));
    }
    let mallocs = heap.0.stats().chunks_allocated.max(1);
    Ok(Outcome {
        utilization: checked.utilization(),
        reads_per_malloc: visits(&heap.0) as f64 / mallocs as f64,
    })
}

/// The table of one heap: utilization and reads per malloc by policy, a row
/// per trace, then the means.
fn print_table(heap: &str, traces: &[Trace], rows: &Table) {
    let names = lesson4_solution::Fit::ALL.map(lesson4_solution::Fit::name);
    println!("{heap}");
    println!(
        "{:<16}  {:>24}  {:>24}",
        "", "utilization", "chunks read per malloc"
    );
    println!(
        "{:<16}  {:>7} {:>7} {:>8}  {:>7} {:>7} {:>8}",
        "trace", names[0], names[1], names[2], names[0], names[1], names[2]
    );
    for (trace, row) in traces.iter().zip(rows) {
        print_row(&trace.name, row);
    }
    let n = rows.len() as f64;
    let mean = std::array::from_fn(|i| Outcome {
        utilization: rows.iter().map(|r| r[i].utilization).sum::<f64>() / n,
        reads_per_malloc: rows.iter().map(|r| r[i].reads_per_malloc).sum::<f64>() / n,
    });
    print_row("mean", &mean);
}

fn print_row(name: &str, row: &[Outcome; 3]) {
    let [a, b, c] = row.map(|o| format!("{:.1}%", 100.0 * o.utilization));
    let [d, e, f] = row.map(|o| format!("{:.1}", o.reads_per_malloc));
    println!("{name:<16}  {a:>7} {b:>7} {c:>8}  {d:>7} {e:>7} {f:>8}");
}
