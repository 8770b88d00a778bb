// STUB: //! Your large blocks, if your design treats them apart.
// BEGIN SOLUTION
//! Large blocks: more than 8 KiB. Up to 64 KiB, a block is a span of whole
//! pages cut from the page heap's shared arenas, as a slab is; a bigger
//! one (or one aligned beyond a page) gets an arena (a mapping) of its own.
//!
//! ```text
//!   malloc(20 000):   a span of 5 pages ──► [payload ………… | slack < 1 page]
//!   realloc(… 30 000): grows into the free span after it if there is one,
//!                     shrinks by giving its tail back, else moves (copies)
//!   free:             its pages merge with their free neighbours and serve
//!                     the next span (page_heap.rs): no system call
//!
//!   malloc(4 MiB):    an arena of its own ──► [payload ……… | slack < 1 page]
//!   realloc:          remap(1024 pages → 2048): mremap grows the mapping
//!                     where it is if the addresses after it are free, else
//!                     moves its pages elsewhere, without copying a byte
//!   free:             the arena goes idle: the next arena the heap needs
//!                     is this one, resized
//! ```
//!
//! A block on an arena of its own starts at the mapping's first byte, which
//! is what lets `mremap` move it and makes an alignment of up to a page
//! free. A bigger alignment maps `align - page` more bytes and starts the
//! payload at the first multiple of `align` in them.

use std::ptr::NonNull;

use heaplab_kit::{Heap, PageSource};

use crate::heap::FastHeap;
use crate::page_map::GRAIN_BYTES;
use crate::size_class::MAX_SMALL_BYTES;
use crate::span::{Kind, Span};

