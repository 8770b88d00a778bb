//! The free list: free chunks linked through their own payloads, in address
//! order, searched first fit; a freed chunk merges with free neighbours.
//!
//! ```text
//!   head ──► ┌────┬────┬──────┐    ┌────┬────┬──────┐    ┌────┬────┬──────┐
//!            │size│flag│next ─┼──► │size│flag│next ─┼──► │size│flag│ None │
//!            └────┴────┴──────┘    └────┴────┴──────┘    └────┴────┴──────┘
//!            lowest address    <   higher             <  highest
//! ```
//!
//! Address order is what makes merging cheap: a chunk's neighbours in memory,
//! if free, are its neighbours on the list.

use std::ptr::NonNull;

use heaplab_kit::Block;

use crate::chunk::{Flags, FreeChunk, Header, MIN_CHUNK_BYTES};

/// The free chunks of a heap, lowest address first; no two of them touch
/// inside a run.
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

    /// Puts `chunk` on the list in address order, merged with the free chunk
    /// right before it and the one right after it when they touch it in the
    /// same run. The chunk becomes free.
    ///
    /// # Safety
    /// `[chunk, chunk + size_bytes)` is a chunk inside one mapping, at least
    /// `MIN_CHUNK_BYTES` long, that nothing else uses and that is not on the
    /// list already.
    pub unsafe fn insert(&mut self, chunk: NonNull<Header>) {
        // TODO: find the free neighbours in address order; merge with the next chunk, then the previous one
        todo!()
    }

    /// Takes the first chunk on the list with at least `need_bytes`, splitting
    /// off the rest when the rest can be a chunk of its own. Returns the chunk,
    /// marked in use, or `None` when no chunk is big enough.
    ///
    /// `need_bytes` is a chunk size: a multiple of 16, at least
    /// `MIN_CHUNK_BYTES`.
    pub fn take_first_fit(&mut self, need_bytes: usize) -> Option<NonNull<Header>> {
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
    }

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
            // on the list, which keeps the address order. The rest never
            // starts a run: the chunk's front does.
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
        unsafe { (*chunk.as_ptr()).flags = header.flags.marked_in_use() };
        chunk
    }

    /// The free chunks, walked in list order (the heap checker's view).
    pub fn blocks(&self) -> Vec<Block> {
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
    }

    /// Points the link before a chunk (the head when `prev` is `None`) at `to`.
    fn relink(&mut self, prev: Option<NonNull<FreeChunk>>, to: Option<NonNull<FreeChunk>>) {
        match prev {
            None => self.head = to,
            // SAFETY: prev is a chunk on the list, so its cell is ours to write.
            Some(prev) => unsafe { (*prev.as_ptr()).next = to },
        }
    }
}
