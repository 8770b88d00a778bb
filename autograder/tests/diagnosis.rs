//! Crashes and hangs still teach: lesson 4's reference solution with one
//! bug planted that kills or stalls the student's process — a segfault in
//! `free`, an abort and a stack overflow in `malloc`, a free list that turns
//! into a cycle — graded end to end. Each report names the operation that
//! went wrong, shows a short (shrunk) sequence of operations and a picture
//! of the heap, and says why; the hang says "cycle".

mod common;

use std::path::Path;

use common::{grade, root, test};
use serde_json::Value;

const TEST: &str = "contents_are_kept";

/// The lesson 4 solution with `from` replaced by `to` in src/heap.rs.
fn planted(from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_crate(&root().join("solutions/lesson4-free-list"), dir.path());
    common::plant(dir.path(), "src/heap.rs", from, to);
    dir
}

/// The outcome of `TEST` for the planted bug.
fn outcome(dir: &Path) -> Value {
    let run = grade(&[
        "lesson4",
        "--submission",
        dir.to_str().unwrap(),
        "--test",
        TEST,
        "--exact",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    test(&run.json(), TEST)["outcome"].clone()
}

/// The report shows the operation, a short sequence and a picture.
fn assert_teaches(what: &str, outcome: &Value, status: &str, step: &str, says: &str) {
    assert_eq!(outcome["status"], status, "{what}: {outcome:#}");
    let failure = &outcome["failure"];
    let step_text = failure["step"][1].as_str().unwrap_or("");
    assert!(
        step_text.contains(step),
        "{what}: the step is {step_text:?}: {outcome:#}"
    );
    let operations = failure["operations"].as_array().map_or(0, Vec::len);
    assert!(
        (1..=6).contains(&operations),
        "{what}: {operations} operations: {outcome:#}"
    );
    assert!(
        !failure["pictures"].as_array().is_none_or(Vec::is_empty),
        "{what}: no picture: {outcome:#}"
    );
    assert!(
        outcome.to_string().contains(says),
        "{what}: does not say {says:?}: {outcome:#}"
    );
}

#[test]
fn a_segfault_in_free_names_the_free() {
    let dir = planted(
        "ptr.write_bytes(JUNK_BYTE, size_bytes - HEADER_BYTES)",
        "ptr.write_bytes(JUNK_BYTE, size_bytes << 24)",
    );
    assert_teaches(
        "segfault in free",
        &outcome(dir.path()),
        "crashed",
        "free(",
        "SIGSEGV",
    );
}

#[test]
fn an_abort_in_malloc_is_shrunk_to_the_size_that_aborts() {
    let dir = planted(
        "let need_bytes = chunk_bytes_for(size)?;",
        "if size >= 24 {\n            std::process::abort();\n        }\n        let need_bytes = chunk_bytes_for(size)?;",
    );
    let outcome = outcome(dir.path());
    assert_teaches("abort", &outcome, "crashed", "malloc(24)", "SIGABRT");
}

#[test]
fn a_stack_overflow_says_so() {
    let dir = planted(
        "let need_bytes = chunk_bytes_for(size)?;",
        "if size >= 40 {\n            fn dive(n: u64) -> u64 {\n                std::hint::black_box([n; 64])[3] + dive(n + 1)\n            }\n            dive(0);\n        }\n        let need_bytes = chunk_bytes_for(size)?;",
    );
    // Each overflow takes a while to die (an 8 MiB stack, then the abort),
    // so shrinking may run out of time before it reaches 40.
    assert_teaches(
        "stack overflow",
        &outcome(dir.path()),
        "crashed",
        "malloc(",
        "stack overflow",
    );
}

#[test]
fn a_chunk_left_on_the_list_is_caught_before_it_loops() {
    let dir = planted(
        "        self.stats.chunks_allocated += 1;\n",
        "        // SAFETY: none: the planted bug, a chunk both in use and on the list.\n        unsafe { self.free_list.push(chunk) };\n        self.stats.chunks_allocated += 1;\n",
    );
    let outcome = outcome(dir.path());
    assert_teaches(
        "left on the list",
        &outcome,
        "failed",
        "malloc(",
        "free chunks apart from live chunks",
    );
}

#[test]
fn a_free_list_that_turns_into_a_cycle_is_named_a_cycle() {
    let dir = planted(
        "        unsafe { self.free_list.push(chunk) };\n",
        "        unsafe { self.free_list.push(chunk) };\n        // SAFETY: none: the planted bug, the chunk pushed twice.\n        unsafe { self.free_list.push(chunk) };\n",
    );
    // The first push is the new run's chunk in `grow`: pushed twice, its
    // next points at itself, and the first malloc walks the list forever
    // (a hang), or splits the one chunk it keeps finding until memory runs
    // out (a crash): either way the checker's own walk names the cycle.
    let outcome = outcome(dir.path());
    assert_eq!(outcome["failure"]["check"], "list-cycle", "{outcome:#}");
    let status = if outcome["status"] == "crashed" {
        "crashed"
    } else {
        "hung"
    };
    assert_teaches("cycle", &outcome, status, "malloc(", "the list has a cycle");
}
