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
        // TODO: split the tail off as a chunk of its own and release it
        todo!()
    }

    /// A small chunk whose payload is `align`-aligned, for a request whose
    /// chunk is `need_bytes`. `None` when the page source refuses.
    fn take_small_aligned(&mut self, align: usize, need_bytes: usize) -> Option<NonNull<Header>> {
        // TODO: take a chunk with room to slide; free the lead, cut the tail
        todo!()
    }

    /// A big chunk on pages of its own whose payload is `align`-aligned.
    /// `None` when the page source refuses or the size overflows.
    fn map_big_aligned(&mut self, align: usize, need_bytes: usize) -> Option<NonNull<Header>> {
        // TODO: map room to slide; the chunk gets flag LEAD and the mapping's start in front of its header
        todo!()
    }
}

impl<S: PageSource> Realloc for BigHeap<S> {
    unsafe fn realloc(&mut self, ptr: NonNull<u8>, size: usize) -> Option<NonNull<u8>> {
        // TODO: shrink in place, grow into a free neighbour, or move (malloc, copy, free)
        todo!()
    }
}

impl<S: PageSource> FullHeap for BigHeap<S> {
    fn calloc(&mut self, n: usize, size: usize) -> Option<NonNull<u8>> {
        // TODO: refuse an overflowing n * size; zero what malloc gives
        todo!()
    }

    fn malloc_aligned(&mut self, align: usize, size: usize) -> Option<NonNull<u8>> {
        // TODO: plain malloc up to ALIGN; otherwise slide inside a small chunk or a mapping
        todo!()
    }
}
