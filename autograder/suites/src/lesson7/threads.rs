//! The heap behind the student's lock, shared by threads, and Rust's
//! `GlobalAlloc` contract.

use std::alloc::{GlobalAlloc, Layout};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use heaplab_kit::{FullHeap, Heap, Realloc, SharedHeap};

use super::sync_pages::SyncPages;
use crate::harness::{Ctx, Test};

/// Threads in the threads test.
const THREADS: usize = 4;
/// Operations per thread.
const ROUNDS: usize = if cfg!(miri) { 50 } else { 4000 };

/// Tests of the shared heap.
pub fn tests<L, F>(share: &Rc<F>) -> Vec<Test>
where
    L: SharedHeap + GlobalAlloc + Send + Sync + 'static,
    F: Fn(SyncPages) -> L + 'static,
{
    let threads = share.clone();
    let contract = share.clone();
    vec![
        Test::new("threads_share_the_heap", move |ctx| {
            threads_share(ctx, &*threads)
        }),
        Test::new("global_alloc_contract", move |_| {
            global_alloc_contract(&*contract)
        }),
    ]
}

/// A tiny deterministic generator per thread (xorshift), seeded from the
/// test's seed: the same seed, the same operations in each thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

/// A block one thread owns: every byte holds the thread's mark.
struct Owned {
    ptr: usize,
    size: usize,
}

