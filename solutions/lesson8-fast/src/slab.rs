// STUB: //! Your small blocks: however your design finds room for them in constant time.
// BEGIN SOLUTION
//! Slabs: spans cut into blocks of one size class.
//!
//! ```text
//!   slab of class 48 (3 pages = 12 KiB, 256 blocks):
//!   ┌────┬────┬────┬────┬────┬─────────────────────────────┐
//!   │ a  │free│ b  │ c  │free│  never used yet (carved on  │
//!   │    │ ─┐ │    │    │ ▲  │  demand, pages untouched)   │
//!   └────┴──┼─┴────┴────┴─┼──┴─────────────────────────────┘
//!           └─────────────┘ free list through the blocks' first word
//! ```
//!
//! Each class keeps a list of its slabs that have room (`bins`): `malloc`
//! takes a block from the first of them, `free` puts the block back on its
//! slab's list (the page map says which slab). A slab that fills up leaves
//! the list; one that empties goes back to the page heap, so its pages can
//! serve another class. Blocks carry no header: a block of class 16 is 16
//! bytes, and the heap's memory holds payload and nothing else.

use std::ptr::{self, NonNull};

use heaplab_kit::{Block, PageSource};

use crate::heap::FastHeap;
use crate::misuse::misuse_at;
use crate::size_class::{block_index, CLASS_BYTES};
use crate::span::{FreeSlot, Kind, Span};

impl<S: PageSource> FastHeap<S> {
    /// A block of `class`, from the first slab with room or a new slab.
    pub(crate) fn malloc_small(&mut self, class: usize) -> Option<NonNull<u8>> {
        let span = match self.bins[class].head() {
            Some(span) => span,
            None => self.new_slab(class)?,
        };
        // SAFETY: a slab on its class's list: live, with room.
        let s = unsafe { &mut *span.as_ptr() };
        let block = s.take_slot(CLASS_BYTES[class]);
        if s.is_full() {
            // SAFETY: the slab is on this list.
            unsafe { self.bins[class].remove(span) };
        }
        Some(block)
    }

    /// Puts the block at `ptr` back on its slab `span` of `class`.
    ///
    /// # Safety
    /// The page map says `ptr` lies in `span`, a slab of `class`; the
    /// caller hands the block back (its checks are made here).
    pub(crate) unsafe fn free_small(
        &mut self,
        span: NonNull<Span>,
        class: usize,
        ptr: NonNull<u8>,
    ) {
        let addr = ptr.as_ptr() as usize;
        // SAFETY: the page map points at live descriptors.
        let s = unsafe { &mut *span.as_ptr() };
        let offset = addr - s.start;
        let index = block_index(class, offset);
        if index * CLASS_BYTES[class] != offset || index >= usize::from(s.carved) {
            misuse_at("free", "a pointer inside a block, not its start", addr);
        }
        // SAFETY: a block of this slab: at least 16 bytes, readable.
        let key = unsafe { (*ptr.as_ptr().cast::<FreeSlot>()).key };
        if key == self.key && s.holds_free(addr) {
            misuse_at("free", "a block already freed (double free)", addr);
        }
        let was_full = s.is_full();
        // SAFETY: a live block of this slab, handed back by the caller.
        unsafe { s.put_slot(ptr, self.key) };
        if s.live == 0 {
            if !was_full {
                // SAFETY: a slab with room is on its class's list.
                unsafe { self.bins[class].remove(span) };
            }
            self.release_slab(span);
        } else if was_full {
            // SAFETY: a full slab is on no list.
            unsafe { self.bins[class].push(span) };
        }
    }

    /// Cuts a new slab for `class` from the page heap and lists it.
    fn new_slab(&mut self, class: usize) -> Option<NonNull<Span>> {
        let span = self.alloc_span(self.slab_bytes[class])?;
        // SAFETY: a span just taken from the page heap, ours alone.
        let s = unsafe { &mut *span.as_ptr() };
        s.kind = Kind::Slab;
        s.class = class as u8;
        s.capacity =
            u16::try_from(s.bytes / CLASS_BYTES[class]).expect("slabs hold < 65536 blocks");
        s.carved = 0;
        s.live = 0;
        s.free_slots = ptr::null_mut();
        // Every grain says "slab of this class": free finds the class here
        // without touching the descriptor.
        self.map
            .set(s.start, s.bytes, span.as_ptr() as usize | (class + 1));
        // SAFETY: on no list yet.
        unsafe { self.bins[class].push(span) };
        Some(span)
    }

