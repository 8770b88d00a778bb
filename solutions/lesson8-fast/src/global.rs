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
// BEGIN SOLUTION
use std::sync::atomic::{AtomicPtr, AtomicUsize};
// END SOLUTION

use heaplab_kit::{FullHeap, Heap, Realloc, SharedHeap, Stats, ALIGN};

use crate::heap::FastHeap;
use crate::lock::LockedHeap;
use crate::misuse::write_fd;
use crate::pages::MmapPages;
// BEGIN SOLUTION
use crate::page_map::Node;
use crate::size_class::{class_of, CLASS_BYTES, MAX_SMALL_BYTES};
use crate::thread_cache;
// END SOLUTION

/// The process heap.
static HEAP: LockedHeap<FastHeap<MmapPages>> = LockedHeap::lazy(new_process_heap);

/// Whether the fork handlers are registered (or being registered).
static FORK_HANDLERS: AtomicBool = AtomicBool::new(false);
// BEGIN SOLUTION

/// The process heap's page-map root, copied out so that threads can look
/// blocks up without its lock; null until the heap has mapped anything.
static MAP_ROOT: AtomicPtr<Node> = AtomicPtr::new(ptr::null_mut());

/// The process heap's free-block key, copied out for the threads' caches.
static SLOT_KEY: AtomicUsize = AtomicUsize::new(0);
// END SOLUTION

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
    // STUB: // Nothing yet: your design may have something threads read without the lock.
    // BEGIN SOLUTION
    // The page map's root, once it exists (a thread can only ask about a
    // block handed out after that, so it always finds the root), and the
    // free-block key.
    if MAP_ROOT.load(Ordering::Relaxed).is_null() {
        SLOT_KEY.store(heap.slot_key(), Ordering::Relaxed);
        MAP_ROOT.store(heap.map_root().cast_mut(), Ordering::Release);
    }
    // END SOLUTION
}
// BEGIN SOLUTION

/// The free-block key of the process heap.
pub fn slot_key() -> usize {
    SLOT_KEY.load(Ordering::Relaxed)
}

/// The process heap's page-map root, for lookups without the lock: null
/// until the heap has mapped anything.
#[inline]
pub fn map_root() -> *const Node {
    MAP_ROOT.load(Ordering::Acquire)
}
// END SOLUTION

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
    // BEGIN SOLUTION: forget (do not use) what belonged to the other threads; the forking thread's stays
    // SAFETY: the lock is held, taken in before_fork.
    unsafe { thread_cache::forget_other_threads() };
    // END SOLUTION
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
    // BEGIN SOLUTION: small sizes without taking the process heap's lock (docs/lesson8.md: per-thread caches); the rest from the process heap
    if size <= MAX_SMALL_BYTES {
        if let Some(block) = thread_cache::malloc(class_of(size)) {
            return block;
        }
    }
    with_central(|heap| heap.malloc(size)).map_or(ptr::null_mut(), NonNull::as_ptr)
    // END SOLUTION
}

/// C's `free`; `free(NULL)` does nothing.
///
/// # Safety
/// `ptr` is null or a live block of the process heap, not used after this.
#[inline]
pub unsafe fn free(ptr: *mut u8) {
    // BEGIN SOLUTION: free(NULL) does nothing; a small block back without the lock if your design allows; the rest to the process heap
    let Some(block) = NonNull::new(ptr) else {
        return;
    };
    // SAFETY: the caller's promise: a live block, not used after.
    if unsafe { thread_cache::free(block) } {
        return;
    }
    // SAFETY: the caller's promise.
    with_central(|heap| unsafe { heap.free(block) });
    // END SOLUTION
}

