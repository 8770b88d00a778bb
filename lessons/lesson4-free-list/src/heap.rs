//! `FreeListHeap`: lesson 3's heap plus a free list, so freed chunks are
//! handed out again instead of new pages being mapped.

use std::ptr::NonNull;

use heaplab_kit::{align_up, Block, Heap, PageSource, Stats};

use crate::chunk::{chunk_bytes_for, chunk_of, payload_of, Flags, Header, HEADER_BYTES};
use crate::free_list::FreeList;

/// The smallest run of pages mapped at once (a multiple of any common page
/// size). Mapping many pages at a time keeps `mmap` calls rare and gives
/// small chunks neighbours in the same run, which lesson 5 merges.
pub const RUN_MIN_BYTES: usize = 64 * 1024;

/// What freed payloads are filled with, so that a use after free reads
/// garbage instead of the old data (as xv6's `kfree` does).
const JUNK_BYTE: u8 = 0xDB;

/// A heap that keeps its free chunks on a list threaded through the chunks
/// themselves, and serves each request from the first chunk that fits.
pub struct FreeListHeap<S: PageSource> {
    /// Where runs of pages come from.
    pages: S,
    /// Every free chunk, in every run.
    free_list: FreeList,
    /// The counters `stats()` reports; `free_length` comes from the list.
    stats: Stats,
}

impl<S: PageSource> FreeListHeap<S> {
    /// An empty heap: nothing is mapped until the first `malloc`.
    pub fn new(pages: S) -> Self {
        Self {
            pages,
            free_list: FreeList::new(),
            stats: Stats::default(),
        }
    }

    /// Maps a new run of pages with room for a `need_bytes` chunk and puts the
    /// whole run on the free list as one chunk. `None` when the page source
    /// refuses, or when the run's size would overflow.
    fn grow(&mut self, need_bytes: usize) -> Option<()> {
        // TODO: map a run of at least RUN_MIN_BYTES; the whole run becomes one free chunk
        todo!()
    }
}

impl<S: PageSource> Heap for FreeListHeap<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        // TODO: first fit from the free list; grow only when nothing fits
        todo!()
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // TODO: find the chunk by its header, junk-fill the payload, push the chunk on the list
        todo!()
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
