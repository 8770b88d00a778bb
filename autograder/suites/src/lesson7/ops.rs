//! `realloc`, `calloc` and aligned blocks, checked against a model.
//!
//! A random sequence of C-style calls runs on the student's heap over the
//! grader's instrumented pages. After every call: each live block is aligned
//! as asked, inside mapped pages, apart from the others and still holding
//! the bytes the model says it holds; every free chunk is inside mapped pages
//! and touches no live block; the free-list length matches the walk; the
//! page-source contract holds. On failure proptest shrinks the sequence and
//! the message shows it, with a picture of the heap.

use std::fmt;
use std::ptr::NonNull;
use std::rc::Rc;

use heaplab_kit::{align_up, FullHeap};
use proptest::prelude::*;

use crate::alloc::{letter, pattern, Failure, InstrumentedPages, PageLog, Picture};
use crate::cases;
use crate::harness::{Ctx, Test};
use crate::remote::StudentStopped;

/// Header bytes in front of every payload (the course's block layout).
const HEADER: usize = 16;

/// One call of a sequence. Indexes pick a live block modulo their number.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Malloc(usize),
    /// `calloc(n, size)`.
    Calloc(usize, usize),
    /// A block of `size` bytes aligned to `1 << shift`.
    Aligned(u32, usize),
    /// `realloc(block, size)`.
    Realloc(usize, usize),
    Free(usize),
    /// Fill the block with its pattern.
    Write(usize),
}

/// What a property draws and expects.
#[derive(Clone, Copy)]
struct Rules {
    /// Weights of malloc, calloc, aligned, realloc, free, write.
    weights: [u32; 6],
    /// Expect `realloc` to stay in place when shrinking, or when the chunk
    /// right after the block is free, in the same mapping, and big enough.
    in_place: bool,
    /// Largest alignment shift drawn (12: a 4 KiB page).
    max_shift: u32,
}

/// A live block of the model.
struct Live {
    id: usize,
    addr: usize,
    size: usize,
    align: usize,
    /// The bytes the block must hold from its start (zeros after calloc, the
    /// pattern after a write, the kept prefix after realloc).
    bytes: Vec<u8>,
}

/// A heap under test with its model and transcript.
struct Run<H> {
    heap: H,
    log: PageLog,
    live: Vec<Live>,
    next_id: usize,
    transcript: Vec<String>,
    rules: Rules,
}

fn name(id: usize) -> String {
    format!("a{id}")
}

/// The chunk size a request of `size` bytes needs (lessons 3 to 6).
fn chunk_bytes_for(size: usize) -> Option<usize> {
    align_up(size.checked_add(HEADER)?, 16).map(|n| n.max(32))
}

