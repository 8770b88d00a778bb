// LESSONS 3..
// LESSONS 3
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
// ELSE LESSONS 4
//! `FreeListHeap`: lesson 3's heap plus a free list, so freed chunks are
//! handed out again instead of new pages being mapped.
// ELSE LESSONS 5
//! `CoalescingHeap`: lesson 4's heap with an address-ordered free list, so
//! that freeing merges neighbours and big chunks form again.
// ELSE LESSONS 6..
//! `BigHeap`: lesson 5's heap, plus a second path for big requests, which
//! get pages of their own and give them back to the OS on `free`.
// LESSONS 7..
//! Lesson 7's `realloc`, `calloc` and aligned blocks are in `resize.rs`, and
//! `unmap_big` knows their lead.
// END LESSONS
//!
//! ```text
//!   malloc(size) ── chunk_bytes_for(size) ≥ one page? ──no──► free list (lesson 5)
//!                                  │ yes
//!                                  ▼
//!                  map(chunk rounded up to pages) ──► [header | payload …]
//!   free(ptr) ── header says BIG? ──yes──► unmap(chunk, size_bytes): the very
//!                         │ no             range that was mapped
//!                         ▼
//!                  junk-fill, insert on the free list, merge (lesson 5)
//! ```
// END LESSONS

// LESSONS 3
use std::ptr::{self, NonNull};
// ELSE LESSONS 4..
use std::ptr::NonNull;
// END LESSONS

// LESSONS 3
use heaplab_kit::{align_up, Heap, PageSource, Stats};
// ELSE LESSONS 4..=5
use heaplab_kit::{align_up, Block, Heap, PageSource, Stats};
// ELSE LESSONS 6..
use heaplab_kit::layout::is_big_chunk;
use heaplab_kit::{align_up, Block, Heap, PageSource, Stats};
// END LESSONS

use crate::chunk::{chunk_bytes_for, chunk_of, payload_of, Flags, Header, HEADER_BYTES};
// LESSONS 4..=5
// BEGIN SOLUTION
use crate::free_list::fit::Fit;
// END SOLUTION
// END LESSONS
// LESSONS 4..
use crate::free_list::FreeList;

/// The smallest run of pages mapped at once (a multiple of any common page
/// size). Mapping many pages at a time keeps `mmap` calls rare and gives
/// small chunks neighbours in the same run, which lesson 5 merges.
pub const RUN_MIN_BYTES: usize = 64 * 1024;
// END LESSONS

/// What freed payloads are filled with, so that a use after free reads
/// garbage instead of the old data (as xv6's `kfree` does).
const JUNK_BYTE: u8 = 0xDB;

// LESSONS 3
/// A bump heap whose chunks carry their size in a header.
pub struct HeaderHeap<S: PageSource> {
// ELSE LESSONS 4
/// A heap that keeps its free chunks on a list threaded through the chunks
/// themselves, and serves each request from the first chunk that fits.
pub struct FreeListHeap<S: PageSource> {
// ELSE LESSONS 5
/// A heap whose free list is kept in address order, so that `free` can merge
/// a chunk with the free chunks on either side of it.
pub struct CoalescingHeap<S: PageSource> {
// ELSE LESSONS 6..
/// A heap with two paths: chunks of at least a page (header included) are
/// mapped and unmapped on their own; smaller ones come from the free list.
///
/// A page is the threshold (the kit's [`is_big_chunk`]) because `munmap` can
/// only give back whole pages: below a page, a mapping of its own wastes most
/// of it, and from a page on the rounding wastes less than a page per block.
/// It is the course's rule, not the fastest one: each big block costs two
/// system calls and fresh, zero-filled pages (docs/lesson6.md measures it;
/// glibc starts at 128 KiB).
pub struct BigHeap<S: PageSource> {
// END LESSONS
    // LESSONS 3..=5
    /// Where runs of pages come from.
    pages: S,
    // ELSE LESSONS 6..
    /// Where runs of pages (small path) and big chunks come from.
    pub(crate) pages: S,
    // END LESSONS
    // LESSONS 3
    /// The first byte of the current run not handed out yet (null before
    /// the first map).
    next: *mut u8,
    /// One past the current run's last byte (null before the first map).
    end: *mut u8,
    /// The counters `stats()` reports.
    stats: Stats,
    // ELSE LESSONS 4..=5
    /// Every free chunk, in every run.
    free_list: FreeList,
    /// The counters `stats()` reports; `free_length` comes from the list.
    stats: Stats,
    // ELSE LESSONS 6..
    /// Every free small chunk, in every run, in address order.
    pub(crate) free_list: FreeList,
    /// The counters `stats()` reports; `free_length` comes from the list.
    pub(crate) stats: Stats,
    // END LESSONS
}

// LESSONS 3
impl<S: PageSource> HeaderHeap<S> {
// ELSE LESSONS 4
impl<S: PageSource> FreeListHeap<S> {
// ELSE LESSONS 5
impl<S: PageSource> CoalescingHeap<S> {
// ELSE LESSONS 6..
impl<S: PageSource> BigHeap<S> {
// END LESSONS
    /// An empty heap: nothing is mapped until the first `malloc`.
    pub fn new(pages: S) -> Self {
        Self {
            pages,
            // LESSONS 3
            next: ptr::null_mut(),
            end: ptr::null_mut(),
            // ELSE LESSONS 4..
            free_list: FreeList::new(),
            // END LESSONS
            stats: Stats::default(),
        }
    }
    // LESSONS 4..=5
    // BEGIN SOLUTION

