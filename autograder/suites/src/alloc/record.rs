//! The heap after each step of a failing sequence, for the report to draw.
//!
//! Recording costs a picture per operation, so a passing test never pays
//! for it: when a test fails, its shortest failing case is run once more
//! with recording on ([`with_steps`]), and every [`Session`](super::Session)
//! of that replay pushes its state after each operation. The failure the
//! replay ends with carries the steps (`Failure::steps`).

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};

use heaplab_protocol::heap_state::{FreeChunk, HeapState, HeapStep, LiveChunk, Run};
use heaplab_protocol::outcome::MAX_STEPS;
use heaplab_protocol::Failure;

use super::check::header_word;
use super::model::{LiveBlock, Model};
use super::pages::PageLog;
use super::picture::Picture;

/// Chunks (live and free) one state holds at most; the rest are counted.
pub const MAX_CHUNKS: usize = 400;

thread_local! {
    /// The steps recorded so far, while a replay records.
    static STEPS: RefCell<Option<Vec<HeapStep>>> = const { RefCell::new(None) };
    /// Sessions made on this thread: a failure no session saw has no
    /// heap to draw, and is not replayed.
    static SESSIONS: Cell<usize> = const { Cell::new(0) };
}

/// Counts a session made.
pub(crate) fn session_made() {
    SESSIONS.with(|n| n.set(n.get() + 1));
}

/// Sessions made on this thread so far.
pub fn sessions_made() -> usize {
    SESSIONS.with(Cell::get)
}

/// True while a replay records.
pub(crate) fn recording() -> bool {
    STEPS.with(|s| s.borrow().is_some())
}

/// Records one step. A step 0 starts the sequence again (a case makes a
/// fresh heap); of a long sequence only step 0 and the last [`MAX_STEPS`]
/// are kept.
pub(crate) fn push(step: HeapStep) {
    STEPS.with(|s| {
        let mut s = s.borrow_mut();
        let Some(steps) = s.as_mut() else { return };
        if step.step == 0 {
            steps.clear();
        }
        steps.push(step);
        if steps.len() > MAX_STEPS + 1 {
            steps.remove(1);
        }
    });
}

/// The steps recorded so far, followed by `last` (the failing step).
pub(crate) fn steps_with(last: HeapStep) -> Vec<HeapStep> {
    STEPS.with(|s| {
        let mut steps = s.borrow().clone().unwrap_or_default();
        steps.push(last);
        if steps.len() > MAX_STEPS + 1 {
            steps.drain(1..steps.len() - MAX_STEPS);
        }
        steps
    })
}

/// `failure`, with the heap after each of its steps when `replay` (the
/// failing case run once more) fails the same way: the same check, at the
/// same step, in the same operation. Otherwise `failure` as it is.
pub fn with_steps(failure: Failure, replay: impl FnOnce() -> Result<(), Failure>) -> Failure {
    STEPS.with(|s| *s.borrow_mut() = Some(Vec::new()));
    let replayed = panic::catch_unwind(AssertUnwindSafe(replay));
    STEPS.with(|s| *s.borrow_mut() = None);
    match replayed {
        // The replay's own failure: its pictures and its steps show the
        // same heap.
        Ok(Err(again)) if same_failure(&again, &failure) && !again.steps.is_empty() => again,
        _ => failure,
    }
}

/// What `run` returns, with the heap after each step of every session it
/// made: the steps a passing sequence leaves, for drawings of the heap at
/// a chosen moment (the pages' figures, `cargo run --example figures`).
pub fn recorded<T>(run: impl FnOnce() -> T) -> (T, Vec<HeapStep>) {
    STEPS.with(|s| *s.borrow_mut() = Some(Vec::new()));
    let out = run();
    let steps = STEPS.with(|s| s.borrow_mut().take()).unwrap_or_default();
    (out, steps)
}

/// The heap now: the runs of `log`, the live blocks of `model` as chunks
/// (`header` bytes of header in front of each payload), the free list the
/// picture's layers found, and `focus`, the addresses of what broke.
pub(crate) fn state(
    log: &PageLog,
    model: &Model,
    pic: &Picture,
    header: usize,
    focus: &[usize],
) -> HeapState {
    let mut runs: Vec<Run> = log
        .mappings()
        .iter()
        .map(|m| Run {
            serial: m.serial,
            addr: m.addr as u64,
            len: m.len as u64,
        })
        .collect();
    runs.sort_by_key(|r| r.addr);
    let mut live: Vec<LiveChunk> = model
        .live
        .iter()
        .map(|b| live_chunk(log, b, header))
        .collect();
    live.sort_by_key(|c| c.addr);
    let (list, list_end) = pic.free_list().cloned().unwrap_or_default();
    let mut free: Vec<FreeChunk> = list
        .iter()
        .map(|&(addr, size)| FreeChunk {
            addr: addr as u64,
            size: size as u64,
        })
        .collect();
    let left_out = (live.len() + free.len()).saturating_sub(MAX_CHUNKS);
    free.truncate(MAX_CHUNKS.saturating_sub(live.len()));
    live.truncate(MAX_CHUNKS);
    HeapState {
        header: header as u64,
        runs,
        live,
        free,
        list_end,
        focus: focus.iter().map(|&a| a as u64).collect(),
        left_out,
    }
}

/// A live block's chunk: from its header to the end of its payload. The
/// size is the header's word when that is a plausible chunk size (read from
/// memory: the heap is not asked, it may have stopped), else the header and
/// the bytes asked for.
fn live_chunk(log: &PageLog, b: &LiveBlock, header: usize) -> LiveChunk {
    let start = b.addr.wrapping_sub(header);
    let need = b.extent().saturating_add(header);
    let mut size = need;
    if header > 0 && log.mapping_holding(start, header).is_some() {
        let word = header_word(b);
        let fits = log
            .mapping_holding(start, 1)
            .is_some_and(|m| m.holds(start, word));
        if word.is_multiple_of(16) && word >= need && fits {
            size = word;
        }
    }
    LiveChunk {
        name: b.name().to_string(),
        addr: start as u64,
        size: size as u64,
        requested: b.size as u64,
    }
}

fn same_failure(a: &Failure, b: &Failure) -> bool {
    a.check == b.check && a.step == b.step && a.stopped.is_some() == b.stopped.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(n: usize) -> HeapStep {
        HeapStep {
            step: n,
            operation: format!("op {n}"),
            ..HeapStep::default()
        }
    }

    #[test]
    fn a_long_sequence_keeps_step_0_and_its_last_steps() {
        STEPS.with(|s| *s.borrow_mut() = Some(Vec::new()));
        for n in 0..200 {
            push(step(n));
        }
        let steps = steps_with(step(200));
        STEPS.with(|s| *s.borrow_mut() = None);
        assert_eq!(steps.len(), MAX_STEPS + 1);
        assert_eq!(steps[0].step, 0);
        assert_eq!(steps[1].step, 200 - MAX_STEPS + 1);
        assert_eq!(steps.last().unwrap().step, 200);
    }

    #[test]
    fn nothing_is_recorded_outside_a_replay() {
        push(step(0));
        assert!(!recording());
        assert_eq!(steps_with(step(1)).len(), 1);
    }
}
