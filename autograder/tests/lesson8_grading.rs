//! Lesson 8 graded end to end on two allocators the course must rank right,
//! each a submission made here from lesson 7's reference (the grader's own
//! lesson 8 `Cargo.toml` around it, as for any student's `src/`):
//!
//! - *slow*: lesson 6's heap behind lesson 7's one lock, as it is. Correct:
//!   it passes the correctness gate and earns its points; slow: it earns
//!   few of the speed points.
//! - *bump*: the same, but a heap whose `free` does nothing (fast, wrong):
//!   it fails the gate (`freed_memory_is_reused`), so no measured test runs
//!   and it earns no speed or space point.
//! - *unlocked*: the same, its lock taken out: `threads_share_the_process_heap`
//!   catches the threads' races from outside.
//!
//! The stub (0 points) and the reference (full marks) are graded by
//! `tests/lessons.rs`. Five gradings of the same submission, and the spread
//! of their points, are measured by hand with the loop docs/performance.md
//! gives ("Lesson 8", the spread over five gradings), not here: they take
//! ten minutes.

mod common;

use std::path::Path;

use common::{grade, root, test};
use serde_json::Value;

/// Lesson 7's reference as a lesson 8 submission in a new folder, with
/// `extra` appended to its `lib.rs` and `files` added to (or replacing
/// files of) its `src/`.
fn submission(extra: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let from = root().join("solutions/lesson7-drop-in/src");
    for entry in std::fs::read_dir(&from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, src.join(path.file_name().unwrap())).unwrap();
    }
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    std::fs::write(src.join("lib.rs"), format!("{lib}\n{extra}")).unwrap();
    for (name, text) in files {
        std::fs::write(src.join(name), text).unwrap();
    }
    std::fs::copy(
        root().join("lessons/lesson8-fast/Cargo.toml"),
        dir.path().join("Cargo.toml"),
    )
    .unwrap();
    dir
}

fn graded(dir: &Path) -> Value {
    let run = grade(&[
        "lesson8",
        "--submission",
        dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "points lost, graded:\n{}", run.stderr);
    run.json()
}

/// The points of the tests that are (or are not) measured.
fn points(report: &Value, measured: bool, prefix: &str) -> (u64, u64) {
    let mut earned = (0, 0);
    for t in report["tests"].as_array().unwrap() {
        let is_measured = ["speed_", "utilization_", "memory_"]
            .iter()
            .any(|p| t["name"].as_str().unwrap().starts_with(p));
        if is_measured == measured && t["name"].as_str().unwrap().starts_with(prefix) {
            earned.0 += t["score"].as_u64().unwrap();
            earned.1 += t["points"].as_u64().unwrap();
        }
    }
    earned
}

#[test]
fn a_slow_allocator_passes_the_gate_but_earns_few_speed_points() {
    let dir = submission(
        "/// Lesson 8's heap: here lesson 6's, behind lesson 7's one lock.\n\
         pub type FastHeap<S> = BigHeap<S>;\n",
        &[],
    );
    let report = graded(dir.path());
    let (gate, gate_max) = points(&report, false, "");
    assert_eq!(
        gate, gate_max,
        "correct: every gate test passes:\n{report:#}"
    );
    let (speed, speed_max) = points(&report, true, "speed_");
    assert!(
        speed * 2 <= speed_max,
        "slow: at most half the speed points, got {speed}/{speed_max}:\n{report:#}"
    );
    let list = test(&report, "speed_list_1_thread");
    assert!(
        list["outcome"]["measured"]["value"].as_f64().unwrap() < 0.9,
        "one lock and a first-fit walk are slower than the C library on the list:\n{list:#}"
    );
}

/// A heap that never frees: lesson 7's, with `free` a no-op.
const BUMP: &str = r#"//! A heap that never frees: fast, and wrong.

use std::ptr::NonNull;

use heaplab_kit::{Block, FullHeap, Heap, PageSource, Realloc, Stats};

use crate::BigHeap;

pub struct FastHeap<S: PageSource>(BigHeap<S>);

impl<S: PageSource> FastHeap<S> {
    pub fn new(pages: S) -> Self {
        FastHeap(BigHeap::new(pages))
    }
}

impl<S: PageSource> Heap for FastHeap<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.0.malloc(size)
    }

    unsafe fn free(&mut self, _ptr: NonNull<u8>) {}

    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // SAFETY: the caller's promise, passed on.
        unsafe { self.0.usable_size(ptr) }
    }

    fn stats(&self) -> Stats {
        self.0.stats()
    }

    fn free_blocks(&self) -> Vec<Block> {
        Vec::new()
    }
}

