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
// BEGIN SOLUTION

pub mod fit;

use fit::Placement;
// END SOLUTION

/// The free chunks of a heap, in the order `free` put them back.
pub struct FreeList {
    /// The first free chunk, or `None` when nothing is free.
    head: Option<NonNull<FreeChunk>>,
    /// Chunks on the list, kept as they come and go: what `stats()` reports.
    len: usize,
    // BEGIN SOLUTION
    /// Another placement policy than first fit, for docs/lesson4.md's
    /// experiment (`fit.rs`); `None` in the lesson's heap.
    placement: Option<Placement>,
    // END SOLUTION
}

impl FreeList {
    pub const fn new() -> Self {
        // STUB: FreeList { head: None, len: 0 }
        // BEGIN SOLUTION
        FreeList {
            head: None,
            len: 0,
            placement: None,
        }
        // END SOLUTION
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
        // BEGIN SOLUTION: link the chunk in at the head of the list, mark it free
        let chunk = chunk.cast::<FreeChunk>();
        // SAFETY: the caller gives us the whole chunk, and it is at least
        // MIN_CHUNK_BYTES, so the cell after the header is ours to write.
        unsafe { (*chunk.as_ptr()).header.flags = Flags::free() };
        // SAFETY: as above: the cell right after the header.
        unsafe { (*chunk.as_ptr()).next = self.head };
        self.head = Some(chunk);
        self.len += 1;
        // END SOLUTION
    }

    /// Takes the first chunk on the list with at least `need_bytes`, splitting
    /// off the rest when the rest can be a chunk of its own. Returns the chunk,
    /// marked in use, or `None` when no chunk is big enough.
    ///
    /// `need_bytes` is a chunk size: a multiple of 16, at least
    /// `MIN_CHUNK_BYTES`.
    pub fn take_first_fit(&mut self, need_bytes: usize) -> Option<NonNull<Header>> {
        // BEGIN SOLUTION
        if self.placement.is_some() {
            // docs/lesson4.md's experiment: another policy, counted (fit.rs).
            return self.take_placed(need_bytes);
        }
        // END SOLUTION
        // BEGIN SOLUTION: walk the list; unlink (or split) the first chunk that fits
        debug_assert!(need_bytes >= MIN_CHUNK_BYTES && need_bytes.is_multiple_of(16));
        let mut prev: Option<NonNull<FreeChunk>> = None;
        let mut cursor = self.head;
        while let Some(chunk) = cursor {
            // SAFETY: chunks on the list are free chunks in mapped runs, each at
            // least MIN_CHUNK_BYTES long (the list's invariant).
            let FreeChunk { header, next } = unsafe { chunk.read() };
            if header.size_bytes >= need_bytes {
                // SAFETY: chunk is on the list right after prev, and fits.
                return Some(unsafe { self.take(prev, chunk, need_bytes) });
            }
            prev = cursor;
            cursor = next;
        }
        None
        // END SOLUTION
    }
    // BEGIN SOLUTION

    /// Takes `chunk` off the list for a request of `need_bytes`: splits off
    /// the rest when the rest can be a chunk of its own, unlinks the whole
    /// chunk otherwise. Returns the chunk, marked in use.
    ///
    /// # Safety
    /// `chunk` is on the list right after `prev` (first when `prev` is
    /// `None`), and its `size_bytes` is at least `need_bytes`.
    unsafe fn take(
        &mut self,
        prev: Option<NonNull<FreeChunk>>,
        chunk: NonNull<FreeChunk>,
        need_bytes: usize,
    ) -> NonNull<Header> {
        // SAFETY: chunk is on the list (the caller's promise): a free chunk in
        // a mapped run, at least MIN_CHUNK_BYTES long.
        let FreeChunk { header, next } = unsafe { chunk.read() };
        let rest_bytes = header.size_bytes - need_bytes;
        if rest_bytes >= MIN_CHUNK_BYTES {
            // Split: hand out the front; the rest takes the chunk's place
            // on the list.
            // SAFETY: need_bytes < size_bytes, so the rest starts inside
            // this chunk, and [rest, rest + rest_bytes) is its tail.
            let rest = unsafe { chunk.cast::<u8>().add(need_bytes) }.cast::<FreeChunk>();
            // SAFETY: the tail is free memory of this chunk, 16-aligned
            // (need_bytes is a multiple of 16) and at least MIN_CHUNK_BYTES.
            unsafe {
                rest.write(FreeChunk {
                    header: Header {
                        size_bytes: rest_bytes,
                        flags: Flags::free(),
                    },
                    next,
                });
            }
            // SAFETY: the front is still this chunk's memory.
            unsafe { (*chunk.as_ptr()).header.size_bytes = need_bytes };
            self.relink(prev, Some(rest));
        } else {
            // Too little left over to hold a header and a link: the caller
            // gets the whole chunk, a few bytes more than asked.
            self.relink(prev, next);
            self.len -= 1;
        }
        let chunk = chunk.cast::<Header>();
        // SAFETY: the chunk is off the list and ours alone now.
        unsafe { (*chunk.as_ptr()).flags = Flags::in_use() };
        chunk
    }
    // END SOLUTION

    /// The free chunks, walked in list order (the heap checker's view).
    pub fn blocks(&self) -> Vec<Block> {
        // BEGIN SOLUTION: walk the list, one Block per chunk
        let mut blocks = Vec::with_capacity(self.len);
        let mut cursor = self.head;
        while let Some(chunk) = cursor {
            // SAFETY: chunks on the list are free chunks in mapped runs.
            let FreeChunk { header, next } = unsafe { chunk.read() };
            blocks.push(Block {
                addr: chunk.addr().get(),
                size: header.size_bytes,
            });
            cursor = next;
        }
        blocks
        // END SOLUTION
    }
    // BEGIN SOLUTION

    /// Points the link before a chunk (the head when `prev` is `None`) at `to`.
    fn relink(&mut self, prev: Option<NonNull<FreeChunk>>, to: Option<NonNull<FreeChunk>>) {
        match prev {
            None => self.head = to,
            // SAFETY: prev is a chunk on the list, so its cell is ours to write.
            Some(prev) => unsafe { (*prev.as_ptr()).next = to },
        }
    }
    // END SOLUTION
}
