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
        // BEGIN SOLUTION: carve a chunk of chunk_bytes_for(size), write its header (size, in use), return the payload
        let size_bytes = chunk_bytes_for(size)?;
        let chunk = self.carve(size_bytes)?.cast::<Header>();
        // SAFETY: carve returned size_bytes >= HEADER_BYTES fresh bytes,
        // 16-byte aligned, that nothing else uses.
        unsafe {
            chunk.write(Header {
                size_bytes,
                flags: Flags::in_use(),
            });
        }
        self.stats.chunks_allocated += 1;
        // SAFETY: the header lies inside the chunk just carved.
        Some(unsafe { payload_of(chunk) })
        // END SOLUTION
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // BEGIN SOLUTION: find the chunk by its header, mark it free, junk-fill the payload, count the free
        // SAFETY: ptr came from our malloc (the caller's promise), so its
        // header sits just in front of it in the same run.
        let chunk = unsafe { chunk_of(ptr) };
        // SAFETY: chunk_of checked that this is one of our in-use headers.
        let size_bytes = unsafe { (*chunk.as_ptr()).size_bytes };
        // SAFETY: as above; marking it free lets the next free of ptr be
        // caught as a double free.
        unsafe { (*chunk.as_ptr()).flags = Flags::free() };
        // SAFETY: [ptr, chunk + size_bytes) is the block's payload, which the
        // caller gives up with this call.
        unsafe { ptr.write_bytes(JUNK_BYTE, size_bytes - HEADER_BYTES) };
        self.stats.chunks_freed += 1;
        // END SOLUTION
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // BEGIN SOLUTION: the chunk size in the header, minus the header
        // SAFETY: ptr came from our malloc and is not freed (the caller's
        // promise), so its header is in front of it.
        let chunk = unsafe { ptr.sub(HEADER_BYTES) }.cast::<Header>();
        // SAFETY: as above.
        let size_bytes = unsafe { (*chunk.as_ptr()).size_bytes };
        Some(size_bytes - HEADER_BYTES)
        // END SOLUTION
    }

    fn stats(&self) -> Stats {
        self.stats
    }
}
// BEGIN SOLUTION

/// Scenarios, one idea each, on real pages (they run under Miri too).
#[cfg(test)]
mod tests {
    use heaplab_kit::ALIGN;

    use super::*;
    use crate::{MmapPages, MIN_CHUNK_BYTES};

    /// The heap these tests check.
    type Tested<S> = HeaderHeap<S>;

    fn heap() -> Tested<MmapPages> {
        Tested::new(MmapPages::new())
    }

    /// The chunk size written in front of `ptr`.
    fn header_size(ptr: NonNull<u8>) -> usize {
        // SAFETY: ptr is a live block of the heap: its header is in front.
        unsafe { ptr.sub(HEADER_BYTES).cast::<usize>().read() }
    }

    #[test]
    fn header_holds_the_chunk_size() {
        let mut heap = heap();
        for (size, chunk) in [(0, 32), (1, 32), (16, 32), (17, 48), (24, 48), (100, 128)] {
            let ptr = heap.malloc(size).unwrap();
            assert_eq!(ptr.addr().get() % ALIGN, 0, "malloc({size})");
            assert_eq!(header_size(ptr), chunk, "malloc({size})");
            // SAFETY: ptr is live.
            assert_eq!(unsafe { heap.usable_size(ptr) }, Some(chunk - HEADER_BYTES));
        }
    }

    #[test]
    fn neighbour_writes_leave_the_header_alone() {
        let mut heap = heap();
        let a = heap.malloc(24).unwrap();
        let b = heap.malloc(24).unwrap();
        // SAFETY: a is live and holds 24 bytes (in fact 32).
        unsafe { a.write_bytes(0xFF, 32) };
        assert_eq!(header_size(b), 48);
        // SAFETY: b is live.
        unsafe { heap.free(b) };
        assert_eq!(heap.stats().chunks_freed, 1);
    }

    #[test]
    fn malloc_zero_gets_a_minimum_chunk() {
        let mut heap = heap();
        let a = heap.malloc(0).unwrap();
        let b = heap.malloc(0).unwrap();
        assert_ne!(a, b);
        assert_eq!(header_size(a), MIN_CHUNK_BYTES);
    }

    #[test]
    fn page_sized_request_needs_two_pages() {
        let mut heap = heap();
        let page = MmapPages::new().page_size();
        heap.malloc(page - HEADER_BYTES).unwrap();
        assert_eq!(heap.stats().pages_mapped, 1);
        heap.malloc(page).unwrap();
        assert_eq!(heap.stats().pages_mapped, 1 + 2);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn double_free_is_caught() {
        let mut heap = heap();
        let a = heap.malloc(10).unwrap();
        let _b = heap.malloc(10).unwrap();
        // SAFETY: deliberately breaks free's contract to see it caught: the chunk
        // stays mapped, so reading its header again is defined.
        unsafe {
            heap.free(a);
            heap.free(a);
        }
    }
}
// END SOLUTION
