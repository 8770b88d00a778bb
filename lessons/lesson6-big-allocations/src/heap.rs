//! `BigHeap`: lesson 5's heap, plus a second path for big requests, which
//! get pages of their own and give them back to the OS on `free`.
//!
//! ```text
//!   malloc(size) ── chunk_bytes_for(size) ≥ one page? ──no──► free list (lesson 5)
//!                                  │ yes
//!                                  ▼
//!                  map(chunk rounded up to pages) ──► [header | payload …]
//!   free(ptr) ── header says BIG? ──yes──► unmap(chunk, size_bytes): the very
//!                         │ no             range that was mapped
//!                         ▼
//!                  junk-fill, insert on the free list, merge (lesson 5)
//! ```

use std::ptr::NonNull;

use heaplab_kit::layout::is_big_chunk;
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

/// A heap with two paths: chunks of at least a page (header included) are
/// mapped and unmapped on their own; smaller ones come from the free list.
///
/// A page is the threshold (the kit's [`is_big_chunk`]) because `munmap` can
/// only give back whole pages: below a page, a mapping of its own wastes most
/// of it, and from a page on the rounding wastes less than a page per block.
/// It is the course's rule, not the fastest one: each big block costs two
/// system calls and fresh, zero-filled pages (docs/lesson6.md measures it;
/// glibc starts at 128 KiB).
pub struct BigHeap<S: PageSource> {
    /// Where runs of pages (small path) and big chunks come from.
    pub(crate) pages: S,
    /// Every free small chunk, in every run, in address order.
    pub(crate) free_list: FreeList,
    /// The counters `stats()` reports; `free_length` comes from the list.
    pub(crate) stats: Stats,
}

impl<S: PageSource> BigHeap<S> {
    /// An empty heap: nothing is mapped until the first `malloc`.
    pub fn new(pages: S) -> Self {
        Self {
            pages,
            free_list: FreeList::new(),
            stats: Stats::default(),
        }
    }

    /// True when a chunk of `need_bytes` takes the big path: a page or more.
    pub(crate) fn is_big(&self, need_bytes: usize) -> bool {
        is_big_chunk(need_bytes, self.pages.page_size())
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

    /// A small chunk: first fit from the free list, growing when nothing fits.
    pub(crate) fn malloc_small(&mut self, need_bytes: usize) -> Option<NonNull<Header>> {
        if let Some(chunk) = self.free_list.take_first_fit(need_bytes) {
            return Some(chunk);
        }
        self.grow(need_bytes)?;
        let chunk = self.free_list.take_first_fit(need_bytes);
        Some(chunk.expect("a new run always fits the chunk it was mapped for"))
    }

    /// Gives a small chunk back to the free list, merged with its neighbours.
    ///
    /// # Safety
    /// `[chunk, chunk + size_bytes)` is an in-use small chunk this heap
    /// handed out, which nothing uses any more.
    pub(crate) unsafe fn free_small(&mut self, chunk: NonNull<Header>) {
        // SAFETY: the chunk is ours (the caller's promise).
        let size_bytes = unsafe { (*chunk.as_ptr()).size_bytes };
        // SAFETY: the payload [chunk + HEADER_BYTES, chunk + size_bytes) is
        // given up by the caller.
        unsafe { payload_of(chunk).write_bytes(JUNK_BYTE, size_bytes - HEADER_BYTES) };
        // SAFETY: a whole small chunk of at least MIN_CHUNK_BYTES in one run,
        // not on the list (it was in use).
        unsafe { self.free_list.insert(chunk) };
    }

    /// A big chunk: `need_bytes` rounded up to whole pages, mapped for it
    /// alone; its header records the mapped length. `None` when the page
    /// source refuses or the length would overflow.
    fn map_big(&mut self, need_bytes: usize) -> Option<NonNull<Header>> {
        // TODO: map whole pages for this chunk alone; its header records the mapped length
        todo!()
    }

    /// Unmaps a big chunk: exactly the range `map_big` mapped for it.
    ///
    /// # Safety
    /// `chunk` is a big chunk `map_big` returned, not unmapped since, and
    /// nothing uses `[chunk, chunk + size_bytes)` any more.
    unsafe fn unmap_big(&mut self, chunk: NonNull<Header>) {
        // TODO: unmap the chunk's whole mapping, the length its header records
        todo!()
    }
}

impl<S: PageSource> Heap for BigHeap<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        // TODO: a chunk of a page or more takes the big path; the rest, the free list
        todo!()
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // TODO: a big chunk goes back to the OS; a small one, to the free list
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
