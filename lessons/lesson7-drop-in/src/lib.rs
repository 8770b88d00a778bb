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
#![forbid(unsafe_op_in_unsafe_fn)]

mod chunk;
mod free_list;
pub mod global;
mod heap;
mod lock;
mod misuse;
mod pages;
#[cfg(feature = "preload")]
mod preload;
mod resize;

pub use chunk::{HEADER_BYTES, MIN_CHUNK_BYTES};
pub use global::{print_stats, print_stats_to, process_stats, Malloc};
pub use heap::{BigHeap, RUN_MIN_BYTES};
pub use lock::{LockedHeap, RawLock};
pub use pages::MmapPages;

/// Where this crate's sources are: the grader builds the shared library for
/// its `LD_PRELOAD` tests from here.
pub const CRATE_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// This crate's package name, for the same build.
pub const PACKAGE: &str = env!("CARGO_PKG_NAME");
