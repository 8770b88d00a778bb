//! The reference heaps of lessons 4, 5 and 6 against the system allocator on
//! heaplab's generated workloads: utilization, throughput, and the ratio to
//! the system allocator measured in the same run.
//!
//! `cargo bench -p heaplab-suites --bench traces` (add `-- --min-time-ms N`
//! to time each allocator longer on each trace). Prints a Markdown table, the
//! one in docs/performance.md.

use std::time::Duration;

use heaplab_suites::trace::generate::{self, DEFAULT_SEED};
use heaplab_suites::trace::{metered, HeapAllocator, Trace, TraceResult};
use heaplab_traces::program::replay_trace;

/// The heaps, in the order of each row.
const HEAPS: [&str; 3] = [
    "lesson 4 FreeListHeap",
    "lesson 5 CoalescingHeap",
    "lesson 6 BigHeap",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let min_time = args
        .iter()
        .position(|a| a == "--min-time-ms")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_millis(500));
    let rows: Vec<[TraceResult; 3]> = generate::generate(DEFAULT_SEED)
        .iter()
        .map(|trace| replay_all(trace, min_time))
        .collect();
    print_traces(&rows);
    println!();
    print_means(&rows);
}

/// `trace` replayed by each of the three heaps.
fn replay_all(trace: &Trace, min_time: Duration) -> [TraceResult; 3] {
    eprintln!("{} ({} operations) …", trace.name, trace.ops.len());
    let file = format!("traces/{}.rep", trace.name);
    let l4 = replay_trace(
        &file,
        trace,
        &|| {
            let (pages, log) = metered();
            (
                HeapAllocator(lesson4_solution::FreeListHeap::new(pages)),
                log,
            )
        },
        min_time,
    );
    let l5 = replay_trace(
        &file,
        trace,
        &|| {
            let (pages, log) = metered();
            (
                HeapAllocator(lesson5_solution::CoalescingHeap::new(pages)),
                log,
            )
        },
        min_time,
    );
    let l6 = replay_trace(
        &file,
        trace,
        &|| {
            let (pages, log) = metered();
            (HeapAllocator(lesson6_solution::BigHeap::new(pages)), log)
        },
        min_time,
    );
    [l4, l5, l6]
}

/// A row per trace and heap.
fn print_traces(rows: &[[TraceResult; 3]]) {
    println!("| trace | ops | heap | peak live | peak mapped | utilization | heap ops/s | system ops/s | ratio | P |");
    println!("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        for (heap, t) in HEAPS.iter().zip(row) {
            let ratio = t.ops_per_sec / t.system_ops_per_sec;
            let util = match &t.error {
                Some(e) => format!("FAILED: {e}"),
                None => format!("{:.1}%", 100.0 * t.utilization),
            };
            println!(
                "| {} | {} | {heap} | {} | {} | {util} | {:.0} | {:.0} | {ratio:.3} | {:.1}% |",
                t.name,
                t.ops,
                t.peak_live,
                t.peak_mapped,
                t.ops_per_sec,
                t.system_ops_per_sec,
                100.0 * t.index
            );
        }
    }
}

/// A row per heap: the means over the traces.
fn print_means(rows: &[[TraceResult; 3]]) {
    println!("| heap | mean utilization | mean ratio to system | mean P | traces failed |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (i, heap) in HEAPS.iter().enumerate() {
        let n = rows.len() as f64;
        let util = rows.iter().map(|r| r[i].utilization).sum::<f64>() / n;
        let ratio = rows
            .iter()
            .map(|r| r[i].ops_per_sec / r[i].system_ops_per_sec)
            .sum::<f64>()
            / n;
        let index = rows.iter().map(|r| r[i].index).sum::<f64>() / n;
        let failed = rows.iter().filter(|r| r[i].error.is_some()).count();
        println!(
            "| {heap} | {:.1}% | {ratio:.3} | {:.1}% | {failed} |",
            100.0 * util,
            100.0 * index
        );
    }
}
