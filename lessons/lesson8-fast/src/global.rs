//! The process's allocator: one [`FastHeap`] behind a lock (the *process
//! heap*) and, in front of it, what lets threads allocate without taking
//! that lock (the reference solution: a cache per thread, `thread_cache.rs`).
//! Rust's `#[global_allocator]` ([`Malloc`]) and the C functions of the
//! preload library both come here.
//!
//! `fork(2)` copies memory but only the calling thread. If another thread
//! held the process heap's lock at that moment, the child's copy of the lock
//! stays taken forever and its first `malloc` hangs. `pthread_atfork`
//! handlers fix that: before the fork the forking thread takes the lock (so
//! no other thread is inside the heap), and after it both parent and child
//! release it.

use std::alloc::{GlobalAlloc, Layout};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};

use heaplab_kit::{FullHeap, Heap, Realloc, SharedHeap, Stats, ALIGN};

use crate::heap::FastHeap;
use crate::lock::LockedHeap;
use crate::misuse::write_fd;
use crate::pages::MmapPages;

/// The process heap.
static HEAP: LockedHeap<FastHeap<MmapPages>> = LockedHeap::lazy(new_process_heap);

/// Whether the fork handlers are registered (or being registered).
static FORK_HANDLERS: AtomicBool = AtomicBool::new(false);

fn new_process_heap() -> FastHeap<MmapPages> {
    FastHeap::new(MmapPages::new())
}

/// Runs `f` on the process heap with its lock held (registering the fork
/// handlers on first use).
pub fn with_central<R>(f: impl FnOnce(&mut FastHeap<MmapPages>) -> R) -> R {
    register_fork_handlers();
    HEAP.with_heap(|heap| {
        let result = f(heap);
        publish(heap);
        result
    })
}

/// Copies out, once, what threads must read without the lock.
fn publish(heap: &FastHeap<MmapPages>) {
    // Nothing yet: your design may have something threads read without the lock.
}

/// Registers [`before_fork`] and the two after-fork handlers, once.
fn register_fork_handlers() {
    // Registered outside the lock: pthread_atfork may itself call malloc,
    // which comes back here, finds the flag set, and goes on.
    if !FORK_HANDLERS.load(Ordering::Acquire) && !FORK_HANDLERS.swap(true, Ordering::AcqRel) {
        // SAFETY: the handlers are plain functions that live as long as the
        // process and only take or release the heap's lock.
        unsafe {
            libc::pthread_atfork(
                Some(before_fork),
                Some(after_fork_in_parent),
                Some(after_fork_in_child),
            )
        };
    }
}

/// Before `fork`: wait until no other thread is inside the process heap.
extern "C" fn before_fork() {
    HEAP.raw_lock().lock();
}

/// After `fork`, in the parent: release the lock taken in [`before_fork`].
extern "C" fn after_fork_in_parent() {
    HEAP.raw_lock().unlock();
}

/// After `fork`, in the child, the only thread: forget the other threads'
/// caches, then release the lock.
extern "C" fn after_fork_in_child() {
    forget_other_threads();
    HEAP.raw_lock().unlock();
}

/// In a child after `fork`, with the process heap's lock held: whatever the
/// heap keeps per thread belongs to threads the child does not have.
fn forget_other_threads() {
    // TODO: forget (do not use) what belonged to the other threads; the forking thread's stays
    todo!()
}

/// Rust's global allocator on the process heap:
/// `#[global_allocator] static A: lesson8::Malloc = lesson8::Malloc;`
pub struct Malloc;

