//! Lesson 8: every test of the correctness gate that runs on the heap can
//! fail, and fails for the reason it names, whatever the heap's layout.
//!
//! The suite runs in-process (`harness::run_one`, as a local harness runs
//! it) on the reference solution (everything passes), on the stub (nothing
//! passes) and on wrappers around the reference heap with one bug planted.
//! The reference has no headers and no free list to walk, so these show the
//! generic checks at work.
//!
//! The tests that run what the grader builds (the library, the workloads
//! program, the Rust program) and the measured tests are graded end to end:
//! `autograder/tests/lesson8_grading.rs` (a slow allocator, a heap that
//! never frees, a library without its lock), and `tests/lesson7_mutants.rs`
//! for the library tests lesson 8 shares with lesson 7.

use std::ptr::NonNull;
use std::sync::Mutex;

use heaplab_kit::{Block, FullHeap, Heap, PageSource, Realloc, Stats};
use heaplab_protocol::Outcome;
use heaplab_suites::alloc::InstrumentedPages;
use heaplab_suites::harness::{run_one, Suite, DEFAULT_SEED};
use heaplab_suites::lesson7::{local_shared, SyncPages};
use heaplab_suites::lesson8 as suite8;
use lesson8_solution::{FastHeap, LockedHeap};

/// `run_one` keeps process-wide state: one suite at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The gate tests that run on the heap in this process (the others need
/// what the grader builds).
const ON_THE_HEAP: [&str; 8] = [
    "blocks_are_aligned_apart_and_kept",
    "realloc_keeps_contents",
    "calloc_zeroes_and_refuses_overflow",
    "aligned_blocks_from_16_bytes_to_a_page",
    "random_map_refusals_are_survived",
    "out_of_memory_returns_none",
    "freed_memory_is_reused",
    "global_alloc_contract",
];

fn locked(pages: SyncPages) -> LockedHeap<FastHeap<SyncPages>> {
    LockedHeap::new(FastHeap::new(pages))
}

/// The reports of the tests named `names`.
fn reports(suite: &Suite, names: &[&str]) -> Vec<(&'static str, Outcome)> {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    reports_unlocked(suite, names)
}

/// [`reports`], with [`ONE_AT_A_TIME`] held by the caller.
fn reports_unlocked(suite: &Suite, names: &[&str]) -> Vec<(&'static str, Outcome)> {
    let known: Vec<&str> = suite.tests.iter().map(|t| t.name).collect();
    for name in names {
        assert!(known.contains(name), "no test named {name}");
    }
    suite
        .tests
        .iter()
        .filter(|t| names.contains(&t.name))
        .map(|t| (t.name, run_one(t, DEFAULT_SEED)))
        .collect()
}

/// Prints `message` and panics with it: the harness's panic hook, installed
/// by `run_one`, keeps panic messages to itself.
fn fail(message: String) -> ! {
    eprintln!("{message}");
    panic!("{message}");
}

macro_rules! check {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            fail(format!($($arg)+));
        }
    };
}

#[test]
fn solution_passes_the_gate() {
    let suite = suite8::suite(FastHeap::new, local_shared(locked));
    for (name, report) in reports(&suite, &ON_THE_HEAP) {
        check!(report == Outcome::Passed, "solution: {name}: {report:?}");
    }
}