impl<H: FullHeap> Run<H> {
    fn new(make: &dyn Fn(InstrumentedPages) -> H, rules: Rules) -> Result<Self, Failure> {
        let pages = InstrumentedPages::new();
        let log = pages.log();
        let heap = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| make(pages))).map_err(
            |payload| match payload.downcast::<StudentStopped>() {
                Ok(stopped) => stopped.failure(),
                Err(_) => Failure::text("making the heap (new) panicked"),
            },
        )?;
        Ok(Run {
            heap,
            log,
            live: Vec::new(),
            next_id: 0,
            transcript: Vec::new(),
            rules,
        })
    }

    /// The full failure: what, expected, found, operations, picture.
    fn fail(
        &self,
        what: impl fmt::Display,
        expected: impl fmt::Display,
        found: impl fmt::Display,
    ) -> Failure {
        self.with_context(Failure::new(
            what.to_string(),
            expected.to_string(),
            found.to_string(),
        ))
    }

    /// Adds the operations so far and a picture of the pages to `failure`.
    fn with_context(&self, mut failure: Failure) -> Failure {
        let mut picture = Picture::new(&self.log);
        for b in self.heap.free_blocks() {
            picture.paint(b.addr, b.size, '-');
        }
        for l in &self.live {
            picture.paint(l.addr - HEADER, HEADER, 'H');
            picture.paint_block(l.addr, l.size.max(1), letter(l.id));
            picture.name(letter(l.id), format!("a{}", l.id));
        }
        picture.legend("- free chunk");
        picture.legend("H header");
        failure.step = self
            .transcript
            .last()
            .map(|last| (self.transcript.len(), last.clone()));
        failure.operations = self.transcript.clone();
        let caption = if failure.stopped.is_some() {
            "pages as the student's process left them"
        } else {
            "pages"
        };
        failure
            .pictures
            .push((caption.to_string(), picture.render()));
        failure
    }

    /// [`apply`](Self::apply), with a stop of the student's process (or a
    /// panic of its code) turned into a failure at that step.
    fn apply_guarded(&mut self, op: Op) -> Result<(), Failure> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.apply(op))) {
            Ok(result) => result,
            Err(payload) => Err(match payload.downcast::<StudentStopped>() {
                Ok(stopped) => self.with_context(stopped.failure()),
                Err(other) => {
                    let text = other
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| other.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "a panic".into());
                    self.fail("the heap panicked", "no panic", text)
                }
            }),
        }
    }

    fn record(&mut self, line: String) {
        self.transcript.push(line);
    }

    fn add(&mut self, ptr: NonNull<u8>, size: usize, align: usize, bytes: Vec<u8>) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        self.live.push(Live {
            id,
            addr: ptr.as_ptr() as usize,
            size,
            align,
            bytes,
        });
        id
    }

    fn apply(&mut self, op: Op) -> Result<(), Failure> {
        let n = self.live.len();
        match op {
            Op::Malloc(size) => {
                let id = self.next_id;
                self.record(format!("{} = malloc({size})", name(id)));
                match self.heap.malloc(size) {
                    Some(p) => {
                        self.add(p, size, 16, Vec::new());
                    }
                    None => {
                        return Err(self.fail(
                            format!("malloc({size}) returned None"),
                            "a block (no map was refused)",
                            "None",
                        ))
                    }
                }
            }
            Op::Calloc(count, size) => {
                let id = self.next_id;
                self.record(format!("{} = calloc({count}, {size})", name(id)));
                let result = self.heap.calloc(count, size);
                match (count.checked_mul(size), result) {
                    (None, None) => {}
                    (None, Some(_)) => {
                        return Err(self.fail(
                            format!("calloc({count}, {size}) returned a block"),
                            "None: count × size overflows usize, so no block can hold it",
                            "a block (of the wrapped-around size?)",
                        ))
                    }
                    (Some(total), None) => {
                        return Err(self.fail(
                            format!("calloc({count}, {size}) returned None"),
                            format!("a block of {total} zero bytes"),
                            "None",
                        ))
                    }
                    (Some(total), Some(p)) => {
                        self.add(p, total, 16, vec![0; total]);
                    }
                }
            }
            Op::Aligned(shift, size) => {
                let align = 1usize << shift;
                let id = self.next_id;
                self.record(format!("{} = aligned({align}, {size})", name(id)));
                match self.heap.malloc_aligned(align, size) {
                    Some(p) => {
                        self.add(p, size, align, Vec::new());
                    }
                    None => {
                        return Err(self.fail(
                            format!("aligned({align}, {size}) returned None"),
                            "a block (no map was refused)",
                            "None",
                        ))
                    }
                }
            }
            Op::Realloc(_, _) | Op::Free(_) | Op::Write(_) if n == 0 => {}
            Op::Realloc(i, size) => self.realloc(i % n, size)?,
            Op::Free(i) => {
                let block = self.live.remove(i % n);
                self.record(format!("free({})", name(block.id)));
                let ptr = NonNull::new(block.addr as *mut u8).expect("non-null");
                // SAFETY: a live block of this heap, freed once.
                unsafe { self.heap.free(ptr) };
            }
            Op::Write(i) => {
                let block = &mut self.live[i % n];
                let bytes = pattern(block.id, block.size);
                // SAFETY: the test owns the block's `size` bytes.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        bytes.as_ptr(),
                        block.addr as *mut u8,
                        bytes.len(),
                    )
                };
                block.bytes = bytes;
                let line = format!("write({})", name(block.id));
                self.record(line);
            }
        }
        self.check()
    }

    fn realloc(&mut self, index: usize, size: usize) -> Result<(), Failure> {
        let (old_id, old_addr, old_size) = {
            let b = &self.live[index];
            (b.id, b.addr, b.size)
        };
        let new_id = self.next_id;
        self.record(format!(
            "{} = realloc({}, {size})",
            name(new_id),
            name(old_id)
        ));
        let ptr = NonNull::new(old_addr as *mut u8).expect("non-null");
        // What the heap's own layout says should happen in place.
        // SAFETY: a live block of this heap.
        let usable = unsafe { self.heap.usable_size(ptr) };
        let mut reason = None;
        if let (true, Some(usable), Some(need)) =
            (self.rules.in_place, usable, chunk_bytes_for(size))
        {
            let chunk = old_addr - HEADER;
            let chunk_bytes = usable + HEADER;
            // Only small chunks: a big one may rightly move to the free list
            // when it shrinks, to give its pages back.
            if need <= chunk_bytes && chunk_bytes < self.log.page_size() {
                reason = Some(format!(
                    "the block shrinks ({chunk_bytes}-byte chunk, {need} needed)"
                ));
            } else if let Some(next) = self
                .heap
                .free_blocks()
                .into_iter()
                .find(|b| b.addr == chunk + chunk_bytes)
            {
                let joined = chunk_bytes + next.size;
                if joined >= need && self.log.mapping_holding(chunk, joined).is_some() {
                    reason = Some(format!(
                        "the {}-byte chunk right after it at {:#x} is free: {chunk_bytes} + {} >= {need}",
                        next.size, next.addr, next.size
                    ));
                }
            }
        }
        // SAFETY: a live block of this heap; on Some, the old one is gone.
        let Some(new) = (unsafe { self.heap.realloc(ptr, size) }) else {
            return Err(self.fail(
                format!("realloc({}, {size}) returned None", name(old_id)),
                "a block (no map was refused)",
                "None",
            ));
        };
        let new_addr = new.as_ptr() as usize;
        if let Some(reason) = reason {
            if new_addr != old_addr {
                return Err(self.fail(
                    format!("realloc({}, {size}) moved the block", name(old_id)),
                    format!("the same address {old_addr:#x}: {reason}"),
                    format!("a new block at {new_addr:#x}"),
                ));
            }
        }
        let mut block = self.live.remove(index);
        let kept = block.bytes.len().min(size);
        block.bytes.truncate(kept);
        // SAFETY: the new block has at least `size` >= kept bytes.
        let now = unsafe { std::slice::from_raw_parts(new.as_ptr(), kept) };
        if now != block.bytes.as_slice() {
            let at = now
                .iter()
                .zip(&block.bytes)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let (want, got) = (block.bytes[at], now[at]);
            self.live.push(Live {
                addr: new_addr,
                size,
                align: 16,
                ..block
            });
            return Err(self.fail(
                format!(
                    "realloc({}, {size}) lost the block's contents (old size {old_size})",
                    name(old_id)
                ),
                format!("the first {kept} bytes kept; byte {at} = {want:#04x}"),
                format!("byte {at} = {got:#04x}"),
            ));
        }
        self.next_id += 1;
        self.live.push(Live {
            id: new_id,
            addr: new_addr,
            size,
            align: 16,
            bytes: block.bytes,
        });
        Ok(())
    }

    /// The checks run after every operation.
    fn check(&self) -> Result<(), Failure> {
        if let Some(v) = self.log.violations().first() {
            return Err(self.fail(
                "the heap broke the page source's contract",
                "exact unmaps of whole mappings",
                v,
            ));
        }
        for b in &self.live {
            let align = b.align.max(16);
            if !b.addr.is_multiple_of(align) {
                return Err(self.fail(
                    format!("{} is misaligned", name(b.id)),
                    format!("an address that is a multiple of {align}"),
                    format!("{:#x}", b.addr),
                ));
            }
            if self
                .log
                .mapping_holding(b.addr - HEADER, HEADER + b.size.max(1))
                .is_none()
            {
                return Err(self.fail(
                    format!("{} is not inside mapped pages", name(b.id)),
                    "its header and payload inside one live mapping",
                    format!("[{:#x}, {:#x})", b.addr - HEADER, b.addr + b.size),
                ));
            }
            let ptr = NonNull::new(b.addr as *mut u8).expect("non-null");
            // SAFETY: a live block of this heap.
            if let Some(usable) = unsafe { self.heap.usable_size(ptr) } {
                if usable < b.size {
                    return Err(self.fail(
                        format!("{} is too small", name(b.id)),
                        format!("usable_size >= {}", b.size),
                        usable,
                    ));
                }
            }
            // SAFETY: the test owns the block's bytes.
            let now = unsafe { std::slice::from_raw_parts(b.addr as *const u8, b.bytes.len()) };
            if let Some(at) = now.iter().zip(&b.bytes).position(|(x, y)| x != y) {
                return Err(self.fail(
                    format!("{} does not hold what it should", name(b.id)),
                    format!(
                        "byte {at} = {:#04x} (zeros after calloc, the pattern after a write)",
                        b.bytes[at]
                    ),
                    format!("byte {at} = {:#04x}", now[at]),
                ));
            }
        }
        let mut spans: Vec<(usize, usize, String)> = self
            .live
            .iter()
            .map(|b| (b.addr - HEADER, b.addr + b.size.max(1), name(b.id)))
            .collect();
        let blocks = self.heap.free_blocks();
        for f in &blocks {
            if self.log.mapping_holding(f.addr, f.size).is_none() {
                return Err(self.fail(
                    "a free chunk is outside mapped pages",
                    "every free chunk inside one live mapping",
                    format!("[{:#x}, {:#x})", f.addr, f.end()),
                ));
            }
            spans.push((f.addr, f.end(), format!("the free chunk at {:#x}", f.addr)));
        }
        spans.sort();
        for pair in spans.windows(2) {
            if pair[0].1 > pair[1].0 {
                return Err(self.fail(
                    format!("{} overlaps {}", pair[0].2, pair[1].2),
                    "live blocks (with their headers) and free chunks apart",
                    format!(
                        "[{:#x}, {:#x}) and [{:#x}, {:#x})",
                        pair[0].0, pair[0].1, pair[1].0, pair[1].1
                    ),
                ));
            }
        }
        let length = self.heap.stats().free_length;
        if length != blocks.len() {
            return Err(self.fail(
                "stats().free_length is off",
                format!("{} (the free-list walk)", blocks.len()),
                length,
            ));
        }
        Ok(())
    }

    fn free_all(&mut self) -> Result<(), Failure> {
        while !self.live.is_empty() {
            self.apply_guarded(Op::Free(0))?;
        }
        Ok(())
    }
}

