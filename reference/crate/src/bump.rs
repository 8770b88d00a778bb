// LESSONS 2
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
        // BEGIN SOLUTION 2: round size up to 16 (at least 16), map a new run when it does not fit, bump next past it
        // malloc(0) still takes 16 bytes, so every pointer is unique; the
        // rounding keeps `next` 16-byte aligned. None on overflow: no heap
        // can serve a request near usize::MAX.
        let block_bytes = align_up(size.max(1), ALIGN)?;
        if block_bytes > self.bytes_left() {
            // "Ask for 1 byte, get 4K": the OS hands out whole pages only.
            let page_bytes = self.pages.page_size();
            let run_bytes = align_up(block_bytes, page_bytes)?;
            let run = self.pages.map(run_bytes)?;
            self.stats.pages_mapped += run_bytes / page_bytes;
            self.next = run.as_ptr();
            // SAFETY: the run is run_bytes long, so its end is one past it.
            self.end = unsafe { self.next.add(run_bytes) };
        }
        let block = self.next;
        // SAFETY: block_bytes <= bytes_left(), so the new `next` is still
        // inside the run or one past its end.
        self.next = unsafe { self.next.add(block_bytes) };
        self.stats.chunks_allocated += 1;
        NonNull::new(block)
        // END SOLUTION
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // BEGIN SOLUTION 2: count the free; a bump heap cannot take one block back
        // A bump heap does not know where a block ends (no header until
        // lesson 3), so it cannot give it back: free only counts. See the
        // lesson page for why it does not reset when nothing is live.
        let _ = ptr;
        self.stats.chunks_freed += 1;
        // END SOLUTION
    }

    fn stats(&self) -> Stats {
        // BEGIN SOLUTION 2: pages mapped, chunks allocated and freed (no free list: free_length 0)
        self.stats
        // END SOLUTION
    }
}
// BEGIN SOLUTION

/// Scenarios, one idea each, on real pages (they run under Miri too).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::MmapPages;

    fn heap() -> BumpHeap<MmapPages> {
        BumpHeap::new(MmapPages::new())
    }

    fn page_bytes() -> usize {
        MmapPages::new().page_size()
    }

    #[test]
    fn one_byte_costs_one_page() {
        let mut heap = heap();
        heap.malloc(1).unwrap();
        assert_eq!(heap.stats().pages_mapped, 1);
        heap.malloc(1).unwrap();
        assert_eq!(
            heap.stats().pages_mapped,
            1,
            "the second byte fits in the same page"
        );
    }

    #[test]
    fn blocks_are_aligned_writable_and_apart() {
        let mut heap = heap();
        let mut blocks = Vec::new();
        for (i, size) in [0, 1, 15, 16, 17, 100, 5000].into_iter().enumerate() {
            let ptr = heap.malloc(size).unwrap();
            assert_eq!(ptr.addr().get() % ALIGN, 0, "malloc({size})");
            // SAFETY: the block has at least `size` bytes.
            unsafe { ptr.write_bytes(i as u8 + 1, size) };
            blocks.push((ptr, size, i as u8 + 1));
        }
        for (ptr, size, byte) in blocks {
            // SAFETY: the block is live and holds `size` bytes written above.
            let bytes = unsafe { std::slice::from_raw_parts(ptr.as_ptr(), size) };
            assert!(
                bytes.iter().all(|&b| b == byte),
                "a later block overwrote this one"
            );
        }
    }

    #[test]
    fn big_request_maps_whole_pages() {
        let mut heap = heap();
        heap.malloc(3 * page_bytes()).unwrap();
        assert_eq!(heap.stats().pages_mapped, 3);
        heap.malloc(3 * page_bytes() + 1).unwrap();
        assert_eq!(heap.stats().pages_mapped, 3 + 4);
    }

    #[test]
    fn free_counts_and_memory_is_not_reused() {
        let mut heap = heap();
        let a = heap.malloc(32).unwrap();
        // SAFETY: a is live and not used after this.
        unsafe { heap.free(a) };
        let b = heap.malloc(32).unwrap();
        assert_ne!(a, b);
        assert_eq!(heap.stats().chunks_freed, 1);
        assert_eq!(heap.stats().chunks_allocated, 2);
    }

    #[test]
    fn overflowing_request_is_refused() {
        let mut heap = heap();
        assert_eq!(heap.malloc(usize::MAX), None);
        assert!(heap.malloc(8).is_some());
    }
}
// END SOLUTION
// END LESSONS
