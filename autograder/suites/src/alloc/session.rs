//! A heap under test with its page log, its model and the transcript of what
//! was done to it: the engine of both random sequences and named scenarios.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;

use heaplab_kit::{Heap, Stats};
use heaplab_protocol::heap_state::HeapStep;

use super::check::{header_rule, header_word, run_checks, Config, Done, Failure, State};
use super::model::{letter, pattern, BlockName, LiveBlock, Model};
use super::pages::{InstrumentedPages, PageLog};
use super::picture::Picture;
use super::record;
use crate::remote::StudentStopped;
use heaplab_protocol::checks;

thread_local! {
    /// Set once the student's process stopped in this test: from then on
    /// (while proptest shrinks), every session keeps the picture from before
    /// each operation, so the report can show the heap just before the step
    /// that stopped it.
    static STOP_SEEN: Cell<bool> = const { Cell::new(false) };
}

/// A request above this many bytes may get `None` without the page source
/// refusing anything (the heap can tell it would never fit).
pub const HOPELESS: usize = 1 << 40;

/// One operation of a random sequence, before it is resolved against the
/// live blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `malloc(size)`.
    Malloc(usize),
    /// Free live block number `i % live.len()` (nothing when none is live).
    Free(usize),
    /// Fill live block number `i % live.len()` with its pattern.
    Write(usize),
    /// Make the page source refuse its next map.
    RefuseNextMap,
}

/// A heap under test, its page log and model, and a transcript.
///
/// Every operation is followed by the configured checks; the first that
/// fails ends the session's usefulness and is returned as the full failure
/// message (what broke, expected, found, the operations, the picture).
pub struct Session<'c, H: Heap> {
    heap: Option<H>,
    log: PageLog,
    model: Model,
    config: &'c Config<H>,
    transcript: Vec<String>,
    /// The picture before the current operation (kept only after a stop).
    before: RefCell<Option<String>>,
    /// A payload address of the block the last operation made, freed or
    /// wrote: what the report outlines when a failure names nothing else.
    touched: Cell<Option<usize>>,
}

fn panic_text(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".to_string()
    }
}

impl<'c, H: Heap> Session<'c, H> {
    /// Makes a heap over a fresh [`InstrumentedPages`] and checks it.
    pub fn new(
        make: &dyn Fn(InstrumentedPages) -> H,
        config: &'c Config<H>,
    ) -> Result<Self, Failure> {
        let pages = InstrumentedPages::new();
        let log = pages.log();
        let made = panic::catch_unwind(AssertUnwindSafe(|| make(pages)));
        let mut s = Session {
            heap: None,
            log,
            model: Model::default(),
            config,
            transcript: Vec::new(),
            before: RefCell::new(None),
            touched: Cell::new(None),
        };
        record::session_made();
        match made {
            Ok(heap) => s.heap = Some(heap),
            Err(p) => return Err(s.trouble(p, "making the heap (new)", "new does not panic")),
        }
        s.check(Done::Start, 0)?;
        Ok(s)
    }

    /// The heap.
    pub fn heap(&self) -> &H {
        self.heap.as_ref().expect("the session's heap is gone")
    }

    /// The heap, mutably (for calls the session does not model).
    pub fn heap_mut(&mut self) -> &mut H {
        self.heap.as_mut().expect("the session's heap is gone")
    }

    /// The page source's record.
    pub fn log(&self) -> &PageLog {
        &self.log
    }

    /// The model of live blocks.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The heap's stats.
    pub fn stats(&self) -> Stats {
        self.heap().stats()
    }

    /// Bytes in one page.
    pub fn page_size(&self) -> usize {
        self.log.page_size()
    }

    /// Live block `id`; panics (a bug in the test) if it is not live.
    pub fn block(&self, id: usize) -> &LiveBlock {
        self.model
            .block(id)
            .unwrap_or_else(|| panic!("the test used a{id}, which is not live"))
    }

    /// The pointer `malloc` returned for live block `id`.
    pub fn ptr(&self, id: usize) -> NonNull<u8> {
        self.block(id).ptr
    }

    /// The operations done so far, one per entry (`a0 = malloc(24)`).
    pub fn transcript(&self) -> &[String] {
        &self.transcript
    }

    /// Adds a line to the transcript (for steps the session does not model).
    pub fn note(&mut self, line: impl Into<String>) {
        self.transcript.push(line.into());
    }