/// Sizes: mostly small, some medium, a few of a page or more (lesson 6's
/// big path).
fn size() -> BoxedStrategy<usize> {
    prop_oneof![
        4 => 0usize..=64,
        3 => 65usize..=1024,
        1 => 1025usize..=4000,
        1 => 4000usize..=20_000,
    ]
    .boxed()
}

fn op(rules: Rules) -> BoxedStrategy<Op> {
    let [malloc, calloc, aligned, realloc, free, write] = rules.weights;
    let max_shift = rules.max_shift;
    // Overflowing products that wrap around to a small number, the
    // dangerous kind: (usize::MAX / k + 1 + j) * k is a little over 2^64.
    let wrapping = (2usize..=64, 0usize..16).prop_map(|(k, j)| (usize::MAX / k + 1 + j, k));
    let calloc_args = prop_oneof![
        8 => (0usize..=16, 0usize..=300),
        1 => wrapping,
    ];
    let ops: Vec<(u32, BoxedStrategy<Op>)> = vec![
        (malloc, size().prop_map(Op::Malloc).boxed()),
        (
            calloc,
            calloc_args.prop_map(|(n, s)| Op::Calloc(n, s)).boxed(),
        ),
        (
            aligned,
            (4u32..=max_shift, size())
                .prop_map(|(a, s)| Op::Aligned(a, s))
                .boxed(),
        ),
        (
            realloc,
            (0usize..64, size())
                .prop_map(|(i, s)| Op::Realloc(i, s))
                .boxed(),
        ),
        (free, (0usize..64).prop_map(Op::Free).boxed()),
        (write, (0usize..64).prop_map(Op::Write).boxed()),
    ];
    let ops: Vec<_> = ops.into_iter().filter(|(w, _)| *w > 0).collect();
    proptest::strategy::Union::new_weighted(ops).boxed()
}

