//! The process's heap: one [`LockedHeap`] over real pages, shared by Rust's
//! `#[global_allocator]` ([`Malloc`]) and the C functions of the preload
//! library (lesson 7).
//!
//! `fork(2)` copies memory but only the calling thread. If another thread
//! held the heap's lock at that moment, the child's copy of the lock stays
//! taken forever and its first `malloc` hangs. `pthread_atfork` handlers fix
//! that: before the fork the forking thread takes the lock (so no other
//! thread is inside the heap), and after it both parent and child release it.

use std::alloc::{GlobalAlloc, Layout};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};

use heaplab_kit::{FullHeap, Heap, Realloc, SharedHeap, Stats};

use crate::heap::BigHeap;
use crate::lock::LockedHeap;
use crate::misuse::write_fd;
use crate::pages::MmapPages;

/// The heap every allocation of the process comes from.
static HEAP: LockedHeap<BigHeap<MmapPages>> = LockedHeap::lazy(new_process_heap);

/// Whether the fork handlers are registered (or being registered).
static FORK_HANDLERS: AtomicBool = AtomicBool::new(false);

fn new_process_heap() -> BigHeap<MmapPages> {
    BigHeap::new(MmapPages::new())
}

/// The process heap, with the fork handlers registered on first use.
fn heap() -> &'static LockedHeap<BigHeap<MmapPages>> {
    register_fork_handlers();
    &HEAP
}

/// Registers [`before_fork`] and [`after_fork`] with `pthread_atfork`, once.
fn register_fork_handlers() {
    // TODO: register the fork handlers once, before taking the lock
    todo!()
}

/// Before `fork`: wait until no other thread is inside the heap.
extern "C" fn before_fork() {
    // TODO: take the heap's lock
    todo!()
}

/// After `fork`, in the parent and in the child: the forking thread holds the
/// lock (taken in `before_fork`), and in the child it is the only thread.
extern "C" fn after_fork() {
    // TODO: release the heap's lock
    todo!()
}

/// Rust's global allocator on the process heap:
/// `#[global_allocator] static A: lesson7::Malloc = lesson7::Malloc;`
pub struct Malloc;

// SAFETY: forwarded to LockedHeap's GlobalAlloc, which keeps the contract.
unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's promises.
        unsafe { heap().alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's promises.
        unsafe { heap().dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's promises.
        unsafe { heap().alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's promises.
        unsafe { heap().realloc(ptr, layout, new_size) }
    }
}

/// C's `malloc`: null when memory runs out.
pub fn malloc(size: usize) -> *mut u8 {
    heap()
        .with_heap(|h| h.malloc(size))
        .map_or(ptr::null_mut(), NonNull::as_ptr)
}

/// C's `free`; `free(NULL)` does nothing.
///
/// # Safety
/// `ptr` is null or a live block of the process heap, not used after this.
pub unsafe fn free(ptr: *mut u8) {
    if let Some(ptr) = NonNull::new(ptr) {
        // SAFETY: the caller's promise.
        heap().with_heap(|h| unsafe { h.free(ptr) });
    }
}

/// C's `calloc`: null when `n * size` overflows or memory runs out.
pub fn calloc(n: usize, size: usize) -> *mut u8 {
    heap()
        .with_heap(|h| h.calloc(n, size))
        .map_or(ptr::null_mut(), NonNull::as_ptr)
}

/// C's `realloc`, glibc's way: a null `ptr` is `malloc(size)`; a zero `size`
/// frees `ptr` and returns null; on failure null, and `ptr` is kept.
///
/// # Safety
/// `ptr` is null or a live block of the process heap.
pub unsafe fn realloc(ptr: *mut u8, size: usize) -> *mut u8 {
    let Some(block) = NonNull::new(ptr) else {
        return malloc(size);
    };
    if size == 0 {
        // SAFETY: the caller's promise.
        unsafe { free(ptr) };
        return ptr::null_mut();
    }
    // SAFETY: the caller's promise.
    heap()
        .with_heap(|h| unsafe { h.realloc(block, size) })
        .map_or(ptr::null_mut(), NonNull::as_ptr)
}

/// A block of `size` bytes aligned to `align` (a power of two: callers
/// check); null when memory runs out.
pub fn malloc_aligned(align: usize, size: usize) -> *mut u8 {
    heap()
        .with_heap(|h| h.malloc_aligned(align, size))
        .map_or(ptr::null_mut(), NonNull::as_ptr)
}

/// glibc's `malloc_usable_size`: the bytes the block really has; 0 for null.
///
/// # Safety
/// `ptr` is null or a live block of the process heap.
pub unsafe fn usable_size(ptr: *mut u8) -> usize {
    match NonNull::new(ptr) {
        // SAFETY: the caller's promise.
        Some(ptr) => heap()
            .with_heap(|h| unsafe { h.usable_size(ptr) })
            .unwrap_or(0),
        None => 0,
    }
}

/// The process heap's counters.
pub fn process_stats() -> Stats {
    heap().with_heap(|h| h.stats())
}

/// Prints the process heap's counters to stderr as the course's C version's
/// `hprintstats()` does.
pub fn print_stats() {
    print_stats_to(2);
}

/// Prints the process heap's counters to the file descriptor `fd`, without
/// allocating: it may run at exit from the preload library, where an
/// allocation would come back to the heap.
pub fn print_stats_to(fd: i32) {
    // TODO: format the whole block into a stack buffer and write(2) it at once
    todo!()
}
