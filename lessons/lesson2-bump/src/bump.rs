//! `BumpHeap`: the simplest heap. It maps whole pages and hands out their
//! bytes front to back with a "bump" pointer; it never takes memory back.
//!
//! ```text
//!   one run of pages (one map call)
//!   ┌──────────┬──────┬──────────────┬───────────────────────────────┐
//!   │ block a0 │ a1   │ block a2     │ not handed out yet            │
//!   └──────────┴──────┴──────────────┴───────────────────────────────┘
//!   run start                        ▲ next                          ▲ end
//! ```
//!
//! Every block is a multiple of 16 bytes and every run starts on a page
//! boundary, so `next` stays 16-byte aligned without ever being rounded.
//! A request that does not fit between `next` and `end` gets a new run of
//! just enough whole pages; the rest of the old run is never used again.

use std::ptr::{self, NonNull};

use heaplab_kit::{align_up, Heap, PageSource, Stats, ALIGN};

/// A heap that carves blocks from the current run of pages and never reuses
/// memory.
pub struct BumpHeap<S: PageSource> {
    /// Where runs of pages come from.
    pages: S,
    /// The first byte of the current run not handed out yet (null before
    /// the first map).
    next: *mut u8,
    /// One past the current run's last byte (null before the first map).
    end: *mut u8,
    /// The counters `stats()` reports.
    stats: Stats,
}

impl<S: PageSource> BumpHeap<S> {
    /// An empty heap: nothing is mapped until the first `malloc`.
    pub fn new(pages: S) -> Self {
        BumpHeap {
            pages,
            next: ptr::null_mut(),
            end: ptr::null_mut(),
            stats: Stats::default(),
        }
    }

    /// Bytes left in the current run.
    fn bytes_left(&self) -> usize {
        self.end as usize - self.next as usize
    }
}

impl<S: PageSource> Heap for BumpHeap<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        // TODO: round size up to 16 (at least 16), map a new run when it does not fit, bump next past it
        todo!()
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // TODO: count the free; a bump heap cannot take one block back
        todo!()
    }

    fn stats(&self) -> Stats {
        // TODO: pages mapped, chunks allocated and freed (no free list: free_length 0)
        todo!()
    }
}
