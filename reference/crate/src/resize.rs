// LESSONS 7..
//! What lesson 7 adds to lesson 6's heap: `realloc`, `calloc` and aligned
//! `malloc` (C's `posix_memalign`, `aligned_alloc`, `memalign`).
//!
//! `realloc` works in place whenever it can:
//!
//! ```text
//!   shrink:  ┌hdr┬── kept ──┬hdr┬─ cut off, freed ─┐
//!            └───┴──────────┴───┴──────────────────┘
//!   grow:    ┌hdr┬── block ─────┬hdr┬── free neighbour ──────┐
//!            └───┴──────────────┴───┴────────────────────────┘
//!                               └ taken from the free list ┘
//! ```
//!
//! An aligned block slides its payload forward inside a bigger chunk; the
//! lead in front becomes a free chunk of its own (so it must be 0 or at least
//! `MIN_CHUNK_BYTES`), the tail is cut off as for a shrink. A big aligned
//! block slides inside its own mapping instead (flag `LEAD`, see chunk.rs).

use std::ptr::NonNull;

use heaplab_kit::{align_up, FullHeap, Heap, PageSource, Realloc, ALIGN};

use crate::chunk::{
    chunk_bytes_for, chunk_of, payload_of, Flags, Header, HEADER_BYTES, MIN_CHUNK_BYTES,
};
use crate::heap::BigHeap;

impl<S: PageSource> BigHeap<S> {
    /// Cuts the small, in-use `chunk` down to `keep_bytes` (a multiple of 16,
    /// at least MIN_CHUNK_BYTES) when the rest can be a chunk of its own,
    /// and gives the rest back to the free list (where it merges with a free
    /// neighbour).
    ///
    /// # Safety
    /// `chunk` is an in-use small chunk of this heap with at least `keep_bytes`.
    unsafe fn cut_tail(&mut self, chunk: NonNull<Header>, keep_bytes: usize) {
        // BEGIN SOLUTION 7: split the tail off as a chunk of its own and release it
        // SAFETY: the chunk is ours (the caller's promise).
        let size_bytes = unsafe { (*chunk.as_ptr()).size_bytes };
        let rest_bytes = size_bytes - keep_bytes;
        if rest_bytes < MIN_CHUNK_BYTES {
            return; // too small to be a chunk: the block keeps a few bytes more
        }
        // SAFETY: keep_bytes < size_bytes, so the rest lies inside the chunk,
        // 16-aligned (keep_bytes is a multiple of 16).
        let rest = unsafe { chunk.cast::<u8>().add(keep_bytes) }.cast::<Header>();
        // SAFETY: both headers are inside the chunk we own.
        unsafe {
            (*chunk.as_ptr()).size_bytes = keep_bytes;
            rest.write(Header {
                size_bytes: rest_bytes,
                flags: Flags::free().marked_in_use(),
            });
        }
        // SAFETY: the rest is a whole small chunk in the same run, nobody's.
        unsafe { self.free_small(rest) };
        // END SOLUTION
    }

    /// A small chunk whose payload is `align`-aligned, for a request whose
    /// chunk is `need_bytes`. `None` when the page source refuses.
    fn take_small_aligned(&mut self, align: usize, need_bytes: usize) -> Option<NonNull<Header>> {
        // BEGIN SOLUTION 7: take a chunk with room to slide; free the lead, cut the tail
        // The payload moves forward by less than `align`, and by `align` more
        // when the lead would be a sliver too small to be a free chunk.
        let padded_bytes = need_bytes
            .checked_add(align)?
            .checked_add(MIN_CHUNK_BYTES)?;
        let chunk = self.malloc_small(padded_bytes)?;
        let start = chunk.addr().get();
        let mut payload = align_up(start + HEADER_BYTES, align)?;
        if payload - HEADER_BYTES != start && payload - HEADER_BYTES - start < MIN_CHUNK_BYTES {
            payload += align;
        }
        let lead_bytes = payload - HEADER_BYTES - start;
        // SAFETY: the chunk is ours now.
        let size_bytes = unsafe { (*chunk.as_ptr()).size_bytes };
        // SAFETY: lead_bytes < align + MIN_CHUNK_BYTES <= size_bytes - need_bytes,
        // so the new header lies inside the chunk.
        let aligned = unsafe { chunk.cast::<u8>().add(lead_bytes) }.cast::<Header>();
        // SAFETY: the new header is inside the chunk we own, 16-aligned.
        unsafe {
            aligned.write(Header {
                size_bytes: size_bytes - lead_bytes,
                flags: Flags::free().marked_in_use(),
            })
        };
        if lead_bytes > 0 {
            // SAFETY: the lead is the chunk's front, inside the chunk we own.
            unsafe { (*chunk.as_ptr()).size_bytes = lead_bytes };
            // SAFETY: the lead is a whole chunk of at least MIN_CHUNK_BYTES.
            unsafe { self.free_small(chunk) };
        }
        // SAFETY: the aligned chunk is ours, in use, with at least need_bytes.
        unsafe { self.cut_tail(aligned, need_bytes) };
        Some(aligned)
        // END SOLUTION
    }