#[test]
fn stub_passes_nothing() {
    let suite = suite8::suite(
        ::lesson8::FastHeap::new,
        local_shared(|p| ::lesson8::LockedHeap::new(::lesson8::FastHeap::new(p))),
    );
    for (name, report) in reports(&suite, &ON_THE_HEAP) {
        check!(
            !matches!(report, Outcome::Passed),
            "stub: `{name}` passed, but the stub implements nothing"
        );
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flaw {
    /// Every fifth small malloc hands out the block before it again.
    HandsOutTwice,
    /// usable_size says half of what the block holds.
    UsableTooSmall,
    /// realloc moves without copying.
    ReallocLosesContents,
    /// realloc frees the old block before it has the new one (small blocks
    /// only: the reference stops the process when asked about a freed
    /// large block, which in grading is a crash, caught as well).
    ReallocFreesFirst,
    /// calloc does not zero.
    CallocNoZero,
    /// calloc's n * size wraps around.
    CallocWraps,
    /// aligned allocation ignores the alignment.
    AlignIgnored,
    /// When the page source refuses, malloc returns a made-up pointer.
    RefusalGivesGarbage,
    /// free does nothing.
    NeverFrees,
}

/// The reference heap with `flaw`.
struct Broken<S: PageSource> {
    inner: FastHeap<S>,
    flaw: Flaw,
    mallocs: usize,
    last: Option<NonNull<u8>>,
}

impl<S: PageSource> Heap for Broken<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.mallocs += 1;
        if self.flaw == Flaw::HandsOutTwice && size <= 64 && self.mallocs.is_multiple_of(5) {
            if let Some(last) = self.last {
                return Some(last);
            }
        }
        let got = self.inner.malloc(size);
        if got.is_none() && self.flaw == Flaw::RefusalGivesGarbage {
            return NonNull::new(16 as *mut u8);
        }
        if size <= 64 {
            self.last = got;
        }
        got
    }
    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        if self.last == Some(ptr) {
            self.last = None;
        }
        if self.flaw != Flaw::NeverFrees {
            // SAFETY: forwarded.
            unsafe { self.inner.free(ptr) }
        }
    }
    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // SAFETY: forwarded.
        let usable = unsafe { self.inner.usable_size(ptr) };
        match self.flaw {
            Flaw::UsableTooSmall => usable.map(|u| u / 2),
            _ => usable,
        }
    }
    fn stats(&self) -> Stats {
        self.inner.stats()
    }
    fn free_blocks(&self) -> Vec<Block> {
        self.inner.free_blocks()
    }
}

impl<S: PageSource> Realloc for Broken<S> {
    unsafe fn realloc(&mut self, ptr: NonNull<u8>, size: usize) -> Option<NonNull<u8>> {
        // SAFETY (all arms): ptr is a live block of the inner heap.
        unsafe {
            match self.flaw {
                Flaw::ReallocLosesContents => {
                    let new = self.inner.malloc(size)?;
                    self.inner.free(ptr);
                    Some(new)
                }
                Flaw::ReallocFreesFirst => {
                    let old = self.inner.usable_size(ptr)?;
                    if old >= size || old > 1024 {
                        return self.inner.realloc(ptr, size);
                    }
                    let saved: Vec<u8> = std::slice::from_raw_parts(ptr.as_ptr(), old).to_vec();
                    self.inner.free(ptr);
                    let new = self.inner.malloc(size)?;
                    new.copy_from_nonoverlapping(NonNull::new(saved.as_ptr() as *mut u8)?, old);
                    Some(new)
                }
                _ => self.inner.realloc(ptr, size),
            }
        }
    }
}

impl<S: PageSource> FullHeap for Broken<S> {
    fn calloc(&mut self, n: usize, size: usize) -> Option<NonNull<u8>> {
        match self.flaw {
            Flaw::CallocNoZero => self.inner.malloc(n.checked_mul(size)?),
            Flaw::CallocWraps => {
                let p = self.inner.malloc(n.wrapping_mul(size))?;
                // SAFETY: the block has n.wrapping_mul(size) bytes.
                unsafe { p.write_bytes(0, n.wrapping_mul(size)) };
                Some(p)
            }
            _ => self.inner.calloc(n, size),
        }
    }
    fn malloc_aligned(&mut self, align: usize, size: usize) -> Option<NonNull<u8>> {
        match self.flaw {
            Flaw::AlignIgnored => self.inner.malloc(size),
            _ => self.inner.malloc_aligned(align, size),
        }
    }
}

fn broken_suite(flaw: Flaw) -> Suite {
    suite8::suite(
        move |pages: InstrumentedPages| Broken {
            inner: FastHeap::new(pages),
            flaw,
            mallocs: 0,
            last: None,
        },
        local_shared(locked),
    )
}

