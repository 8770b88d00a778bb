// LESSONS 2
//! heaplab lesson 2: a bump allocator. Whole pages come from anonymous
//! `mmap(2)` ([`MmapPages`]); [`BumpHeap`] carves blocks out of them and
//! never hands memory back. Grade it with `cargo grade lesson2`; the lesson
//! is `docs/lesson2.md`.
// ELSE LESSONS 3
//! heaplab lesson 3: size headers. Every block carries its chunk size in a
//! 16-byte header just before the pointer `malloc` returns, so `free(ptr)`
//! and `usable_size(ptr)` find it without being told. Grade it with
//! `cargo grade lesson3`; the lesson is `docs/lesson3.md`.
// ELSE LESSONS 4
//! heaplab lesson 4: a heap whose free chunks form a list kept inside the
//! free memory itself; `malloc` takes the first chunk that fits and splits it.
//! Grade it with `cargo grade lesson4`; the lesson is `docs/lesson4.md`.
// ELSE LESSONS 5
//! heaplab lesson 5: the free list in address order, so that `free` merges a
//! chunk with the free chunks on either side and big chunks form again.
//! Grade it with `cargo grade lesson5`; the lesson is `docs/lesson5.md`.
// ELSE LESSONS 6
//! heaplab lesson 6: requests of a page or more get pages of their own,
//! unmapped on free; smaller ones use lesson 5's coalescing free list.
//! Grade it with `cargo grade lesson6`; the lesson is `docs/lesson6.md`.
// ELSE LESSONS 7
//! heaplab lesson 7: a drop-in malloc. Lesson 6's heap behind one lock, with
//! `realloc`, `calloc` and aligned blocks, usable as Rust's
//! `#[global_allocator]` ([`Malloc`]) and, built with `--features preload`, as
//! a C library for `LD_PRELOAD`. Grade it with `cargo grade lesson7`; the
//! lesson is `docs/lesson7.md`.
//!
//! The lesson comes in two parts. Part A, a heap for Rust: the lock and
//! `GlobalAlloc` (`lock.rs`), `realloc`, `calloc` and aligned blocks
//! (`resize.rs`, and `FreeList::take_at` in `free_list.rs`). Part B, a
//! drop-in for the process: the fork handlers and the statistics
//! (`global.rs`), the C exports (`preload.rs`).
// END LESSONS
#![forbid(unsafe_op_in_unsafe_fn)]

// LESSONS 2
mod bump;
// ELSE LESSONS 3..
mod chunk;
// END LESSONS
// LESSONS 4..
mod free_list;
// END LESSONS
// LESSONS 7..
pub mod global;
// END LESSONS
// LESSONS 3..
mod heap;
// END LESSONS
// LESSONS 7..
mod lock;
mod misuse;
// END LESSONS
mod pages;
// LESSONS 7..
#[cfg(feature = "preload")]
mod preload;
mod resize;
// END LESSONS

// LESSONS 2
pub use bump::BumpHeap;
// ELSE LESSONS 3..
pub use chunk::{HEADER_BYTES, MIN_CHUNK_BYTES};
// END LESSONS
// LESSONS 7..
pub use global::{print_stats, print_stats_to, process_stats, Malloc};
// END LESSONS
// LESSONS 4..=5
// BEGIN SOLUTION
pub use free_list::fit::Fit;
// END SOLUTION
// END LESSONS
// LESSONS 3
pub use heap::HeaderHeap;
// ELSE LESSONS 4
pub use heap::{FreeListHeap, RUN_MIN_BYTES};
// ELSE LESSONS 5
pub use heap::{CoalescingHeap, RUN_MIN_BYTES};
// ELSE LESSONS 6..
pub use heap::{BigHeap, RUN_MIN_BYTES};
// END LESSONS
// LESSONS 7..
pub use lock::{LockedHeap, RawLock};
// END LESSONS
pub use pages::MmapPages;
// LESSONS 7..

/// Where this crate's sources are: the grader builds the shared library for
/// its `LD_PRELOAD` tests from here.
pub const CRATE_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// This crate's package name, for the same build.
pub const PACKAGE: &str = env!("CARGO_PKG_NAME");
// END LESSONS