    /// `malloc(size)`, which must succeed; returns the new block's id.
    pub fn malloc(&mut self, size: usize) -> Result<usize, Failure> {
        match self.try_malloc(size)? {
            Some(id) => Ok(id),
            None => Err(self.fail_now(
                Failure::new(
                    format!("malloc({size}) returned None"),
                    "a block: the page source did not refuse anything",
                    "None",
                )
                .check(checks::MALLOC_NONE),
            )),
        }
    }

    /// `malloc(size)`, which may return `None` only when the page source
    /// refused a map during the call (or the request is hopeless, over
    /// [`HOPELESS`] bytes).
    pub fn try_malloc(&mut self, size: usize) -> Result<Option<usize>, Failure> {
        let events_before = self.log.event_count();
        let refusals_before = self.log.refusals();
        let id = self.model.next_id;
        self.keep_before();
        crate::debug::before_step(self.transcript.len() + 1, || {
            format!("{} = malloc({size})", BlockName(id))
        });
        let heap = self.heap.as_mut().expect("the session's heap is gone");
        let result = panic::catch_unwind(AssertUnwindSafe(|| heap.malloc(size)));
        match result {
            Err(p) => {
                self.transcript
                    .push(format!("{} = malloc({size})", BlockName(id)));
                let refused = self.log.refusals() > refusals_before;
                let why = if refused {
                    "the page source refused a map: malloc must return None, not panic"
                } else {
                    "malloc must not panic"
                };
                Err(self.trouble(p, &format!("malloc({size})"), why))
            }
            Ok(None) => {
                self.transcript.push(format!("malloc({size}) -> None"));
                let refused = self.log.refusals() > refusals_before;
                // The checks first: a broken page-source contract explains a
                // None better than "nothing was refused".
                self.check(Done::Malloc { size, id: None }, events_before)?;
                if !refused && size <= HOPELESS {
                    return Err(self.fail_now(
                        Failure::new(
                            format!("malloc({size}) returned None"),
                            "a block: the page source did not refuse any map",
                            "None",
                        )
                        .check(checks::MALLOC_NONE),
                    ));
                }
                Ok(None)
            }
            Ok(Some(p)) => {
                self.transcript
                    .push(format!("{} = malloc({size})", BlockName(id)));
                self.touched.set(Some(p.as_ptr() as usize));
                self.model.next_id += 1;
                self.model.mallocs += 1;
                self.model.live.push(LiveBlock {
                    id,
                    addr: p.as_ptr() as usize,
                    ptr: p,
                    size,
                    pattern: Vec::new(),
                });
                self.check(Done::Malloc { size, id: Some(id) }, events_before)?;
                Ok(Some(id))
            }
        }
    }

    /// `free(a<id>)`.
    pub fn free(&mut self, id: usize) -> Result<(), Failure> {
        let events_before = self.log.event_count();
        let ptr = self.ptr(id);
        let pos = self
            .model
            .live
            .iter()
            .position(|b| b.id == id)
            .expect("checked by ptr()");
        self.header_intact(&self.model.live[pos])?;
        let block = self.model.live.remove(pos);
        self.model.frees += 1;
        self.model
            .freed
            .push((block.addr - self.config.header, block.end()));
        self.keep_before();
        crate::debug::before_step(self.transcript.len() + 1, || {
            format!("free({})", block.name())
        });
        self.transcript.push(format!("free({})", block.name()));
        self.touched.set(Some(block.addr));
        let heap = self.heap.as_mut().expect("the session's heap is gone");
        // SAFETY: ptr came from this heap's malloc and the model frees it once.
        let result = panic::catch_unwind(AssertUnwindSafe(|| unsafe { heap.free(ptr) }));
        if let Err(p) = result {
            let op = format!("free({})", block.name());
            return Err(self.trouble(p, &op, "free of a block malloc returned must not panic"));
        }
        self.check(Done::Free(block), events_before)
    }

    /// `free(ptr)` of a pointer the heap must refuse (`what` says how it is
    /// wrong, for the transcript): `Some(message)` when the heap's code
    /// panicked, as it should; `None` when `free` returned. The model does
    /// not change. A crash, a hang or an exit of the student's process is
    /// the failure it is.
    pub fn free_misuse(&mut self, ptr: NonNull<u8>, what: &str) -> Result<Option<String>, Failure> {
        self.transcript.push(what.to_string());
        let heap = self.heap.as_mut().expect("the session's heap is gone");
        // SAFETY: not safe for a heap that does not check, which is what the
        // test finds out; the checker's memory is not at stake, only the
        // heap's own state (the student's process).
        let result = panic::catch_unwind(AssertUnwindSafe(|| unsafe { heap.free(ptr) }));
        match result {
            Ok(()) => Ok(None),
            Err(p) if p.is::<StudentStopped>() => Err(self.trouble(p, what, "a panic")),
            Err(p) => Ok(Some(panic_text(p))),
        }
    }

