// STUB: //! Where your heap gets runs of pages, if it carves them itself.
// BEGIN SOLUTION
//! The page heap: arenas (mappings) and the runs of pages cut from them.
//!
//! An *arena* is one `map` call. Slabs, and large blocks up to 64 KiB, are
//! cut from arenas of a 128th of the memory in use (16 KiB to 1 MiB, or the
//! block's size if bigger); a bigger block gets an arena of its own
//! (`large.rs`). A span given back merges with its free neighbours,
//! exactly as lesson 5 merged free chunks, but a page at a time and found
//! through the page map instead of a list walk.
//!
//! ```text
//!   alloc_span(3 pages):  free lists by size ──► the smallest free span that
//!                         fits, its tail split off as a free span;
//!                         none? a new arena.
//!   free_span(s):         [left free?][ s ][right free?] ──► one free span
//!                         (never across arenas); a whole arena ──► idle
//! ```
//!
//! A free span's first and last grain are in the page map, so a span being
//! freed finds its neighbours at `start - 1` and `end` in constant time.
//!
//! A wholly free arena stays mapped (*idle*) while idle arenas add up to at
//! most half the most memory the heap ever had mapped (and at least 64
//! KiB): a program that frees and allocates in waves then reuses pages it
//! has touched already, instead of paying `munmap`, `mmap` and a page fault
//! per page every wave. An idle arena big enough for a new one is used as
//! it is (for a block mapped alone, only one not much bigger: by a quarter
//! of the block, or by a 32nd of the heap's peak if that is more, but never
//! by more than the block itself). Otherwise the heap maps a
//! new one, and first unmaps idle arenas until the new mapping fits under
//! its peak: idle memory never makes the footprint pass the most the heap
//! ever needed, and never outlives the need for room.

use std::ptr::NonNull;

use heaplab_kit::PageSource;

use crate::heap::{FastHeap, FREE_LISTS};
use crate::page_map::{GRAIN_BYTES, TAG_MASK};
use crate::span::{Kind, Span};

/// Bounds of the size of an arena for slabs: a [`ARENA_SHARE`]th of the
/// memory in use, between these. A small heap's last, partly used arena
/// wastes little; a big heap's arenas are big, so that `mmap` calls stay
/// rare (a heap of 1 GiB has about a thousand).
const MIN_ARENA_BYTES: usize = 16 * 1024;
const MAX_ARENA_BYTES: usize = 1024 * 1024;

/// An arena is this fraction of the memory in use. Smaller arenas leave
/// less of a partly used one unused and let a freed large block's arena go
/// idle whole, ready for anything: on heaplab's traces a 128th (16 KiB up
/// to a heap of 2 MiB) measured 1 point of mean utilization above a 32nd
/// (`realloc` 61 % to 65 %), and an 8 KiB minimum less than 16 KiB.
const ARENA_SHARE: usize = 128;

/// Idle arenas may always add up to this much.
const IDLE_MIN_BYTES: usize = 64 * 1024;

/// A block mapped alone may take an idle arena bigger than it by up to this
/// fraction of the heap's peak (see `slack_bytes`): on heaplab's traces a
/// 32nd made `big-blocks` 1.1× glibc's speed at 91.5 % utilization, a 16th
/// 1.3× at 88.1 %, a quarter of the block alone 0.6× at 97.2 %.
const IDLE_SLACK_SHARE: usize = 32;

