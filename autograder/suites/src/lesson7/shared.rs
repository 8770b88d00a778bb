//! The heap behind the student's lock, as lesson 7's shared-heap tests reach
//! it: run the threads workload on it, free what the threads left, ask for
//! its stats and free list, use it as a `GlobalAlloc`, and read the page
//! source's record.
//!
//! In the checker the heap lives in the student's process
//! ([`crate::remote::RemoteShared`]); in a local harness it is here
//! ([`LocalShared`], over [`SyncPages`]).

use std::alloc::GlobalAlloc;

use heaplab_kit::{Block, Heap, SharedHeap, Stats};
use heaplab_protocol::messages::ThreadsReport;
use heaplab_protocol::Failure;

use super::sync_pages::SyncPages;

/// The student's shared heap and the record of its pages.
pub trait SharedApi {
    /// Runs the threads workload; the report lists the blocks left.
    fn run(&self, seed: u64, threads: u32, rounds: u32) -> Result<ThreadsReport, Failure>;
    /// Frees every block the workload left.
    fn free_all(&self) -> Result<(), Failure>;
    /// `stats()` and `free_blocks()`.
    fn snapshot(&self) -> Result<(Stats, Vec<Block>), Failure>;
    /// The runs mapped now: address → length.
    fn live_mappings(&self) -> Vec<(usize, usize)>;
    /// Unmaps that were not exactly one live mapping.
    fn violations(&self) -> Vec<String>;
    /// Makes the page source refuse every map from now on (or not).
    fn refuse_maps(&self, on: bool);
    /// The heap as Rust's `GlobalAlloc`.
    fn global(&self) -> &dyn GlobalAlloc;
}

/// The student's shared heap in this process, over thread-safe pages.
pub struct LocalShared<L> {
    heap: L,
    pages: SyncPages,
    left: std::cell::RefCell<ThreadsReport>,
}

/// Makes the student's shared heap in this process with `share`.
pub fn local_shared<L>(share: impl Fn(SyncPages) -> L + 'static) -> impl Fn() -> LocalShared<L>
where
    L: SharedHeap + GlobalAlloc + Send + Sync + 'static,
{
    move || {
        let pages = SyncPages::new();
        LocalShared {
            heap: share(pages.clone()),
            pages,
            left: Default::default(),
        }
    }
}

impl<L: SharedHeap + GlobalAlloc + Send + Sync> SharedApi for LocalShared<L> {
    fn run(&self, seed: u64, threads: u32, rounds: u32) -> Result<ThreadsReport, Failure> {
        let report = heaplab_subject::threads::run(&self.heap, seed, threads, rounds);
        *self.left.borrow_mut() = report.clone();
        Ok(report)
    }

    fn free_all(&self) -> Result<(), Failure> {
        heaplab_subject::threads::free_all(&self.heap, &self.left.take());
        Ok(())
    }

    fn snapshot(&self) -> Result<(Stats, Vec<Block>), Failure> {
        Ok(self.heap.with_heap(|h| (h.stats(), h.free_blocks())))
    }

    fn live_mappings(&self) -> Vec<(usize, usize)> {
        let record = self.pages.record();
        record.live.iter().map(|(&a, &l)| (a, l)).collect()
    }

    fn violations(&self) -> Vec<String> {
        self.pages.record().violations.clone()
    }

    fn refuse_maps(&self, on: bool) {
        self.pages.refuse_maps(on);
    }

    fn global(&self) -> &dyn GlobalAlloc {
        &self.heap
    }
}