/// Runs `rules` over random sequences drawn from the seed.
fn property<H: FullHeap>(
    ctx: &Ctx,
    test: &str,
    make: &dyn Fn(InstrumentedPages) -> H,
    rules: Rules,
) -> Result<(), Failure> {
    let cases = if cfg!(miri) { 4 } else { 96 };
    let mut runner = cases::runner(ctx.seed, test, cases, 2048, *b"heaplab lesson 7");
    let strategy = proptest::collection::vec(op(rules), 1..=40);
    let found = |ops: &Vec<Op>| {
        format!(
            "(shortest failing sequence found: {} operations)",
            ops.len()
        )
    };
    cases::run(&mut runner, &strategy, found, |ops| {
        let mut run = Run::new(make, rules)?;
        for op in ops {
            run.apply_guarded(op)?;
        }
        run.free_all()
    })
}

/// Lesson 7's single-threaded tests on the instrumented pages.
pub fn tests<H: FullHeap + 'static, F: Fn(InstrumentedPages) -> H + 'static>(
    make: &Rc<F>,
) -> Vec<Test> {
    let props: [(&'static str, Rules); 4] = [
        (
            "realloc_keeps_contents",
            Rules {
                weights: [4, 0, 0, 5, 2, 3],
                in_place: false,
                max_shift: 4,
            },
        ),
        (
            "realloc_grows_and_shrinks_in_place",
            Rules {
                weights: [4, 0, 0, 5, 3, 2],
                in_place: true,
                max_shift: 4,
            },
        ),
        (
            "calloc_zeroes_and_refuses_overflow",
            Rules {
                weights: [3, 4, 0, 0, 3, 3],
                in_place: false,
                max_shift: 4,
            },
        ),
        (
            "aligned_blocks_from_16_bytes_to_a_page",
            Rules {
                weights: [2, 0, 5, 2, 3, 3],
                in_place: false,
                max_shift: 12,
            },
        ),
    ];
    let mut tests: Vec<Test> = props
        .into_iter()
        .map(|(test, rules)| {
            let make = make.clone();
            Test::new(test, move |ctx| property(ctx, test, &*make, rules))
        })
        .collect();
    let make = make.clone();
    tests.push(Test::new("out_of_memory_returns_none", move |_| {
        out_of_memory(&*make)
    }));
    tests
}

/// When the page source refuses, each call returns `None` and leaves the
/// block it was given (realloc) intact and usable.
fn out_of_memory<H: FullHeap>(make: &dyn Fn(InstrumentedPages) -> H) -> Result<(), Failure> {
    let rules = Rules {
        weights: [0; 6],
        in_place: false,
        max_shift: 12,
    };
    let mut run = Run::new(make, rules)?;
    run.apply(Op::Malloc(100))?;
    run.apply(Op::Write(0))?;
    run.apply(Op::Malloc(100))?; // a neighbour in use: growing a0 must move it
    run.log.refuse_all_maps(true);
    run.record("(the page source refuses every map from here on)".to_string());
    let ptr = NonNull::new(run.live[0].addr as *mut u8).expect("non-null");
    type Call<H> = Box<dyn Fn(&mut H) -> Option<NonNull<u8>>>;
    let calls: [(&str, Call<H>); 4] = [
        // SAFETY: a0 is live; on None it stays live.
        (
            "a2 = realloc(a0, 1000000)",
            Box::new(move |h: &mut H| unsafe { h.realloc(ptr, 1_000_000) }),
        ),
        (
            "a2 = calloc(1000, 1000)",
            Box::new(|h: &mut H| h.calloc(1000, 1000)),
        ),
        (
            "a2 = aligned(4096, 100000)",
            Box::new(|h: &mut H| h.malloc_aligned(4096, 100_000)),
        ),
        (
            "a2 = malloc(1000000)",
            Box::new(|h: &mut H| h.malloc(1_000_000)),
        ),
    ];
    for (line, call) in calls {
        run.record(line.to_string());
        if let Some(p) = call(&mut run.heap) {
            return Err(run.fail(
                format!("{line} returned a block"),
                "None: the page source refused, and nothing free is big enough",
                format!("{:#x}", p.as_ptr() as usize),
            ));
        }
        run.check()?;
    }
    run.log.refuse_all_maps(false);
    run.record("(the page source maps again)".to_string());
    run.apply(Op::Realloc(0, 50))?;
    run.free_all()
}
