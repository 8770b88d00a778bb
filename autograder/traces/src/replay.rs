//! Replaying a trace: once with every correctness check (and the footprint
//! measured), and once timed, with no checks in the way.
//!
//! The checks are malloc-lab's driver's, and the suites': every block is
//! [`ALIGN`]-byte aligned, lies inside pages the page source really mapped,
//! overlaps no other live block, and keeps its contents (a fill pattern
//! written at allocation) until it is freed or resized; a resize keeps the
//! first `min(old, new)` bytes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use heaplab_kit::{Heap, Realloc, ALIGN};

use crate::footprint::Footprint;
use crate::rep::{OpKind, Trace};
pub use crate::report::{Failure, Sample};

/// What a trace is replayed against: a lesson's heap, or the system allocator.
pub trait Allocator {
    /// Returns a block of at least `size` bytes, or `None`.
    fn alloc(&mut self, size: usize) -> Option<NonNull<u8>>;

    /// Gives back the block at `ptr`, allocated with `size` bytes.
    ///
    /// # Safety
    /// `ptr` came from [`alloc`](Self::alloc) (or [`resize`](Self::resize))
    /// of this allocator with `size` bytes and is not freed since.
    unsafe fn dealloc(&mut self, ptr: NonNull<u8>, size: usize);

    /// True when [`resize`](Self::resize) is the allocator's own; otherwise
    /// the replayer resizes by allocate, copy, free.
    fn resizes(&self) -> bool {
        false
    }

    /// Resizes the block at `ptr` from `old` to `new` bytes, keeping the
    /// first `min(old, new)`. Called only when [`resizes`](Self::resizes).
    ///
    /// # Safety
    /// As for [`dealloc`](Self::dealloc), with `old` the block's size.
    unsafe fn resize(&mut self, ptr: NonNull<u8>, old: usize, new: usize) -> Option<NonNull<u8>> {
        let _ = (ptr, old, new);
        None
    }

    /// The usable size the allocator reports for a live block, if it does.
    ///
    /// # Safety
    /// `ptr` is a live block of this allocator.
    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        let _ = ptr;
        None
    }
}

/// A lesson heap, resized by allocate, copy, free (the kit's heaps have no
/// realloc).
pub struct HeapAllocator<H>(pub H);

impl<H: Heap> Allocator for HeapAllocator<H> {
    fn alloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.0.malloc(size)
    }

    unsafe fn dealloc(&mut self, ptr: NonNull<u8>, _size: usize) {
        // SAFETY: the caller's contract is Heap::free's.
        unsafe { self.0.free(ptr) }
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // SAFETY: ptr is a live block of this heap (the caller's contract).
        unsafe { self.0.usable_size(ptr) }
    }
}

/// A heap with its own [`Realloc`]: the `r` operations call it.
pub struct ReallocAllocator<H>(pub H);

impl<H: Realloc> Allocator for ReallocAllocator<H> {
    fn alloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.0.malloc(size)
    }

    unsafe fn dealloc(&mut self, ptr: NonNull<u8>, _size: usize) {
        // SAFETY: the caller's contract is Heap::free's.
        unsafe { self.0.free(ptr) }
    }

    fn resizes(&self) -> bool {
        true
    }

    unsafe fn resize(&mut self, ptr: NonNull<u8>, _old: usize, new: usize) -> Option<NonNull<u8>> {
        // SAFETY: the caller's contract is Realloc::realloc's.
        unsafe { self.0.realloc(ptr, new) }
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // SAFETY: ptr is a live block of this heap (the caller's contract).
        unsafe { self.0.usable_size(ptr) }
    }
}

/// The system allocator (`malloc`, `realloc`, `free` of the C library), the
/// yardstick for throughput.
pub struct SystemAllocator;

fn layout(size: usize) -> Layout {
    // Sizes are at most rep::MAX_SIZE, so this never fails; 1 byte for
    // malloc(0), as GlobalAlloc does not take zero sizes.
    Layout::from_size_align(size.max(1), ALIGN).expect("trace sizes fit a Layout")
}

impl Allocator for SystemAllocator {
    fn alloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        // SAFETY: the layout's size is non-zero.
        NonNull::new(unsafe { System.alloc(layout(size)) })
    }

    unsafe fn dealloc(&mut self, ptr: NonNull<u8>, size: usize) {
        // SAFETY: ptr was allocated by System with this very layout.
        unsafe { System.dealloc(ptr.as_ptr(), layout(size)) }
    }

    fn resizes(&self) -> bool {
        true
    }

    unsafe fn resize(&mut self, ptr: NonNull<u8>, old: usize, new: usize) -> Option<NonNull<u8>> {
        // SAFETY: ptr was allocated by System with layout(old); the new size
        // is non-zero and fits a Layout.
        NonNull::new(unsafe { System.realloc(ptr.as_ptr(), layout(old), new.max(1)) })
    }
}

