// LESSONS 7..
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
    // BEGIN SOLUTION 7: register the fork handlers once, before taking the lock
    // Registered outside the lock: pthread_atfork may itself call malloc,
    // which comes back here, finds the flag set, and goes on.
    if !FORK_HANDLERS.load(Ordering::Acquire) && !FORK_HANDLERS.swap(true, Ordering::AcqRel) {
        // SAFETY: the handlers are plain functions that live as long as the
        // process and only take or release the heap's lock.
        unsafe { libc::pthread_atfork(Some(before_fork), Some(after_fork), Some(after_fork)) };
    }
    // END SOLUTION
}

/// Before `fork`: wait until no other thread is inside the heap.
extern "C" fn before_fork() {
    // BEGIN SOLUTION 7: take the heap's lock
    HEAP.raw_lock().lock();
    // END SOLUTION
}

/// After `fork`, in the parent and in the child: the forking thread holds the
/// lock (taken in `before_fork`), and in the child it is the only thread.
extern "C" fn after_fork() {
    // BEGIN SOLUTION 7: release the heap's lock
    HEAP.raw_lock().unlock();
    // END SOLUTION
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
    // BEGIN SOLUTION 7: format the whole block into a stack buffer and write(2) it at once
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
    // END SOLUTION
}
// BEGIN SOLUTION 7

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
// END SOLUTION
// BEGIN SOLUTION

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(not(miri))] // the process heap registers pthread_atfork handlers, which Miri does not model
    fn the_c_functions_follow_glibc() {
        // SAFETY: free(NULL) is defined to do nothing.
        unsafe { free(ptr::null_mut()) };
        let p = calloc(10, 10);
        assert!(!p.is_null());
        // SAFETY: p is live.
        assert!(unsafe { usable_size(p) } >= 100);
        // SAFETY: p is live; realloc(p, 0) frees it.
        assert!(unsafe { realloc(p, 0) }.is_null());
        assert!(calloc(usize::MAX, 2).is_null());
        // SAFETY: realloc(NULL, n) is malloc(n).
        let q = unsafe { realloc(ptr::null_mut(), 40) };
        // SAFETY: q is live, not used after this.
        unsafe { free(q) };
        let r = malloc_aligned(256, 1);
        assert_eq!(r as usize % 256, 0);
        // SAFETY: r is live, not used after this.
        unsafe { free(r) };
    }

    /// A thread allocates without pause while the main thread forks: the
    /// child's first malloc must not find the lock taken by a thread it
    /// does not have.
    #[test]
    #[cfg(not(miri))] // Miri does not run fork
    fn a_child_can_allocate_after_fork() {
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        let stop = Arc::new(AtomicBool::new(false));
        let busy = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // SAFETY: a live block, freed at once.
                    unsafe { free(malloc(64)) };
                }
            })
        };
        for _ in 0..50 {
            // SAFETY: the child only calls the heap (no locks of std) and _exit.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: as above.
                unsafe {
                    free(malloc(100));
                    libc::_exit(0);
                }
            }
            let mut status = 0;
            // SAFETY: waits for our own child.
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        }
        stop.store(true, Ordering::Relaxed);
        busy.join().unwrap();
    }
}
// END SOLUTION
// END LESSONS
