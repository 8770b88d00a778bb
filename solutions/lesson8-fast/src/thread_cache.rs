// STUB: //! Your per-thread caches: how a thread allocates without taking the process heap's lock.
// BEGIN SOLUTION
//! Per-thread caches: each thread keeps a few free blocks of every class
//! for itself, so that most `malloc`s and `free`s take no lock at all.
//!
//! ```text
//!   thread A's cache           thread B's cache            process heap (one lock)
//!   class 0: ●→●→●→●           class 0: ●                  slabs of every class
//!   class 1: ●→●               class 1: (empty) ──refill──► take_slots(1, 32)
//!   class 5: ●→●→…→● (64) ──flush half──────────────────► return_slots(…)
//! ```
//!
//! `malloc` pops the head of its class's list; `free` pushes onto it (the
//! page map says the class, without the lock). The lock is taken only to
//! refill an empty list with half a list's worth of blocks, and to give half
//! back when a list grows past its limit: one lock for dozens of calls.
//!
//! The cost is memory: blocks sitting in a cache are free but unusable by
//! other threads. The limits below keep at most 32 KiB of each class per
//! thread (about 1 MiB in all if a thread fills every list, far less
//! in practice), and a thread's lists go back to the process heap when it
//! exits (a `pthread_key_create` destructor).
//!
//! A block freed by another thread than the one that allocated it simply
//! joins the freeing thread's cache: any block of a class serves any thread.

use std::cell::{Cell, UnsafeCell};
use std::ffi::c_void;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use heaplab_kit::Stats;

use crate::global::{map_root, slot_key, with_central};
use crate::misuse::misuse_at;
use crate::page_map::{self, Node, LEAF_SHIFT, TAG_MASK};
use crate::size_class::{realloc_class, CLASSES, CLASS_BYTES, MAX_SMALL_BYTES};
use crate::span::FreeSlot;
use crate::tls;

/// Bytes of each class a cache may hold before it gives half back.
const CACHE_BYTES_PER_CLASS: usize = 32 * 1024;
/// Most blocks of one class a cache holds, however small the class.
const MAX_CACHED: usize = 1024;

/// The most blocks of each class a cache keeps (a table, so that `free`
/// divides nothing).
const LIMITS: [usize; CLASSES] = limits();

const fn limits() -> [usize; CLASSES] {
    let mut table = [0; CLASSES];
    let mut class = 0;
    while class < CLASSES {
        let fit = CACHE_BYTES_PER_CLASS / CLASS_BYTES[class];
        table[class] = if fit < 2 {
            2
        } else if fit > MAX_CACHED {
            MAX_CACHED
        } else {
            fit
        };
        class += 1;
    }
    table
}

/// Where a thread's cache is in its life.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum State {
    /// Never used: the first `malloc` registers it. Zero, as a new
    /// thread's storage is.
    Fresh = 0,
    /// Being registered. Registering may itself allocate (glibc's
    /// `pthread_setspecific` can), and those allocations must go straight
    /// to the process heap.
    Registering,
    /// In use.
    Active,
    /// Its thread is exiting and the cache was emptied: from now on this
    /// thread allocates from the process heap directly.
    Gone,
}

/// One class's list of free blocks.
#[derive(Clone, Copy)]
struct Bin {
    head: *mut FreeSlot,
    count: usize,
}

/// A thread's cache. Its initial state, [`ThreadCache::new`], is all zero
/// bytes (`tls.rs` relies on it): null lists, zero counters, `Fresh`.
pub struct ThreadCache {
    /// Per class, its free blocks. Only the owning thread touches them, and
    /// never re-entrantly (the cache calls nothing that could `malloc`).
    bins: UnsafeCell<[Bin; CLASSES]>,
    state: Cell<State>,
    /// Blocks this cache handed out and took back, for the statistics.
    /// Atomics because `print_stats` reads other threads' counters; only
    /// the owner writes them, with a plain load and store.
    mallocs: AtomicUsize,
    frees: AtomicUsize,
    /// Neighbours in the list of live caches (changed with the process
    /// heap's lock held).
    next: Cell<*const ThreadCache>,
    prev: Cell<*const ThreadCache>,
    /// The last page-map leaf this thread looked up, and the 2 MiB region
    /// it covers, plus one (0: none yet): most frees are of blocks near the
    /// last one, and then the class is one load away instead of four.
    leaf_region: Cell<usize>,
    leaf: Cell<*const Node>,
}