    /// An empty heap whose `malloc` takes chunks by `fit` and counts the free
    /// chunks its searches read: docs/lesson4.md's experiment compares the
    /// policies this way (`new` is the lesson's first fit, uncounted).
    pub fn with_fit(pages: S, fit: Fit) -> Self {
        let mut heap = Self::new(pages);
        heap.free_list.place_by(fit);
        heap
    }

    /// Free chunks read by the searches of a heap made
    /// [`with_fit`](Self::with_fit); 0 for one made with `new`.
    pub fn visits(&self) -> u64 {
        self.free_list.visits()
    }
    // END SOLUTION
    // END LESSONS
    // LESSONS 3

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
    // END LESSONS
    // LESSONS 6..

    /// True when a chunk of `need_bytes` takes the big path: a page or more.
    pub(crate) fn is_big(&self, need_bytes: usize) -> bool {
        is_big_chunk(need_bytes, self.pages.page_size())
    }
    // END LESSONS
    // LESSONS 4..

    /// Maps a new run of pages with room for a `need_bytes` chunk and puts the
    // LESSONS 4
    /// whole run on the free list as one chunk. `None` when the page source
    /// refuses, or when the run's size would overflow.
    // ELSE LESSONS 5..
    /// whole run on the free list as one chunk, flagged as its run's start.
    /// `None` when the page source refuses, or when the run's size would
    /// overflow.
    // END LESSONS
    fn grow(&mut self, need_bytes: usize) -> Option<()> {
        // BEGIN SOLUTION 4: map a run of at least RUN_MIN_BYTES; the whole run becomes one free chunk
        let page_bytes = self.pages.page_size();
        let run_bytes = align_up(need_bytes.max(RUN_MIN_BYTES), page_bytes)?;
        let run = self.pages.map(run_bytes)?;
        self.stats.pages_mapped += run_bytes / page_bytes;
        let chunk = run.cast::<Header>();
        // SAFETY: [run, run + run_bytes) is a fresh mapping, page aligned, that
        // nothing else uses; a header fits at its start.
        unsafe {
            chunk.write(Header {
                size_bytes: run_bytes,
                // LESSONS 4
                flags: Flags::free(),
                // ELSE LESSONS 5..
                flags: Flags::run_start(),
                // END LESSONS
            });
        }
        // SAFETY: the chunk covers the whole new run, which is far more than
        // MIN_CHUNK_BYTES and not on the list yet.
        // LESSONS 4
        unsafe { self.free_list.push(chunk) };
        // ELSE LESSONS 5..
        unsafe { self.free_list.insert(chunk) };
        // END LESSONS
        Some(())
        // END SOLUTION
    }
    // END LESSONS
    // LESSONS 6..