/// Large blocks up to this many bytes are spans of shared arenas: freeing
/// and reusing them costs no system call. Bigger ones are mapped alone,
/// where `mremap` resizes them without copying.
pub(crate) const MAX_SHARED_BYTES: usize = 64 * 1024;

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
        if size <= MAX_SHARED_BYTES && align <= page {
            return self.shared_block(size.max(1).next_multiple_of(page));
        }
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

    /// A large block of `bytes` (whole pages) cut from a shared arena, and
    /// whether its pages are fresh from the kernel.
    fn shared_block(&mut self, bytes: usize) -> Option<(NonNull<u8>, bool)> {
        let span = self.alloc_span(bytes)?;
        // SAFETY: a span just taken from the page heap, ours alone.
        let s = unsafe { &mut *span.as_ptr() };
        s.kind = Kind::Large;
        let fresh = std::mem::replace(&mut s.fresh, false);
        let start = s.start;
        self.set_entry(span, span.as_ptr() as usize);
        Some((NonNull::new(start as *mut u8)?, fresh))
    }

    /// True when the large block `span` has an arena of its own.
    fn alone(span: NonNull<Span>) -> bool {
        // SAFETY: a live large block's descriptor and its arena record.
        unsafe { (*span.as_ref().arena).alone }
    }

    /// Sets the page map entry of a large block's first grain, where
    /// `free` looks, to `entry`. Nothing else in its arena needs one: no
    /// neighbour ever looks for it.
    fn set_entry(&mut self, span: NonNull<Span>, entry: usize) {
        // SAFETY: a live descriptor.
        let start = unsafe { span.as_ref().start };
        self.map.set(start, GRAIN_BYTES, entry);
    }

    /// Gives the large block `span` back: its pages to the page heap, or
    /// its own arena made idle.
    ///
    /// # Safety
    /// `span` is a live large block that nothing uses any more.
    pub(crate) unsafe fn free_large(&mut self, span: NonNull<Span>) {
        self.set_entry(span, 0);
        if Self::alone(span) {
            // SAFETY: alone in its arena, entry cleared, unused.
            unsafe { self.idle_alone(span) };
        } else {
            // SAFETY: a span of a shared arena, on no list, entry cleared.
            unsafe { self.free_span(span) };
        }
    }

    /// Resizes the large block `span` to `size` bytes: a slab block if it
    /// is small now; in its shared arena (`realloc_shared`); else its
    /// mapping resized by `remap`.
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
        if !Self::alone(span) {
            // SAFETY: the caller's promise.
            return unsafe { self.realloc_shared(span, size) };
        }
        let lead = start - arena_start;
        let new_arena_bytes = lead
            .checked_add(size)?
            .checked_next_multiple_of(self.page_bytes())?;
        if new_arena_bytes == arena_bytes {
            return Some(ptr);
        }
        // The heap grows: not past its peak while it keeps idle memory.
        if new_arena_bytes > arena_bytes {
            self.make_room(new_arena_bytes - arena_bytes);
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

    /// Resizes the large block `span` of a shared arena to `size` bytes
    /// (more than 8 KiB): in place when it shrinks or the span after it is
    /// free and big enough, else by a move.
    ///
    /// # Safety
    /// `span` is a live large block of a shared arena.
    unsafe fn realloc_shared(&mut self, span: NonNull<Span>, size: usize) -> Option<NonNull<u8>> {
        // SAFETY: the caller's promise.
        let (start, bytes) = unsafe { (span.as_ref().start, span.as_ref().bytes) };
        let ptr = NonNull::new(start as *mut u8)?;
        let wanted = size.checked_next_multiple_of(self.page_bytes())?;
        let fits = size <= MAX_SHARED_BYTES;
        if fits && wanted <= bytes {
            // SAFETY: the caller's promise.
            unsafe { self.shrink_shared(span, wanted) };
            return Some(ptr);
        }
        // SAFETY: the caller's promise.
        if fits && unsafe { self.grow_shared(span, wanted) } {
            return Some(ptr);
        }
        let new = self.malloc_large(size, heaplab_kit::ALIGN)?;
        // SAFETY: two distinct live blocks, each holding the bytes copied.
        unsafe { ptr.copy_to_nonoverlapping(new, bytes.min(size)) };
        // SAFETY: the old block is replaced by the new one.
        unsafe { self.free_large(span) };
        Some(new)
    }

    /// Gives the tail of `span` past `wanted` bytes back to the page heap
    /// (when a descriptor is left for it; else the block keeps it).
    ///
    /// # Safety
    /// `span` is a live large block of a shared arena of at least `wanted`.
    unsafe fn shrink_shared(&mut self, span: NonNull<Span>, wanted: usize) {
        // SAFETY: the caller's promise.
        let s = unsafe { &mut *span.as_ptr() };
        if wanted == s.bytes {
            return;
        }
        let Some(tail) = self.pool.take(
            &mut self.pages,
            Kind::Free,
            s.start + wanted,
            s.bytes - wanted,
        ) else {
            return;
        };
        s.bytes = wanted;
        // SAFETY: a fresh descriptor, ours.
        unsafe { (*tail.as_ptr()).arena = s.arena };
        // SAFETY: the tail pages, on no list, with no entries (a large
        // block registers its first grain only), unused.
        unsafe { self.free_span(tail) };
    }

    /// Grows `span` to `wanted` bytes into the free span right after it,
    /// if that is big enough; false (nothing changed) if not.
    ///
    /// # Safety
    /// `span` is a live large block of a shared arena, smaller than `wanted`.
    unsafe fn grow_shared(&mut self, span: NonNull<Span>, wanted: usize) -> bool {
        // SAFETY: the caller's promise.
        let s = unsafe { &mut *span.as_ptr() };
        // SAFETY: a live span's arena record is live.
        if s.end() == unsafe { (*s.arena).end() } {
            return false;
        }
        let Some(right) = self.free_neighbour(s.end(), s.arena) else {
            return false;
        };
        let need = wanted - s.bytes;
        // SAFETY: a listed free span.
        if unsafe { right.as_ref().bytes } < need {
            return false;
        }
        let right = self.take_free(right);
        s.bytes = wanted;
        // SAFETY: taken off its list: ours now, with no entries.
        let r = unsafe { &mut *right.as_ptr() };
        if r.bytes == need {
            // SAFETY: its pages are the block's now; nothing refers to it.
            unsafe { self.pool.give(right) };
        } else {
            r.start += need;
            r.bytes -= need;
            // SAFETY: the rest of the free span, on no list, no entries.
            unsafe { self.list_free(right) };
        }
        true
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