/// Several threads allocate, write, check and free at random through
/// `with_heap`; while a thread is inside, no other may be (the lock), no
/// block is shared (each thread's bytes stay its own), and at the end
/// nothing is lost: every chunk is freed and all memory still mapped is on
/// the free list.
fn threads_share<L: SharedHeap + Send + Sync + 'static>(
    ctx: &Ctx,
    share: &dyn Fn(SyncPages) -> L,
) -> Result<(), String> {
    let pages = SyncPages::new();
    let heap = Arc::new(share(pages.clone()));
    // Threads inside with_heap right now: more than one means no lock.
    let inside = Arc::new(AtomicUsize::new(0));
    let problems: Arc<Mutex<Vec<String>>> = Arc::default();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let heap = Arc::clone(&heap);
            let inside = Arc::clone(&inside);
            let problems = Arc::clone(&problems);
            let seed = ctx.seed ^ (t as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            thread::spawn(move || {
                let report = |p: String| problems.lock().unwrap_or_else(|e| e.into_inner()).push(p);
                let mark = 0xA0 + t as u8;
                let mut rng = Rng(seed | 1);
                let mut owned: Vec<Owned> = Vec::new();
                // Runs f under the heap's lock, checking that it is exclusive.
                let locked = |f: &mut dyn FnMut(&mut L::Inner)| {
                    heap.with_heap(|h| {
                        if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                            report(format!("thread {t} got into with_heap while another thread was inside: the lock does not exclude"));
                        }
                        f(h);
                        // Stay a moment, so that a missing lock shows.
                        thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    })
                };
                for round in 0..ROUNDS {
                    let choice = rng.below(10);
                    if choice < 5 || owned.is_empty() {
                        let size = if rng.below(20) == 0 { 5000 + rng.below(20_000) } else { rng.below(600) };
                        let mut got = None;
                        match choice % 3 {
                            0 => locked(&mut |h| got = h.malloc(size)),
                            1 => locked(&mut |h| got = h.calloc(1, size)),
                            _ => locked(&mut |h| got = h.malloc_aligned(64, size)),
                        }
                        let Some(p) = got else {
                            report(format!("thread {t}, round {round}: allocating {size} bytes returned None"));
                            return;
                        };
                        // SAFETY: a fresh block of `size` bytes, this thread's.
                        unsafe { p.as_ptr().write_bytes(mark, size) };
                        owned.push(Owned { ptr: p.as_ptr() as usize, size });
                    } else {
                        let i = rng.below(owned.len() as u64);
                        let block = &owned[i];
                        // SAFETY: this thread's live block.
                        let bytes = unsafe { std::slice::from_raw_parts(block.ptr as *const u8, block.size) };
                        if let Some(at) = bytes.iter().position(|&b| b != mark) {
                            report(format!(
                                "thread {t}, round {round}: byte {at} of its {}-byte block at {:#x} changed from {mark:#04x} to {:#04x}: another thread was given the same memory",
                                block.size, block.ptr, bytes[at]
                            ));
                            return;
                        }
                        let ptr = std::ptr::NonNull::new(block.ptr as *mut u8).expect("non-null");
                        if choice < 7 {
                            let size = rng.below(1200);
                            let mut got = None;
                            // SAFETY: this thread's live block; replaced below.
                            locked(&mut |h| got = unsafe { h.realloc(ptr, size) });
                            let Some(p) = got else {
                                report(format!("thread {t}: realloc to {size} returned None"));
                                return;
                            };
                            // SAFETY: the block now has `size` bytes, this thread's.
                            unsafe { p.as_ptr().write_bytes(mark, size) };
                            owned[i] = Owned { ptr: p.as_ptr() as usize, size };
                        } else {
                            owned.swap_remove(i);
                            // SAFETY: this thread's live block, freed once.
                            locked(&mut |h| unsafe { h.free(ptr) });
                        }
                    }
                }
                for block in owned {
                    let ptr = std::ptr::NonNull::new(block.ptr as *mut u8).expect("non-null");
                    // SAFETY: this thread's live block, freed once.
                    locked(&mut |h| unsafe { h.free(ptr) });
                }
            })
        })
        .collect();
    for (t, worker) in workers.into_iter().enumerate() {
        if worker.join().is_err() {
            return Err(format!("thread {t} panicked (see the panic message above)"));
        }
    }
    let problems = problems.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(first) = problems.first() {
        return Err(format!(
            "{first}\n({} problems in all; {THREADS} threads, {ROUNDS} operations each)",
            problems.len()
        ));
    }
    // Nothing lost: everything was freed, so every byte still mapped must be
    // on the free list, and the counters must agree.
    let (stats, blocks) = heap.with_heap(|h| (h.stats(), h.free_blocks()));
    if stats.chunks_allocated != stats.chunks_freed {
        return Err(format!(
            "after every thread freed every block, stats() shows {} chunks allocated but {} freed: the counters lost updates (a race?)",
            stats.chunks_allocated, stats.chunks_freed
        ));
    }
    let record = pages.record();
    if let Some(v) = record.violations.first() {
        return Err(format!("the heap broke the page source's contract: {v}"));
    }
    let mapped: usize = record.live.values().sum();
    drop(record);
    let free: usize = blocks.iter().map(|b| b.size).sum();
    for b in &blocks {
        if !pages.holds(b.addr, b.size) {
            return Err(format!(
                "the free chunk [{:#x}, {:#x}) is outside the mapped pages",
                b.addr,
                b.end()
            ));
        }
    }
    if free != mapped || stats.free_length != blocks.len() {
        return Err(format!(
            "after every thread freed every block: expected all {mapped} mapped bytes on the free list \
             (big blocks unmapped, runs whole again), with free_length = the walk's {}; \
             found {free} bytes in {} free chunks, free_length {}: memory was lost or the list broke",
            blocks.len(),
            blocks.len(),
            stats.free_length
        ));
    }
    Ok(())
}

