//! Lesson 7's starter gives lesson 6's heap solved. That given code, as the
//! student receives it, must still pass every lesson 6 test: lesson 7's tests
//! build on it, and it earns no points of its own.
//!
//! A test binary of its own: the harness notes a reached `todo!()` in a
//! process-wide flag, so this must not share a process with stub tests.

use heaplab_protocol::Outcome;
use heaplab_suites::harness::{run_one, DEFAULT_SEED};

/// Lesson 6's tests of misuse, which want a panic: lesson 7's heap stops a
/// misuse with `abort(3)` instead (a drop-in `malloc` must not unwind into
/// C callers), which would end this test's process.
const STOPPED_BY_ABORT: [&str; 2] = ["double_free_is_stopped", "foreign_pointer_is_stopped"];

#[test]
fn given_lesson6_heap_passes_lesson6_suite() {
    let tests = heaplab_suites::lesson6::suite(::lesson7::BigHeap::new).tests;
    for test in tests
        .into_iter()
        .filter(|t| !STOPPED_BY_ABORT.contains(&t.name))
    {
        let report = run_one(&test, DEFAULT_SEED);
        assert_eq!(
            report,
            Outcome::Passed,
            "lesson 6's `{}` on lesson 7's given heap",
            test.name
        );
    }
}
