//! Numbers the reference heaps give when asked directly, on real pages:
//! chunk sizes, and the lecture's fragmentation case.

use std::ptr::NonNull;

use heaplab_kit::{Block, Heap};

/// Bytes of header in front of every payload (lessons 3 to 7).
pub const HEADER_BYTES: usize = 16;

/// The chunk, header included, that lesson 3's reference carves for
/// `malloc(size)` (the same layout as lessons 4 and 5).
pub fn chunk_bytes(size: usize) -> usize {
    let mut heap = lesson3_solution::HeaderHeap::new(lesson3_solution::MmapPages::new());
    header_word(&mut heap, size)
}

/// The header word of lesson 6's reference for `malloc(size)`: the chunk
/// size of a small block, the mapped length of a big one.
pub fn lesson6_chunk_bytes(size: usize) -> usize {
    let mut heap = lesson6_solution::BigHeap::new(lesson6_solution::MmapPages::new());
    header_word(&mut heap, size)
}

fn header_word<H: Heap>(heap: &mut H, size: usize) -> usize {
    let block = heap.malloc(size).expect("the reference heap maps a block");
    // SAFETY: `block` is live, from this heap.
    let usable = unsafe { heap.usable_size(block) }.expect("a header heap knows the size");
    usable + HEADER_BYTES
}

/// The lecture's case on a heap: 200 × malloc(800), ten neighbours freed,
/// malloc(5000), with runs placed wherever the OS puts them.
#[derive(Debug)]
pub struct Lecture {
    /// Runs of pages mapped by the 200 mallocs.
    pub runs: usize,
    /// The free chunk after the last block: the rest of the newest run.
    pub tail: usize,
    /// The free chunk at the first freed block, once the ten are freed.
    pub hole: usize,
    /// Pages mapped by malloc(5000).
    pub new_pages: usize,
    /// The newest run's rest after malloc(5000) (0: no free chunk there).
    pub tail_after: usize,
    /// The free chunk at the first freed block after malloc(5000).
    pub hole_after: usize,
}

pub fn lecture<H: Heap>(mut heap: H, run_bytes: usize, page_bytes: usize) -> Lecture {
    let blocks: Vec<NonNull<u8>> = (0..200).map(|_| heap.malloc(800).unwrap()).collect();
    let runs = heap.stats().pages_mapped * page_bytes / run_bytes;
    // The chunk of block i ends 800 bytes after its payload: 816-byte chunks.
    let after_last = blocks[199].addr().get() + 800;
    let first_freed = blocks[5].addr().get() - HEADER_BYTES;
    let tail = free_chunk_at(&heap, after_last);
    for &block in &blocks[5..15] {
        // SAFETY: each block is live and freed once.
        unsafe { heap.free(block) };
    }
    let hole = free_chunk_at(&heap, first_freed);
    let pages_before = heap.stats().pages_mapped;
    let request = heap.malloc(5000).unwrap();
    // SAFETY: `request` is live, from this heap.
    let need = unsafe { heap.usable_size(request) }.unwrap() + HEADER_BYTES;
    Lecture {
        runs,
        tail,
        hole,
        new_pages: heap.stats().pages_mapped - pages_before,
        tail_after: free_chunk_at(&heap, after_last).max(free_chunk_at(&heap, after_last + need)),
        hole_after: free_chunk_at(&heap, first_freed),
    }
}

/// The size of the free chunk starting at `addr`, 0 when none does.
fn free_chunk_at<H: Heap>(heap: &H, addr: usize) -> usize {
    heap.free_blocks()
        .iter()
        .find(|b: &&Block| b.addr == addr)
        .map_or(0, |b| b.size)
}

pub fn lecture_lesson4() -> Lecture {
    let heap = lesson4_solution::FreeListHeap::new(lesson4_solution::MmapPages::new());
    lecture(heap, lesson4_solution::RUN_MIN_BYTES, page_bytes())
}

pub fn lecture_lesson5() -> Lecture {
    let heap = lesson5_solution::CoalescingHeap::new(lesson5_solution::MmapPages::new());
    lecture(heap, lesson5_solution::RUN_MIN_BYTES, page_bytes())
}

pub fn page_bytes() -> usize {
    use heaplab_kit::PageSource;
    lesson4_solution::MmapPages::new().page_size()
}
