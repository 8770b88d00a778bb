// STUB: //! Where your heap gets runs of pages, if it carves them itself.
// BEGIN SOLUTION
//! The page heap: runs of whole pages for slabs, carved from arenas.
//!
//! An *arena* is one `map` call of 64 KiB. Slabs are cut from arenas; a
//! slab that empties goes back as a free span and merges with free
//! neighbours, exactly as lesson 5 merged free chunks, but a page at a time
//! and found through the page map instead of a list walk. When an arena is
//! all free again it is unmapped.
//!
//! ```text
//!   alloc_span(3 pages):  free lists by size ──► the smallest free span
//!                         that fits, its tail split off as a free span;
//!                         none? map a new arena.
//!   free_span(s):         [left free?][ s ][right free?] ──► one free span
//!                         (never across arenas); a whole arena ──► unmap.
//! ```
//!
//! A free span's first and last grain are in the page map, so a span being
//! freed finds its neighbours at `start - 1` and `end` in constant time.

use std::ptr::NonNull;

use heaplab_kit::PageSource;

use crate::heap::{FastHeap, FREE_LISTS};
use crate::page_map::{GRAIN_BYTES, TAG_MASK};
use crate::span::{Kind, Span};

/// Bytes mapped per arena. Big enough that `mmap` calls stay rare (one per
/// 64 KiB of small blocks), small enough that a small heap's last,
/// partly used arena wastes little.
pub const ARENA_BYTES: usize = 64 * 1024;

impl<S: PageSource> FastHeap<S> {
    /// A span of `bytes` (whole pages) from a free span or a new arena,
    /// not on any list; `None` when the page source refuses.
    pub(crate) fn alloc_span(&mut self, bytes: usize) -> Option<NonNull<Span>> {
        let pages = bytes / self.page_bytes();
        let span = match self.find_free(pages) {
            Some(span) => span,
            None => self.new_arena(bytes)?,
        };
        // SAFETY: a free span, just found or made; ours to change.
        unsafe {
            self.unlist_free(span);
            let s = span.as_ptr();
            if (*s).bytes > bytes {
                // The tail becomes a free span of its own. If no descriptor
                // is left for it, take the whole span rather than fail.
                let tail_bytes = (*s).bytes - bytes;
                if let Some(tail) =
                    self.pool
                        .take(&mut self.pages, Kind::Free, (*s).start + bytes, tail_bytes)
                {
                    (*tail.as_ptr()).arena = (*s).arena;
                    (*s).bytes = bytes;
                    self.list_free(tail);
                }
            }
            self.map.set((*s).start, GRAIN_BYTES, 0);
            self.map.set((*s).end() - 1, 1, 0);
        }
        Some(span)
    }

    /// The smallest listed free span of at least `pages` pages.
    fn find_free(&self, pages: usize) -> Option<NonNull<Span>> {
        let exact = (pages - 1).min(FREE_LISTS - 1);
        if let Some(span) = self.free_spans[exact..FREE_LISTS - 1]
            .iter()
            .find_map(|list| list.head())
        {
            return Some(span);
        }
        // The last list holds every size above: best fit among them.
        let need = pages * self.page_bytes();
        self.free_spans[FREE_LISTS - 1]
            .iter()
            // SAFETY: listed spans are live descriptors.
            .map(|span| (unsafe { span.as_ref() }.bytes, span))
            .filter(|&(bytes, _)| bytes >= need)
            .min_by_key(|&(bytes, _)| bytes)
            .map(|(_, span)| span)
    }

    /// Maps an arena of at least `bytes` and lists it as one free span.
    fn new_arena(&mut self, bytes: usize) -> Option<NonNull<Span>> {
        let arena_bytes = bytes.max(ARENA_BYTES).next_multiple_of(self.page_bytes());
        let start = self.pages.map(arena_bytes)?;
        let start = start.as_ptr() as usize;
        let made = (|| {
            self.map.reserve(&mut self.pages, start, arena_bytes)?;
            let arena = self
                .pool
                .take(&mut self.pages, Kind::Arena, start, arena_bytes)?;
            let span = self
                .pool
                .take(&mut self.pages, Kind::Free, start, arena_bytes);
            let Some(span) = span else {
                // SAFETY: just taken, on no list.
                unsafe { self.pool.give(arena) };
                return None;
            };
            Some((arena, span))
        })();
        let Some((arena, span)) = made else {
            // SAFETY: the arena was mapped just above and nothing uses it.
            unsafe {
                self.pages
                    .unmap(NonNull::new_unchecked(start as *mut u8), arena_bytes)
            };
            return None;
        };
        // SAFETY: fresh descriptors, on no list.
        unsafe {
            (*span.as_ptr()).arena = arena.as_ptr();
            self.arenas.push(arena);
            self.list_free(span);
        }
        Some(span)
    }

