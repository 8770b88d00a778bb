//! `FastHeap`: the allocator's core, over a page source, for one thread at
//! a time (`global.rs` puts the process's behind a lock).

use std::ptr::NonNull;

use heaplab_kit::{Block, FullHeap, Heap, PageSource, Realloc, Stats, ALIGN};

/// The fast heap over a page source.
pub struct FastHeap<S: PageSource> {
    pages: S,
}

impl<S: PageSource> FastHeap<S> {
    /// An empty heap: nothing is mapped until the first `malloc`.
    pub fn new(pages: S) -> Self {
        // TODO: an empty heap over `pages` (map nothing yet)
        todo!()
    }
}

impl<S: PageSource> Heap for FastHeap<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        // TODO: at least `size` bytes, 16-byte aligned, malloc(0) unique; constant time for small sizes; None when the page source refuses
        todo!()
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // TODO: give the block back in constant time for small sizes; a double free or a foreign pointer stops loudly (misuse.rs)
        todo!()
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // TODO: the bytes the block really has (at least what was asked)
        todo!()
    }

    fn stats(&self) -> Stats {
        // TODO: pages mapped and unmapped, mallocs and frees counted, free_length = free_blocks().len()
        todo!()
    }

    fn free_blocks(&self) -> Vec<Block> {
        // TODO: every free block the heap keeps, for the grader's checks
        todo!()
    }
}

impl<S: PageSource> Realloc for FastHeap<S> {
    unsafe fn realloc(&mut self, ptr: NonNull<u8>, size: usize) -> Option<NonNull<u8>> {
        // TODO: in place when the block allows it (and always when shrinking if memory runs out), else allocate, copy, free; big blocks grow with remap
        todo!()
    }
}

impl<S: PageSource> FullHeap for FastHeap<S> {
    fn calloc(&mut self, n: usize, size: usize) -> Option<NonNull<u8>> {
        // TODO: None when n * size overflows; zeroed memory (pages fresh from the kernel are zero already)
        todo!()
    }

    fn malloc_aligned(&mut self, align: usize, size: usize) -> Option<NonNull<u8>> {
        // TODO: None unless align is a power of two; a block at a multiple of align
        todo!()
    }
}