/// Rust's allocator interface. `core::alloc::GlobalAlloc` asks for a null
/// pointer on exhaustion (never a panic: unwinding out of an allocator is
/// undefined behaviour), and for the layout's alignment to be honoured.
// SAFETY: every function below keeps the contract: blocks come from the
// process heap, which hands each byte to one block at a time, aligned as
// asked, from any thread.
unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= ALIGN {
            malloc(layout.size())
        } else {
            malloc_aligned(layout.align(), layout.size())
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: the caller promises ptr is a live block of this allocator.
        unsafe { free(ptr) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= ALIGN {
            return calloc(1, layout.size());
        }
        let ptr = malloc_aligned(layout.align(), layout.size());
        if !ptr.is_null() {
            // SAFETY: a fresh block of at least layout.size() bytes.
            unsafe { ptr.write_bytes(0, layout.size()) };
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= ALIGN {
            // SAFETY: the caller promises ptr is live; new_size is not zero.
            return unsafe { realloc(ptr, new_size) };
        }
        // C's realloc may move a block to an address with only 16-byte
        // alignment: keep the layout's alignment by hand.
        // SAFETY: as above.
        if unsafe { usable_size(ptr) } >= new_size {
            return ptr;
        }
        let new = malloc_aligned(layout.align(), new_size);
        if !new.is_null() {
            // SAFETY: two distinct live blocks with at least min(old, new) bytes.
            unsafe { ptr.copy_to_nonoverlapping(new, layout.size().min(new_size)) };
            // SAFETY: the old block is replaced by the new one.
            unsafe { free(ptr) };
        }
        new
    }
}

/// C's `malloc`: null when memory runs out.
#[inline]
pub fn malloc(size: usize) -> *mut u8 {
    // TODO: small sizes without taking the process heap's lock (docs/lesson8.md: per-thread caches); the rest from the process heap
    todo!()
}

/// C's `free`; `free(NULL)` does nothing.
///
/// # Safety
/// `ptr` is null or a live block of the process heap, not used after this.
#[inline]
pub unsafe fn free(ptr: *mut u8) {
    // TODO: free(NULL) does nothing; a small block back without the lock if your design allows; the rest to the process heap
    todo!()
}

/// C's `calloc`: null when `n * size` overflows or memory runs out.
#[inline]
pub fn calloc(n: usize, size: usize) -> *mut u8 {
    // TODO: null when n * size overflows; zeroed memory (pages fresh from the kernel are zero already)
    todo!()
}

/// C's `realloc`, glibc's way: a null `ptr` is `malloc(size)`; a zero `size`
/// frees `ptr` and returns null; on failure null, and `ptr` is kept.
///
/// # Safety
/// `ptr` is null or a live block of the process heap.
#[inline]
pub unsafe fn realloc(ptr: *mut u8, size: usize) -> *mut u8 {
    let Some(block) = NonNull::new(ptr) else {
        return malloc(size);
    };
    if size == 0 {
        // SAFETY: the caller's promise.
        unsafe { free(ptr) };
        return ptr::null_mut();
    }
    // TODO: in place when the block allows it, else allocate, copy, free; big blocks grow with mremap (the heap's realloc)
    todo!()
}

/// A block of `size` bytes aligned to `align` (a power of two: callers
/// check); null when memory runs out.
pub fn malloc_aligned(align: usize, size: usize) -> *mut u8 {
    // TODO: up to ALIGN, malloc; above, the process heap's malloc_aligned
    todo!()
}

/// glibc's `malloc_usable_size`: the bytes the block really has; 0 for null.
///
/// # Safety
/// `ptr` is null or a live block of the process heap.
pub unsafe fn usable_size(ptr: *mut u8) -> usize {
    // TODO: 0 for null; the block's usable bytes otherwise
    todo!()
}

/// The process heap's counters, the threads' caches included.
pub fn process_stats() -> Stats {
    with_central(|heap| {
        let mut stats = heap.stats();
        add_thread_counts(&mut stats);
        stats
    })
}

/// Adds what the process heap's own counters do not see (with its lock
/// held): the reference solution's threads count in their caches.
fn add_thread_counts(stats: &mut Stats) {
    // Nothing yet: your design may count allocations outside the process heap.
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
    let stats = process_stats();
    let lines: [(&[u8], usize); 5] = [
        (b"Pages mapped:     ", stats.pages_mapped),
        (b"Pages unmapped:   ", stats.pages_unmapped),
        (b"Chunks allocated: ", stats.chunks_allocated),
        (b"Chunks freed:     ", stats.chunks_freed),
        (b"Free list length: ", stats.free_length),
    ];
    // One write(2) for the whole block: the processes of a pipeline share
    // one stderr, and a pipe keeps a write of up to PIPE_BUF (4096) bytes
    // whole, so their blocks never interleave line by line.
    let mut block = StackText::new();
    block.push(b"== heap stats ==\n");
    for (label, value) in lines {
        block.push(label);
        let mut digits = [0u8; 20]; // usize::MAX has 20 decimal digits
        block.push(decimal(value, &mut digits));
        block.push(b"\n");
    }
    write_fd(fd, block.as_bytes());
}

/// Text built in a fixed buffer on the stack: formatting that never allocates.
struct StackText {
    /// Room for the statistics block: six lines of at most 40 bytes.
    bytes: [u8; 256],
    len: usize,
}

impl StackText {
    fn new() -> Self {
        StackText {
            bytes: [0; 256],
            len: 0,
        }
    }

    /// Appends `more`, cut short if the buffer is full.
    fn push(&mut self, more: &[u8]) {
        let n = more.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&more[..n]);
        self.len += n;
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// `n` in decimal, written at the end of `buf`; returns the digits.
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[start..];
        }
    }
}
