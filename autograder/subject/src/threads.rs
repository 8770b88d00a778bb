//! The heap behind the student's lock, shared by threads (lesson 7 on).
//!
//! [`run`] is the threads workload: several threads allocate, write their
//! mark, check it and free at random through `with_heap`, and report the
//! blocks they still hold. It runs in the student's process (the checker
//! cannot run the student's threads), and its report is only a report: the
//! checker reads every block the threads kept in the shared memory itself,
//! then has them freed and checks that no byte was lost. The kit's own
//! tests run the same workload in one process.

use std::alloc::{GlobalAlloc, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use heaplab_kit::{FullHeap, Heap, Realloc, SharedHeap};
use heaplab_protocol::messages::ThreadsReport;
use heaplab_protocol::Snapshot;

use crate::heaps::{wire_blocks, wire_stats};

/// The byte thread `t` fills its blocks with.
pub fn mark(thread: u32) -> u8 {
    0xA0u8.wrapping_add(thread as u8)
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
#[derive(Clone, Copy)]
struct Owned {
    ptr: usize,
    size: usize,
}

/// What one thread needs: the heap, the count of threads inside the lock,
/// and where to say what went wrong.
struct Worker<'a, L> {
    heap: &'a L,
    inside: &'a AtomicUsize,
    problems: &'a Mutex<Vec<String>>,
    thread: u32,
}

impl<L: SharedHeap> Worker<'_, L> {
    fn report(&self, problem: String) {
        self.problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(problem);
    }

    /// Runs `f` under the heap's lock, checking that no other thread is in.
    fn locked<R>(&self, f: impl FnOnce(&mut L::Inner) -> R) -> R {
        self.heap.with_heap(|h| {
            if self.inside.fetch_add(1, Ordering::SeqCst) != 0 {
                self.report(format!(
                    "thread {} got into with_heap while another thread was inside: \
                     the lock does not exclude",
                    self.thread
                ));
            }
            let r = f(h);
            // Stay a moment, so that a missing lock shows.
            thread::yield_now();
            self.inside.fetch_sub(1, Ordering::SeqCst);
            r
        })
    }

    /// Allocates a block in one of three ways and marks it.
    fn allocate(&self, rng: &mut Rng, choice: usize) -> Option<Owned> {
        let size = if rng.below(20) == 0 {
            5000 + rng.below(20_000)
        } else {
            rng.below(600)
        };
        let got = match choice % 3 {
            0 => self.locked(|h| h.malloc(size)),
            1 => self.locked(|h| h.calloc(1, size)),
            _ => self.locked(|h| h.malloc_aligned(64, size)),
        };
        let Some(p) = got else {
            self.report(format!(
                "thread {}: allocating {size} bytes returned None",
                self.thread
            ));
            return None;
        };
        // SAFETY: a fresh block of `size` bytes, this thread's.
        unsafe { p.as_ptr().write_bytes(mark(self.thread), size) };
        Some(Owned {
            ptr: p.as_ptr() as usize,
            size,
        })
    }

    /// True when the block still holds this thread's mark; reports it if not.
    fn intact(&self, block: Owned) -> bool {
        // SAFETY: this thread's live block.
        let bytes = unsafe { std::slice::from_raw_parts(block.ptr as *const u8, block.size) };
        let m = mark(self.thread);
        match bytes.iter().position(|&b| b != m) {
            None => true,
            Some(at) => {
                self.report(format!(
                    "thread {}: byte {at} of its {}-byte block at {:#x} changed from {m:#04x} \
                     to {:#04x}: another thread was given the same memory",
                    self.thread, block.size, block.ptr, bytes[at]
                ));
                false
            }
        }
    }

    /// Reallocates or frees one of the thread's blocks.
    fn change(&self, rng: &mut Rng, owned: &mut Vec<Owned>, choice: usize) -> bool {
        let i = rng.below(owned.len() as u64);
        let block = owned[i];
        if !self.intact(block) {
            return false;
        }
        let ptr = NonNull::new(block.ptr as *mut u8).expect("blocks are not null");
        if choice < 7 {
            let size = rng.below(1200);
            // SAFETY: this thread's live block; replaced below.
            let Some(p) = self.locked(|h| unsafe { h.realloc(ptr, size) }) else {
                self.report(format!(
                    "thread {}: realloc to {size} returned None",
                    self.thread
                ));
                return false;
            };
            // SAFETY: the block now has `size` bytes, this thread's.
            unsafe { p.as_ptr().write_bytes(mark(self.thread), size) };
            owned[i] = Owned {
                ptr: p.as_ptr() as usize,
                size,
            };
        } else {
            owned.swap_remove(i);
            // SAFETY: this thread's live block, freed once.
            self.locked(|h| unsafe { h.free(ptr) });
        }
        true
    }

    fn work(&self, seed: u64, rounds: u32) -> Vec<Owned> {
        let mut rng = Rng(seed | 1);
        let mut owned = Vec::new();
        for _ in 0..rounds {
            let choice = rng.below(10);
            let ok = if choice < 5 || owned.is_empty() {
                self.allocate(&mut rng, choice)
                    .map(|b| owned.push(b))
                    .is_some()
            } else {
                self.change(&mut rng, &mut owned, choice)
            };
            if !ok {
                break;
            }
        }
        owned
    }
}

