//! Lesson 7's suite: a drop-in malloc. `realloc`, `calloc` and aligned
//! blocks keep the model's contents and lesson 6's heap invariants; threads share the heap safely; and the student's crate,
//! built as a shared library, runs real programs under `LD_PRELOAD` and a
//! Rust program as its `#[global_allocator]`.
//!
//! The harness line (course.toml) passes the heap's constructor, a way to
//! put a heap behind the student's lock, and where the crate is, so the
//! tests that need the shared library can build it:
//!
//! ```text
//! heaplab_suites::lesson7::suite(
//!     student::BigHeap::new,
//!     |pages| student::LockedHeap::new(student::BigHeap::new(pages)),
//!     heaplab_suites::lesson7::Crate { dir: student::CRATE_DIR, package: student::PACKAGE },
//! )
//! ```

use std::alloc::GlobalAlloc;
use std::rc::Rc;

use heaplab_kit::{FullHeap, SharedHeap};

use crate::alloc::InstrumentedPages;
use crate::harness::{Suite, Test};

mod c_api;
mod ops;
mod preload;
mod sync_pages;
mod threads;

pub use preload::{build_library, find_program, run_with_timeout, Crate, Ran};
pub use sync_pages::SyncPages;

/// Lesson 7's tests.
///
/// `make` builds the heap on the grader's instrumented pages (lesson 6's
/// checks and the single-threaded properties); `share` puts a heap on
/// thread-safe pages behind the student's lock (the `GlobalAlloc` and
/// threads tests); `krate` is built as a shared library for the programs.
pub fn suite<H, L>(
    make: impl Fn(InstrumentedPages) -> H + 'static,
    share: impl Fn(SyncPages) -> L + 'static,
    krate: Crate,
) -> Suite
where
    H: FullHeap + 'static,
    L: SharedHeap + GlobalAlloc + Send + Sync + 'static,
{
    let make = Rc::new(make);
    let share = Rc::new(share);
    let mut tests = ops::tests(&make);
    tests.extend(threads::tests(&share));
    tests.push(Test::new("c_functions_follow_c", move |_| {
        c_api::check(&krate)
    }));
    tests.push(Test::new("stats_at_exit", move |_| {
        preload::stats_at_exit(&krate)
    }));
    tests.push(Test::new("real_programs_run_unchanged", move |_| {
        preload::real_programs(&krate)
    }));
    tests.push(Test::new(
        "rust_program_uses_it_as_global_allocator",
        move |_| preload::global_allocator_program(&krate),
    ));
    Suite {
        tests,
        programs: vec![crate::trace::replay_program_realloc(&make)],
    }
}
