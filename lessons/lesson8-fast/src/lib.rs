//! heaplab lesson 8, the challenge: a drop-in malloc faster than the C
//! library's. Usable as Rust's `#[global_allocator]` ([`Malloc`]) and, built
//! with `--features preload`, as a C library for `LD_PRELOAD`, like lesson 7.
//! Grade it with `cargo grade lesson8`; the lesson is `docs/lesson8.md`.
//!
//! The design is yours (docs/lesson8.md, "The design space"). The files the
//! reference solution uses for its parts are here, empty: use them or delete
//! them (and their `mod` lines).
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod global;
mod heap;
mod large;
mod lock;
mod misuse;
mod page_heap;
mod page_map;
mod pages;
#[cfg(feature = "preload")]
mod preload;
mod size_class;
mod slab;
mod span;
mod thread_cache;
mod tls;

pub use global::{print_stats, print_stats_to, process_stats, Malloc};
pub use heap::FastHeap;
pub use lock::{LockedHeap, RawLock};
pub use pages::MmapPages;

/// Where this crate's sources are: the grader builds the shared library for
/// its `LD_PRELOAD` tests from here.
pub const CRATE_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// This crate's package name, for the same build.
pub const PACKAGE: &str = env!("CARGO_PKG_NAME");