impl<S: PageSource> FastHeap<S> {
    /// A span of `bytes` (whole pages) for a slab: from a free span or a new
    /// arena, on no list and with no page map entries; `None` when the page
    /// source refuses.
    pub(crate) fn alloc_span(&mut self, bytes: usize) -> Option<NonNull<Span>> {
        let span = match self.find_free(bytes) {
            Some(span) => self.take_free(span),
            None => self.obtain_arena(self.arena_bytes_for(bytes), false)?,
        };
        // SAFETY: a free span taken off its list, or a fresh one: ours.
        let s = unsafe { &mut *span.as_ptr() };
        // SAFETY: a live span's arena record is live.
        unsafe { (*s.arena).alone = false }; // slabs may share it from now on
        if s.bytes == bytes {
            return Some(span);
        }
        // The rest stays free, as a span of its own. One-page slabs are cut
        // from the end of the free span and bigger ones from its start: the
        // classes of tiny blocks, often long-lived, then sit together
        // instead of pinning small holes between big slabs that come and go.
        // If no descriptor is left for the rest, the caller gets it too.
        let from_end = bytes == self.page_bytes();
        let rest_start = if from_end { s.start } else { s.start + bytes };
        let Some(rest) = self
            .pool
            .take(&mut self.pages, Kind::Free, rest_start, s.bytes - bytes)
        else {
            return Some(span);
        };
        // SAFETY: a fresh descriptor, on no list, no entries.
        unsafe {
            (*rest.as_ptr()).arena = s.arena;
            (*rest.as_ptr()).fresh = s.fresh;
            if from_end {
                s.start += s.bytes - bytes;
            }
            s.bytes = bytes;
            self.list_free(rest);
        }
        Some(span)
    }

    /// A span of `bytes` that is a whole arena, for one large block: on no
    /// list, with no page map entries.
    pub(crate) fn alloc_alone(&mut self, bytes: usize) -> Option<NonNull<Span>> {
        self.obtain_arena(bytes, true)
    }

    /// The smallest listed free span of at least `bytes`.
    fn find_free(&self, bytes: usize) -> Option<NonNull<Span>> {
        let pages = bytes / self.page_bytes();
        let exact = (pages - 1).min(FREE_LISTS - 1);
        if let Some(span) = self.free_spans[exact..FREE_LISTS - 1]
            .iter()
            .find_map(|list| list.head())
        {
            return Some(span);
        }
        // The last list holds every size above: best fit among them.
        self.free_spans[FREE_LISTS - 1]
            .iter()
            // SAFETY: listed spans are live descriptors.
            .map(|span| (unsafe { span.as_ref() }.bytes, span))
            .filter(|&(size, _)| size >= bytes)
            .min_by_key(|&(size, _)| size)
            .map(|(_, span)| span)
    }

    /// Takes the listed free span `span` off its list and clears its page
    /// map entries: it is the caller's now. A whole idle arena is busy again.
    pub(crate) fn take_free(&mut self, span: NonNull<Span>) -> NonNull<Span> {
        // SAFETY: a listed free span.
        let (start, end, bytes, arena) = unsafe {
            let s = span.as_ref();
            (s.start, s.end(), s.bytes, s.arena)
        };
        // SAFETY: a live span's arena record is live.
        if unsafe { (*arena).bytes } == bytes {
            // SAFETY: a wholly free arena's record is on the idle list.
            unsafe {
                let arena = NonNull::new_unchecked(arena);
                self.idle_arenas.remove(arena);
                self.arenas.push(arena);
            }
            self.idle_bytes -= bytes;
        }
        let list = self.free_list_for(bytes);
        // SAFETY: listed on the list for its size.
        unsafe { self.free_spans[list].remove(span) };
        self.map.set(start, GRAIN_BYTES, 0);
        self.map.set(end - 1, 1, 0);
        span
    }

    /// An arena of at least `bytes` (whole pages) as one free span, on no
    /// list, with no page map entries: an idle arena big enough, or a new
    /// mapping (the other idle arenas unmapped first). For a shared arena
    /// (not `alone`), the page map nodes of its every grain are reserved,
    /// the whole arena's and not only the `bytes` asked for; a large block
    /// alone reserves its own one.
    fn obtain_arena(&mut self, bytes: usize, alone: bool) -> Option<NonNull<Span>> {
        let span = match self.recycle_idle(bytes, alone) {
            Some(span) => span,
            None => {
                // The heap grows: not past its peak while it keeps idle
                // memory that did not fit.
                self.make_room(bytes);
                self.map_arena(bytes)?
            }
        };
        // SAFETY: a whole arena's span, ours, and its arena record.
        let (start, size, arena) = unsafe {
            let s = span.as_ref();
            (s.start, s.bytes, s.arena)
        };
        if !alone && self.map.reserve(&mut self.pages, start, size).is_none() {
            // SAFETY: the whole arena, on no list, no entries, unused.
            unsafe { self.unmap_arena(span) };
            return None;
        }
        // SAFETY: as above.
        unsafe { (*arena).alone = alone };
        Some(span)
    }