    /// `write(a<id>)`: fills the whole requested size with the block's pattern.
    pub fn write(&mut self, id: usize) -> Result<(), Failure> {
        let events_before = self.log.event_count();
        let block = self.block(id);
        let bytes = pattern(id, block.size);
        // SAFETY: the block lies inside a live mapping (checked when it was
        // returned) and is live, so the test owns its `size` bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), block.ptr.as_ptr(), bytes.len()) };
        let name = block.name();
        self.model
            .live
            .iter_mut()
            .find(|b| b.id == id)
            .expect("live")
            .pattern = bytes;
        self.transcript.push(format!("write({name})"));
        self.touched.set(Some(self.block(id).addr));
        self.check(Done::Write { id }, events_before)
    }

    /// Makes the page source refuse its next map.
    pub fn refuse_next_map(&mut self) -> Result<(), Failure> {
        let events_before = self.log.event_count();
        self.log.fail_next_map();
        self.transcript.push("refuse the next map".to_string());
        self.check(Done::RefuseNextMap, events_before)
    }

    /// Does one random-sequence operation (resolving indexes against the
    /// live blocks).
    pub fn apply(&mut self, op: Op) -> Result<(), Failure> {
        let n = self.model.live.len();
        match op {
            Op::Malloc(size) => self.try_malloc(size).map(|_| ()),
            Op::Free(_) | Op::Write(_) if n == 0 => Ok(()),
            Op::Free(i) => self.free(self.model.live[i % n].id),
            Op::Write(i) => self.write(self.model.live[i % n].id),
            Op::RefuseNextMap => self.refuse_next_map(),
        }
    }

    /// Frees every live block, oldest first.
    pub fn free_all(&mut self) -> Result<(), Failure> {
        while let Some(b) = self.model.live.first() {
            self.free(b.id)?;
        }
        Ok(())
    }

    /// Drops the heap (its page source unmaps what is left) and checks that
    /// the heap's own cleanup kept the page-source contract.
    pub fn finish(mut self) -> Result<(), Failure> {
        let heap = self.heap.take();
        let dropped = panic::catch_unwind(AssertUnwindSafe(|| drop(heap)));
        self.transcript.push("(the heap is dropped)".to_string());
        if let Err(p) = dropped {
            return Err(self.trouble(p, "dropping the heap", "no panic"));
        }
        if let Some(v) = self.log.violations().first() {
            return Err(self.message(
                Failure::new(
                    "the heap broke the page source's contract",
                    "exact unmaps",
                    v.clone(),
                ),
                checks::PAGE_SOURCE_CONTRACT,
            ));
        }
        Ok(())
    }

    /// Runs the configured checks now, as after an operation.
    pub fn check_now(&self) -> Result<(), Failure> {
        self.check_done(&Done::Nothing, &[])
    }

    /// A failure message for `failure` at this point of the session, for a
    /// scenario's own expectations.
    pub fn fail_now(&self, failure: Failure) -> Failure {
        self.message(failure, "")
    }

    /// `Ok` when `ok`, else the failure message for `failure()`.
    pub fn ensure(&self, ok: bool, failure: impl FnOnce() -> Failure) -> Result<(), Failure> {
        if ok {
            Ok(())
        } else {
            Err(self.fail_now(failure()))
        }
    }

    fn check(&mut self, done: Done, events_before: usize) -> Result<(), Failure> {
        let events = self.log.events_since(events_before);
        self.check_done(&done, &events)?;
        if record::recording() {
            record::push(self.step(&self.picture(&[]), &[]));
        }
        Ok(())
    }

    /// The heap now, as the report draws it, with `focus` outlined.
    fn step(&self, pic: &Picture, focus: &[usize]) -> HeapStep {
        HeapStep {
            step: self.transcript.len(),
            operation: self.transcript.last().cloned().unwrap_or_default(),
            heap: record::state(&self.log, &self.model, pic, self.config.header, focus),
        }
    }

