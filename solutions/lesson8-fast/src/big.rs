// STUB: //! Your big blocks, if your design treats them apart.
// BEGIN SOLUTION
//! Big blocks: more than 32 KiB, each on a mapping of its own.
//!
//! ```text
//!   malloc(100 000): map(100 000 rounded up to 25 pages) ──► [payload ……… | slack]
//!   realloc to 1 MB: remap(25 pages → 245 pages) ──► mremap grows it in place if
//!                    the addresses after it are free, else moves its pages: no copy
//!   free:            unmap the 25 pages, at once back to the OS
//! ```
//!
//! The payload starts at the mapping's first byte (page aligned), which is
//! what lets `mremap` move it, and what makes an alignment of up to a page
//! free. A bigger alignment maps `align - page` more bytes and slides the
//! payload to the first multiple of `align`.

use std::ptr::NonNull;

use heaplab_kit::PageSource;

use crate::heap::FastHeap;
use crate::page_map::GRAIN_BYTES;
use crate::size_class::MAX_SMALL_BYTES;
use crate::span::{Kind, Span};

impl<S: PageSource> FastHeap<S> {
    /// A big block of `size` bytes aligned to `align` (a power of two) on
    /// pages of its own; `None` when the page source refuses or the size
    /// overflows.
    pub(crate) fn malloc_big(&mut self, size: usize, align: usize) -> Option<NonNull<u8>> {
        let page = self.page_bytes();
        let lead = align.saturating_sub(page); // at most this much before an aligned address
        let bytes = size
            .max(1)
            .checked_next_multiple_of(page)?
            .checked_add(lead)?;
        let map = self.pages.map(bytes)?;
        let start = map.as_ptr() as usize;
        let payload = start.next_multiple_of(align);
        let made = match self.map.reserve(&mut self.pages, payload, 1) {
            Some(()) => self.pool.take(&mut self.pages, Kind::Big, start, bytes),
            None => None,
        };
        let Some(span) = made else {
            // SAFETY: mapped just above, used by nothing.
            unsafe { self.pages.unmap(map, bytes) };
            return None;
        };
        self.map.set(payload, 1, span.as_ptr() as usize);
        // SAFETY: a fresh descriptor on no list.
        unsafe { self.bigs.push(span) };
        NonNull::new(payload as *mut u8)
    }

    /// Unmaps the big block `span`.
    ///
    /// # Safety
    /// `span` is a live big block that nothing uses any more.
    pub(crate) unsafe fn free_big(&mut self, span: NonNull<Span>) {
        // SAFETY: the caller's promise.
        let (start, bytes) = unsafe { (span.as_ref().start, span.as_ref().bytes) };
        self.clear_big_entry(start, bytes);
        // SAFETY: on the list of big blocks; its memory is unused.
        unsafe {
            self.bigs.remove(span);
            self.pool.give(span);
            self.pages
                .unmap(NonNull::new_unchecked(start as *mut u8), bytes);
        }
    }

    /// Clears the page map entry of the big block mapped at `[start,
    /// start + bytes)`: the one grain of its payload that points to it.
    fn clear_big_entry(&mut self, start: usize, bytes: usize) {
        // The payload lies in the first `align` bytes; only its grain was
        // set, so clear whichever grain there still names a span.
        let mut at = start;
        while at < start + bytes && self.map.get(at) == 0 {
            at += GRAIN_BYTES;
        }
        if at < start + bytes {
            self.map.set(at, 1, 0);
        }
    }

    /// Resizes the big block at `ptr` (described by `span`) to `size`
    /// bytes: a slab block if it is small now; otherwise the same mapping,
    /// grown or shrunk by `remap`, which keeps the payload's offset in it.
    ///
    /// # Safety
    /// `ptr` is the payload of the live big block `span`.
    pub(crate) unsafe fn realloc_big(
        &mut self,
        span: NonNull<Span>,
        ptr: NonNull<u8>,
        size: usize,
    ) -> Option<NonNull<u8>> {
        // SAFETY: the caller's promise.
        let (start, bytes) = unsafe { (span.as_ref().start, span.as_ref().bytes) };
        let offset = ptr.as_ptr() as usize - start;
        if size <= MAX_SMALL_BYTES {
            return self.move_to_small(ptr, size);
        }
        let new_bytes = offset
            .checked_add(size)?
            .checked_next_multiple_of(self.page_bytes())?;
        if new_bytes == bytes {
            return Some(ptr);
        }
        // The block may move; its new grain must be registered after the
        // move, when failing is no longer an option: map the nodes now.
        self.map.stock(&mut self.pages)?;
        let old = NonNull::new(start as *mut u8)?;
        // SAFETY: [start, start + bytes) is this block's own mapping.
        let new = unsafe { self.pages.remap(old, bytes, new_bytes) }?;
        let new_start = new.as_ptr() as usize;
        self.map.set(start + offset, 1, 0);
        self.map
            .reserve(&mut self.pages, new_start + offset, 1)
            .expect("stocked nodes cover one grain");
        self.map.set(new_start + offset, 1, span.as_ptr() as usize);
        // SAFETY: the descriptor is ours; it now describes the new mapping.
        unsafe {
            (*span.as_ptr()).start = new_start;
            (*span.as_ptr()).bytes = new_bytes;
        }
        NonNull::new((new_start + offset) as *mut u8)
    }

    /// Moves a big block to a slab block of `size` (≤ 32 KiB) bytes.
    fn move_to_small(&mut self, ptr: NonNull<u8>, size: usize) -> Option<NonNull<u8>> {
        use heaplab_kit::Heap;
        let new = self.malloc(size)?;
        // SAFETY: a live big block of more than 32 KiB and a new block of
        // `size` ≤ 32 KiB bytes, distinct.
        unsafe { ptr.copy_to_nonoverlapping(new, size) };
        // SAFETY: the old block is replaced by the new one.
        unsafe { self.free(ptr) };
        Some(new)
    }
}
// END SOLUTION
