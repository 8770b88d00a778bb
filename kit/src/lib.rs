//! What every heaplab allocator lesson (2 to 6) shares: the contract between a
//! heap, the pages it is built on, and the grader that checks it.
//!
//! Students implement [`Heap`] on top of a [`PageSource`]; the grader hands the
//! heap an instrumented page source and compares what the heap says
//! ([`Heap::stats`], [`Heap::free_blocks`]) with what really happened. The
//! chunk layout of lessons 3 to 7 is [`layout`].
#![forbid(unsafe_op_in_unsafe_fn)]

use std::fmt;
use std::ptr::NonNull;

mod drop_in;
pub mod layout;
pub use drop_in::{FullHeap, SharedHeap};

/// Every pointer a heap hands out is aligned to this many bytes: what glibc
/// guarantees on x86-64, and what SSE loads and `u128` need.
pub const ALIGN: usize = 16;

/// Where a heap gets its memory: whole pages, mapped and unmapped.
///
/// The real source (written in lesson 2) calls `mmap(MAP_PRIVATE |
/// MAP_ANONYMOUS)` and `munmap`; the grader's instrumented source calls the
/// same and records every call.
pub trait PageSource {
    /// Bytes in one page, as the OS reports it (`sysconf(_SC_PAGESIZE)`).
    fn page_size(&self) -> usize;

    /// Maps `len` bytes of fresh, zero-filled memory, page aligned.
    ///
    /// `len` must be a non-zero multiple of [`page_size`](Self::page_size).
    /// Returns `None` when the OS refuses; never panics for that reason.
    fn map(&mut self, len: usize) -> Option<NonNull<u8>>;

    /// Unmaps `[ptr, ptr + len)`.
    ///
    /// # Safety
    /// `[ptr, ptr + len)` is exactly a range returned by one call of
    /// [`map`](Self::map) on this source, with the same `len`, not unmapped
    /// since, and nothing reads or writes it after this call.
    unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize);

    /// Resizes the mapping `[ptr, ptr + old_len)` to `new_len` bytes, keeping
    /// its first `min(old_len, new_len)` bytes; returns its (possibly new)
    /// address, or `None`, leaving the old mapping as it was, when the OS
    /// refuses. Both lengths are non-zero multiples of the page size.
    ///
    /// The default maps a new range, copies and unmaps the old one, through
    /// [`map`](Self::map) and [`unmap`](Self::unmap), so an instrumented
    /// source sees every step. The real source (lesson 8) overrides it with
    /// `mremap(2)`, which grows the mapping where it is when the addresses
    /// after it are free, and otherwise moves its pages without copying them.
    ///
    /// # Safety
    /// `[ptr, ptr + old_len)` is exactly a range returned by one call of
    /// [`map`](Self::map) (or `remap`) on this source, not unmapped since.
    /// After a `Some`, the old range counts as unmapped: nothing uses it
    /// unless it is the address returned.
    unsafe fn remap(
        &mut self,
        ptr: NonNull<u8>,
        old_len: usize,
        new_len: usize,
    ) -> Option<NonNull<u8>> {
        let new = self.map(new_len)?;
        // SAFETY: the old range is mapped (the caller's promise) and the new
        // one is fresh, so they do not overlap; both hold the bytes copied.
        unsafe { ptr.copy_to_nonoverlapping(new, old_len.min(new_len)) };
        // SAFETY: the caller's promise: exactly one mapping of this source,
        // which nobody uses after this call.
        unsafe { self.unmap(ptr, old_len) };
        Some(new)
    }
}

/// A heap: `malloc` and `free` over memory from a [`PageSource`].
///
/// The contract every lesson's heap keeps:
/// - every pointer `malloc` returns is [`ALIGN`]-byte aligned;
/// - `malloc(0)` returns a unique pointer that can be freed;
/// - when the page source refuses, `malloc` returns `None`, never panics, and
///   blocks already handed out stay intact.
pub trait Heap {
    /// Returns a block of at least `size` usable bytes, or `None` when the
    /// page source refuses memory.
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>>;

    /// Gives the block at `ptr` back to the heap.
    ///
    /// # Safety
    /// `ptr` was returned by [`malloc`](Self::malloc) of this heap and has not
    /// been freed since; nothing reads or writes the block after this call.
    unsafe fn free(&mut self, ptr: NonNull<u8>);

    /// The usable bytes of the block at `ptr`, read from its header; `None`
    /// for heaps that keep no header (lesson 2's bump allocator).
    ///
    /// # Safety
    /// `ptr` was returned by [`malloc`](Self::malloc) of this heap and has not
    /// been freed since.
    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        let _ = ptr;
        None
    }

    /// The heap's own counters, as the course's C version prints them.
    fn stats(&self) -> Stats;

    /// A walk of the free list, in list order: one [`Block`] per free chunk.
    /// Empty for heaps without a free list (lessons 2 and 3).
    fn free_blocks(&self) -> Vec<Block> {
        Vec::new()
    }
}