    fn check_done(&self, done: &Done, events: &[super::pages::PageEvent]) -> Result<(), Failure> {
        let Some(heap) = self.heap.as_ref() else {
            return Ok(());
        };
        let state = State {
            heap,
            model: &self.model,
            log: &self.log,
            done,
            page_events: events,
            header: self.config.header,
        };
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| run_checks(self.config, &state)));
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err((name, failure))) => Err(self.message(failure, &name)),
            Err(p) => Err(self.trouble(
                p,
                "checking the heap",
                "stats(), usable_size() and free_blocks() do not panic",
            )),
        }
    }

    /// The picture of the pages now, every layer painted.
    pub fn picture(&self, focus: &[usize]) -> Picture {
        self.draw(focus, |heap, pic| {
            for painter in &self.config.painters {
                painter(heap, &self.model, &self.log, pic);
            }
        })
    }

    /// The picture of the pages: `layer` paints what the lesson knows (free
    /// chunks), then the engine paints headers and live blocks over it.
    fn draw(&self, focus: &[usize], layer: impl FnOnce(&H, &mut Picture)) -> Picture {
        let mut pic = Picture::new(&self.log);
        if let Some(heap) = self.heap.as_ref() {
            layer(heap, &mut pic);
        }
        let h = self.config.header;
        for b in &self.model.live {
            pic.paint_block(b.addr, b.extent(), b.letter());
            let start = b.addr.wrapping_sub(h);
            if self
                .log
                .mapping_holding(start, b.extent().saturating_add(h))
                .is_none()
            {
                pic.note(format!(
                    "{} ({}) = [{start:#x}, {:#x}) is not inside any one mapping",
                    b.name(),
                    b.letter(),
                    b.end()
                ));
            }
        }
        if h > 0 {
            pic.legend("H header");
            for b in &self.model.live {
                pic.paint_with(b.addr.wrapping_sub(h), h, |old| {
                    if old.is_ascii_lowercase() {
                        'X'
                    } else {
                        'H'
                    }
                });
            }
        }
        if !self.model.live.is_empty() {
            pic.legend("X two things in the same 16 bytes");
            for b in &self.model.live {
                pic.name(letter(b.id), b.name().to_string());
            }
        }
        for &a in focus {
            pic.focus(a);
        }
        pic
    }

    /// The full failure at this point of the session: `failure` and the
    /// check that found it, the step, the operations, the pictures.
    fn message(&self, mut failure: Failure, check: &str) -> Failure {
        if failure.check.is_empty() {
            failure.check = check.to_string();
        }
        failure.step = self
            .transcript
            .last()
            .map(|last| (self.transcript.len(), last.clone()));
        if failure.step.is_none() {
            failure
                .notes
                .insert(0, "  (right after the heap was made)".into());
        }
        failure.operations = collapse_runs(&self.transcript);
        if failure.operations.is_empty() {
            failure.operations.push("(none)".into());
        }
        if let Some(before) = self.before.borrow_mut().take() {
            let n = self.transcript.len();
            failure
                .pictures
                .push((format!("pages just before step {n}"), before));
        }
        let picture = if failure.stopped.is_some() {
            self.post_mortem(&mut failure)
        } else {
            let picture = self.picture(&failure.focus);
            failure
                .pictures
                .push(("pages".to_string(), picture.render()));
            picture
        };
        if record::recording() {
            let focus = match (failure.focus.is_empty(), self.touched.get()) {
                (true, Some(addr)) => vec![addr],
                _ => failure.focus.clone(),
            };
            failure.steps = record::steps_with(self.step(&picture, &focus));
        }
        failure
    }

    /// What went wrong when the heap's call panicked during `op`: the
    /// student's process stopped (crash, hang, exit), or its code panicked.
    fn trouble(&self, payload: Box<dyn Any + Send>, op: &str, why: &str) -> Failure {
        let payload = match payload.downcast::<StudentStopped>() {
            Ok(stopped) => {
                STOP_SEEN.with(|s| s.set(true));
                let mut failure = stopped.failure();
                failure.what = if stopped.during.starts_with("this ") {
                    format!(
                        "{op}: the student's process {}",
                        stopped.stop.stopped.describe()
                    )
                } else {
                    format!(
                        "{op}: the student's process {} in {}",
                        stopped.stop.stopped.describe(),
                        stopped.during
                    )
                };
                return self.message(failure, "");
            }
            Err(other) => other,
        };
        self.message(
            Failure::new(
                format!("{op} panicked: {}", panic_text(payload)),
                why,
                "a panic",
            ),
            checks::PANIC,
        )
    }

    /// Keeps the picture from before the next operation, once a stop of the
    /// student's process was seen in this test.
    fn keep_before(&self) {
        if STOP_SEEN.with(Cell::get) {
            *self.before.borrow_mut() = Some(self.picture(&[]).render());
        }
    }

    /// The pages as the student's process left them, drawn from memory by
    /// the lesson's own looks (a walk of the free list, for one), since the
    /// heap can no longer be asked; and what those looks found.
    fn post_mortem(&self, failure: &mut Failure) -> Picture {
        let mut found = Vec::new();
        let picture = self.draw(&failure.focus, |heap, pic| {
            for look in &self.config.post_mortems {
                found.extend(look(heap, &self.model, &self.log, pic));
            }
        });
        failure.pictures.push((
            "pages as the student's process left them".to_string(),
            picture.render(),
        ));
        if let Some(check) = found.iter().find_map(|f| f.check) {
            failure.check = check.to_string();
        }
        failure.notes.extend(found.into_iter().map(|f| f.note));
        picture
    }

    /// Before `free(b)`: the header in front of `b` still holds a chunk size
    /// (lessons with headers). A header the heap overwrote is reported as
    /// such, instead of handing it to the student's `free`, which would read
    /// a wrong size from it and crash.
    fn header_intact(&self, b: &LiveBlock) -> Result<(), Failure> {
        if self.config.header == 0 || !self.config.guard_headers {
            return Ok(());
        }
        let size = header_word(b);
        let chunk = b.addr - self.config.header;
        let need = b.extent() + self.config.header;
        let Some(broken) = header_rule(b, size, &self.log) else {
            return Ok(());
        };
        let failure = Failure::new(
            format!(
                "before free({}): its header no longer holds its chunk size, so free would read \
                 a wrong size from it",
                b.name()
            ),
            format!(
                "the word at {chunk:#x} (16 bytes before {}): a multiple of 16, at least {need}, \
                 ending inside the run",
                b.name()
            ),
            broken,
        )
        .at(chunk);
        Err(self.message(failure, checks::SIZE_HEADER))
    }
}