/// Asserts that each of `names` fails, and that the failure names `why`.
fn assert_fail(flaw: Flaw, names: &[&str], why: &str) {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if flaw == Flaw::ReallocFreesFirst {
        return assert_fail_or_stop(flaw, names, why);
    }
    check_failures(flaw, names, why);
}

fn check_failures(flaw: Flaw, names: &[&str], why: &str) {
    for (name, report) in reports_unlocked(&broken_suite(flaw), names) {
        if std::env::var_os("HEAPLAB_SHOW").is_some() {
            println!("---- {flaw:?} / {name}\n{report:?}");
        }
        let Outcome::Failed { failure } = &report else {
            fail(format!(
                "{flaw:?}: `{name}` should fail but reported {report:?}"
            ));
        };
        let text = failure.to_string();
        check!(
            text.contains(why),
            "{flaw:?}: `{name}` failed, but not for the planted bug (no {why:?}):\n{text}"
        );
    }
}

/// [`assert_fail`] in a forked child: a freed block asked about stops the
/// reference heap (`misuse`: the message and SIGABRT), which the grader
/// reports as a crash of the student's process; in this one process it
/// would end the test run. A stop by SIGABRT counts as caught too.
fn assert_fail_or_stop(flaw: Flaw, names: &[&str], why: &str) {
    // SAFETY: the child runs the checks and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let ok = std::panic::catch_unwind(|| check_failures(flaw, names, why)).is_ok();
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let aborted = libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGABRT;
    let failed_right = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    check!(
        aborted || failed_right,
        "{flaw:?}: {names:?} neither failed for it nor stopped the heap (status {status:#x})"
    );
}

#[test]
fn heap_bugs_are_caught_from_the_outside() {
    let cases: [(Flaw, &[&str], &str); 9] = [
        (
            Flaw::HandsOutTwice,
            &["blocks_are_aligned_apart_and_kept"],
            "overlaps",
        ),
        (
            Flaw::UsableTooSmall,
            &["blocks_are_aligned_apart_and_kept"],
            "is too small",
        ),
        (
            Flaw::ReallocLosesContents,
            &["realloc_keeps_contents"],
            "lost the block's contents",
        ),
        (
            Flaw::ReallocFreesFirst,
            &[
                "out_of_memory_returns_none",
                "random_map_refusals_are_survived",
            ],
            "does not hold what it should",
        ),
        (
            Flaw::CallocNoZero,
            &["calloc_zeroes_and_refuses_overflow"],
            "does not hold what it should",
        ),
        (
            Flaw::CallocWraps,
            &["calloc_zeroes_and_refuses_overflow"],
            "returned a block",
        ),
        (
            Flaw::AlignIgnored,
            &[
                "aligned_blocks_from_16_bytes_to_a_page",
                "blocks_are_aligned_apart_and_kept",
            ],
            "is misaligned",
        ),
        (
            Flaw::RefusalGivesGarbage,
            &["random_map_refusals_are_survived"],
            "is not inside mapped pages",
        ),
        (
            Flaw::NeverFrees,
            &["freed_memory_is_reused"],
            "freed memory is not used again",
        ),
    ];
    for (flaw, names, why) in cases {
        assert_fail(flaw, names, why);
    }
}

/// The utilization test measures; a heap that never frees measures low,
/// below the threshold course.toml gives no points at (0.6).
#[test]
fn utilization_is_measured_and_low_for_a_heap_that_never_frees() {
    let value = |suite: &Suite| match &reports(suite, &["utilization_traces"])[0].1 {
        Outcome::Measured { measured } => measured.value,
        other => fail(format!("utilization_traces reported {other:?}")),
    };
    let good = value(&suite8::suite(FastHeap::new, local_shared(locked)));
    let good_enough = good > 0.75;
    check!(good_enough, "the reference's utilization is {good}");
    let bad = value(&broken_suite(Flaw::NeverFrees));
    let low = bad < 0.6;
    check!(low, "a heap that never frees measured {bad}");
}