/// A heap that can resize a block itself, as C's `realloc` does: growing in
/// place when the next chunk is free, moving (and copying) otherwise.
///
/// Optional: the lesson heaps do not have it, and the trace replayer resizes
/// them by `malloc`, copy, `free` instead. A heap that implements it has the
/// trace's `r` operations call [`realloc`](Self::realloc).
pub trait Realloc: Heap {
    /// Resizes the block at `ptr` to at least `size` usable bytes, keeping the
    /// first `min(old size, size)` bytes; returns the block's (possibly new)
    /// address, or `None`, leaving the old block untouched, when the page
    /// source refuses memory.
    ///
    /// # Safety
    /// `ptr` was returned by this heap and has not been freed since; after a
    /// `Some`, nothing uses `ptr` again unless it is the address returned.
    unsafe fn realloc(&mut self, ptr: NonNull<u8>, size: usize) -> Option<NonNull<u8>>;
}

/// A heap's counters: what `hprintstats()` prints in the course's C version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Pages ever mapped (a run of three pages counts three).
    pub pages_mapped: usize,
    /// Pages ever unmapped.
    pub pages_unmapped: usize,
    /// Successful `malloc` calls.
    pub chunks_allocated: usize,
    /// `free` calls.
    pub chunks_freed: usize,
    /// Chunks on the free list right now.
    pub free_length: usize,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "== heap stats ==")?;
        writeln!(f, "Pages mapped:     {}", self.pages_mapped)?;
        writeln!(f, "Pages unmapped:   {}", self.pages_unmapped)?;
        writeln!(f, "Chunks allocated: {}", self.chunks_allocated)?;
        writeln!(f, "Chunks freed:     {}", self.chunks_freed)?;
        write!(f, "Free list length: {}", self.free_length)
    }
}

/// One free chunk as the free-list walk reports it: `[addr, addr + size)`,
/// its header included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Block {
    /// Address of the chunk's first byte (its header).
    pub addr: usize,
    /// Bytes in the chunk, header included.
    pub size: usize,
}

impl Block {
    /// One past the chunk's last byte.
    pub fn end(&self) -> usize {
        self.addr + self.size
    }
}

/// Rounds `n` up to a multiple of `align`, which must be a power of two.
/// Returns `None` on overflow, so a huge request fails instead of wrapping.
pub const fn align_up(n: usize, align: usize) -> Option<usize> {
    assert!(
        align.is_power_of_two(),
        "align_up: alignment must be a power of two"
    );
    match n.checked_add(align - 1) {
        Some(m) => Some(m & !(align - 1)),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_up_rounds_to_the_next_multiple() {
        assert_eq!(align_up(0, 16), Some(0));
        assert_eq!(align_up(1, 16), Some(16));
        assert_eq!(align_up(16, 16), Some(16));
        assert_eq!(align_up(17, 4096), Some(4096));
        assert_eq!(align_up(usize::MAX, 16), None);
    }

    /// Pages from Rust's allocator, counting its calls: enough to watch the
    /// default `remap` work through `map` and `unmap`.
    #[derive(Default)]
    struct CountingPages {
        maps: usize,
        unmaps: usize,
    }

    impl PageSource for CountingPages {
        fn page_size(&self) -> usize {
            4096
        }

        fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
            self.maps += 1;
            let layout = std::alloc::Layout::from_size_align(len, 4096).ok()?;
            // SAFETY: len is a non-zero multiple of the page size.
            NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) })
        }

        unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
            self.unmaps += 1;
            let layout = std::alloc::Layout::from_size_align(len, 4096).unwrap();
            // SAFETY: ptr came from map with this very layout (the caller's promise).
            unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) };
        }
    }

    #[test]
    fn default_remap_maps_copies_and_unmaps() {
        let mut pages = CountingPages::default();
        let old = pages.map(4096).unwrap();
        // SAFETY: old is a fresh 4096-byte mapping.
        unsafe { old.as_ptr().write_bytes(0xAB, 4096) };
        // SAFETY: old is exactly one mapping of this source.
        let new = unsafe { pages.remap(old, 4096, 3 * 4096) }.unwrap();
        // SAFETY: new has 3 pages; the first was copied, the rest are fresh.
        let bytes = unsafe { std::slice::from_raw_parts(new.as_ptr(), 3 * 4096) };
        assert!(bytes[..4096].iter().all(|&b| b == 0xAB), "old bytes kept");
        assert!(bytes[4096..].iter().all(|&b| b == 0), "new pages zeroed");
        assert_eq!((pages.maps, pages.unmaps), (2, 1));
        // SAFETY: new is exactly one mapping of this source.
        unsafe { pages.unmap(new, 3 * 4096) };
    }

    #[test]
    fn stats_print_like_hprintstats() {
        let s = Stats {
            pages_mapped: 3,
            ..Stats::default()
        };
        assert!(s.to_string().contains("Pages mapped:     3"));
    }
}
