//! `HeaderHeap`: lesson 2's bump carving, with every block's size kept in a
//! header in front of it, so `free(ptr)` and `usable_size(ptr)` need no size.
//!
//! ```text
//!   one run of pages (one map call)
//!   ┌───┬──────────┬───┬──────┬───┬────────────┬──────────────────────────┐
//!   │ H │ a0       │ H │ a1   │ H │ a2         │ not handed out yet       │
//!   └───┴──────────┴───┴──────┴───┴────────────┴──────────────────────────┘
//!   run start                                  ▲ next                     ▲ end
//!   H = 16-byte header (chunk size, flags); each pointer handed out is just
//!   past its H.
//! ```
//!
//! Freed chunks are marked free and counted, not reused yet: the free list
//! that reuses them is lesson 4.

use std::ptr::{self, NonNull};

use heaplab_kit::{align_up, Heap, PageSource, Stats};

use crate::chunk::{chunk_bytes_for, chunk_of, payload_of, Flags, Header, HEADER_BYTES};

/// What freed payloads are filled with, so that a use after free reads
/// garbage instead of the old data (as xv6's `kfree` does).
const JUNK_BYTE: u8 = 0xDB;

/// A bump heap whose chunks carry their size in a header.
pub struct HeaderHeap<S: PageSource> {
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

impl<S: PageSource> HeaderHeap<S> {
    /// An empty heap: nothing is mapped until the first `malloc`.
    pub fn new(pages: S) -> Self {
        Self {
            pages,
            next: ptr::null_mut(),
            end: ptr::null_mut(),
            stats: Stats::default(),
        }
    }

    /// Lesson 2's bump carving: the next `bytes` (a multiple of 16) of the
    /// current run, mapping a new run of just enough pages when they do not
    /// fit. `None` when the page source refuses.
    fn carve(&mut self, bytes: usize) -> Option<NonNull<u8>> {
        let left = self.end as usize - self.next as usize;
        if bytes > left {
            let page_bytes = self.pages.page_size();
            let run_bytes = align_up(bytes, page_bytes)?;
            let run = self.pages.map(run_bytes)?;
            self.stats.pages_mapped += run_bytes / page_bytes;
            self.next = run.as_ptr();
            // SAFETY: the run is run_bytes long, so its end is one past it.
            self.end = unsafe { self.next.add(run_bytes) };
        }
        let start = self.next;
        // SAFETY: bytes fit between next and end, so the new `next` is
        // inside the run or one past its end.
        self.next = unsafe { self.next.add(bytes) };
        NonNull::new(start)
    }
}

impl<S: PageSource> Heap for HeaderHeap<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        // TODO: carve a chunk of chunk_bytes_for(size), write its header (size, in use), return the payload
        todo!()
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // TODO: find the chunk by its header, mark it free, junk-fill the payload, count the free
        todo!()
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // TODO: the chunk size in the header, minus the header
        todo!()
    }

    fn stats(&self) -> Stats {
        self.stats
    }
}
