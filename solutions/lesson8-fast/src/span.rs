// STUB: //! Your heap's bookkeeping, if your design keeps it apart from the blocks.
// BEGIN SOLUTION
//! Spans: the runs of pages the heap is made of, each described by a
//! 64-byte descriptor kept apart from the memory it describes.
//!
//! ```text
//!   arena (one map call, 64 KiB) ┌──────────┬────────────┬──────────────┐
//!                                │ slab     │ free span  │ slab         │
//!                                │ class 3  │ 3 pages    │ class 17     │
//!                                └──────────┴────────────┴──────────────┘
//!   arena of one large block     ┌──────────────────────────────────────┐
//!   (one map call)               │ payload …                            │
//!                                └──────────────────────────────────────┘
//! ```
//!
//! Keeping descriptors out of the spans lets a slab's blocks start at its
//! first byte and fill it exactly (a class of 5 quarters of a page fills 5
//! pages with no room left for a header), and lets a large block start on
//! a page boundary, where `mremap` can move it. Descriptors come from a pool
//! of pages of their own ([`SpanPool`]); spans are found from addresses
//! through the page map.

use std::ptr::{self, NonNull};

use heaplab_kit::PageSource;

use crate::pages::CountedPages;

/// What a span is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// In the pool, describing nothing.
    Unused,
    /// A record of one arena: a mapping that spans are carved from.
    Arena,
    /// Free pages of an arena, on a free list of the page heap.
    Free,
    /// Pages of an arena cut into blocks of one size class.
    Slab,
    /// Pages of an arena holding one large block.
    Large,
    /// The first descriptor of a page of the pool, which links the pool's
    /// pages together.
    PoolPage,
}

/// A span descriptor. Which fields mean something depends on `kind`.
#[derive(Debug)]
#[repr(C, align(64))]
pub struct Span {
    /// Address of the span's first byte (page aligned).
    pub start: usize,
    /// Bytes in the span (whole pages).
    pub bytes: usize,
    /// The arena record this span was carved from (Free, Slab, Large); null
    /// for an arena or a pool page.
    pub arena: *mut Span,
    /// Neighbours on the one list the span is on: a free list, its class's
    /// list of slabs with room, or the list of arenas.
    pub next: *mut Span,
    pub prev: *mut Span,
    /// Slab: the free blocks, linked through their first word.
    pub free_slots: *mut FreeSlot,
    pub kind: Kind,
    /// Free: its pages were never used since they were mapped, so they are
    /// still the kernel's zeros (`calloc` need not clear them).
    pub fresh: bool,
    /// Arena: mapped for one large block alone (over 64 KiB, or aligned
    /// beyond a page), resized by `remap`, idle when the block is freed;
    /// false for an arena shared by slabs and smaller large blocks.
    pub alone: bool,
    /// Slab: its size class.
    pub class: u8,
    /// Slab: blocks it can hold.
    pub capacity: u16,
    /// Slab: blocks ever cut from it. Blocks are cut in address order, on
    /// demand, so a fresh slab's pages are not touched before they are used.
    pub carved: u16,
    /// Slab: blocks handed out and not freed.
    pub live: u16,
}

/// A free block of a slab (or of a thread's cache): its first two words.
///
/// `key` holds the heap's secret while the block is free. `free` of a block
/// whose key already matches is probably a double free, which a walk of
/// the list then confirms (glibc's tcache does the same).
#[repr(C)]
pub struct FreeSlot {
    pub next: *mut FreeSlot,
    pub key: usize,
}

impl Span {
    /// An unused descriptor.
    const fn unused() -> Span {
        Span {
            start: 0,
            bytes: 0,
            arena: ptr::null_mut(),
            next: ptr::null_mut(),
            prev: ptr::null_mut(),
            free_slots: ptr::null_mut(),
            kind: Kind::Unused,
            fresh: false,
            alone: false,
            class: 0,
            capacity: 0,
            carved: 0,
            live: 0,
        }
    }

    /// One past the span's last byte.
    pub fn end(&self) -> usize {
        self.start + self.bytes
    }

    /// Slab: true when every block is handed out.
    pub fn is_full(&self) -> bool {
        self.live == self.capacity
    }

    /// Slab: a free block of `slot_bytes`, from the free list or cut from
    /// the part never used. The slab must not be full.
    pub fn take_slot(&mut self, slot_bytes: usize) -> NonNull<u8> {
        debug_assert!(!self.is_full());
        self.live += 1;
        if let Some(slot) = NonNull::new(self.free_slots) {
            // SAFETY: a slot on the free list is a free block of this slab,
            // its first two words written by put_slot.
            unsafe {
                self.free_slots = (*slot.as_ptr()).next;
                (*slot.as_ptr()).key = 0; // a live block carries no key
            }
            return slot.cast();
        }
        let addr = self.start + usize::from(self.carved) * slot_bytes;
        self.carved += 1;
        let slot = NonNull::new(addr as *mut FreeSlot).expect("a slab never starts at address 0");
        // The block's first write: a fresh page is faulted in once, here,
        // rather than twice at its first free (a read of the key maps the
        // kernel's shared zero page, then the write copies it).
        // SAFETY: a block of this slab never used before: ours, 16+ bytes.
        unsafe { (*slot.as_ptr()).key = 0 };
        slot.cast()
    }

    /// Slab: puts the block at `slot` on the free list, marked with `key`.
    ///
    /// # Safety
    /// `slot` is a block of this slab, handed out and not freed since; its
    /// first 16 bytes are the heap's from now on.
    pub unsafe fn put_slot(&mut self, slot: NonNull<u8>, key: usize) {
        let slot = slot.cast::<FreeSlot>();
        // SAFETY: the caller's promise: a block of at least 16 bytes, ours.
        unsafe {
            slot.write(FreeSlot {
                next: self.free_slots,
                key,
            })
        };
        self.free_slots = slot.as_ptr();
        self.live -= 1;
    }

