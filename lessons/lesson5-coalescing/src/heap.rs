//! `CoalescingHeap`: lesson 4's heap with an address-ordered free list, so
//! that freeing merges neighbours and big chunks form again.

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