    /// A small chunk: first fit from the free list, growing when nothing fits.
    pub(crate) fn malloc_small(&mut self, need_bytes: usize) -> Option<NonNull<Header>> {
        if let Some(chunk) = self.free_list.take_first_fit(need_bytes) {
            return Some(chunk);
        }
        self.grow(need_bytes)?;
        let chunk = self.free_list.take_first_fit(need_bytes);
        Some(chunk.expect("a new run always fits the chunk it was mapped for"))
    }

    /// Gives a small chunk back to the free list, merged with its neighbours.
    ///
    /// # Safety
    /// `[chunk, chunk + size_bytes)` is an in-use small chunk this heap
    /// handed out, which nothing uses any more.
    pub(crate) unsafe fn free_small(&mut self, chunk: NonNull<Header>) {
        // SAFETY: the chunk is ours (the caller's promise).
        let size_bytes = unsafe { (*chunk.as_ptr()).size_bytes };
        // SAFETY: the payload [chunk + HEADER_BYTES, chunk + size_bytes) is
        // given up by the caller.
        unsafe { payload_of(chunk).write_bytes(JUNK_BYTE, size_bytes - HEADER_BYTES) };
        // SAFETY: a whole small chunk of at least MIN_CHUNK_BYTES in one run,
        // not on the list (it was in use).
        unsafe { self.free_list.insert(chunk) };
    }

    /// A big chunk: `need_bytes` rounded up to whole pages, mapped for it
    /// alone; its header records the mapped length. `None` when the page
    /// source refuses or the length would overflow.
    fn map_big(&mut self, need_bytes: usize) -> Option<NonNull<Header>> {
        // BEGIN SOLUTION 6: map whole pages for this chunk alone; its header records the mapped length
        let page_bytes = self.pages.page_size();
        let map_bytes = align_up(need_bytes, page_bytes)?;
        let mapping = self.pages.map(map_bytes)?;
        self.stats.pages_mapped += map_bytes / page_bytes;
        let chunk = mapping.cast::<Header>();
        // SAFETY: [mapping, mapping + map_bytes) is a fresh mapping of at
        // least a page; its first 16 bytes become the header.
        unsafe {
            chunk.write(Header {
                size_bytes: map_bytes,
                flags: Flags::big(),
            });
        }
        Some(chunk)
        // END SOLUTION
    }

