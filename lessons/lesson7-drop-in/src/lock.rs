//! One lock around the whole heap (lesson 7).
//!
//! The lock must never allocate: it guards the allocator itself. On Linux
//! `std::sync::Mutex` does not allocate either (since Rust 1.62 it is a
//! futex lock too), but the heap needs what it does not give: a sure stop
//! when a thread re-enters (std leaves locking twice unspecified, "might
//! panic or deadlock", and a panic allocates), and `lock` and `unlock` as
//! two calls, for the fork handlers, which take the lock in one callback and
//! release it in another. [`RawLock`] is three states in one `AtomicU32` and
//! the Linux `futex(2)` system call to sleep on it, the mutex of Drepper's
//! "Futexes Are Tricky", and it records its holder.
//!
//! ```text
//!   state: 0 unlocked ──lock──► 1 locked ──another thread waits──► 2 locked, waiters
//!            ▲                                                        │
//!            └────────────── unlock (wakes one waiter if it was 2) ───┘
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use heaplab_kit::{FullHeap, SharedHeap, ALIGN};

use crate::misuse::misuse;

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
/// Locked, and some thread may be asleep in `futex_wait`: unlock must wake one.
const CONTENDED: u32 = 2;

/// A mutual-exclusion lock that never allocates.
pub struct RawLock {
    /// UNLOCKED, LOCKED or CONTENDED.
    state: AtomicU32,
    /// `pthread_self()` of the holder, 0 when free: a thread that asks for the
    /// lock it already holds is calling the allocator from inside itself.
    owner: AtomicUsize,
}

impl RawLock {
    pub const fn new() -> Self {
        RawLock {
            state: AtomicU32::new(UNLOCKED),
            owner: AtomicUsize::new(0),
        }
    }

    /// Waits until the lock is free and takes it.
    pub fn lock(&self) {
        // TODO: take it with one compare-exchange when free; otherwise mark it contended and sleep on the futex
        todo!()
    }

    /// Frees the lock, waking one waiting thread if there is one.
    pub fn unlock(&self) {
        // TODO: set it free; wake one sleeper if it was contended
        todo!()
    }
}

impl Default for RawLock {
    fn default() -> Self {
        Self::new()
    }
}

/// An id for the calling thread that costs no system call or allocation.
fn this_thread() -> usize {
    // SAFETY: pthread_self has no preconditions; it reads the thread pointer.
    let id = unsafe { libc::pthread_self() };
    id as usize
}

/// Sleeps while `*state == expected` (returns at once if it is not, or on a
/// spurious wake-up; callers loop).
fn futex_wait(state: &AtomicU32, expected: u32) {
    // FUTEX_PRIVATE_FLAG: the lock is never shared between processes, which
    // lets the kernel skip looking up a shared mapping.
    // SAFETY: state is a live, aligned u32; a null timeout waits without limit.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            state.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            ptr::null::<libc::timespec>(),
        )
    };
}

/// Wakes one thread sleeping in `futex_wait` on `state`.
fn futex_wake(state: &AtomicU32) {
    // SAFETY: state is a live, aligned u32; waking touches no memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            state.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        )
    };
}

/// Holds the lock until dropped, so a panicking closure still unlocks.
struct Held<'a>(&'a RawLock);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.unlock();
    }
}

/// A heap behind a [`RawLock`], shareable between threads.
///
/// A `static` needs a value built at compile time, and lesson 6's heap asks
/// the OS for the page size when it is made: [`LockedHeap::lazy`] stores how
/// to make the heap and makes it on first use, under the lock.
pub struct LockedHeap<H> {
    lock: RawLock,
    /// The heap; `None` until first use for a lazy one.
    heap: UnsafeCell<Option<H>>,
    /// Makes the heap on first use.
    make: Option<fn() -> H>,
}

// SAFETY: every access to `heap` happens with `lock` held (see with_heap), so
// one thread at a time uses the heap; H: Send lets that thread be any thread.
unsafe impl<H: Send> Sync for LockedHeap<H> {}

impl<H> LockedHeap<H> {
    /// A lock around `heap`.
    pub fn new(heap: H) -> Self {
        LockedHeap {
            lock: RawLock::new(),
            heap: UnsafeCell::new(Some(heap)),
            make: None,
        }
    }

    /// A lock around a heap that `make` builds on first use (for a `static`).
    pub const fn lazy(make: fn() -> H) -> Self {
        LockedHeap {
            lock: RawLock::new(),
            heap: UnsafeCell::new(None),
            make: Some(make),
        }
    }

    /// The lock itself: the `fork` handlers take and release it directly.
    pub fn raw_lock(&self) -> &RawLock {
        &self.lock
    }
}

impl<H: FullHeap + Send> SharedHeap for LockedHeap<H> {
    type Inner = H;

    fn with_heap<R>(&self, f: impl FnOnce(&mut H) -> R) -> R {
        // TODO: lock, make the heap if it is the first use, run f, unlock (even if f panics)
        todo!()
    }
}

/// Rust's allocator interface. `core::alloc::GlobalAlloc` asks for a null
/// pointer on exhaustion (never a panic: unwinding out of an allocator is
/// undefined behaviour), and for the layout's alignment to be honoured.
/// Zero-size layouts are the caller's error by that contract; they get a
/// unique small block, as `malloc(0)` does.
// SAFETY: blocks come from a heap that hands out each byte to one block at a
// time, aligned as the layout asks (malloc_aligned), and one lock serializes
// every call, so the GlobalAlloc contract holds across threads.
unsafe impl<H: FullHeap + Send> GlobalAlloc for LockedHeap<H> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // TODO: malloc up to ALIGN, malloc_aligned above; null on None
        todo!()
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // TODO: free (the heap finds the size in the header)
        todo!()
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // TODO: calloc up to ALIGN; an aligned block zeroed by hand above
        todo!()
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // TODO: the heap's realloc up to ALIGN; above, in place if it fits, else alloc, copy, free
        todo!()
    }
}

// SAFETY: a BigHeap's raw pointers all point into mappings it owns alone, so
// moving the heap to another thread moves everything they reach with it;
// behind a LockedHeap, one thread at a time uses it.
unsafe impl<S: heaplab_kit::PageSource + Send> Send for crate::heap::BigHeap<S> {}