    /// Maps a new arena of `bytes` and returns it as one free span.
    fn map_arena(&mut self, bytes: usize) -> Option<NonNull<Span>> {
        let map = self.pages.map(bytes)?;
        let start = map.as_ptr() as usize;
        let arena = self.pool.take(&mut self.pages, Kind::Arena, start, bytes);
        let span = arena.and_then(|_| self.pool.take(&mut self.pages, Kind::Free, start, bytes));
        let (Some(arena), Some(span)) = (arena, span) else {
            if let Some(arena) = arena {
                // SAFETY: just taken, on no list.
                unsafe { self.pool.give(arena) };
            }
            // SAFETY: the arena was mapped just above and nothing uses it.
            unsafe { self.pages.unmap(map, bytes) };
            return None;
        };
        // SAFETY: fresh descriptors, on no list.
        unsafe {
            (*span.as_ptr()).arena = arena.as_ptr();
            (*span.as_ptr()).fresh = true;
            self.arenas.push(arena);
        }
        Some(span)
    }

    /// The smallest idle arena of at least `bytes`, as one free span (see
    /// [`obtain_arena`](Self::obtain_arena)). For a block `alone`, one at
    /// most [`slack_bytes`](Self::slack_bytes) bigger: the rest stays
    /// mapped, unused, as long as the block lives; a shared arena's rest
    /// serves the next spans.
    fn recycle_idle(&mut self, bytes: usize, alone: bool) -> Option<NonNull<Span>> {
        let size = |arena: &NonNull<Span>| {
            // SAFETY: listed arenas are live descriptors.
            unsafe { arena.as_ref() }.bytes
        };
        let most = if alone {
            bytes + self.slack_bytes(bytes)
        } else {
            usize::MAX
        };
        let close = bytes..=most;
        let arena = self
            .idle_arenas
            .iter()
            .filter(|a| close.contains(&size(a)))
            .min_by_key(size)?;
        let span = self.claim_idle(arena)?;
        // SAFETY: the span is ours; its pages have been used.
        unsafe { (*span.as_ptr()).fresh = false };
        Some(span)
    }

    /// How many bytes more than `bytes` an idle arena may have and still
    /// serve a block of `bytes` alone: a quarter of the block, or a 32nd of
    /// the most the heap ever had mapped if that is more, but never more
    /// than the block itself. Reusing an idle arena saves an `mmap` now and
    /// a `munmap` later (two system calls, the time of hundreds of
    /// `malloc`s from a thread's cache); the slack is memory mapped and
    /// unused while the block lives. Bounded against the heap, not only the
    /// block, a big heap's blocks of all sizes find an idle arena often,
    /// while each one's slack stays a small part of the footprint.
    fn slack_bytes(&self, bytes: usize) -> usize {
        let peak = self.pages.peak_pages() * self.page_bytes();
        (bytes / 4).max(peak / IDLE_SLACK_SHARE).min(bytes)
    }

    /// Takes the idle arena `arena` back into use, as one free span on no
    /// list with no page map entries; `None` if no descriptor is left.
    fn claim_idle(&mut self, arena: NonNull<Span>) -> Option<NonNull<Span>> {
        // SAFETY: an idle arena's record, live.
        let (start, bytes, alone) = unsafe {
            (
                arena.as_ref().start,
                arena.as_ref().bytes,
                arena.as_ref().alone,
            )
        };
        if !alone {
            // A slab arena's idle form is one listed free span, registered
            // at its start.
            // SAFETY: as said.
            let span = unsafe { NonNull::new_unchecked(self.map.get(start) as *mut Span) };
            return Some(self.take_free(span));
        }
        // A large block's arena went idle without a span (see free_large).
        let span = self.pool.take(&mut self.pages, Kind::Free, start, bytes)?;
        // SAFETY: a fresh descriptor; the arena record is on the idle list.
        unsafe {
            (*span.as_ptr()).arena = arena.as_ptr();
            self.idle_arenas.remove(arena);
            self.arenas.push(arena);
        }
        self.idle_bytes -= bytes;
        Some(span)
    }