    /// A big chunk on pages of its own whose payload is `align`-aligned.
    /// `None` when the page source refuses or the size overflows.
    fn map_big_aligned(&mut self, align: usize, need_bytes: usize) -> Option<NonNull<Header>> {
        // BEGIN SOLUTION 7: map room to slide; the chunk gets flag LEAD and the mapping's start in front of its header
        let page_bytes = self.pages.page_size();
        // The payload lands less than `align` past start + 32: the 32 leave
        // room for the mapping's start in front of the header.
        let map_bytes = align_up(
            need_bytes
                .checked_add(align)?
                .checked_add(2 * HEADER_BYTES)?,
            page_bytes,
        )?;
        let mapping = self.pages.map(map_bytes)?;
        self.stats.pages_mapped += map_bytes / page_bytes;
        let start = mapping.addr().get();
        let payload = align_up(start + 2 * HEADER_BYTES, align)?;
        let lead_bytes = payload - HEADER_BYTES - start;
        // SAFETY: lead_bytes < align + 32 <= map_bytes - need_bytes.
        let chunk = unsafe { mapping.add(lead_bytes) }.cast::<Header>();
        // SAFETY: a fresh mapping nothing else uses; the header and the word
        // before it (lead_bytes >= 16) are inside it.
        unsafe {
            chunk.write(Header {
                size_bytes: map_bytes - lead_bytes,
                flags: Flags::big_with_lead(),
            });
            chunk.cast::<usize>().sub(1).write(start);
        }
        Some(chunk)
        // END SOLUTION
    }
}

impl<S: PageSource> Realloc for BigHeap<S> {
    unsafe fn realloc(&mut self, ptr: NonNull<u8>, size: usize) -> Option<NonNull<u8>> {
        // BEGIN SOLUTION 7: shrink in place, grow into a free neighbour, or move (malloc, copy, free)
        let need_bytes = chunk_bytes_for(size)?;
        // SAFETY: ptr came from this heap and is live (the caller's promise).
        let chunk = unsafe { chunk_of(ptr) };
        // SAFETY: chunk_of checked the header.
        let Header { size_bytes, flags } = unsafe { chunk.read() };
        if need_bytes <= size_bytes {
            if !flags.is_big() {
                // SAFETY: an in-use small chunk with at least need_bytes.
                unsafe { self.cut_tail(chunk, need_bytes) };
            }
            // A big chunk keeps its whole mapping: the PageSource contract
            // unmaps whole mappings only.
            return Some(ptr);
        }
        if !flags.is_big() {
            let end = chunk.addr().get() + size_bytes;
            if let Some(taken) = self.free_list.take_at(end, need_bytes - size_bytes) {
                // The free neighbour's front is ours: the block just got longer.
                // SAFETY: the chunk is ours, and [end, end + taken) now is too.
                unsafe { (*chunk.as_ptr()).size_bytes = size_bytes + taken };
                return Some(ptr);
            }
        }
        let new = self.malloc(size)?;
        // SAFETY: both blocks are live and distinct; the old one has
        // size_bytes - 16 usable bytes, the new one at least size.
        unsafe { ptr.copy_to_nonoverlapping(new, (size_bytes - HEADER_BYTES).min(size)) };
        // SAFETY: the old block is ours to free; nothing uses it after this.
        unsafe { self.free(ptr) };
        Some(new)
        // END SOLUTION
    }
}

