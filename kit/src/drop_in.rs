//! What lesson 7 adds to the contract: the rest of C's malloc family, and a
//! heap that several threads share behind one lock.

use std::ptr::NonNull;

use crate::Realloc;

/// A heap with everything a C program asks of `malloc`'s family:
/// [`Realloc::realloc`], `calloc` and alignments above [`ALIGN`](crate::ALIGN).
///
/// Like [`Heap::malloc`](crate::Heap::malloc), each returns `None` when the
/// request cannot be served (the page source refuses, or the size
/// overflows), never panics for that reason, and leaves every block already
/// handed out intact.
pub trait FullHeap: Realloc {
    /// A block of `n * size` bytes, all zero; `None` when `n * size`
    /// overflows (C's `calloc` contract) or memory runs out.
    fn calloc(&mut self, n: usize, size: usize) -> Option<NonNull<u8>>;

    /// A block of at least `size` bytes whose address is a multiple of
    /// `align`, which must be a power of two (callers check; a heap may
    /// return `None` for one that is not). Freed with [`Heap::free`](crate::Heap::free).
    fn malloc_aligned(&mut self, align: usize, size: usize) -> Option<NonNull<u8>>;
}

/// A heap that threads share: one lock around a [`FullHeap`].
pub trait SharedHeap: Sync {
    /// The heap behind the lock.
    type Inner: FullHeap;

    /// Runs `f` with the lock held: no other thread uses the heap until `f`
    /// returns. `f` must not call back into this heap (a global allocator's
    /// lock is not re-entrant).
    fn with_heap<R>(&self, f: impl FnOnce(&mut Self::Inner) -> R) -> R;
}