impl ThreadCache {
    /// A fresh cache: the value of the zero bytes a new thread's TLS block
    /// starts with (the x86-64 path of `tls.rs` never calls this).
    #[cfg_attr(
        all(target_arch = "x86_64", target_os = "linux", not(miri)),
        allow(dead_code)
    )]
    pub const fn new() -> Self {
        ThreadCache {
            bins: UnsafeCell::new(
                [Bin {
                    head: ptr::null_mut(),
                    count: 0,
                }; CLASSES],
            ),
            state: Cell::new(State::Fresh),
            mallocs: AtomicUsize::new(0),
            frees: AtomicUsize::new(0),
            next: Cell::new(ptr::null()),
            prev: Cell::new(ptr::null()),
            leaf_region: Cell::new(0),
            leaf: Cell::new(ptr::null()),
        }
    }

    /// The size class of the block at `ptr` (the page map's entry, through
    /// the remembered leaf when it covers `ptr`); `None` for anything but
    /// a block of a slab.
    #[inline]
    fn class_of(&self, ptr: NonNull<u8>) -> Option<usize> {
        let addr = ptr.as_ptr() as usize;
        let region = (addr >> LEAF_SHIFT) + 1;
        let leaf = if self.leaf_region.get() == region {
            self.leaf.get()
        } else {
            // SAFETY: the root is null or the process heap's, alive forever.
            let leaf = unsafe { page_map::leaf(map_root(), addr) };
            if leaf.is_null() {
                return None;
            }
            self.leaf_region.set(region);
            self.leaf.set(leaf);
            leaf
        };
        // SAFETY: the leaf covers addr's 2 MiB; the map lives forever.
        let entry = unsafe { page_map::entry_in(leaf, addr) };
        (entry & TAG_MASK).checked_sub(1)
    }
}

/// Runs `f` on this thread's cache if it can be used (registering it on
/// first use); `None` when the thread must use the process heap directly.
#[inline(always)]
fn with_cache<R>(f: impl FnOnce(&ThreadCache) -> R) -> Option<R> {
    // SAFETY: this thread's cache, alive as long as the thread; only this
    // thread changes it (others read its atomic counters).
    let cache = unsafe { &*tls::this_thread() };
    match cache.state.get() {
        State::Active => Some(f(cache)),
        State::Fresh if register(cache) => Some(f(cache)),
        _ => None,
    }
}

/// A block of `class` from this thread's cache: `None` when the thread has
/// no cache to use, `Some(null)` when memory ran out.
#[inline]
pub fn malloc(class: usize) -> Option<*mut u8> {
    with_cache(|cache| cache.pop(class))
}

/// The size class of the block at `ptr`, from the page map; `None` for a
/// large block or an address that is no block.
#[inline]
pub fn class_of(ptr: NonNull<u8>) -> Option<usize> {
    match with_cache(|cache| cache.class_of(ptr)) {
        Some(class) => class,
        // SAFETY: the root is null or the process heap's, alive forever.
        None => (unsafe { page_map::lookup(map_root(), ptr.as_ptr() as usize) } & TAG_MASK)
            .checked_sub(1),
    }
}

/// Takes the block at `ptr` into this thread's cache if it is a block of a
/// slab; false when it is not (a large block, or no block) or the thread
/// has no cache to use.
///
/// # Safety
/// `ptr` is a live block of the process heap, not used after this.
#[inline]
pub unsafe fn free(ptr: NonNull<u8>) -> bool {
    with_cache(|cache| {
        let Some(class) = cache.class_of(ptr) else {
            return false;
        };
        // SAFETY: the caller's promise.
        unsafe { cache.push(class, ptr) };
        true
    })
    .unwrap_or(false)
}

