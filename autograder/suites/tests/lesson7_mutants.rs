//! Lesson 7: every test of the suite can fail, and fails for the reason it
//! names.
//!
//! The suite runs in-process (`harness::run_one`, as a local harness runs
//! it) on the reference solution (everything passes), on the stub
//! (everything lesson 7 adds is "not implemented") and on broken
//! allocators, each with one bug planted: wrappers around the reference heap
//! for the heap-level properties, a lock-free wrapper for the threads test
//! (run in a child process, since a heap without its lock may well crash),
//! and wrappers of the `GlobalAlloc` side.
//!
//! The library and program tests need what the grader builds from the
//! crate (the C library, the Rust program): their mutants are graded end to
//! end in `autograder/tests/lesson7_mutants.rs`.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::Mutex;

use heaplab_kit::{Block, FullHeap, Heap, PageSource, Realloc, SharedHeap, Stats};
use heaplab_protocol::Outcome;
use heaplab_suites::alloc::InstrumentedPages;
use heaplab_suites::harness::{run_one, Suite, DEFAULT_SEED};
use heaplab_suites::lesson7::{self as suite7, local_shared, SyncPages};
use lesson7_solution::{BigHeap, LockedHeap};

/// `run_one` keeps process-wide state: one suite at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The tests that run what the grader builds (the library, the program):
/// `autograder/tests/lesson7_mutants.rs` grades them end to end.
const BUILT_BY_THE_GRADER: [&str; 4] = [
    "c_functions_follow_c",
    "stats_at_exit",
    "real_programs_run_unchanged",
    "rust_program_uses_it_as_global_allocator",
];

fn reference(pages: InstrumentedPages) -> BigHeap<InstrumentedPages> {
    BigHeap::new(pages)
}

fn locked(pages: SyncPages) -> LockedHeap<BigHeap<SyncPages>> {
    LockedHeap::new(BigHeap::new(pages))
}

/// The reports of the tests named `names` (when empty: every test that
/// runs in-process).
fn reports(suite: &Suite, names: &[&str]) -> Vec<(&'static str, Outcome)> {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let known: Vec<&str> = suite.tests.iter().map(|t| t.name).collect();
    for name in names {
        assert!(known.contains(name), "no test named {name}");
    }
    suite
        .tests
        .iter()
        .filter(|t| match names {
            [] => !BUILT_BY_THE_GRADER.contains(&t.name),
            _ => names.contains(&t.name),
        })
        .map(|t| (t.name, run_one(t, DEFAULT_SEED)))
        .collect()
}

/// Prints `message` and panics with it: the harness's panic hook, installed
/// by `run_one`, keeps panic messages to itself.
fn fail(message: String) -> ! {
    eprintln!("{message}");
    panic!("{message}");
}

/// `assert!` that prints its message first (see [`fail`]).
macro_rules! check {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            fail(format!($($arg)+));
        }
    };
}

/// `assert_eq!` that prints its message first (see [`fail`]).
macro_rules! check_eq {
    ($left:expr, $right:expr, $($arg:tt)+) => {
        if $left != $right {
            fail(format!("{}: {:?} != {:?}", format!($($arg)+), $left, $right));
        }
    };
}

/// Asserts that each of `names` fails (not passes, not "not implemented").
fn assert_fail(label: &str, suite: &Suite, names: &[&str]) {
    for (name, report) in reports(suite, names) {
        if std::env::var_os("HEAPLAB_SHOW").is_some() {
            println!("---- {label} / {name}\n{report:?}");
        }
        check!(
            matches!(report, Outcome::Failed { .. }),
            "{label}: `{name}` should fail but reported {report:?}"
        );
    }
}

#[test]
fn solution_passes_everything() {
    let suite = suite7::suite(reference, local_shared(locked));
    let reports = reports(&suite, &[]);
    check!(reports.len() >= 7, "only {} tests ran", reports.len());
    for (name, report) in reports {
        check_eq!(report, Outcome::Passed, "solution: {name}");
    }
}

#[test]
fn stub_is_not_implemented_where_lesson7_adds() {
    let suite = suite7::suite(
        ::lesson7::BigHeap::new,
        local_shared(|p| ::lesson7::LockedHeap::new(::lesson7::BigHeap::new(p))),
    );
    for (name, report) in reports(&suite, &[]) {
        check!(
            !matches!(report, Outcome::Passed),
            "stub: `{name}` passed, but the stub implements nothing of lesson 7"
        );
    }
}

// ---------------------------------------------------------------------------
// Heap-level bugs: wrappers around the reference heap.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flaw {
    /// realloc moves without copying.
    ReallocLosesContents,
    /// realloc always moves (copying): never in place.
    ReallocAlwaysMoves,
    /// realloc frees the old block before it has the new one.
    ReallocFreesFirst,
    /// calloc does not zero.
    CallocNoZero,
    /// calloc's n * size wraps around.
    CallocWraps,
    /// aligned allocation ignores the alignment.
    AlignIgnored,
}

struct Broken<S: PageSource> {
    inner: BigHeap<S>,
    flaw: Flaw,
}