    /// Slab: true when `slot` is on this slab's free list (a walk).
    pub fn holds_free(&self, slot: usize) -> bool {
        let mut at = self.free_slots;
        while !at.is_null() {
            if at as usize == slot {
                return true;
            }
            // SAFETY: every slot on the list is a free block of this slab.
            at = unsafe { (*at).next };
        }
        false
    }
}

/// A doubly-linked list of spans, through their `next` and `prev`. Every
/// list of the heap is one of these, so the linking is written once.
pub struct SpanList {
    head: *mut Span,
    len: usize,
}

impl SpanList {
    pub const fn new() -> Self {
        SpanList {
            head: ptr::null_mut(),
            len: 0,
        }
    }

    pub fn head(&self) -> Option<NonNull<Span>> {
        NonNull::new(self.head)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Links `span` in at the front.
    ///
    /// # Safety
    /// `span` is a live descriptor on no list.
    pub unsafe fn push(&mut self, span: NonNull<Span>) {
        let s = span.as_ptr();
        // SAFETY: span is live (the caller's promise); head, if any, is a
        // live descriptor on this list.
        unsafe {
            (*s).prev = ptr::null_mut();
            (*s).next = self.head;
            if !self.head.is_null() {
                (*self.head).prev = s;
            }
        }
        self.head = s;
        self.len += 1;
    }

    /// Unlinks `span`.
    ///
    /// # Safety
    /// `span` is on this list.
    pub unsafe fn remove(&mut self, span: NonNull<Span>) {
        let s = span.as_ptr();
        // SAFETY: span and its neighbours are live descriptors on this list.
        unsafe {
            if (*s).prev.is_null() {
                self.head = (*s).next;
            } else {
                (*(*s).prev).next = (*s).next;
            }
            if !(*s).next.is_null() {
                (*(*s).next).prev = (*s).prev;
            }
            (*s).next = ptr::null_mut();
            (*s).prev = ptr::null_mut();
        }
        self.len -= 1;
    }

    /// The spans on the list, front to back. The list must not change while
    /// the iterator is used.
    pub fn iter(&self) -> impl Iterator<Item = NonNull<Span>> + '_ {
        let mut at = self.head;
        std::iter::from_fn(move || {
            let span = NonNull::new(at)?;
            // SAFETY: every span on a list is a live descriptor.
            at = unsafe { (*span.as_ptr()).next };
            Some(span)
        })
    }
}

/// Descriptors, handed out and taken back, from pages mapped for them and
/// kept until the heap is dropped.
pub struct SpanPool {
    /// Unused descriptors, linked through `next`.
    free: *mut Span,
    /// The pool's pages, linked through their first descriptor's `next`.
    pages: *mut Span,
}

impl SpanPool {
    pub const fn new() -> Self {
        SpanPool {
            free: ptr::null_mut(),
            pages: ptr::null_mut(),
        }
    }

    /// A fresh descriptor of `kind` for `[start, start + bytes)`, all other
    /// fields empty; `None` when the page source refuses a page for more.
    pub fn take<S: PageSource>(
        &mut self,
        pages: &mut CountedPages<S>,
        kind: Kind,
        start: usize,
        bytes: usize,
    ) -> Option<NonNull<Span>> {
        if self.free.is_null() {
            self.grow(pages)?;
        }
        let span = self.free;
        // SAFETY: span is an unused descriptor of the pool, ours alone.
        unsafe {
            self.free = (*span).next;
            span.write(Span {
                start,
                bytes,
                kind,
                ..Span::unused()
            });
        }
        NonNull::new(span)
    }

    /// Takes `span` back.
    ///
    /// # Safety
    /// `span` came from [`take`](Self::take), is on no list, and nothing
    /// uses it after this.
    pub unsafe fn give(&mut self, span: NonNull<Span>) {
        // SAFETY: the caller's promise.
        unsafe {
            span.write(Span {
                next: self.free,
                ..Span::unused()
            })
        };
        self.free = span.as_ptr();
    }

    /// Maps one page of descriptors; the first links the pool's pages.
    fn grow<S: PageSource>(&mut self, pages: &mut CountedPages<S>) -> Option<()> {
        let page_bytes = pages.page_bytes();
        let page = pages.map(page_bytes)?.cast::<Span>();
        let count = page_bytes / size_of::<Span>();
        // SAFETY: a fresh, page-aligned (so 64-byte aligned) mapping of
        // count descriptors, ours alone.
        unsafe {
            page.write(Span {
                start: page.as_ptr() as usize,
                bytes: page_bytes,
                kind: Kind::PoolPage,
                next: self.pages,
                ..Span::unused()
            });
            for i in 1..count {
                let span = page.as_ptr().add(i);
                span.write(Span {
                    next: self.free,
                    ..Span::unused()
                });
                self.free = span;
            }
        }
        self.pages = page.as_ptr();
        Some(())
    }

    /// Unmaps every page of the pool (the heap is being dropped).
    ///
    /// # Safety
    /// No descriptor of the pool is used after this.
    pub unsafe fn unmap_all<S: PageSource>(&mut self, pages: &mut CountedPages<S>) {
        while let Some(page) = NonNull::new(self.pages) {
            // SAFETY: a pool page, live until unmapped here.
            let (next, bytes) = unsafe { ((*page.as_ptr()).next, (*page.as_ptr()).bytes) };
            // SAFETY: one mapping of the pool, used by nothing any more.
            unsafe { pages.unmap(page.cast(), bytes) };
            self.pages = next;
        }
        self.free = ptr::null_mut();
    }
}
// END SOLUTION
