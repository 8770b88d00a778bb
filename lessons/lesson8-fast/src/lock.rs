//! One lock around a heap (lesson 7's, given): the process heap's, which
//! the threads' caches take only to refill or to give blocks back.
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
        let me = this_thread();
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            if self.owner.load(Ordering::Relaxed) == me {
                misuse("the allocator was called from inside itself (a panic or a print while its lock is held?)");
            }
            // Whoever unlocks next must wake a sleeper: say so by setting 2,
            // and sleep for as long as the lock stays taken.
            while self.state.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
                futex_wait(&self.state, CONTENDED);
            }
        }
        self.owner.store(me, Ordering::Relaxed);
    }

    /// Frees the lock, waking one waiting thread if there is one.
    pub fn unlock(&self) {
        self.owner.store(0, Ordering::Relaxed);
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            futex_wake(&self.state);
        }
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
        self.lock.lock();
        let _held = Held(&self.lock);
        // SAFETY: the lock is held until _held drops, so no other reference
        // to the heap exists while `heap` lives.
        let slot = unsafe { &mut *self.heap.get() };
        let heap = match slot {
            Some(heap) => heap,
            None => match self.make {
                Some(make) => slot.insert(make()),
                None => misuse("LockedHeap: no heap and no way to make one"),
            },
        };
        f(heap)
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
        let block = self.with_heap(|heap| {
            if layout.align() <= ALIGN {
                heap.malloc(layout.size())
            } else {
                heap.malloc_aligned(layout.align(), layout.size())
            }
        });
        block.map_or(ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        if let Some(ptr) = NonNull::new(ptr) {
            // SAFETY: GlobalAlloc's caller promises ptr came from this allocator
            // and is not used after this call.
            self.with_heap(|heap| unsafe { heap.free(ptr) });
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= ALIGN {
            let block = self.with_heap(|heap| heap.calloc(1, layout.size()));
            return block.map_or(ptr::null_mut(), NonNull::as_ptr);
        }
        // SAFETY: forwarded with the caller's promises.
        let ptr = unsafe { self.alloc(layout) };
        if !ptr.is_null() {
            // SAFETY: a fresh block of at least layout.size() bytes.
            unsafe { ptr.write_bytes(0, layout.size()) };
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(block) = NonNull::new(ptr) else {
            return ptr::null_mut();
        };
        if layout.align() <= ALIGN {
            // SAFETY: the caller promises ptr is a live block of this allocator.
            let moved = self.with_heap(|heap| unsafe { heap.realloc(block, new_size) });
            return moved.map_or(ptr::null_mut(), NonNull::as_ptr);
        }
        // The heap's realloc may move a block to an address with only
        // 16-byte alignment; keep the layout's alignment by hand.
        // SAFETY: as above.
        let usable = self.with_heap(|heap| unsafe { heap.usable_size(block) });
        if usable.is_some_and(|usable| usable >= new_size) {
            return ptr;
        }
        // SAFETY: the caller promises new_size rounded to layout.align() does
        // not overflow, so this layout is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: forwarded.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: two distinct live blocks with at least min(old, new) bytes.
            unsafe { ptr.copy_to_nonoverlapping(new, layout.size().min(new_size)) };
            // SAFETY: the old block is ours to free now.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}
