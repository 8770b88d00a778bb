// STUB: //! Your large blocks, if your design treats them apart.
// BEGIN SOLUTION
//! Large blocks: more than 8 KiB, each on an arena (a mapping) of its own.
//!
//! ```text
//!   malloc(20 000):  an arena of 5 pages ──► [payload ………… | slack < 1 page]
//!   realloc:         remap(5 pages → 245): mremap grows the mapping where it
//!                    is if the addresses after it are free, else moves its
//!                    pages elsewhere, without copying a byte; shrinking
//!                    gives the tail pages back
//!   free:            the arena goes idle (page_heap.rs): the next arena the
//!                    heap needs is this one, resized
//! ```
//!
//! The payload starts at the mapping's first byte, which is what lets
//! `mremap` move it and makes an alignment of up to a page free. A bigger
//! alignment maps `align - page` more bytes and starts the payload at the
//! first multiple of `align` in them.

use std::ptr::NonNull;

use heaplab_kit::{Heap, PageSource};

use crate::heap::FastHeap;
use crate::page_map::GRAIN_BYTES;
use crate::size_class::MAX_SMALL_BYTES;
use crate::span::{Kind, Span};

impl<S: PageSource> FastHeap<S> {
    /// A large block of `size` bytes at a multiple of `align` (a power of
    /// two); `None` when the page source refuses or the size overflows.
    pub(crate) fn malloc_large(&mut self, size: usize, align: usize) -> Option<NonNull<u8>> {
        self.large_block(size, align).map(|(block, _)| block)
    }

    /// [`malloc_large`](Self::malloc_large), and whether the block's pages
    /// are fresh from the kernel (all zero).
    pub(crate) fn large_block(&mut self, size: usize, align: usize) -> Option<(NonNull<u8>, bool)> {
        let page = self.page_bytes();
        let lead = align.saturating_sub(page); // at most this much before an aligned page
        let bytes = size
            .max(1)
            .checked_next_multiple_of(page)?
            .checked_add(lead)?;
        let span = self.alloc_alone(bytes)?;
        // SAFETY: a whole arena just taken, ours alone.
        let s = unsafe { &mut *span.as_ptr() };
        // The lead stays in the arena, unused: the block's span starts at
        // the aligned address, and the arena still records the mapping.
        let payload = s.start.next_multiple_of(align);
        if self.map.reserve(&mut self.pages, payload, 1).is_none() {
            // SAFETY: the whole arena, on no list, no entries, unused.
            unsafe { self.unmap_arena(span) };
            return None;
        }
        // SAFETY: as above.
        let s = unsafe { &mut *span.as_ptr() };
        s.bytes -= payload - s.start;
        s.start = payload;
        s.kind = Kind::Large;
        let fresh = std::mem::replace(&mut s.fresh, false);
        self.set_entry(span, span.as_ptr() as usize);
        Some((NonNull::new(payload as *mut u8)?, fresh))
    }

    /// Sets the page map entry of a large block's first grain, where
    /// `free` looks, to `entry`. Nothing else in its arena needs one: no
    /// neighbour ever looks for it.
    fn set_entry(&mut self, span: NonNull<Span>, entry: usize) {
        // SAFETY: a live descriptor.
        let start = unsafe { span.as_ref().start };
        self.map.set(start, GRAIN_BYTES, entry);
    }

    /// Gives the large block `span` back: its arena goes idle.
    ///
    /// # Safety
    /// `span` is a live large block that nothing uses any more.
    pub(crate) unsafe fn free_large(&mut self, span: NonNull<Span>) {
        self.set_entry(span, 0);
        // SAFETY: alone in its arena, entry cleared, unused.
        unsafe { self.idle_alone(span) };
    }

    /// Resizes the large block `span` to `size` bytes: a slab block if it
    /// is small now, else its mapping resized by `remap`.
    ///
    /// # Safety
    /// `span` is a live large block.
    pub(crate) unsafe fn realloc_large(
        &mut self,
        span: NonNull<Span>,
        size: usize,
    ) -> Option<NonNull<u8>> {
        // SAFETY: the caller's promise: a live block and its arena record.
        let (start, bytes, arena_start, arena_bytes) = unsafe {
            let s = span.as_ref();
            (s.start, s.bytes, (*s.arena).start, (*s.arena).bytes)
        };
        let ptr = NonNull::new(start as *mut u8)?;
        if size <= MAX_SMALL_BYTES {
            return self.move_to_small(ptr, bytes, size);
        }
        let lead = start - arena_start;
        let new_arena_bytes = lead
            .checked_add(size)?
            .checked_next_multiple_of(self.page_bytes())?;
        if new_arena_bytes == arena_bytes {
            return Some(ptr);
        }
        // The heap grows: not while it keeps idle memory.
        if new_arena_bytes > arena_bytes {
            self.release_idle();
        }
        // The block may move, and must be registered at its new address
        // after the move, when failing is no longer an option: map the
        // page-map nodes that could take now.
        self.map.stock(&mut self.pages)?;
        let old = NonNull::new(arena_start as *mut u8)?;
        // SAFETY: [arena_start, + arena_bytes) is exactly the arena's mapping.
        let new = unsafe { self.pages.remap(old, arena_bytes, new_arena_bytes) }?;
        self.set_entry(span, 0);
        let new_start = new.as_ptr() as usize;
        // SAFETY: the span now describes the resized mapping, lead and all;
        // then the block starts after the lead again.
        unsafe {
            self.moved(span, new_start, new_arena_bytes);
            (*span.as_ptr()).start += lead;
            (*span.as_ptr()).bytes -= lead;
        }
        let reserved = self.map.reserve(&mut self.pages, new_start + lead, 1);
        reserved.expect("stocked nodes cover a block's first grain");
        self.set_entry(span, span.as_ptr() as usize);
        NonNull::new((new_start + lead) as *mut u8)
    }

    /// Moves a large block of `old_bytes` to a slab block of `size` (at
    /// most 8 KiB) bytes. When memory runs out, the block stays.
    fn move_to_small(
        &mut self,
        ptr: NonNull<u8>,
        old_bytes: usize,
        size: usize,
    ) -> Option<NonNull<u8>> {
        let Some(new) = self.malloc(size) else {
            return Some(ptr); // it is big enough
        };
        // SAFETY: two distinct live blocks, each holding the bytes copied.
        unsafe { ptr.copy_to_nonoverlapping(new, size.min(old_bytes)) };
        // SAFETY: the old block is replaced by the new one.
        unsafe { self.free(ptr) };
        Some(new)
    }
}
// END SOLUTION