    /// Gives `span` (pages of an arena, on no list) back: merged with free
    /// neighbours in its arena, and the arena unmapped if it is all free.
    ///
    /// # Safety
    /// `span` is a live span of an arena, on no list, that nothing uses any
    /// more, and whose page map entries are all cleared.
    pub(crate) unsafe fn free_span(&mut self, span: NonNull<Span>) {
        let s = span.as_ptr();
        // SAFETY: span and its arena record are live descriptors.
        let (arena_start, arena_end) = unsafe { ((*(*s).arena).start, (*(*s).arena).end()) };
        // SAFETY: as above; the neighbours found are live free spans.
        unsafe {
            (*s).kind = Kind::Free;
            if (*s).start > arena_start {
                if let Some(left) = self.free_neighbour((*s).start - 1, (*s).arena) {
                    self.unlist_free(left);
                    self.map.set((*s).start - 1, 1, 0); // inside the merged span now
                    (*s).start = (*left.as_ptr()).start;
                    (*s).bytes += (*left.as_ptr()).bytes;
                    self.pool.give(left);
                }
            }
            if (*s).end() < arena_end {
                if let Some(right) = self.free_neighbour((*s).end(), (*s).arena) {
                    self.unlist_free(right);
                    self.map.set((*s).end(), 1, 0); // inside the merged span now
                    (*s).bytes += (*right.as_ptr()).bytes;
                    self.pool.give(right);
                }
            }
            if (*s).start == arena_start && (*s).end() == arena_end {
                self.unmap_arena(span);
            } else {
                self.list_free(span);
            }
        }
    }

    /// The free span of `arena` whose first or last grain holds `addr`.
    fn free_neighbour(&self, addr: usize, arena: *mut Span) -> Option<NonNull<Span>> {
        let span = NonNull::new((self.map.get(addr) & !TAG_MASK) as *mut Span)?;
        // SAFETY: a non-zero page map entry points to a live descriptor.
        let s = unsafe { span.as_ref() };
        (s.kind == Kind::Free && s.arena == arena).then_some(span)
    }

    /// Unmaps the arena that the free span `span` covers whole.
    ///
    /// # Safety
    /// `span` covers its arena exactly and is on no list.
    unsafe fn unmap_arena(&mut self, span: NonNull<Span>) {
        // SAFETY: span and its arena record are live; the arena's memory is
        // all free, so nothing uses it.
        unsafe {
            let arena = NonNull::new_unchecked((*span.as_ptr()).arena);
            let (start, bytes) = ((*arena.as_ptr()).start, (*arena.as_ptr()).bytes);
            self.map.set(start, GRAIN_BYTES, 0);
            self.map.set(start + bytes - 1, 1, 0);
            self.arenas.remove(arena);
            self.pool.give(arena);
            self.pool.give(span);
            self.pages
                .unmap(NonNull::new_unchecked(start as *mut u8), bytes);
        }
    }

    /// Puts a free span on the list for its size and registers its first
    /// and last grain, so that neighbours freed later find it.
    ///
    /// # Safety
    /// `span` is a live free span of an arena, on no list.
    unsafe fn list_free(&mut self, span: NonNull<Span>) {
        // SAFETY: the caller's promise.
        let (start, end, bytes) = unsafe {
            (
                span.as_ref().start,
                span.as_ref().end(),
                span.as_ref().bytes,
            )
        };
        let list = (bytes / self.page_bytes() - 1).min(FREE_LISTS - 1);
        // SAFETY: on no list (the caller's promise).
        unsafe { self.free_spans[list].push(span) };
        let entry = span.as_ptr() as usize;
        self.map.set(start, GRAIN_BYTES, entry);
        self.map.set(end - 1, 1, entry);
    }

    /// Takes a free span off its list (its page map entries stay until the
    /// caller rewrites them).
    ///
    /// # Safety
    /// `span` is on the free list for its size.
    unsafe fn unlist_free(&mut self, span: NonNull<Span>) {
        // SAFETY: the caller's promise.
        let bytes = unsafe { span.as_ref().bytes };
        let list = (bytes / self.page_bytes() - 1).min(FREE_LISTS - 1);
        // SAFETY: the caller's promise.
        unsafe { self.free_spans[list].remove(span) };
    }
}
// END SOLUTION