/// Samples kept per trace: enough for a plot, small in JSON.
pub const MAX_SAMPLES: usize = 400;

/// What the checked replay measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checked {
    /// Operations done (all of them unless `failure`).
    pub ops_done: usize,
    /// The most payload bytes live at once (sizes the trace asked for).
    pub peak_live: usize,
    /// The most bytes mapped at once, as the page source saw them.
    pub peak_mapped: usize,
    pub timeline: Vec<Sample>,
    /// The first correctness error, which zeroes the trace.
    pub failure: Option<Failure>,
}

impl Checked {
    /// Peak live payload ÷ peak mapped bytes; 0 after a failure. A trace
    /// that never maps anything (nothing live) counts as fully used.
    pub fn utilization(&self) -> f64 {
        if self.failure.is_some() {
            0.0
        } else if self.peak_mapped == 0 {
            if self.peak_live == 0 {
                1.0
            } else {
                0.0
            }
        } else {
            self.peak_live as f64 / self.peak_mapped as f64
        }
    }
}

/// The trace line being replayed right now (0 between traces), so that a
/// crash, a panic or a timeout in the heap can be tied to an operation.
pub static LINE: AtomicUsize = AtomicUsize::new(0);

/// A live block as the replayer knows it.
#[derive(Clone, Copy, Debug)]
struct Live {
    addr: usize,
    size: usize,
    /// Seeds the fill pattern: differs per id and per fill.
    tag: u64,
}

fn pattern(tag: u64, i: usize) -> u8 {
    (tag.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 56) as u8
}

/// Replays `trace` against `alloc` with every check on, measuring the
/// footprint through `pages` (the page source under the heap). Stops at the
/// first error.
pub fn checked<A: Allocator>(trace: &Trace, alloc: &mut A, pages: &dyn Footprint) -> Checked {
    let mut out = Checked::default();
    let mut model = Model::new(trace.num_ids);
    let mut timeline = Timeline::new(trace.ops.len());
    out.timeline.push(timeline.sample);
    for (i, op) in trace.ops.iter().enumerate() {
        LINE.store(op.line, Ordering::Relaxed);
        let step = model
            .apply(alloc, pages, op.kind)
            .and_then(|()| pages.misuse().map_or(Ok(()), Err));
        if let Err(message) = step {
            out.failure = Some(Failure {
                line: op.line,
                op: op.kind.to_string(),
                message,
            });
            break;
        }
        out.ops_done = i + 1;
        let mapped = pages.mapped_bytes();
        out.peak_live = out.peak_live.max(model.live_bytes);
        out.peak_mapped = out.peak_mapped.max(mapped);
        timeline.add(&mut out.timeline, i + 1, mapped, model.live_bytes);
    }
    out
}

/// The replayer's view of the heap: the live blocks by id and by address.
struct Model {
    blocks: Vec<Option<Live>>,
    /// Live blocks by address: start → (end, id), for the overlap check.
    by_addr: BTreeMap<usize, (usize, usize)>,
    live_bytes: usize,
    /// Fills so far: each fill gets a pattern of its own.
    fills: u64,
}

impl Model {
    fn new(num_ids: usize) -> Self {
        Model {
            blocks: vec![None; num_ids],
            by_addr: BTreeMap::new(),
            live_bytes: 0,
            fills: 0,
        }
    }

    /// Does `kind` on the heap and on the model, checking the blocks it
    /// touches; the error says what went wrong.
    fn apply<A: Allocator>(
        &mut self,
        alloc: &mut A,
        pages: &dyn Footprint,
        kind: OpKind,
    ) -> Result<(), String> {
        match kind {
            OpKind::Alloc { id, size } => {
                let addr = place(alloc, pages, &self.by_addr, size, "malloc")?;
                self.filled(id, addr, size);
                Ok(())
            }
            OpKind::Free { id } => {
                let Some(block) = self.blocks[id].take() else {
                    unreachable!("the parser rejects freeing a block that is not live")
                };
                verify(&block, block.size, id)?;
                self.by_addr.remove(&block.addr);
                self.live_bytes -= block.size;
                // SAFETY: block.addr came from alloc with block.size bytes
                // and is live (the replayer tracks every block).
                unsafe { alloc.dealloc(nonnull(block.addr), block.size) };
                Ok(())
            }
            OpKind::Realloc { id, size } => {
                let Some(block) = self.blocks[id] else {
                    unreachable!("the parser rejects resizing a block that is not live")
                };
                verify(&block, block.size, id)?;
                let addr = resize(alloc, pages, &mut self.by_addr, block, size, id)?;
                self.live_bytes -= block.size;
                self.filled(id, addr, size);
                Ok(())
            }
        }
    }