impl<S: PageSource> Heap for Broken<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.inner.malloc(size)
    }
    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // SAFETY: forwarded.
        unsafe { self.inner.free(ptr) }
    }
    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // SAFETY: forwarded.
        unsafe { self.inner.usable_size(ptr) }
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
                Flaw::ReallocAlwaysMoves => {
                    let old = self.inner.usable_size(ptr)?;
                    let new = self.inner.malloc(size)?;
                    ptr.copy_to_nonoverlapping(new, old.min(size));
                    self.inner.free(ptr);
                    Some(new)
                }
                Flaw::ReallocFreesFirst => {
                    let old = self.inner.usable_size(ptr)?;
                    if old >= size {
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
    suite7::suite(
        move |pages| Broken {
            inner: BigHeap::new(pages),
            flaw,
        },
        local_shared(locked),
    )
}

#[test]
fn heap_bugs_are_caught() {
    let cases: [(Flaw, &[&str]); 6] = [
        (Flaw::ReallocLosesContents, &["realloc_keeps_contents"]),
        (
            Flaw::ReallocAlwaysMoves,
            &["realloc_grows_and_shrinks_in_place"],
        ),
        (Flaw::ReallocFreesFirst, &["out_of_memory_returns_none"]),
        (Flaw::CallocNoZero, &["calloc_zeroes_and_refuses_overflow"]),
        (Flaw::CallocWraps, &["calloc_zeroes_and_refuses_overflow"]),
        (
            Flaw::AlignIgnored,
            &["aligned_blocks_from_16_bytes_to_a_page"],
        ),
    ];
    for (flaw, names) in cases {
        assert_fail(&format!("{flaw:?}"), &broken_suite(flaw), names);
    }
}

// ---------------------------------------------------------------------------
// The shared heap: no lock; GlobalAlloc bugs.

/// A "shared" heap with no lock at all.
struct Unlocked<H>(UnsafeCell<H>);

// SAFETY: deliberately false: this is the bug under test.
unsafe impl<H> Sync for Unlocked<H> {}

impl<H: FullHeap> SharedHeap for Unlocked<H> {
    type Inner = H;
    fn with_heap<R>(&self, f: impl FnOnce(&mut H) -> R) -> R {
        // SAFETY: none: threads race here, which the test must notice.
        f(unsafe { &mut *self.0.get() })
    }
}

// SAFETY: a test double; only the threads test uses it.
unsafe impl<H: FullHeap> GlobalAlloc for Unlocked<H> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.with_heap(|h| h.malloc_aligned(layout.align().max(16), layout.size()))
            .map_or(std::ptr::null_mut(), NonNull::as_ptr)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, _: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: the caller's promise.
            self.with_heap(|h| unsafe { h.free(p) });
        }
    }
}

/// Runs `f` in a forked child and returns true if the child reported
/// "failed" (exit 0) or crashed: a heap without a lock may corrupt itself
/// badly enough to bring the process down, which the grader reports as a
/// crash (a failure too).
fn fails_in_child(f: impl FnOnce() -> bool) -> bool {
    // SAFETY: the child runs the test and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(true);
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(if failed { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    libc::WIFSIGNALED(status) || (libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0)
}

#[test]
fn a_heap_without_its_lock_is_caught() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let caught = fails_in_child(|| {
        let suite = suite7::suite(
            reference,
            local_shared(|p| Unlocked(UnsafeCell::new(BigHeap::new(p)))),
        );
        let test = suite
            .tests
            .iter()
            .find(|t| t.name == "threads_share_the_heap")
            .expect("the test");
        let report = run_one(test, DEFAULT_SEED);
        if std::env::var_os("HEAPLAB_SHOW").is_some() {
            println!("---- no lock\n{report:?}");
        }
        matches!(report, Outcome::Failed { .. })
    });
    check!(
        caught,
        "threads_share_the_heap passed on a heap with no lock"
    );
}

#[derive(Clone, Copy, Debug)]
enum GlobalFlaw {
    /// realloc forgets the layout's alignment.
    ReallocLosesAlignment,
    /// alloc_zeroed does not zero.
    ZeroedIsDirty,
    /// alloc panics when memory runs out.
    PanicsOnExhaustion,
}

struct BadGlobal(LockedHeap<BigHeap<SyncPages>>, GlobalFlaw);

impl SharedHeap for BadGlobal {
    type Inner = BigHeap<SyncPages>;
    fn with_heap<R>(&self, f: impl FnOnce(&mut Self::Inner) -> R) -> R {
        self.0.with_heap(f)
    }
}

// SAFETY: a test double around the reference allocator.
unsafe impl GlobalAlloc for BadGlobal {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        let p = unsafe { self.0.alloc(layout) };
        if p.is_null() && matches!(self.1, GlobalFlaw::PanicsOnExhaustion) {
            panic!("out of memory");
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded.
        unsafe { self.0.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match self.1 {
            // SAFETY: forwarded.
            GlobalFlaw::ZeroedIsDirty => unsafe { self.alloc(layout) },
            // SAFETY: forwarded.
            _ => unsafe { self.0.alloc_zeroed(layout) },
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match self.1 {
            GlobalFlaw::ReallocLosesAlignment => {
                let p = NonNull::new(ptr).expect("non-null");
                // SAFETY: the caller's promise.
                self.0
                    .with_heap(|h| unsafe { h.realloc(p, new_size) })
                    .map_or(std::ptr::null_mut(), NonNull::as_ptr)
            }
            // SAFETY: forwarded.
            _ => unsafe { self.0.realloc(ptr, layout, new_size) },
        }
    }
}

#[test]
fn global_alloc_bugs_are_caught() {
    for flaw in [
        GlobalFlaw::ReallocLosesAlignment,
        GlobalFlaw::ZeroedIsDirty,
        GlobalFlaw::PanicsOnExhaustion,
    ] {
        let suite = suite7::suite(reference, local_shared(move |p| BadGlobal(locked(p), flaw)));
        assert_fail(&format!("{flaw:?}"), &suite, &["global_alloc_contract"]);
    }
}