    /// Makes the arena of a freed large block idle, its span descriptor
    /// given back (the arena holds nothing else: no free span to list).
    ///
    /// # Safety
    /// `span` is a large block's span, alone in its arena, with no page map
    /// entries, that nothing uses any more.
    pub(crate) unsafe fn idle_alone(&mut self, span: NonNull<Span>) {
        // SAFETY: the caller's promise; the arena record is live and busy.
        unsafe {
            let arena = NonNull::new_unchecked(span.as_ref().arena);
            self.pool.give(span);
            self.arenas.remove(arena);
            self.idle_arenas.push(arena);
            self.idle_bytes += arena.as_ref().bytes;
        }
        self.trim_idle();
    }

    /// Records that the whole-arena span `span` now lives at `[start, start
    /// + bytes)`, as its arena does.
    ///
    /// # Safety
    /// `span` covers its arena exactly, and the arena's mapping was moved
    /// or resized to that range.
    pub(crate) unsafe fn moved(&mut self, span: NonNull<Span>, start: usize, bytes: usize) {
        // SAFETY: the caller's promise: both descriptors are live and ours.
        unsafe {
            let arena = (*span.as_ptr()).arena;
            (*arena).start = start;
            (*arena).bytes = bytes;
            (*span.as_ptr()).start = start;
            (*span.as_ptr()).bytes = bytes;
        }
    }

    /// Gives `span` (pages of an arena) back: merged with free neighbours
    /// in its arena; a whole arena made idle.
    ///
    /// # Safety
    /// `span` is a live span of an arena, on no list, that nothing uses any
    /// more, and whose page map entries are all cleared.
    pub(crate) unsafe fn free_span(&mut self, span: NonNull<Span>) {
        let s = span.as_ptr();
        // SAFETY: span and its arena record are live descriptors; the
        // neighbours found are live free spans, taken over here.
        unsafe {
            let (arena_start, arena_end) = ((*(*s).arena).start, (*(*s).arena).end());
            (*s).kind = Kind::Free;
            (*s).fresh = false; // its pages were used
            if (*s).start > arena_start {
                if let Some(left) = self.free_neighbour((*s).start - 1, (*s).arena) {
                    let left = self.take_free(left);
                    (*s).start = (*left.as_ptr()).start;
                    (*s).bytes += (*left.as_ptr()).bytes;
                    self.pool.give(left);
                }
            }
            if (*s).end() < arena_end {
                if let Some(right) = self.free_neighbour((*s).end(), (*s).arena) {
                    let right = self.take_free(right);
                    (*s).bytes += (*right.as_ptr()).bytes;
                    self.pool.give(right);
                }
            }
            self.list_free(span);
            if (*s).start == arena_start && (*s).end() == arena_end {
                let arena = NonNull::new_unchecked((*s).arena);
                self.arenas.remove(arena);
                self.idle_arenas.push(arena);
                self.idle_bytes += (*s).bytes;
                self.trim_idle();
            }
        }
    }

    /// Unmaps idle arenas, the latest first, while they add up to more than
    /// the budget.
    fn trim_idle(&mut self) {
        while self.idle_bytes > self.idle_budget() && self.unmap_one_idle() {}
    }

    /// Unmaps idle arenas, the latest first, until `bytes` more can be
    /// mapped without the heap's mapped memory passing the most it ever had:
    /// the heap must not grow past its peak while memory it already has
    /// sits idle. Below the peak, idle arenas stay, for blocks of their size.
    pub(crate) fn make_room(&mut self, bytes: usize) {
        let page = self.page_bytes();
        let peak = self.pages.peak_pages() * page;
        while self.mapped_bytes() + bytes > peak && self.unmap_one_idle() {}
    }