    /// Block `id` is now `[addr, addr + size)`: filled with a fresh pattern,
    /// and live.
    fn filled(&mut self, id: usize, addr: usize, size: usize) {
        self.fills += 1;
        let tag = mix(id as u64, self.fills);
        fill(addr, size, tag);
        self.by_addr.insert(addr, (addr + size.max(1), id));
        self.blocks[id] = Some(Live { addr, size, tag });
        self.live_bytes += size;
    }
}

/// The timeline's samples: the peaks of each bucket of operations, at most
/// [`MAX_SAMPLES`] of them.
struct Timeline {
    /// Operations per sample.
    bucket: usize,
    /// Operations in all.
    ops: usize,
    /// The bucket being filled.
    sample: Sample,
}

impl Timeline {
    fn new(ops: usize) -> Self {
        Timeline {
            bucket: ops.div_ceil(MAX_SAMPLES).max(1),
            ops,
            sample: Sample {
                op: 0,
                mapped: 0,
                live: 0,
            },
        }
    }

    /// After operation `done` (counted from 1), with `mapped` and `live`
    /// bytes: pushes a sample to `samples` when a bucket is full.
    fn add(&mut self, samples: &mut Vec<Sample>, done: usize, mapped: usize, live: usize) {
        self.sample.mapped = self.sample.mapped.max(mapped);
        self.sample.live = self.sample.live.max(live);
        if done.is_multiple_of(self.bucket) || done == self.ops {
            self.sample.op = done;
            samples.push(self.sample);
            self.sample = Sample {
                op: done,
                mapped,
                live,
            };
        }
    }
}

/// Allocates `size` bytes and checks the block: aligned, inside mapped
/// pages, overlapping no live block.
fn place<A: Allocator>(
    alloc: &mut A,
    pages: &dyn Footprint,
    by_addr: &BTreeMap<usize, (usize, usize)>,
    size: usize,
    call: &str,
) -> Result<usize, String> {
    let Some(ptr) = alloc.alloc(size) else {
        return Err(format!(
            "{call}({size}) returned None (out of memory) with {} bytes mapped",
            pages.mapped_bytes()
        ));
    };
    check_block(alloc, pages, by_addr, ptr, size, call)
}

fn check_block<A: Allocator>(
    alloc: &A,
    pages: &dyn Footprint,
    by_addr: &BTreeMap<usize, (usize, usize)>,
    ptr: NonNull<u8>,
    size: usize,
    call: &str,
) -> Result<usize, String> {
    let addr = ptr.as_ptr() as usize;
    if !addr.is_multiple_of(ALIGN) {
        return Err(format!(
            "{call}({size}) returned {addr:#x}, which is not {ALIGN}-byte aligned (it is {} bytes past a multiple of {ALIGN})",
            addr % ALIGN
        ));
    }
    if !pages.is_mapped(addr, size) {
        return Err(format!(
            "{call}({size}) returned [{addr:#x}, {:#x}), which is not inside pages the heap mapped",
            addr.wrapping_add(size)
        ));
    }
    // The nearest live block at or below addr must end by addr; the nearest
    // above must start at or after the new block's end. A zero-byte block
    // counts as one byte, so two live malloc(0) pointers must differ.
    let end = addr + size.max(1);
    let below = by_addr.range(..=addr).next_back();
    let above = by_addr.range(addr..).next();
    for (&start, &(stop, other)) in below.into_iter().chain(above) {
        if start < end && addr < stop {
            return Err(format!(
                "{call}({size}) returned [{addr:#x}, {end:#x}), which overlaps live block {other} at [{start:#x}, {stop:#x})"
            ));
        }
    }
    // SAFETY: the block was just returned by alloc and is live.
    if let Some(usable) = unsafe { alloc.usable_size(ptr) } {
        if usable < size {
            return Err(format!(
                "{call}({size}) returned a block whose usable_size is only {usable} bytes"
            ));
        }
    }
    Ok(addr)
}