impl<S: PageSource> FullHeap for BigHeap<S> {
    fn calloc(&mut self, n: usize, size: usize) -> Option<NonNull<u8>> {
        // BEGIN SOLUTION 7: refuse an overflowing n * size; zero what malloc gives
        let total = n.checked_mul(size)?;
        let ptr = self.malloc(total)?;
        // SAFETY: ptr is a live block of this heap.
        let chunk = unsafe { chunk_of(ptr) };
        // SAFETY: as above.
        let flags = unsafe { (*chunk.as_ptr()).flags };
        // A big chunk is a fresh mapping, which the kernel zero-filled: writing
        // it again would only touch every page for nothing.
        if !flags.is_big() {
            // SAFETY: the block has at least `total` bytes.
            unsafe { ptr.write_bytes(0, total) };
        }
        Some(ptr)
        // END SOLUTION
    }

    fn malloc_aligned(&mut self, align: usize, size: usize) -> Option<NonNull<u8>> {
        // BEGIN SOLUTION 7: plain malloc up to ALIGN; otherwise slide inside a small chunk or a mapping
        if !align.is_power_of_two() {
            return None;
        }
        if align <= ALIGN {
            return self.malloc(size);
        }
        let need_bytes = chunk_bytes_for(size)?;
        let small = need_bytes
            .checked_add(align + MIN_CHUNK_BYTES)
            .is_some_and(|padded| !self.is_big(padded));
        let chunk = if small {
            self.take_small_aligned(align, need_bytes)?
        } else {
            self.map_big_aligned(align, need_bytes)?
        };
        self.stats.chunks_allocated += 1;
        // SAFETY: the chunk holds its header and need_bytes more.
        Some(unsafe { payload_of(chunk) })
        // END SOLUTION
    }
}
// BEGIN SOLUTION

/// Scenarios, one idea each, on real pages (they run under Miri too).
#[cfg(test)]
mod tests {
    use std::slice;

    use super::*;
    use crate::MmapPages;

    fn heap() -> BigHeap<MmapPages> {
        BigHeap::new(MmapPages::new())
    }

    /// Fills `len` bytes at `ptr` with a pattern that depends on `seed`.
    fn fill(ptr: NonNull<u8>, len: usize, seed: u8) {
        for i in 0..len {
            // SAFETY: the tests only fill blocks with at least len bytes.
            unsafe { ptr.add(i).write(seed.wrapping_add(i as u8)) };
        }
    }

    /// True if the first `len` bytes at `ptr` still hold `fill`'s pattern.
    fn holds(ptr: NonNull<u8>, len: usize, seed: u8) -> bool {
        // SAFETY: the tests only read blocks with at least len bytes.
        let bytes = unsafe { slice::from_raw_parts(ptr.as_ptr(), len) };
        bytes
            .iter()
            .enumerate()
            .all(|(i, &b)| b == seed.wrapping_add(i as u8))
    }

    #[test]
    fn realloc_shrinks_in_place_and_frees_the_tail() {
        let mut heap = heap();
        let a = heap.malloc(1000).unwrap();
        let _fence = heap.malloc(0).unwrap();
        fill(a, 1000, 1);
        let length_before = heap.stats().free_length;
        // SAFETY: a is live.
        let b = unsafe { heap.realloc(a, 100) }.unwrap();
        assert_eq!(b, a, "a shrink stays in place");
        assert!(holds(b, 100, 1));
        // SAFETY: b is live.
        assert_eq!(unsafe { heap.usable_size(b) }, Some(112));
        assert_eq!(
            heap.stats().free_length,
            length_before + 1,
            "the tail is free"
        );
    }

    #[test]
    fn realloc_grows_into_a_free_neighbour() {
        let mut heap = heap();
        let a = heap.malloc(100).unwrap();
        let b = heap.malloc(400).unwrap();
        let _fence = heap.malloc(0).unwrap();
        fill(a, 100, 7);
        // SAFETY: b is live and not used after this.
        unsafe { heap.free(b) };
        // SAFETY: a is live.
        let grown = unsafe { heap.realloc(a, 300) }.unwrap();
        assert_eq!(grown, a, "the free neighbour had room");
        assert!(holds(grown, 100, 7));
        let stats = heap.stats();
        assert_eq!((stats.chunks_allocated, stats.chunks_freed), (3, 1));
    }