    /// Gives an empty slab's pages back to the page heap.
    fn release_slab(&mut self, span: NonNull<Span>) {
        // SAFETY: an empty slab on no list, its blocks all free.
        let (start, bytes) = unsafe { (span.as_ref().start, span.as_ref().bytes) };
        self.map.set(start, bytes, 0);
        // SAFETY: as above; its entries are cleared.
        unsafe { self.free_span(span) };
    }

    /// Up to `wanted` blocks of `class` for a thread's cache, linked through
    /// their first word and marked with the heap's key: `(first, count)`.
    /// Not counted as allocations: the cache counts what it hands out.
    pub fn take_slots(&mut self, class: usize, wanted: usize) -> (*mut FreeSlot, usize) {
        let mut head: *mut FreeSlot = ptr::null_mut();
        let mut count = 0;
        while count < wanted {
            let Some(block) = self.malloc_small(class) else {
                break;
            };
            let slot = block.cast::<FreeSlot>();
            // SAFETY: a block just taken, at least 16 bytes, ours.
            unsafe {
                slot.write(FreeSlot {
                    next: head,
                    key: self.key,
                })
            };
            head = slot.as_ptr();
            count += 1;
        }
        (head, count)
    }

    /// Takes back the list of blocks starting at `head` from a thread's
    /// cache (not counted as frees).
    ///
    /// # Safety
    /// Each block on the list came from this heap and is not in use.
    pub unsafe fn return_slots(&mut self, mut head: *mut FreeSlot) {
        while let Some(slot) = NonNull::new(head) {
            // SAFETY: a block on the caller's list.
            head = unsafe { (*slot.as_ptr()).next };
            let block = slot.cast::<u8>();
            match self.find(block, "free") {
                // SAFETY: a block of this heap that no one uses (the caller's
                // promise); it carries the key, so skip the double-free walk.
                crate::heap::Found::Small { span, class } => unsafe {
                    (*slot.as_ptr()).key = 0;
                    self.free_small(span, class, block)
                },
                crate::heap::Found::Large(_) => misuse_at(
                    "free",
                    "a large block in a thread's cache",
                    block.as_ptr() as usize,
                ),
            }
        }
    }

    /// True when the block at `ptr` is free in its slab (for the caches'
    /// double-free check); false for anything else.
    pub fn is_free_block(&self, ptr: NonNull<u8>) -> bool {
        let entry = self.map.get(ptr.as_ptr() as usize);
        let span = (entry & !crate::page_map::TAG_MASK) as *const Span;
        // SAFETY: a non-zero entry points to a live descriptor.
        entry & crate::page_map::TAG_MASK != 0
            && unsafe { (*span).holds_free(ptr.as_ptr() as usize) }
    }

    /// Free blocks of one slab with room: those on its free list, and the
    /// never-used end as one block.
    pub(crate) fn slab_free_blocks(&self, s: &Span, block_bytes: usize, out: &mut Vec<Block>) {
        let mut at = s.free_slots;
        while !at.is_null() {
            out.push(Block {
                addr: at as usize,
                size: block_bytes,
            });
            // SAFETY: every slot on the list is a free block of the slab.
            at = unsafe { (*at).next };
        }
        if s.carved < s.capacity {
            let addr = s.start + usize::from(s.carved) * block_bytes;
            out.push(Block {
                addr,
                size: usize::from(s.capacity - s.carved) * block_bytes,
            });
        }
    }

    /// What `free_blocks().len()` would be, without building the list.
    pub(crate) fn free_length(&self) -> usize {
        let spans: usize = self.free_spans.iter().map(|list| list.len()).sum();
        let slots: usize = self
            .bins
            .iter()
            .flat_map(|list| list.iter())
            .map(|span| {
                // SAFETY: listed slabs are live descriptors.
                let s = unsafe { span.as_ref() };
                usize::from(s.carved - s.live) + usize::from(s.carved < s.capacity)
            })
            .sum();
        spans + slots
    }
}
// END SOLUTION