    // LESSONS 6
    /// Unmaps a big chunk: exactly the range `map_big` mapped for it.
    // ELSE LESSONS 7..
    /// Unmaps a big chunk: exactly the range `map_big` (or lesson 7's
    /// aligned `map_big_aligned`) mapped for it.
    // END LESSONS
    ///
    /// # Safety
    /// `chunk` is a big chunk `map_big` returned, not unmapped since, and
    /// nothing uses `[chunk, chunk + size_bytes)` any more.
    unsafe fn unmap_big(&mut self, chunk: NonNull<Header>) {
        // BEGIN SOLUTION 6: unmap the chunk's whole mapping, the length its header records
        // LESSONS 6
        // SAFETY: the header of a live big chunk (the caller's promise).
        let map_bytes = unsafe { (*chunk.as_ptr()).size_bytes };
        // SAFETY: map_big mapped exactly [chunk, chunk + map_bytes) and wrote
        // that length in the header; the caller gives the whole range up.
        unsafe { self.pages.unmap(chunk.cast(), map_bytes) };
        // ELSE LESSONS 7..
        // SAFETY: the header of a live big chunk (the caller's promise).
        let Header { size_bytes, flags } = unsafe { chunk.read() };
        let lead_bytes = if flags.has_lead() {
            // SAFETY: a chunk with a lead keeps its mapping's start in the
            // word before its header, inside the lead (see chunk.rs).
            let start = unsafe { chunk.cast::<usize>().sub(1).read() };
            chunk.addr().get() - start
        } else {
            0
        };
        let map_bytes = lead_bytes + size_bytes;
        // SAFETY: the mapping starts lead_bytes before the chunk, in the same
        // mapping.
        let mapping = unsafe { chunk.cast::<u8>().sub(lead_bytes) };
        // SAFETY: [mapping, chunk + size_bytes) is exactly what was mapped for
        // this chunk, and the caller gives the whole range up.
        unsafe { self.pages.unmap(mapping, map_bytes) };
        // END LESSONS
        self.stats.pages_unmapped += map_bytes / self.pages.page_size();
        // END SOLUTION
    }
    // END LESSONS
}

// LESSONS 3
impl<S: PageSource> Heap for HeaderHeap<S> {
// ELSE LESSONS 4
impl<S: PageSource> Heap for FreeListHeap<S> {
// ELSE LESSONS 5
impl<S: PageSource> Heap for CoalescingHeap<S> {
// ELSE LESSONS 6..
impl<S: PageSource> Heap for BigHeap<S> {
// END LESSONS
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        // LESSONS 3
        // BEGIN SOLUTION 3: carve a chunk of chunk_bytes_for(size), write its header (size, in use), return the payload
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
        // ELSE LESSONS 4..=5
        // BEGIN SOLUTION 4: first fit from the free list; grow only when nothing fits
        let need_bytes = chunk_bytes_for(size)?;
        let chunk = match self.free_list.take_first_fit(need_bytes) {
            Some(chunk) => chunk,
            None => {
                self.grow(need_bytes)?;
                self.free_list
                    .take_first_fit(need_bytes)
                    .expect("a new run always fits the chunk it was mapped for")
            }
        };
        self.stats.chunks_allocated += 1;
        // SAFETY: the chunk is at least MIN_CHUNK_BYTES, inside a mapped run.
        Some(unsafe { payload_of(chunk) })
        // END SOLUTION
        // ELSE LESSONS 6..
        // BEGIN SOLUTION 6: a chunk of a page or more takes the big path; the rest, the free list
        let need_bytes = chunk_bytes_for(size)?;
        let chunk = if self.is_big(need_bytes) {
            self.map_big(need_bytes)?
        } else {
            self.malloc_small(need_bytes)?
        };
        self.stats.chunks_allocated += 1;
        // SAFETY: the chunk is at least MIN_CHUNK_BYTES, inside one mapping.
        Some(unsafe { payload_of(chunk) })
        // END SOLUTION
        // END LESSONS
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // LESSONS 3
        // BEGIN SOLUTION 3: find the chunk by its header, mark it free, junk-fill the payload, count the free
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
        // ELSE LESSONS 4..=5
        // BEGIN SOLUTION 4: find the chunk by its header, junk-fill the payload, push the chunk on the list
        // SAFETY: ptr came from our malloc (the caller's promise), so its
        // header sits just in front of it in the same run.
        let chunk = unsafe { chunk_of(ptr) };
        // SAFETY: chunk_of checked that this is one of our in-use headers.
        let size_bytes = unsafe { (*chunk.as_ptr()).size_bytes };
        // SAFETY: [ptr, chunk + size_bytes) is the block's payload, which the
        // caller gives up with this call.
        unsafe { ptr.write_bytes(JUNK_BYTE, size_bytes - HEADER_BYTES) };
        // SAFETY: a chunk malloc handed out is a whole chunk of at least
        // MIN_CHUNK_BYTES in one run, and not on the list (it was in use).
        // LESSONS 4
        unsafe { self.free_list.push(chunk) };
        // ELSE LESSONS 5
        unsafe { self.free_list.insert(chunk) };
        // END LESSONS
        self.stats.chunks_freed += 1;
        // END SOLUTION
        // ELSE LESSONS 6..
        // BEGIN SOLUTION 6: a big chunk goes back to the OS; a small one, to the free list
        // SAFETY: ptr came from our malloc (the caller's promise), so its
        // header sits just in front of it in the same mapping.
        let chunk = unsafe { chunk_of(ptr) };
        // SAFETY: chunk_of checked that this is one of our in-use headers.
        let flags = unsafe { (*chunk.as_ptr()).flags };
        if flags.is_big() {
            // SAFETY: a big chunk from map_big, given up by the caller.
            unsafe { self.unmap_big(chunk) };
        } else {
            // SAFETY: a small in-use chunk, given up by the caller.
            unsafe { self.free_small(chunk) };
        }
        self.stats.chunks_freed += 1;
        // END SOLUTION
        // END LESSONS
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // BEGIN SOLUTION 3: the chunk size in the header, minus the header
        // SAFETY: ptr came from our malloc and is not freed (the caller's
        // promise), so its header is in front of it.
        let chunk = unsafe { ptr.sub(HEADER_BYTES) }.cast::<Header>();
        // SAFETY: as above.
        let size_bytes = unsafe { (*chunk.as_ptr()).size_bytes };
        Some(size_bytes - HEADER_BYTES)
        // END SOLUTION
    }

