//! Lesson 7's suite: a drop-in malloc. `realloc`, `calloc` and aligned
//! blocks keep the model's contents and lesson 6's heap invariants; threads
//! share the heap safely; and the student's crate, built as a shared library
//! by the grader, passes C's contracts, runs real programs under
//! `LD_PRELOAD`, and a Rust program as its `#[global_allocator]`.
//!
//! In the checker (course.toml):
//!
//! ```text
//! heaplab_suites::lesson7::suite(heaplab_suites::remote::heap, heaplab_suites::remote::shared)
//! ```

use std::rc::Rc;
use std::time::Duration;

use heaplab_kit::FullHeap;
use heaplab_protocol::Failure;

use crate::alloc::InstrumentedPages;
use crate::harness::{self, Suite, Test};
use crate::outside::{artifact, notice_todo};

pub mod global_alloc;
pub mod ops;
mod preload;
mod real_programs;
mod shared;
mod sync_pages;
pub mod threads;

pub use shared::{local_shared, LocalShared, SharedApi};
pub use sync_pages::SyncPages;

/// Lesson 7's tests.
///
/// `make` builds the heap on the grader's instrumented pages (lesson 6's
/// checks and the single-threaded properties); `shared` makes the heap
/// behind the student's lock (the `GlobalAlloc` and threads tests).
pub fn suite<H, S>(
    make: impl Fn(InstrumentedPages) -> H + 'static,
    shared: impl Fn() -> S + 'static,
) -> Suite
where
    H: FullHeap + 'static,
    S: SharedApi + 'static,
{
    let make = Rc::new(make);
    let shared = Rc::new(shared);
    let mut tests = ops::tests(&make);
    tests.push(threads::test(&shared));
    tests.push(global_alloc::test(&shared));
    tests.extend(outside_tests());
    Suite {
        tests,
        programs: vec![crate::trace::replay_program_realloc(&make)],
    }
}

/// The tests of the crate as the grader built it (`[[lesson.build]]`): its
/// C functions, its statistics at exit, real programs under `LD_PRELOAD`,
/// and a Rust program with it as its `#[global_allocator]`. They hold for
/// any allocator (lesson 8 gates its points with them too).
pub fn outside_tests() -> Vec<Test> {
    vec![
        Test::new("c_functions_follow_c", |_| c_functions_follow_c()),
        Test::new("stats_at_exit", |_| preload::stats_at_exit()),
        Test::new("real_programs_run_unchanged", |_| {
            real_programs::real_programs()
        }),
        Test::new("rust_program_uses_it_as_global_allocator", |_| {
            preload::global_allocator_program()
        }),
    ]
}

/// The library's C functions, called directly by the kit's driver
/// (`--as c-api LIBRARY`, in the student's confinement).
fn c_functions_follow_c() -> Result<(), Failure> {
    let lib = artifact("library")?;
    let lib = lib.to_string_lossy();
    let dir = std::env::temp_dir();
    let output = harness::run_program("c-api", &[&lib], &dir, Duration::from_secs(30))?;
    notice_todo(&output.stderr);
    if output.status.success() {
        return Ok(());
    }
    let how = match output.status.code() {
        Some(code) => format!("exit {code}"),
        None => "killed by a signal: a crash or an abort".to_string(),
    };
    Err(Failure::text(format!(
        "calling the library's C functions directly ({how}):\n{}\n{}",
        String::from_utf8_lossy(&output.stdout).trim_end(),
        crate::outside::tail(&output.stderr)
    )))
}