impl<S: PageSource> Realloc for FastHeap<S> {
    unsafe fn realloc(&mut self, ptr: NonNull<u8>, size: usize) -> Option<NonNull<u8>> {
        let new = self.0.malloc(size)?;
        // SAFETY: the caller's promise: ptr is a live block of this heap.
        let old = unsafe { self.0.usable_size(ptr) }.unwrap_or(0);
        // SAFETY: two distinct live blocks, each holding the bytes copied.
        unsafe { ptr.copy_to_nonoverlapping(new, old.min(size)) };
        Some(new)
    }
}

impl<S: PageSource> FullHeap for FastHeap<S> {
    fn calloc(&mut self, n: usize, size: usize) -> Option<NonNull<u8>> {
        self.0.calloc(n, size)
    }

    fn malloc_aligned(&mut self, align: usize, size: usize) -> Option<NonNull<u8>> {
        self.0.malloc_aligned(align, size)
    }
}
"#;

#[test]
fn a_heap_that_never_frees_fails_the_gate_and_earns_nothing_measured() {
    let dir = submission("mod bump;\npub use bump::FastHeap;\n", &[("bump.rs", BUMP)]);
    let report = graded(dir.path());
    let reused = test(&report, "freed_memory_is_reused");
    assert_eq!(reused["outcome"]["status"], "failed", "{reused:#}");
    assert!(
        reused["details"]
            .as_str()
            .unwrap()
            .contains("freed memory is not used again"),
        "{reused:#}"
    );
    let (measured, measured_max) = points(&report, true, "");
    assert_eq!((measured, measured_max > 0), (0, true), "{report:#}");
    let speed = test(&report, "speed_list_1_thread");
    assert!(
        speed["details"].as_str().unwrap().contains("not measured"),
        "the measured tests do not run:\n{speed:#}"
    );
}

#[test]
fn a_library_without_its_lock_fails_the_threads_test() {
    let lock =
        std::fs::read_to_string(root().join("solutions/lesson7-drop-in/src/lock.rs")).unwrap();
    let taken = "        self.lock.lock();\n        let _held = Held(&self.lock);\n";
    assert!(
        lock.contains(taken),
        "lesson 7's with_heap changed: update this test"
    );
    let unlocked = lock.replace(taken, "");
    let dir = submission(
        "pub type FastHeap<S> = BigHeap<S>;\n",
        &[("lock.rs", &unlocked)],
    );
    let run = grade(&[
        "lesson8",
        "--submission",
        dir.path().to_str().unwrap(),
        "--test",
        "threads_share_the_process_heap",
        "--format",
        "json",
    ]);
    let report = run.json();
    let threads = test(&report, "threads_share_the_process_heap");
    assert_eq!(threads["score"], 0, "{threads:#}\n{}", run.stderr);
    let details = threads["details"].as_str().unwrap();
    assert!(
        details.contains("lost its thread's mark")
            || details.contains("overlapping blocks")
            || details.contains("the threads program"),
        "caught by what it reads or by the program's stop, not by anything else:\n{threads:#}"
    );
}

/// The score of `blocks_are_aligned_apart_and_kept` alone, for `args`.
fn gate_test_score(args: &[&str]) -> u64 {
    let name = "blocks_are_aligned_apart_and_kept";
    let mut all = vec!["lesson8", "--test", name, "--exact", "--format", "json"];
    all.extend(args);
    let run = grade(&all);
    test(&run.json(), name)["score"].as_u64().unwrap()
}

/// Lesson 8's crate is also a C library, so cargo names its files without
/// a hash, and the stub and a submission (both package `lesson8`) would
/// write the same `liblesson8.rlib` in a shared build folder: graded after
/// a submission, the stub linked the submission's code and passed.
#[test]
fn the_stub_graded_after_a_submission_is_still_the_stub() {
    assert_eq!(gate_test_score(&[]), 0, "the stub implements nothing");
    let dir = submission(
        "/// Lesson 8's heap: here lesson 6's, behind lesson 7's one lock.\n\
         pub type FastHeap<S> = BigHeap<S>;\n",
        &[],
    );
    let submitted = ["--submission", dir.path().to_str().unwrap()];
    assert_eq!(gate_test_score(&submitted), 2, "the submission is correct");
    assert_eq!(
        gate_test_score(&[]),
        0,
        "graded after the submission, the stub still implements nothing"
    );
}