    fn stats(&self) -> Stats {
        // LESSONS 3
        self.stats
        // ELSE LESSONS 4..
        Stats {
            free_length: self.free_list.len(),
            ..self.stats
        }
        // END LESSONS
    }
    // LESSONS 4..

    fn free_blocks(&self) -> Vec<Block> {
        self.free_list.blocks()
    }
    // END LESSONS
}
// BEGIN SOLUTION

/// Scenarios, one idea each, on real pages (they run under Miri too).
#[cfg(test)]
mod tests {
    use heaplab_kit::ALIGN;

    use super::*;
    // LESSONS 3
    use crate::{MmapPages, MIN_CHUNK_BYTES};
    // ELSE LESSONS 4..
    use crate::{MmapPages, MIN_CHUNK_BYTES, RUN_MIN_BYTES};
    // END LESSONS

    /// The heap these tests check.
    // LESSONS 3
    type Tested<S> = HeaderHeap<S>;
    // ELSE LESSONS 4
    type Tested<S> = FreeListHeap<S>;
    // ELSE LESSONS 5
    type Tested<S> = CoalescingHeap<S>;
    // ELSE LESSONS 6..
    type Tested<S> = BigHeap<S>;
    // END LESSONS

    fn heap() -> Tested<MmapPages> {
        Tested::new(MmapPages::new())
    }

    /// The chunk size written in front of `ptr`.
    fn header_size(ptr: NonNull<u8>) -> usize {
        // SAFETY: ptr is a live block of the heap: its header is in front.
        unsafe { ptr.sub(HEADER_BYTES).cast::<usize>().read() }
    }
    // LESSONS 4..

    /// The chunk of the block at `ptr`, as the free list reports chunks.
    fn chunk_addr(ptr: NonNull<u8>) -> usize {
        ptr.addr().get() - HEADER_BYTES
    }

    /// Real pages, until `maps_left` runs out: then the OS "refuses".
    struct RationedPages {
        inner: MmapPages,
        maps_left: usize,
    }

    impl PageSource for RationedPages {
        fn page_size(&self) -> usize {
            self.inner.page_size()
        }
        fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
            self.maps_left = self.maps_left.checked_sub(1)?;
            self.inner.map(len)
        }
        unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
            // SAFETY: forwarded with the caller's promise.
            unsafe { self.inner.unmap(ptr, len) }
        }
    }
    // END LESSONS

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
    // LESSONS 3

    #[test]
    fn page_sized_request_needs_two_pages() {
        let mut heap = heap();
        let page = MmapPages::new().page_size();
        heap.malloc(page - HEADER_BYTES).unwrap();
        assert_eq!(heap.stats().pages_mapped, 1);
        heap.malloc(page).unwrap();
        assert_eq!(heap.stats().pages_mapped, 1 + 2);
    }
    // ELSE LESSONS 4..

    #[test]
    fn blocks_are_aligned_and_writable() {
        let mut heap = heap();
        for size in [0, 1, 15, 16, 17, 100, 5000] {
            let ptr = heap.malloc(size).unwrap();
            assert_eq!(ptr.addr().get() % ALIGN, 0, "malloc({size})");
            // SAFETY: the block has at least `size` bytes.
            unsafe { ptr.write_bytes(0xAB, size) };
        }
    }

    #[test]
    fn freed_chunk_is_reused() {
        let mut heap = heap();
        let a = heap.malloc(100).unwrap();
        let _b = heap.malloc(100).unwrap();
        // SAFETY: a is live and not used after this.
        unsafe { heap.free(a) };
        assert_eq!(heap.malloc(100), Some(a));
        assert_eq!(
            heap.stats().pages_mapped,
            RUN_MIN_BYTES / MmapPages::new().page_size()
        );
    }