/// Runs `threads` threads of `rounds` operations each on `heap`; the report
/// lists the blocks they still hold (not freed) and what went wrong.
pub fn run<L: SharedHeap + Sync>(heap: &L, seed: u64, threads: u32, rounds: u32) -> ThreadsReport {
    let inside = AtomicUsize::new(0);
    let problems = Mutex::new(Vec::new());
    let kept: Vec<(u32, Vec<Owned>)> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let worker = Worker {
                    heap,
                    inside: &inside,
                    problems: &problems,
                    thread: t,
                };
                let seed = seed ^ (u64::from(t) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                scope.spawn(move || worker.work(seed, rounds))
            })
            .collect();
        let mut kept = Vec::new();
        for (t, w) in workers.into_iter().enumerate() {
            match w.join() {
                Ok(owned) => kept.push((t as u32, owned)),
                Err(_) => problems
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!("thread {t} panicked")),
            }
        }
        kept
    });
    let live = kept
        .iter()
        .flat_map(|(t, owned)| owned.iter().map(move |b| (*t, b.ptr as u64, b.size as u64)))
        .collect();
    ThreadsReport {
        live,
        problems: problems.into_inner().unwrap_or_else(|e| e.into_inner()),
        operations: u64::from(threads) * u64::from(rounds),
    }
}

/// Frees every block `report` lists, under the lock.
pub fn free_all<L: SharedHeap>(heap: &L, report: &ThreadsReport) {
    for &(_, addr, _) in &report.live {
        if let Some(p) = NonNull::new(addr as usize as *mut u8) {
            // SAFETY: a block a thread of the workload still held, freed once.
            heap.with_heap(|h| unsafe { h.free(p) });
        }
    }
}

/// The shared heap's own view: `stats()` and `free_blocks()`.
pub fn snapshot<L: SharedHeap>(heap: &L) -> Snapshot {
    heap.with_heap(|h| Snapshot {
        stats: Some(wire_stats(h.stats())),
        free_blocks: Some(wire_blocks(&h.free_blocks())),
        usable: None,
    })
}

/// The shared heap as a subject serves it: the workload, and `GlobalAlloc`
/// one call at a time.
pub trait SharedOps {
    fn threads(&mut self, seed: u64, threads: u32, rounds: u32) -> ThreadsReport;
    fn free_all(&mut self);
    fn snapshot(&self) -> Snapshot;
    fn alloc(&self, layout: Layout, zeroed: bool) -> Option<u64>;
    fn dealloc(&self, addr: u64, layout: Layout);
    fn realloc(&self, addr: u64, layout: Layout, new_size: usize) -> Option<u64>;
}

/// The student's shared heap and the blocks the workload left.
pub struct Shared<L> {
    heap: Arc<L>,
    left: ThreadsReport,
}

impl<L> Shared<L> {
    pub fn new(heap: L) -> Self {
        Shared {
            heap: Arc::new(heap),
            left: ThreadsReport::default(),
        }
    }
}

fn pointer(addr: u64) -> *mut u8 {
    std::ptr::with_exposed_provenance_mut(addr as usize)
}

impl<L: SharedHeap + GlobalAlloc + Send + Sync> SharedOps for Shared<L> {
    fn threads(&mut self, seed: u64, threads: u32, rounds: u32) -> ThreadsReport {
        self.left = run(&*self.heap, seed, threads, rounds);
        self.left.clone()
    }

    fn free_all(&mut self) {
        free_all(&*self.heap, &self.left);
        self.left = ThreadsReport::default();
    }

    fn snapshot(&self) -> Snapshot {
        snapshot(&*self.heap)
    }

    fn alloc(&self, layout: Layout, zeroed: bool) -> Option<u64> {
        // SAFETY: the checker asks only for layouts of non-zero size.
        let p = unsafe {
            if zeroed {
                self.heap.alloc_zeroed(layout)
            } else {
                self.heap.alloc(layout)
            }
        };
        (!p.is_null()).then(|| p.expose_provenance() as u64)
    }

    fn dealloc(&self, addr: u64, layout: Layout) {
        // SAFETY: the checker deallocates only blocks this heap gave it,
        // with the layout it asked for them with.
        unsafe { self.heap.dealloc(pointer(addr), layout) };
    }

    fn realloc(&self, addr: u64, layout: Layout, new_size: usize) -> Option<u64> {
        // SAFETY: as for dealloc; new_size is non-zero and fits the alignment.
        let p = unsafe { self.heap.realloc(pointer(addr), layout, new_size) };
        (!p.is_null()).then(|| p.expose_provenance() as u64)
    }
}
