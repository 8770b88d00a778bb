//! The footprint plots of the lesson pages: a lesson's reference heap
//! replayed on the workload of its "predict, then measure" section, drawn
//! by `grade bench --plot`'s own function. Only the checked replay runs (no
//! timing): what the plot shows, bytes mapped and live, does not depend on
//! the machine.

use std::path::Path;

use heaplab_autograder::bench::svg::svg;
use heaplab_autograder::course::Course;
use heaplab_kit::Heap;
use heaplab_suites::alloc::InstrumentedPages;
use heaplab_suites::trace::{self, metered, replay, HeapAllocator, ReplayReport, TraceResult};

/// A plot: its file in docs/figures/, the lesson whose reference heap
/// replays, and the trace (from the course's root).
pub struct Plot {
    pub file: &'static str,
    pub lesson: u8,
    pub trace: &'static str,
}

/// Every footprint plot, one per lesson from 2 to 6.
pub const PLOTS: &[Plot] = &[
    Plot {
        file: "lesson2-footprint.svg",
        lesson: 2,
        trace: "traces/mixed-lifetimes.rep",
    },
    Plot {
        file: "lesson3-footprint.svg",
        lesson: 3,
        trace: "docs/experiments/same-size.rep",
    },
    Plot {
        file: "lesson4-footprint.svg",
        lesson: 4,
        trace: "traces/coalescing.rep",
    },
    Plot {
        file: "lesson5-footprint.svg",
        lesson: 5,
        trace: "traces/coalescing.rep",
    },
    Plot {
        file: "lesson6-footprint.svg",
        lesson: 6,
        trace: "traces/big-blocks.rep",
    },
];

/// The plot drawn: an SVG file's text, as `grade bench lessonN --solution
/// --traces … --plot` draws it for that one trace.
pub fn draw(course: &Course, plot: &Plot) -> String {
    let path = course.root.join(plot.trace);
    let result = match plot.lesson {
        2 => replayed(lesson2_solution::BumpHeap::new, &path, plot.trace),
        3 => replayed(lesson3_solution::HeaderHeap::new, &path, plot.trace),
        4 => replayed(lesson4_solution::FreeListHeap::new, &path, plot.trace),
        5 => replayed(lesson5_solution::CoalescingHeap::new, &path, plot.trace),
        6 => replayed(lesson6_solution::BigHeap::new, &path, plot.trace),
        n => panic!("{}: no reference heap for lesson {n}", plot.file),
    };
    let id = format!("lesson{}", plot.lesson);
    let lesson = course
        .lesson(&id)
        .unwrap_or_else(|e| panic!("{}", e.message));
    let shown = format!("solutions/{}", lesson.dir);
    svg(
        lesson,
        &shown,
        &ReplayReport {
            traces: vec![result],
        },
    )
}

/// The checked replay of the trace at `path` on the heap `make` builds.
fn replayed<H: Heap>(
    make: impl Fn(InstrumentedPages) -> H,
    path: &Path,
    file: &str,
) -> TraceResult {
    let trace = trace::read(path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let (pages, log) = metered();
    let checked = replay::checked(&trace, &mut HeapAllocator(make(pages)), &log);
    if let Some(failure) = &checked.failure {
        panic!(
            "{file}: the reference heap failed at line {}: {}",
            failure.line, failure.message
        );
    }
    TraceResult {
        file: file.to_string(),
        name: trace.name.clone(),
        ops: trace.ops.len(),
        error: None,
        peak_live: checked.peak_live,
        peak_mapped: checked.peak_mapped,
        utilization: checked.utilization(),
        ops_per_sec: 0.0,
        system_ops_per_sec: 0.0,
        index: 0.0,
        timeline: checked.timeline,
    }
}