    #[test]
    fn new_run_rest_goes_on_the_list() {
        let mut heap = heap();
        let a = heap.malloc(100).unwrap();
        let blocks = heap.free_blocks();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].addr, chunk_addr(a) + 128);
        assert_eq!(blocks[0].size, RUN_MIN_BYTES - 128);
    }

    #[test]
    fn split_leaves_the_rest_on_the_list() {
        let mut heap = heap();
        let big = heap.malloc(1000).unwrap(); // a 1024-byte chunk
        let _fence = heap.malloc(0).unwrap();
        // SAFETY: big is live and not used after this.
        unsafe { heap.free(big) };
        let small = heap.malloc(100).unwrap(); // a 128-byte chunk, from the front
        assert_eq!(small, big);
        let blocks = heap.free_blocks();
        assert_eq!(
            blocks[0],
            Block {
                addr: chunk_addr(big) + 128,
                size: 1024 - 128
            }
        );
    }

    #[test]
    fn a_rest_too_small_for_a_chunk_is_not_split() {
        let mut heap = heap();
        let a = heap.malloc(48).unwrap(); // a 64-byte chunk
        let _fence = heap.malloc(0).unwrap();
        let length_before = heap.stats().free_length;
        // SAFETY: a is live and not used after this.
        unsafe { heap.free(a) };
        let b = heap.malloc(32).unwrap(); // needs 48: 16 would be left, under MIN_CHUNK_BYTES
        assert_eq!(b, a);
        // SAFETY: b is live.
        assert_eq!(unsafe { heap.usable_size(b) }, Some(48));
        assert_eq!(heap.stats().free_length, length_before);
    }

    #[test]
    fn first_fit_takes_the_first_chunk_that_fits() {
        let mut heap = heap();
        let mut blocks = Vec::new();
        for size in [100, 300, 300] {
            blocks.push(heap.malloc(size).unwrap());
            heap.malloc(0).unwrap(); // a fence, so freed chunks stay apart
        }
        for &ptr in blocks.iter().rev() {
            // SAFETY: each block is live and not used after this.
            unsafe { heap.free(ptr) };
        }
        // The list is [100-block, first 300-block, second 300-block, run rest].
        assert_eq!(heap.malloc(200), Some(blocks[1]));
    }
    // END LESSONS
    // LESSONS 4

    #[test]
    fn free_pushes_at_the_head() {
        let mut heap = heap();
        let a = heap.malloc(10).unwrap();
        let b = heap.malloc(10).unwrap();
        // SAFETY: a and b are live and not used after this.
        unsafe {
            heap.free(a);
            heap.free(b);
        }
        let order: Vec<usize> = heap.free_blocks().iter().map(|b| b.addr).collect();
        assert_eq!(order[..2], [chunk_addr(b), chunk_addr(a)]);
        assert_eq!(heap.stats().free_length, 3);
    }
    // ELSE LESSONS 5..

    /// Frees `ptrs` in order.
    fn free_all(heap: &mut Tested<impl PageSource>, ptrs: &[NonNull<u8>]) {
        for &ptr in ptrs {
            // SAFETY: the tests free each live block once and do not use it after.
            unsafe { heap.free(ptr) };
        }
    }

    /// Three 100-byte blocks (128-byte chunks), side by side, and a fence
    /// after them so the last one does not touch the run's rest.
    fn three_neighbours(heap: &mut Tested<MmapPages>) -> [NonNull<u8>; 3] {
        let abc = [0; 3].map(|_| heap.malloc(100).unwrap());
        heap.malloc(0).unwrap();
        abc
    }

    #[test]
    fn free_keeps_address_order() {
        let mut heap = heap();
        let a = heap.malloc(10).unwrap();
        let _fence = heap.malloc(10).unwrap();
        let b = heap.malloc(10).unwrap();
        let _fence = heap.malloc(10).unwrap();
        free_all(&mut heap, &[b, a]);
        let order: Vec<usize> = heap.free_blocks().iter().map(|b| b.addr).collect();
        assert_eq!(order[..2], [chunk_addr(a), chunk_addr(b)]);
        assert_eq!(heap.stats().free_length, 3);
    }