/// C's `realloc` of a slab's block to a size a slab serves too, all in this
/// thread's cache: the block itself if its class does not change, else a
/// block of the new class with the bytes copied, the old one cached.
/// `None` when the cache cannot do it (no cache, a large block or size);
/// `Some(null)` when memory ran out, the block kept.
///
/// # Safety
/// `ptr` is a live block of the process heap; after a non-null `Some`,
/// nothing uses it unless it is the address returned.
#[inline(always)]
pub unsafe fn realloc(ptr: NonNull<u8>, size: usize) -> Option<*mut u8> {
    if size > MAX_SMALL_BYTES {
        return None;
    }
    with_cache(|cache| {
        let old = cache.class_of(ptr)?;
        let Some(new) = realloc_class(old, size) else {
            return Some(ptr.as_ptr());
        };
        let block = cache.pop(new);
        if !block.is_null() {
            // SAFETY: two distinct live blocks, each holding the bytes copied.
            unsafe {
                ptr.as_ptr()
                    .copy_to_nonoverlapping(block, size.min(CLASS_BYTES[old]))
            };
            // SAFETY: the old block is replaced (the caller's promise).
            unsafe { cache.push(old, ptr) };
        }
        Some(block)
    })
    .flatten()
}

impl ThreadCache {
    /// Pops a block of `class`, refilling the list from the process heap
    /// when it is empty; null when memory ran out.
    #[inline]
    fn pop(&self, class: usize) -> *mut u8 {
        // SAFETY: only this thread touches its bins, and not re-entrantly.
        let bin = unsafe { &mut (*self.bins.get())[class] };
        if bin.head.is_null() {
            refill(bin, class);
            if bin.head.is_null() {
                return ptr::null_mut();
            }
        }
        let slot = bin.head;
        // SAFETY: a block on this thread's list: free, ours, 16+ bytes.
        unsafe {
            bin.head = (*slot).next;
            (*slot).key = 0; // a live block carries no key
        }
        bin.count -= 1;
        bump(&self.mallocs);
        slot.cast()
    }

    /// Pushes the block at `ptr` onto the list of `class`, giving half the
    /// list back to the process heap when it grows past its limit.
    ///
    /// # Safety
    /// `ptr` is a live block of the process heap, of `class`, not used after.
    #[inline]
    unsafe fn push(&self, class: usize, ptr: NonNull<u8>) {
        let slot = ptr.cast::<FreeSlot>().as_ptr();
        let key = slot_key();
        // SAFETY: a block of the heap, at least 16 bytes (the caller's promise).
        if unsafe { (*slot).key } == key {
            check_double_free(self, class, ptr);
        }
        // SAFETY: only this thread touches its bins, and not re-entrantly.
        let bin = unsafe { &mut (*self.bins.get())[class] };
        // SAFETY: the block is ours now (the caller's promise).
        unsafe {
            slot.write(FreeSlot {
                next: bin.head,
                key,
            })
        };
        bin.head = slot;
        bin.count += 1;
        bump(&self.frees);
        if bin.count > LIMITS[class] {
            flush(bin, bin.count / 2);
        }
    }
}

/// Adds one to a counter only this thread writes: a load and a store, no
/// locked read-modify-write.
#[inline]
fn bump(counter: &AtomicUsize) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// Fills an empty bin with half a list's worth of blocks from the process
/// heap, under its lock once.
#[cold]
fn refill(bin: &mut Bin, class: usize) {
    let wanted = LIMITS[class].div_ceil(2);
    let (head, count) = with_central(|heap| heap.take_slots(class, wanted));
    bin.head = head;
    bin.count = count;
}

/// Gives the first `n` blocks of `bin` back to the process heap.
#[cold]
fn flush(bin: &mut Bin, n: usize) {
    if n == 0 {
        return;
    }
    let given = bin.head;
    let mut last = given;
    for _ in 1..n {
        // SAFETY: the bin holds more than n blocks, each linked to the next.
        last = unsafe { (*last).next };
    }
    // SAFETY: last is the n-th block of the bin.
    unsafe {
        bin.head = (*last).next;
        (*last).next = ptr::null_mut();
    }
    bin.count -= n;
    // SAFETY: blocks of this cache: of the heap, free, unused.
    with_central(|heap| unsafe { heap.return_slots(given) });
}

/// The block being freed carries the free-block key: it is probably free
/// already. Stops the process if it is on this thread's list or free in
/// the process heap; otherwise the key was user data that happened to match.
#[cold]
fn check_double_free(cache: &ThreadCache, class: usize, ptr: NonNull<u8>) {
    // SAFETY: only this thread touches its bins.
    let mut at = unsafe { (*cache.bins.get())[class].head };
    while !at.is_null() {
        if at == ptr.as_ptr().cast() {
            misuse_at(
                "free",
                "a block already freed (double free)",
                ptr.as_ptr() as usize,
            );
        }
        // SAFETY: blocks on the list are free and ours.
        at = unsafe { (*at).next };
    }
    if with_central(|heap| heap.is_free_block(ptr)) {
        misuse_at(
            "free",
            "a block already freed (double free)",
            ptr.as_ptr() as usize,
        );
    }
}