/// Rust's allocator contract (`core::alloc::GlobalAlloc`): the layout's
/// alignment honoured by `alloc`, `alloc_zeroed` and `realloc`; zeroed memory
/// zero; contents kept by `realloc`; null (never a panic) when memory runs
/// out.
fn global_alloc_contract<L: GlobalAlloc>(share: &dyn Fn(SyncPages) -> L) -> Result<(), String> {
    let pages = SyncPages::new();
    let heap = share(pages.clone());
    for align in [1usize, 2, 8, 16, 32, 64, 256, 4096] {
        for size in [1usize, 24, 100, 3000, 70_000] {
            let layout = Layout::from_size_align(size, align).expect("valid");
            // SAFETY: a non-zero layout.
            let p = unsafe { heap.alloc(layout) };
            if p.is_null() || !(p as usize).is_multiple_of(align) {
                return Err(format!("alloc(size {size}, align {align}) returned {p:p}: expected a non-null multiple of {align}"));
            }
            // SAFETY: p has `size` bytes.
            unsafe { p.write_bytes(0xC3, size) };
            // A freed dirty block first, so that alloc_zeroed is likely to get
            // used memory back, not a fresh (already zero) page.
            // SAFETY: a non-zero layout; the block is freed at once.
            unsafe {
                let dirty = heap.alloc(layout);
                if !dirty.is_null() {
                    dirty.write_bytes(0x5A, size);
                    heap.dealloc(dirty, layout);
                }
            }
            // SAFETY: a non-zero layout.
            let z = unsafe { heap.alloc_zeroed(layout) };
            if z.is_null() || !(z as usize).is_multiple_of(align) {
                return Err(format!("alloc_zeroed(size {size}, align {align}) returned {z:p}: expected a non-null multiple of {align}"));
            }
            // SAFETY: z has `size` bytes.
            let zeros = unsafe { std::slice::from_raw_parts(z, size) };
            if let Some(at) = zeros.iter().position(|&b| b != 0) {
                return Err(format!(
                    "alloc_zeroed(size {size}, align {align}): byte {at} is {:#04x}, expected 0",
                    zeros[at]
                ));
            }
            let (mut cur, mut cur_size) = (p, size);
            for new_size in [size / 2 + 1, size * 3, size] {
                let old = Layout::from_size_align(cur_size, align).expect("valid");
                // SAFETY: cur is live with layout `old`; new_size is valid for align.
                let q = unsafe { heap.realloc(cur, old, new_size) };
                if q.is_null() || !(q as usize).is_multiple_of(align) {
                    return Err(format!(
                        "realloc(size {cur_size} → {new_size}, align {align}) returned {q:p}: expected a non-null multiple of {align} (realloc keeps the layout's alignment)"
                    ));
                }
                let kept = cur_size.min(new_size);
                // SAFETY: q has at least `kept` bytes.
                let bytes = unsafe { std::slice::from_raw_parts(q, kept) };
                if let Some(at) = bytes.iter().position(|&b| b != 0xC3) {
                    return Err(format!(
                        "realloc(size {cur_size} → {new_size}, align {align}) lost the contents: byte {at} is {:#04x}, expected 0xc3",
                        bytes[at]
                    ));
                }
                // SAFETY: q has new_size bytes.
                unsafe { q.write_bytes(0xC3, new_size) };
                (cur, cur_size) = (q, new_size);
            }
            // SAFETY: cur is live with this layout (cur_size == size).
            unsafe {
                heap.dealloc(
                    cur,
                    Layout::from_size_align(cur_size, align).expect("valid"),
                )
            };
            // SAFETY: z is live with `layout`.
            unsafe { heap.dealloc(z, layout) };
        }
    }
    pages.refuse_maps(true);
    let huge = Layout::from_size_align(1 << 30, 16).expect("valid");
    // SAFETY: a non-zero layout.
    let p = unsafe { heap.alloc(huge) };
    if !p.is_null() {
        return Err(format!(
            "alloc of 1 GiB while the page source refuses every map returned {p:p}: expected null"
        ));
    }
    // SAFETY: a non-zero layout.
    let z = unsafe { heap.alloc_zeroed(Layout::from_size_align(1 << 30, 4096).expect("valid")) };
    if !z.is_null() {
        return Err(format!("alloc_zeroed of 1 GiB while the page source refuses every map returned {z:p}: expected null"));
    }
    Ok(())
}