    #[test]
    fn free_merges_with_the_chunk_after() {
        let mut heap = heap();
        let [a, b, _c] = three_neighbours(&mut heap);
        free_all(&mut heap, &[b, a]);
        assert_eq!(
            heap.free_blocks()[0],
            Block {
                addr: chunk_addr(a),
                size: 256
            }
        );
        assert_eq!(
            heap.stats().free_length,
            2,
            "the merged chunk and the run's rest"
        );
    }

    #[test]
    fn free_merges_with_the_chunk_before() {
        let mut heap = heap();
        let [a, b, _c] = three_neighbours(&mut heap);
        free_all(&mut heap, &[a, b]);
        assert_eq!(
            heap.free_blocks()[0],
            Block {
                addr: chunk_addr(a),
                size: 256
            }
        );
        assert_eq!(heap.stats().free_length, 2);
    }

    #[test]
    fn free_merges_with_both_neighbours() {
        let mut heap = heap();
        let [a, b, c] = three_neighbours(&mut heap);
        free_all(&mut heap, &[a, c]);
        assert_eq!(
            heap.stats().free_length,
            3,
            "a and c apart, and the run's rest"
        );
        free_all(&mut heap, &[b]);
        assert_eq!(
            heap.free_blocks()[0],
            Block {
                addr: chunk_addr(a),
                size: 384
            }
        );
        assert_eq!(heap.stats().free_length, 2);
    }

    #[test]
    fn merging_reaches_the_rest_of_the_run() {
        let mut heap = heap();
        let a = heap.malloc(100).unwrap();
        free_all(&mut heap, &[a]);
        assert_eq!(
            heap.free_blocks(),
            [Block {
                addr: chunk_addr(a),
                size: RUN_MIN_BYTES
            }],
            "a freed run is one chunk again"
        );
    }

    /// The lecture's case: five freed neighbours (4080 bytes) serve a request
    /// none of them could serve alone (4000 bytes, a chunk still under a
    /// page: lesson 6's big path leaves it to the list). 240 blocks of 800
    /// fill three runs exactly, so no rest of a run could serve it instead.
    #[test]
    fn freed_neighbours_serve_a_request_none_could_alone() {
        let mut heap = heap();
        let blocks: Vec<_> = (0..240).map(|_| heap.malloc(800).unwrap()).collect();
        let pages_before = heap.stats().pages_mapped;
        free_all(&mut heap, &blocks[20..25]);
        assert_eq!(heap.malloc(4000), Some(blocks[20]));
        assert_eq!(heap.stats().pages_mapped, pages_before, "no new pages");
    }

    /// Pages that come from one big mapping, handed out run after run, so
    /// that two runs are sure to touch.
    struct AdjacentPages {
        inner: MmapPages,
        slab: Option<(NonNull<u8>, usize)>,
        used_bytes: usize,
    }

    impl PageSource for AdjacentPages {
        fn page_size(&self) -> usize {
            self.inner.page_size()
        }
        fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
            const SLAB_BYTES: usize = 4 * RUN_MIN_BYTES;
            let (slab, _) = *self
                .slab
                .get_or_insert_with(|| (self.inner.map(SLAB_BYTES).unwrap(), SLAB_BYTES));
            if self.used_bytes + len > SLAB_BYTES {
                return None;
            }
            // SAFETY: [used_bytes, used_bytes + len) lies inside the slab.
            let run = unsafe { slab.add(self.used_bytes) };
            self.used_bytes += len;
            Some(run)
        }
        unsafe fn unmap(&mut self, _ptr: NonNull<u8>, _len: usize) {
            unreachable!("the small path never unmaps");
        }
    }

    #[test]
    fn chunks_of_two_runs_do_not_merge_even_when_the_runs_touch() {
        let mut heap = Tested::new(AdjacentPages {
            inner: MmapPages::new(),
            slab: None,
            used_bytes: 0,
        });
        // 80 chunks of 816 bytes fill the first run but for 256 bytes.
        let mut blocks: Vec<_> = (0..80).map(|_| heap.malloc(800).unwrap()).collect();
        let next = heap.malloc(300).unwrap(); // starts the second run
        assert_eq!(chunk_addr(next), chunk_addr(blocks[0]) + RUN_MIN_BYTES);
        blocks.push(next);
        free_all(&mut heap, &blocks);
        let sizes: Vec<usize> = heap.free_blocks().iter().map(|b| b.size).collect();
        assert_eq!(sizes, [RUN_MIN_BYTES, RUN_MIN_BYTES], "one chunk per run");
    }
    // END LESSONS
    // LESSONS 4..