/// Shortens runs of four or more operations that differ only in the block
/// they name, numbered one after another (`a0 = malloc(800)` …
/// `a199 = malloc(800)`), to their first and last: a scenario that fills a
/// heap stays readable.
fn collapse_runs(ops: &[String]) -> Vec<String> {
    const SHORTEST_RUN: usize = 4;
    let mut out = Vec::new();
    let mut i = 0;
    while i < ops.len() {
        let mut end = i + 1;
        if let Some((key, mut number)) = block_number(&ops[i]) {
            while let Some((next_key, next_number)) = ops.get(end).and_then(|op| block_number(op)) {
                if next_key != key || next_number != number + 1 {
                    break;
                }
                number = next_number;
                end += 1;
            }
        }
        if end - i >= SHORTEST_RUN {
            out.push(format!(
                "{} … {} ({} operations)",
                ops[i],
                ops[end - 1],
                end - i
            ));
        } else {
            out.extend(ops[i..end].iter().cloned());
        }
        i = end;
    }
    out
}

/// The operation with its first block name (`a17`) blanked out, and that
/// block's number: `("# = malloc(800)", 17)`.
fn block_number(op: &str) -> Option<(String, usize)> {
    let bytes = op.as_bytes();
    let start = (0..bytes.len()).find(|&i| {
        bytes[i] == b'a'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
    })?;
    let digits_end = (start + 1..bytes.len())
        .find(|&i| !bytes[i].is_ascii_digit())
        .unwrap_or(bytes.len());
    let number = op[start + 1..digits_end].parse().ok()?;
    Some((format!("{}#{}", &op[..start], &op[digits_end..]), number))
}

#[cfg(test)]
mod tests {
    use super::collapse_runs;

    fn ops(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn runs_of_numbered_operations_collapse_to_their_ends() {
        let mut list: Vec<String> = (0..200).map(|i| format!("a{i} = malloc(800)")).collect();
        list.push("malloc(800) -> None".to_string());
        list.extend((160..170).map(|i| format!("free(a{i})")));
        assert_eq!(
            collapse_runs(&list),
            ops(&[
                "a0 = malloc(800) … a199 = malloc(800) (200 operations)",
                "malloc(800) -> None",
                "free(a160) … free(a169) (10 operations)",
            ])
        );
    }

    #[test]
    fn short_or_mixed_sequences_stay_as_they_are() {
        let list = ops(&[
            "a0 = malloc(24)",
            "a1 = malloc(24)",
            "a2 = malloc(24)",
            "free(a0)",
            "a3 = malloc(8)",
        ]);
        assert_eq!(collapse_runs(&list), list);
    }
}