/// The key for `pthread_setspecific`, whose destructor empties a cache
/// when its thread exits; `u32::MAX` until created.
static EXIT_KEY: AtomicU32 = AtomicU32::new(u32::MAX);
/// 0: no key yet, 1: being created, 2: ready.
static EXIT_KEY_STATE: AtomicU32 = AtomicU32::new(0);

/// Registers this thread's cache: a thread-exit destructor, and a place in
/// the list of live caches. False (the cache stays unused for now) while
/// another thread is creating the destructor's key.
#[cold]
fn register(cache: &ThreadCache) -> bool {
    cache.state.set(State::Registering);
    let Some(key) = exit_key() else {
        cache.state.set(State::Fresh);
        return false;
    };
    // SAFETY: the value is this thread's cache, alive until the thread's
    // TLS is torn down, which happens after key destructors run.
    unsafe { libc::pthread_setspecific(key, (cache as *const ThreadCache).cast()) };
    // SAFETY: the registry is only touched with the process heap's lock held.
    with_central(|_| unsafe { REGISTRY.link(cache) });
    cache.state.set(State::Active);
    true
}

/// The thread-exit key, created by the first thread that needs it.
fn exit_key() -> Option<libc::pthread_key_t> {
    match EXIT_KEY_STATE.compare_exchange(0, 1, Ordering::Acquire, Ordering::Acquire) {
        Ok(_) => {
            let mut key: libc::pthread_key_t = 0;
            // SAFETY: key is writable; thread_exit is a plain function that
            // lives as long as the process.
            if unsafe { libc::pthread_key_create(&mut key, Some(thread_exit)) } != 0 {
                EXIT_KEY_STATE.store(0, Ordering::Release);
                return None;
            }
            EXIT_KEY.store(key, Ordering::Relaxed);
            EXIT_KEY_STATE.store(2, Ordering::Release);
            Some(key)
        }
        Err(2) => Some(EXIT_KEY.load(Ordering::Relaxed)),
        Err(_) => None,
    }
}

/// Runs as a thread exits: its cached blocks go back to the process heap,
/// its counters to the totals of finished threads.
extern "C" fn thread_exit(value: *mut c_void) {
    // SAFETY: the value set in register(): this thread's cache, still alive.
    let cache = unsafe { &*value.cast::<ThreadCache>() };
    cache.state.set(State::Gone);
    // SAFETY: only this thread touches its bins.
    let bins = unsafe { &mut *cache.bins.get() };
    with_central(|heap| {
        for bin in bins.iter_mut() {
            // SAFETY: the cache's free blocks, which no one uses.
            unsafe { heap.return_slots(bin.head) };
            *bin = Bin {
                head: ptr::null_mut(),
                count: 0,
            };
        }
        // SAFETY: the lock is held.
        unsafe { REGISTRY.unlink(cache) };
    });
}

/// The live caches, for the statistics and for `fork`. Every access holds
/// the process heap's lock.
pub struct Registry(UnsafeCell<RegistryData>);

struct RegistryData {
    head: *const ThreadCache,
    /// Counters of the caches that left the list (threads that exited).
    gone_mallocs: usize,
    gone_frees: usize,
}

// SAFETY: the data is only reached through the unsafe methods below, whose
// callers hold the process heap's lock, so one thread at a time uses it.
unsafe impl Sync for Registry {}

static REGISTRY: Registry = Registry(UnsafeCell::new(RegistryData {
    head: ptr::null(),
    gone_mallocs: 0,
    gone_frees: 0,
}));

impl Registry {
    /// # Safety
    /// The process heap's lock is held, and no other reference to the data
    /// is alive.
    #[allow(clippy::mut_from_ref)] // the lock, not the borrow, makes it unique
    unsafe fn data(&self) -> &mut RegistryData {
        // SAFETY: the caller's promise.
        unsafe { &mut *self.0.get() }
    }