    #[test]
    fn contents_survive_other_mallocs_and_frees() {
        let mut heap = heap();
        let keep = heap.malloc(64).unwrap();
        // SAFETY: keep has 64 bytes.
        unsafe { keep.write_bytes(0x5A, 64) };
        for round in 0..50 {
            let p = heap.malloc(round * 8).unwrap();
            // SAFETY: p has round * 8 bytes; freed right after.
            unsafe {
                p.write_bytes(0xFF, round * 8);
                heap.free(p);
            }
        }
        // SAFETY: keep is live, 64 bytes.
        let kept = unsafe { std::slice::from_raw_parts(keep.as_ptr(), 64) };
        assert!(kept.iter().all(|&b| b == 0x5A));
    }

    #[test]
    fn refused_pages_give_none_and_the_heap_keeps_working() {
        let mut heap = Tested::new(RationedPages {
            inner: MmapPages::new(),
            maps_left: 1,
        });
        let a = heap.malloc(100).unwrap();
        assert_eq!(heap.malloc(1 << 20), None, "the second run is refused");
        assert_eq!(heap.malloc(usize::MAX - 8), None, "a size that overflows");
        // SAFETY: a is live and not used after this.
        unsafe { heap.free(a) };
        assert_eq!(heap.malloc(100), Some(a));
        assert_eq!(heap.stats().chunks_allocated, 2);
    }
    // END LESSONS
    // LESSONS 3..=6

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
    // END LESSONS
    // LESSONS 6..

    #[test]
    fn a_big_request_gets_pages_of_its_own() {
        let mut heap = heap();
        let page = MmapPages::new().page_size();
        let big = heap.malloc(page).unwrap();
        assert_eq!(
            big.addr().get() % page,
            HEADER_BYTES,
            "the header opens the mapping"
        );
        // SAFETY: big is live.
        assert_eq!(
            unsafe { heap.usable_size(big) },
            Some(2 * page - HEADER_BYTES)
        );
        assert_eq!(heap.stats().pages_mapped, 2);
        assert_eq!(
            heap.stats().free_length,
            0,
            "big chunks never touch the list"
        );
        free_all(&mut heap, &[big]);
        assert_eq!(heap.stats().pages_unmapped, 2);
        assert_eq!(heap.stats().free_length, 0);
    }

    #[test]
    fn the_threshold_is_a_chunk_of_one_page() {
        let mut heap = heap();
        let page = MmapPages::new().page_size();
        let small = heap.malloc(page - HEADER_BYTES - 1).unwrap(); // a chunk one page long
        let below = heap.malloc(page - HEADER_BYTES - 17).unwrap(); // 16 bytes less
        assert_eq!(small.addr().get() % page, HEADER_BYTES);
        assert_eq!(heap.stats().pages_mapped, 1 + RUN_MIN_BYTES / page);
        assert_eq!(heap.stats().free_length, 1, "`below` came from a run");
        free_all(&mut heap, &[small, below]);
        assert_eq!(
            heap.stats().pages_unmapped,
            1,
            "only the big chunk is unmapped"
        );
    }

    #[test]
    fn a_refused_big_request_leaves_the_heap_working() {
        let mut heap = heap();
        let small = heap.malloc(100).unwrap();
        assert_eq!(
            heap.malloc(usize::MAX - 4096),
            None,
            "a size that overflows"
        );
        let pages = RationedPages {
            inner: MmapPages::new(),
            maps_left: 0,
        };
        let mut refused = Tested::new(pages);
        assert_eq!(refused.malloc(1 << 20), None);
        assert_eq!(refused.stats().chunks_allocated, 0);
        free_all(&mut heap, &[small]);
        assert!(heap.malloc(100).is_some());
    }
    // END LESSONS
}
// END SOLUTION
// END LESSONS