    /// Unmaps the latest idle arena; false if there is none (or no
    /// descriptor to handle it with).
    fn unmap_one_idle(&mut self) -> bool {
        let Some(span) = self
            .idle_arenas
            .head()
            .and_then(|arena| self.claim_idle(arena))
        else {
            return false;
        };
        // SAFETY: the whole arena, on no list, no entries, unused.
        unsafe { self.unmap_arena(span) };
        true
    }

    /// Bytes mapped now, idle arenas included.
    fn mapped_bytes(&self) -> usize {
        (self.pages.mapped_pages() - self.pages.unmapped_pages()) * self.page_bytes()
    }

    /// Bytes mapped now, idle arenas left out.
    fn in_use_bytes(&self) -> usize {
        self.mapped_bytes() - self.idle_bytes
    }

    /// How many bytes of idle arenas the heap may keep now: half the most it
    /// ever had mapped. A program that frees all and allocates again (a
    /// loop, a server's requests) finds its pages still there, already
    /// faulted in; one whose needs shrink for good gives back at least half
    /// of its peak. Kept pages never raise the footprint's peak
    /// ([`make_room`](Self::make_room)).
    pub(crate) fn idle_budget(&self) -> usize {
        IDLE_MIN_BYTES.max(self.pages.peak_pages() * self.page_bytes() / 2)
    }

    /// The size of the next arena for a span of `bytes`: a
    /// [`ARENA_SHARE`]th of the memory in use (within bounds), or the
    /// span's own size if bigger: a large block over the share gets an
    /// arena just its size, which it leaves whole (idle, ready for the next
    /// one) when freed.
    fn arena_bytes_for(&self, bytes: usize) -> usize {
        let share = (self.in_use_bytes() / ARENA_SHARE).clamp(MIN_ARENA_BYTES, MAX_ARENA_BYTES);
        share.max(bytes).next_multiple_of(self.page_bytes())
    }

    /// The free span of `arena` whose first or last grain holds `addr`.
    pub(crate) fn free_neighbour(&self, addr: usize, arena: *mut Span) -> Option<NonNull<Span>> {
        let span = NonNull::new((self.map.get(addr) & !TAG_MASK) as *mut Span)?;
        // SAFETY: a non-zero page map entry points to a live descriptor.
        let s = unsafe { span.as_ref() };
        (s.kind == Kind::Free && s.arena == arena).then_some(span)
    }

    /// Unmaps the arena that the free span `span` covers whole.
    ///
    /// # Safety
    /// `span` covers its arena exactly, is on no list and has no entries.
    pub(crate) unsafe fn unmap_arena(&mut self, span: NonNull<Span>) {
        // SAFETY: span and its arena record are live; the arena's memory is
        // all free, so nothing uses it.
        unsafe {
            let arena = NonNull::new_unchecked((*span.as_ptr()).arena);
            let (start, bytes) = ((*arena.as_ptr()).start, (*arena.as_ptr()).bytes);
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
    pub(crate) unsafe fn list_free(&mut self, span: NonNull<Span>) {
        // SAFETY: the caller's promise.
        let (start, end, bytes) = unsafe {
            (
                span.as_ref().start,
                span.as_ref().end(),
                span.as_ref().bytes,
            )
        };
        let list = self.free_list_for(bytes);
        // SAFETY: on no list (the caller's promise).
        unsafe { self.free_spans[list].push(span) };
        let entry = span.as_ptr() as usize;
        self.map.set(start, GRAIN_BYTES, entry);
        self.map.set(end - 1, 1, entry);
    }

    /// The free list for spans of `bytes`.
    fn free_list_for(&self, bytes: usize) -> usize {
        (bytes / self.page_bytes() - 1).min(FREE_LISTS - 1)
    }
}
// END SOLUTION