/// C's `calloc`: null when `n * size` overflows or memory runs out.
#[inline]
pub fn calloc(n: usize, size: usize) -> *mut u8 {
    // BEGIN SOLUTION: null when n * size overflows; zeroed memory (pages fresh from the kernel are zero already)
    let Some(bytes) = n.checked_mul(size) else {
        return ptr::null_mut();
    };
    if bytes > MAX_SMALL_BYTES {
        return with_central(|heap| heap.calloc(n, size)).map_or(ptr::null_mut(), NonNull::as_ptr);
    }
    let block = malloc(bytes);
    if !block.is_null() {
        // SAFETY: a live block of at least `bytes` bytes.
        unsafe { block.write_bytes(0, bytes) };
    }
    block
    // END SOLUTION
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
    // BEGIN SOLUTION: in place when the block allows it, else allocate, copy, free; big blocks grow with mremap (the heap's realloc)
    // A small block to a small size: this thread's cache does it all.
    // SAFETY: the caller's promise.
    if let Some(moved) = unsafe { thread_cache::realloc(block, size) } {
        return moved;
    }
    // Anything else (a large block, a small one growing large, a thread
    // without a cache): the process heap's realloc.
    // SAFETY: the caller's promise.
    with_central(|heap| unsafe { heap.realloc(block, size) })
        .map_or(ptr::null_mut(), NonNull::as_ptr)
    // END SOLUTION
}

/// A block of `size` bytes aligned to `align` (a power of two: callers
/// check); null when memory runs out.
pub fn malloc_aligned(align: usize, size: usize) -> *mut u8 {
    // BEGIN SOLUTION: up to ALIGN, malloc; above, the process heap's malloc_aligned
    if align <= ALIGN {
        return malloc(size);
    }
    with_central(|heap| heap.malloc_aligned(align, size)).map_or(ptr::null_mut(), NonNull::as_ptr)
    // END SOLUTION
}