    /// # Safety
    /// The process heap's lock is held; `cache` is a live cache not listed.
    unsafe fn link(&self, cache: &ThreadCache) {
        // SAFETY: the caller's promise.
        let data = unsafe { self.data() };
        cache.prev.set(ptr::null());
        cache.next.set(data.head);
        if let Some(head) = NonNull::new(data.head.cast_mut()) {
            // SAFETY: listed caches are alive.
            unsafe { head.as_ref() }.prev.set(cache);
        }
        data.head = cache;
    }

    /// # Safety
    /// The process heap's lock is held; `cache` is listed.
    unsafe fn unlink(&self, cache: &ThreadCache) {
        // SAFETY: the caller's promise.
        let data = unsafe { self.data() };
        let (prev, next) = (cache.prev.get(), cache.next.get());
        match NonNull::new(prev.cast_mut()) {
            // SAFETY: listed caches are alive.
            Some(prev) => unsafe { prev.as_ref() }.next.set(next),
            None => data.head = next,
        }
        if let Some(next) = NonNull::new(next.cast_mut()) {
            // SAFETY: as above.
            unsafe { next.as_ref() }.prev.set(prev);
        }
        data.gone_mallocs += cache.mallocs.load(Ordering::Relaxed);
        data.gone_frees += cache.frees.load(Ordering::Relaxed);
    }
}

/// Adds what every cache, live or gone, handed out and took back to the
/// process heap's own counts.
///
/// # Safety
/// The process heap's lock is held.
pub unsafe fn add_counts(stats: &mut Stats) {
    // SAFETY: the caller's promise.
    let data = unsafe { REGISTRY.data() };
    stats.chunks_allocated += data.gone_mallocs;
    stats.chunks_freed += data.gone_frees;
    let mut at = data.head;
    while let Some(cache) = NonNull::new(at.cast_mut()) {
        // SAFETY: listed caches are alive.
        let cache = unsafe { cache.as_ref() };
        stats.chunks_allocated += cache.mallocs.load(Ordering::Relaxed);
        stats.chunks_freed += cache.frees.load(Ordering::Relaxed);
        at = cache.next.get();
    }
}

/// In a child after `fork`: only the forking thread exists, so every other
/// cache is gone (its blocks stay allocated: memory the child never gets
/// back, but never hands out twice).
///
/// # Safety
/// The process heap's lock is held (taken before the fork).
pub unsafe fn forget_other_threads() {
    let cache = tls::this_thread();
    // SAFETY: this thread's cache, alive as long as the thread.
    let mine = (unsafe { (*cache).state.get() } == State::Active).then_some(cache);
    {
        // SAFETY: the caller's promise.
        let data = unsafe { REGISTRY.data() };
        let mut at = data.head;
        data.head = ptr::null();
        while let Some(cache) = NonNull::new(at.cast_mut()) {
            // SAFETY: listed caches are still mapped (the child has a copy
            // of every thread's memory), though their threads are gone.
            let cache = unsafe { cache.as_ref() };
            at = cache.next.get();
            if Some(cache as *const ThreadCache) != mine {
                data.gone_mallocs += cache.mallocs.load(Ordering::Relaxed);
                data.gone_frees += cache.frees.load(Ordering::Relaxed);
            }
        }
    }
    if let Some(mine) = mine {
        // SAFETY: the lock is held; this thread's cache lives as long as
        // the thread, and the list is empty, so it is not listed.
        unsafe { REGISTRY.link(&*mine) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_cache_is_the_zero_bytes_of_a_new_threads_storage() {
        let fresh = ThreadCache::new();
        // SAFETY: every field of ThreadCache accepts all-zero bytes (null
        // pointers, zero counts, State::Fresh = 0): the claim under test.
        let zero: ThreadCache = unsafe { std::mem::zeroed() };
        for cache in [&fresh, &zero] {
            assert!(cache.state.get() == State::Fresh);
            // SAFETY: nobody else uses these caches.
            let bins = unsafe { &*cache.bins.get() };
            assert!(bins.iter().all(|b| b.head.is_null() && b.count == 0));
            assert_eq!(cache.mallocs.load(Ordering::Relaxed), 0);
            assert_eq!(cache.frees.load(Ordering::Relaxed), 0);
            assert!(cache.next.get().is_null() && cache.prev.get().is_null());
            assert_eq!(cache.leaf_region.get(), 0);
            assert!(cache.leaf.get().is_null());
        }
        assert_eq!(State::Fresh as u8, 0);
    }
}
// END SOLUTION
