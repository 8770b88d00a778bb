//! `CoalescingHeap`: lesson 4's heap with an address-ordered free list, so
//! that freeing merges neighbours and big chunks form again.

use std::ptr::NonNull;

use heaplab_kit::{align_up, Block, Heap, PageSource, Stats};

use crate::chunk::{chunk_bytes_for, chunk_of, payload_of, Flags, Header, HEADER_BYTES};
// BEGIN SOLUTION
use crate::free_list::fit::Fit;
// END SOLUTION
use crate::free_list::FreeList;

/// The smallest run of pages mapped at once (a multiple of any common page
/// size). Mapping many pages at a time keeps `mmap` calls rare and gives
/// small chunks neighbours in the same run, which lesson 5 merges.
pub const RUN_MIN_BYTES: usize = 64 * 1024;

/// What freed payloads are filled with, so that a use after free reads
/// garbage instead of the old data (as xv6's `kfree` does).
const JUNK_BYTE: u8 = 0xDB;

/// A heap whose free list is kept in address order, so that `free` can merge
/// a chunk with the free chunks on either side of it.
pub struct CoalescingHeap<S: PageSource> {
    /// Where runs of pages come from.
    pages: S,
    /// Every free chunk, in every run.
    free_list: FreeList,
    /// The counters `stats()` reports; `free_length` comes from the list.
    stats: Stats,
}

impl<S: PageSource> CoalescingHeap<S> {
    /// An empty heap: nothing is mapped until the first `malloc`.
    pub fn new(pages: S) -> Self {
        Self {
            pages,
            free_list: FreeList::new(),
            stats: Stats::default(),
        }
    }
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

    /// Maps a new run of pages with room for a `need_bytes` chunk and puts the
    /// whole run on the free list as one chunk, flagged as its run's start.
    /// `None` when the page source refuses, or when the run's size would
    /// overflow.
    fn grow(&mut self, need_bytes: usize) -> Option<()> {
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
                flags: Flags::run_start(),
            });
        }
        // SAFETY: the chunk covers the whole new run, which is far more than
        // MIN_CHUNK_BYTES and not on the list yet.
        unsafe { self.free_list.insert(chunk) };
        Some(())
    }
}

impl<S: PageSource> Heap for CoalescingHeap<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
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
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
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
        unsafe { self.free_list.insert(chunk) };
        self.stats.chunks_freed += 1;
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // SAFETY: ptr came from our malloc and is not freed (the caller's
        // promise), so its header is in front of it.
        let chunk = unsafe { ptr.sub(HEADER_BYTES) }.cast::<Header>();
        // SAFETY: as above.
        let size_bytes = unsafe { (*chunk.as_ptr()).size_bytes };
        Some(size_bytes - HEADER_BYTES)
    }

    fn stats(&self) -> Stats {
        Stats {
            free_length: self.free_list.len(),
            ..self.stats
        }
    }

    fn free_blocks(&self) -> Vec<Block> {
        self.free_list.blocks()
    }
}
// BEGIN SOLUTION

/// Scenarios, one idea each, on real pages (they run under Miri too).
#[cfg(test)]
mod tests {
    use heaplab_kit::ALIGN;

    use super::*;
    use crate::{MmapPages, MIN_CHUNK_BYTES, RUN_MIN_BYTES};

    /// The heap these tests check.
    type Tested<S> = CoalescingHeap<S>;

    fn heap() -> Tested<MmapPages> {
        Tested::new(MmapPages::new())
    }

    /// The chunk size written in front of `ptr`.
    fn header_size(ptr: NonNull<u8>) -> usize {
        // SAFETY: ptr is a live block of the heap: its header is in front.
        unsafe { ptr.sub(HEADER_BYTES).cast::<usize>().read() }
    }

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
