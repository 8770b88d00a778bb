//! A heap under test with its model of live blocks and its transcript, and
//! the calls of a sequence applied to both.

use std::fmt;
use std::ptr::NonNull;

use heaplab_kit::{FullHeap, ALIGN};

use super::{Layout, Op, Rules};
use crate::alloc::{letter, pattern, Failure, InstrumentedPages, PageLog, Picture};
use crate::remote::StudentStopped;

/// A live block of the model.
pub(super) struct Live {
    pub id: usize,
    pub addr: usize,
    pub size: usize,
    pub align: usize,
    /// The bytes the block must hold from its start (zeros after calloc, the
    /// pattern after a write, the kept prefix after realloc).
    pub bytes: Vec<u8>,
}

/// A heap under test with its model and transcript.
pub(super) struct Run<H> {
    pub heap: H,
    pub log: PageLog,
    pub live: Vec<Live>,
    pub next_id: usize,
    pub transcript: Vec<String>,
    pub rules: Rules,
}

/// A block's name in the transcript and in messages.
pub(super) fn name(id: usize) -> String {
    format!("a{id}")
}

impl<H: FullHeap> Run<H> {
    pub fn new(make: &dyn Fn(InstrumentedPages) -> H, rules: Rules) -> Result<Self, Failure> {
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
    pub fn fail(
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
    pub fn with_context(&self, mut failure: Failure) -> Failure {
        let mut picture = Picture::new(&self.log);
        let header = self.rules.header();
        if self.rules.layout == Layout::Headers {
            for b in self.heap.free_blocks() {
                picture.paint(b.addr, b.size, '-');
            }
            picture.legend("- free chunk");
            picture.legend("H header");
        }
        for l in &self.live {
            picture.paint(l.addr - header, header, 'H');
            picture.paint_block(l.addr, l.size.max(1), letter(l.id));
            picture.name(letter(l.id), format!("a{}", l.id));
        }
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
    pub fn apply_guarded(&mut self, op: Op) -> Result<(), Failure> {
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

    pub fn record(&mut self, line: String) {
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

    /// `Ok` when a call returned `None` because the page source refused a
    /// map since `refusals` (the count before the call); else the failure.
    pub(super) fn none_allowed(&self, refusals: usize, call: &str) -> Result<(), Failure> {
        if self.log.refusals() > refusals {
            return Ok(());
        }
        Err(self.fail(
            format!("{call} returned None"),
            "a block (no map was refused)",
            "None",
        ))
    }

    /// Applies `op` to the heap and the model, then runs the checks.
    pub fn apply(&mut self, op: Op) -> Result<(), Failure> {
        let n = self.live.len();
        match op {
            Op::RefuseNextMap => {
                self.record("(the page source refuses its next map)".to_string());
                self.log.fail_next_map();
            }
            Op::Malloc(size) => self.malloc(size)?,
            Op::Calloc(count, size) => self.calloc(count, size)?,
            Op::Aligned(shift, size) => self.aligned(shift, size)?,
            Op::Realloc(_, _) | Op::Free(_) | Op::Write(_) if n == 0 => {}
            Op::Realloc(i, size) => self.realloc(i % n, size)?,
            Op::Free(i) => self.free(i % n),
            Op::Write(i) => self.write(i % n),
        }
        self.check()
    }

    fn malloc(&mut self, size: usize) -> Result<(), Failure> {
        let id = self.next_id;
        self.record(format!("{} = malloc({size})", name(id)));
        let refusals = self.log.refusals();
        match self.heap.malloc(size) {
            Some(p) => {
                self.add(p, size, ALIGN, Vec::new());
                Ok(())
            }
            None => self.none_allowed(refusals, &format!("malloc({size})")),
        }
    }

    fn calloc(&mut self, count: usize, size: usize) -> Result<(), Failure> {
        let id = self.next_id;
        self.record(format!("{} = calloc({count}, {size})", name(id)));
        let refusals = self.log.refusals();
        let result = self.heap.calloc(count, size);
        match (count.checked_mul(size), result) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(self.fail(
                format!("calloc({count}, {size}) returned a block"),
                "None: count × size overflows usize, so no block can hold it",
                "a block (of the wrapped-around size?)",
            )),
            (Some(_), None) if self.log.refusals() > refusals => Ok(()),
            (Some(total), None) => Err(self.fail(
                format!("calloc({count}, {size}) returned None"),
                format!("a block of {total} zero bytes (no map was refused)"),
                "None",
            )),
            (Some(total), Some(p)) => {
                self.add(p, total, ALIGN, vec![0; total]);
                Ok(())
            }
        }
    }

    fn aligned(&mut self, shift: u32, size: usize) -> Result<(), Failure> {
        let align = 1usize << shift;
        let id = self.next_id;
        self.record(format!("{} = aligned({align}, {size})", name(id)));
        let refusals = self.log.refusals();
        match self.heap.malloc_aligned(align, size) {
            Some(p) => {
                self.add(p, size, align, Vec::new());
                Ok(())
            }
            None => self.none_allowed(refusals, &format!("aligned({align}, {size})")),
        }
    }

    fn free(&mut self, index: usize) {
        let block = self.live.remove(index);
        self.record(format!("free({})", name(block.id)));
        let ptr = NonNull::new(block.addr as *mut u8).expect("non-null");
        // SAFETY: a live block of this heap, freed once.
        unsafe { self.heap.free(ptr) };
    }

    fn write(&mut self, index: usize) {
        let block = &mut self.live[index];
        let bytes = pattern(block.id, block.size);
        // SAFETY: the test owns the block's `size` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), block.addr as *mut u8, bytes.len())
        };
        block.bytes = bytes;
        let line = format!("write({})", name(block.id));
        self.record(line);
    }

    pub fn free_all(&mut self) -> Result<(), Failure> {
        while !self.live.is_empty() {
            self.apply_guarded(Op::Free(0))?;
        }
        Ok(())
    }
}
