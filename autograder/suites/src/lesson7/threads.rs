//! The heap behind the student's lock, shared by threads.
//!
//! The threads run in the process that holds the heap (the student's); what
//! they report is only a report. The verdict comes from what the checker
//! reads itself: every block the threads still hold keeps its thread's mark
//! and lies inside mapped pages, apart from the others; and once they are
//! freed, every mapped byte is back on the free list.

use std::rc::Rc;

use heaplab_protocol::messages::ThreadsReport;
use heaplab_protocol::Failure;
use heaplab_subject::threads::mark;

use super::shared::SharedApi;
use crate::harness::{Ctx, Test};

/// Threads in the threads test.
const THREADS: u32 = 4;
/// Operations per thread.
const ROUNDS: u32 = if cfg!(miri) { 50 } else { 4000 };

/// The threads test; `shared` makes the heap.
pub fn test<S: SharedApi + 'static, G: Fn() -> S + 'static>(shared: &Rc<G>) -> Test {
    let shared = shared.clone();
    Test::new("threads_share_the_heap", move |ctx| {
        threads_share(ctx, &shared())
    })
}

/// Several threads allocate, write, check and free at random through
/// `with_heap`; then the checker looks at what they left, has it freed, and
/// checks that nothing was lost.
fn threads_share(ctx: &Ctx, heap: &impl SharedApi) -> Result<(), Failure> {
    let report = heap.run(ctx.seed, THREADS, ROUNDS)?;
    if let Some(first) = report.problems.first() {
        return Err(Failure::text(format!(
            "{first}\n({} problems in all; {THREADS} threads, {ROUNDS} operations each)",
            report.problems.len()
        )));
    }
    blocks_held(heap, &report)?;
    heap.free_all()?;
    nothing_lost(heap)
}

/// Every block a thread still holds lies in mapped pages, apart from the
/// others, and holds its thread's mark in every byte.
fn blocks_held(heap: &impl SharedApi, report: &ThreadsReport) -> Result<(), Failure> {
    let mappings = heap.live_mappings();
    let mut spans: Vec<(usize, usize, u32)> = Vec::new();
    for &(thread, addr, size) in &report.live {
        let (addr, size) = (addr as usize, size as usize);
        let inside = mappings
            .iter()
            .any(|&(m, len)| addr >= m && addr.saturating_add(size.max(1)) <= m + len);
        if !inside {
            return Err(Failure::text(format!(
                "thread {thread} holds a block [{addr:#x}, {:#x})) that is not inside the \
                 mapped pages",
                addr.saturating_add(size)
            )));
        }
        // SAFETY: the block lies inside a live mapping of the heap's page
        // source (checked above), which this process can read: the checker
        // maps the same pages as the student's process.
        let bytes = unsafe {
            std::slice::from_raw_parts(std::ptr::with_exposed_provenance::<u8>(addr), size)
        };
        if let Some(at) = bytes.iter().position(|&b| b != mark(thread)) {
            return Err(Failure::text(format!(
                "thread {thread}'s {size}-byte block at {addr:#x}: byte {at} is {:#04x}, not its \
                 mark {:#04x}: another thread was given the same memory",
                bytes[at],
                mark(thread)
            )));
        }
        spans.push((addr, addr + size.max(1), thread));
    }
    spans.sort();
    for pair in spans.windows(2) {
        if pair[0].1 > pair[1].0 {
            return Err(Failure::text(format!(
                "threads {} and {} hold overlapping blocks [{:#x}, {:#x})) and [{:#x}, {:#x})",
                pair[0].2, pair[1].2, pair[0].0, pair[0].1, pair[1].0, pair[1].1
            )));
        }
    }
    Ok(())
}

/// After every block was freed: no broken unmap, the counters agree, and
/// every byte still mapped is on the free list.
fn nothing_lost(heap: &impl SharedApi) -> Result<(), Failure> {
    let (stats, blocks) = heap.snapshot()?;
    if stats.chunks_allocated != stats.chunks_freed {
        return Err(Failure::text(format!(
            "after every thread freed every block, stats() shows {} chunks allocated but {} \
             freed: the counters lost updates (a race?)",
            stats.chunks_allocated, stats.chunks_freed
        )));
    }
    if let Some(v) = heap.violations().first() {
        return Err(Failure::text(format!(
            "the heap broke the page source's contract: {v}"
        )));
    }
    let mappings = heap.live_mappings();
    let mapped: usize = mappings.iter().map(|&(_, l)| l).sum();
    let free: usize = blocks.iter().map(|b| b.size).sum();
    for b in &blocks {
        let inside = mappings
            .iter()
            .any(|&(m, len)| b.addr >= m && b.end() <= m + len);
        if !inside {
            return Err(Failure::text(format!(
                "the free chunk [{:#x}, {:#x})) is outside the mapped pages",
                b.addr,
                b.end()
            )));
        }
    }
    if free != mapped || stats.free_length != blocks.len() {
        return Err(Failure::text(format!(
            "after every thread freed every block: expected all {mapped} mapped bytes on the \
             free list (big blocks unmapped, runs whole again), with free_length = the walk's \
             {}; found {free} bytes in {} free chunks, free_length {}: memory was lost or the \
             list broke",
            blocks.len(),
            blocks.len(),
            stats.free_length
        )));
    }
    Ok(())
}