    #[test]
    fn realloc_moves_when_the_neighbour_is_in_use() {
        let mut heap = heap();
        let a = heap.malloc(100).unwrap();
        let _b = heap.malloc(100).unwrap();
        fill(a, 100, 3);
        // SAFETY: a is live.
        let moved = unsafe { heap.realloc(a, 5000) }.unwrap();
        assert_ne!(moved, a);
        assert!(holds(moved, 100, 3), "the contents move with the block");
    }

    #[test]
    fn realloc_of_a_big_block_keeps_its_contents() {
        let mut heap = heap();
        let a = heap.malloc(10_000).unwrap();
        fill(a, 10_000, 9);
        // SAFETY: a is live.
        let b = unsafe { heap.realloc(a, 50_000) }.unwrap();
        assert!(holds(b, 10_000, 9));
        // SAFETY: b is live.
        let c = unsafe { heap.realloc(b, 20) }.unwrap();
        assert!(holds(c, 20, 9));
        // SAFETY: c is live and not used after this.
        unsafe { heap.free(c) };
        let stats = heap.stats();
        assert_eq!(
            stats.pages_mapped, stats.pages_unmapped,
            "every big mapping is gone"
        );
    }

    #[test]
    fn calloc_zeroes_a_reused_chunk() {
        let mut heap = heap();
        let a = heap.malloc(256).unwrap();
        let _fence = heap.malloc(0).unwrap();
        fill(a, 256, 0xAA);
        // SAFETY: a is live and not used after this.
        unsafe { heap.free(a) };
        let z = heap.calloc(16, 16).unwrap();
        assert_eq!(z, a, "the freed chunk comes back");
        // SAFETY: z has 256 bytes.
        let bytes = unsafe { slice::from_raw_parts(z.as_ptr(), 256) };
        assert!(bytes.iter().all(|&b| b == 0));
    }

    #[test]
    fn calloc_refuses_an_overflowing_product() {
        let mut heap = heap();
        assert_eq!(heap.calloc(usize::MAX / 2, 3), None);
        assert_eq!(heap.calloc(1 << 40, 1 << 40), None);
        assert_eq!(heap.stats().pages_mapped, 0, "nothing was mapped for it");
    }

    #[test]
    fn aligned_blocks_are_aligned_and_freed_cleanly() {
        let mut heap = heap();
        let page = heap.pages.page_size();
        let mut blocks = Vec::new();
        let mut align = 32;
        // Miri interprets every byte written: small sizes there.
        let sizes: &[usize] = if cfg!(miri) {
            &[1, 100]
        } else {
            &[1, 100, 3000, 70_000]
        };
        while align <= 4 * page {
            for &size in sizes {
                let p = heap.malloc_aligned(align, size).unwrap();
                assert_eq!(p.addr().get() % align, 0, "align {align}, size {size}");
                // SAFETY: p is live.
                assert!(unsafe { heap.usable_size(p) }.unwrap() >= size);
                fill(p, size, align as u8);
                blocks.push((p, size, align as u8));
            }
            align *= 2;
        }
        for &(p, size, seed) in &blocks {
            assert!(holds(p, size, seed), "no aligned block overlaps another");
        }
        for (p, _, _) in blocks {
            // SAFETY: each block is live and not used after this.
            unsafe { heap.free(p) };
        }
        let stats = heap.stats();
        assert_eq!(stats.chunks_allocated, stats.chunks_freed);
        let big_pages = stats.pages_mapped - stats.pages_unmapped;
        assert_eq!(
            big_pages * page,
            heap.free_blocks().iter().map(|b| b.size).sum::<usize>(),
            "only the runs stay mapped, and they are all free"
        );
    }

    #[test]
    fn a_bad_alignment_is_refused() {
        let mut heap = heap();
        assert_eq!(heap.malloc_aligned(48, 10), None);
        assert_eq!(heap.malloc_aligned(0, 10), None);
    }
}
// END SOLUTION
// END LESSONS