/// Resizes `block` to `size` bytes: the allocator's own resize if it has
/// one, else allocate, copy, free. Checks the new block like a new one and
/// that the first `min(old, new)` bytes were kept.
fn resize<A: Allocator>(
    alloc: &mut A,
    pages: &dyn Footprint,
    by_addr: &mut BTreeMap<usize, (usize, usize)>,
    block: Live,
    size: usize,
    id: usize,
) -> Result<usize, String> {
    let kept = block.size.min(size);
    let addr = if alloc.resizes() {
        by_addr.remove(&block.addr);
        // SAFETY: block is live, allocated with block.size bytes.
        let Some(ptr) = (unsafe { alloc.resize(nonnull(block.addr), block.size, size) }) else {
            return Err(format!(
                "realloc(block {id}, {size}) returned None (out of memory)"
            ));
        };
        check_block(alloc, pages, by_addr, ptr, size, "realloc")?
    } else {
        // The old block stays live (and checked against) until the copy is done.
        let addr = place(alloc, pages, by_addr, size, "malloc")?;
        // SAFETY: both blocks are live, inside mapped pages, and do not
        // overlap (checked); kept fits both.
        unsafe { std::ptr::copy_nonoverlapping(block.addr as *const u8, addr as *mut u8, kept) };
        by_addr.remove(&block.addr);
        // SAFETY: block is live, allocated with block.size bytes; nothing
        // uses it after this.
        unsafe { alloc.dealloc(nonnull(block.addr), block.size) };
        addr
    };
    let moved = Live { addr, ..block };
    verify(&moved, kept, id).map_err(|m| format!("after the resize, {m}"))?;
    Ok(addr)
}

/// Writes block `tag`'s pattern over `[addr, addr + size)`.
fn fill(addr: usize, size: usize, tag: u64) {
    // SAFETY: the block was checked to lie in mapped pages and to overlap no
    // other live block, so the replayer owns these bytes.
    let bytes = unsafe { std::slice::from_raw_parts_mut(addr as *mut u8, size) };
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = pattern(tag, i);
    }
}

/// Checks that the first `len` bytes of `block` still hold its pattern.
fn verify(block: &Live, len: usize, id: usize) -> Result<(), String> {
    // SAFETY: the block is live and was checked when placed.
    let bytes = unsafe { std::slice::from_raw_parts(block.addr as *const u8, len) };
    match bytes
        .iter()
        .enumerate()
        .find(|&(i, &b)| b != pattern(block.tag, i))
    {
        None => Ok(()),
        Some((i, &b)) => Err(format!(
            "block {id} ({} bytes at {:#x}) changed while it was allocated: byte {i} is {b:#04x}, expected {:#04x} (does the heap write a header or a free-list link into a live block?)",
            block.size,
            block.addr,
            pattern(block.tag, i)
        )),
    }
}

fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn nonnull(addr: usize) -> NonNull<u8> {
    NonNull::new(addr as *mut u8).expect("live blocks are never null")
}

/// Replays `trace` against `alloc` with no checks and returns the time it
/// took. Blocks still live at the end are freed after the clock stops.
/// Fails if the allocator runs out of memory.
pub fn timed<A: Allocator>(trace: &Trace, alloc: &mut A) -> Result<Duration, Failure> {
    let mut blocks: Vec<(usize, usize)> = vec![(0, 0); trace.num_ids];
    let start = Instant::now();
    for op in &trace.ops {
        LINE.store(op.line, Ordering::Relaxed);
        match op.kind {
            OpKind::Alloc { id, size } => match alloc.alloc(size) {
                Some(p) => blocks[id] = (p.as_ptr() as usize, size),
                None => return Err(out_of_memory(op.line, "a", id, size)),
            },
            OpKind::Free { id } => {
                let (addr, size) = std::mem::take(&mut blocks[id]);
                // SAFETY: the parser guarantees id is live; addr came from alloc with size bytes.
                unsafe { alloc.dealloc(nonnull(addr), size) };
            }
            OpKind::Realloc { id, size } => {
                let (addr, old) = blocks[id];
                let new = if alloc.resizes() {
                    // SAFETY: id is live with `old` bytes.
                    unsafe { alloc.resize(nonnull(addr), old, size) }
                } else {
                    alloc.alloc(size).inspect(|p| {
                        // SAFETY: two distinct live blocks (the checked replay
                        // showed this heap never overlaps them); the copy fits both.
                        unsafe {
                            std::ptr::copy_nonoverlapping(
                                addr as *const u8,
                                p.as_ptr(),
                                old.min(size),
                            )
                        };
                        // SAFETY: id's old block is live with `old` bytes.
                        unsafe { alloc.dealloc(nonnull(addr), old) };
                    })
                };
                match new {
                    Some(p) => blocks[id] = (p.as_ptr() as usize, size),
                    None => return Err(out_of_memory(op.line, "r", id, size)),
                }
            }
        }
    }
    let elapsed = start.elapsed();
    for (addr, size) in blocks {
        if addr != 0 {
            // SAFETY: still live, allocated with size bytes.
            unsafe { alloc.dealloc(nonnull(addr), size) };
        }
    }
    Ok(elapsed)
}

fn out_of_memory(line: usize, op: &str, id: usize, size: usize) -> Failure {
    Failure {
        line,
        op: format!("{op} {id} {size}"),
        message: format!("the timed replay ran out of memory asking for {size} bytes"),
    }
}