/// glibc's `malloc_usable_size`: the bytes the block really has; 0 for null.
///
/// # Safety
/// `ptr` is null or a live block of the process heap.
pub unsafe fn usable_size(ptr: *mut u8) -> usize {
    // BEGIN SOLUTION: 0 for null; the block's usable bytes otherwise
    let Some(block) = NonNull::new(ptr) else {
        return 0;
    };
    match thread_cache::class_of(block) {
        Some(class) => CLASS_BYTES[class],
        // SAFETY: the caller's promise.
        None => with_central(|heap| unsafe { heap.usable_size(block) }).unwrap_or(0),
    }
    // END SOLUTION
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
    // STUB: // Nothing yet: your design may count allocations outside the process heap.
    // BEGIN SOLUTION
    // SAFETY: only called from process_stats, inside with_central.
    unsafe { thread_cache::add_counts(stats) };
    // END SOLUTION
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
// BEGIN SOLUTION

// The process heap registers pthread_atfork handlers and forks, which Miri does not model.
#[cfg(all(test, not(miri)))]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::{mpsc, Arc};

    use super::*;

    #[test]
    fn the_c_functions_follow_glibc() {
        // SAFETY: free(NULL) is defined to do nothing.
        unsafe { free(ptr::null_mut()) };
        let p = calloc(10, 10);
        assert!(!p.is_null());
        // SAFETY: p is live.
        assert_eq!(unsafe { usable_size(p) }, 112);
        // SAFETY: p is live; realloc(p, 0) frees it.
        assert!(unsafe { realloc(p, 0) }.is_null());
        assert!(calloc(usize::MAX, 2).is_null());
        // SAFETY: realloc(NULL, n) is malloc(n).
        let q = unsafe { realloc(ptr::null_mut(), 100_000) };
        // SAFETY: q is a live big block.
        let usable = unsafe { usable_size(q) };
        // Its 25 pages, or an idle arena about that size (other tests share
        // the process heap), all of it usable.
        assert!(
            (25 * 4096..=25 * 4096 * 5 / 4).contains(&usable) && usable % 4096 == 0,
            "{usable}"
        );
        // SAFETY: q is live, not used after this.
        unsafe { free(q) };
        let r = malloc_aligned(256, 1);
        assert_eq!(r as usize % 256, 0);
        // SAFETY: r is live, not used after this.
        unsafe { free(r) };
    }

    /// Threads allocate, write, check and free at once; a quarter of the
    /// blocks are freed by another thread than the one that made them.
    #[test]
    fn threads_allocate_and_free_each_others_blocks() {
        let (to_other, from_other) = mpsc::channel::<(usize, usize, u8)>();
        let workers: Vec<_> = (0..4u8)
            .map(|t| {
                let to_other = to_other.clone();
                std::thread::spawn(move || {
                    let mut live: Vec<(usize, usize)> = Vec::new();
                    for round in 0..4000usize {
                        let size = 1 + (round * 37 + usize::from(t) * 11) % 3000;
                        let p = malloc(size);
                        assert!(!p.is_null());
                        // SAFETY: p has `size` bytes, this thread's.
                        unsafe { p.write_bytes(t, size) };
                        live.push((p as usize, size));
                        if round % 3 == 0 {
                            let (p, size) = live.swap_remove(round % live.len());
                            // SAFETY: this thread's live block.
                            let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, size) };
                            assert!(
                                bytes.iter().all(|&b| b == t),
                                "another thread wrote into this block"
                            );
                            if round % 4 == 0 {
                                to_other.send((p, size, t)).unwrap();
                            } else {
                                // SAFETY: live, freed once.
                                unsafe { free(p as *mut u8) };
                            }
                        }
                    }
                    // SAFETY: each is live, freed once.
                    live.into_iter()
                        .for_each(|(p, _)| unsafe { free(p as *mut u8) });
                })
            })
            .collect();
        drop(to_other);
        for (p, size, t) in from_other {
            // SAFETY: a block handed over by the thread that made it.
            let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, size) };
            assert!(bytes.iter().all(|&b| b == t));
            // SAFETY: live, freed once, by this thread.
            unsafe { free(p as *mut u8) };
        }
        for worker in workers {
            worker.join().unwrap();
        }
    }

    /// A thread that exits gives its cache back: its counts join the
    /// totals, and its blocks can serve other threads.
    #[test]
    fn an_exiting_thread_gives_its_cache_back() {
        let before = process_stats();
        std::thread::spawn(|| {
            let blocks: Vec<usize> = (0..500).map(|_| malloc(24) as usize).collect();
            // SAFETY: each is live, freed once.
            blocks
                .into_iter()
                .for_each(|p| unsafe { free(p as *mut u8) });
        })
        .join()
        .unwrap();
        let after = process_stats();
        assert!(after.chunks_allocated >= before.chunks_allocated + 500);
        assert!(after.chunks_freed >= before.chunks_freed + 500);
    }

    /// A thread allocates without pause while the main thread forks: the
    /// child's first malloc must not find the lock taken by a thread it
    /// does not have, and must not hand out a block that thread's cache held.
    #[test]
    fn a_child_can_allocate_after_fork() {
        let stop = Arc::new(AtomicBool::new(false));
        let busy = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // SAFETY: a live block, freed at once.
                    unsafe { free(malloc(64)) };
                    // SAFETY: as above, through the process heap's big path.
                    unsafe { free(malloc(40_000)) };
                }
            })
        };
        for _ in 0..30 {
            // SAFETY: the child only calls the heap and _exit.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                let blocks: Vec<*mut u8> = (0..2000).map(|i| malloc(i % 200)).collect();
                let ok = blocks.iter().all(|p| !p.is_null());
                // SAFETY: each is live, freed once; then the child ends.
                unsafe {
                    blocks.into_iter().for_each(|p| free(p));
                    libc::_exit(if ok { 0 } else { 1 });
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

    #[test]
    fn global_alloc_keeps_large_alignments_across_realloc() {
        for align in [32, 4096, 1 << 16] {
            let layout = Layout::from_size_align(100, align).unwrap();
            // SAFETY: a non-zero layout.
            let p = unsafe { Malloc.alloc_zeroed(layout) };
            assert_eq!(p as usize % align, 0);
            // SAFETY: p is live; the new size is valid for the alignment.
            let q = unsafe { Malloc.realloc(p, layout, 50_000) };
            assert_eq!(
                q as usize % align,
                0,
                "realloc keeps the layout's alignment"
            );
            // SAFETY: q came from this allocator.
            unsafe { Malloc.dealloc(q, Layout::from_size_align(50_000, align).unwrap()) };
        }
    }
}
// END SOLUTION
