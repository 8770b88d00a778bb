//! The free list: free chunks linked through their own payloads, newest
//! first, searched first fit.
//!
//! ```text
//!   head ──► ┌────┬────┬──────┐    ┌────┬────┬──────┐    ┌────┬────┬──────┐
//!            │size│flag│next ─┼──► │size│flag│next ─┼──► │size│flag│ None │
//!            └────┴────┴──────┘    └────┴────┴──────┘    └────┴────┴──────┘
//!            a free chunk          anywhere in any run    the last one
//! ```
//!
//! The list costs no memory of its own: each free chunk is its own node.

use std::ptr::NonNull;

use heaplab_kit::Block;

use crate::chunk::{Flags, FreeChunk, Header, MIN_CHUNK_BYTES};

/// The free chunks of a heap, in the order `free` put them back.
pub struct FreeList {
    /// The first free chunk, or `None` when nothing is free.
    head: Option<NonNull<FreeChunk>>,
    /// Chunks on the list, kept as they come and go: what `stats()` reports.
    len: usize,
}

impl FreeList {
    pub const fn new() -> Self {
        FreeList { head: None, len: 0 }
    }

    /// Chunks on the list.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Puts `chunk` at the head of the list; it becomes free.
    ///
    /// # Safety
    /// `[chunk, chunk + size_bytes)` is a chunk inside one mapping, at least
    /// `MIN_CHUNK_BYTES` long, that nothing else uses and that is not on the
    /// list already.
    pub unsafe fn push(&mut self, chunk: NonNull<Header>) {
        // TODO: link the chunk in at the head of the list, mark it free
        todo!()
    }

    /// Takes the first chunk on the list with at least `need_bytes`, splitting
    /// off the rest when the rest can be a chunk of its own. Returns the chunk,
    /// marked in use, or `None` when no chunk is big enough.
    ///
    /// `need_bytes` is a chunk size: a multiple of 16, at least
    /// `MIN_CHUNK_BYTES`.
    pub fn take_first_fit(&mut self, need_bytes: usize) -> Option<NonNull<Header>> {
        // TODO: walk the list; unlink (or split) the first chunk that fits
        todo!()
    }

    /// The free chunks, walked in list order (the heap checker's view).
    pub fn blocks(&self) -> Vec<Block> {
        // TODO: walk the list, one Block per chunk
        todo!()
    }
}
