//! heaplab lesson 4: a heap whose free chunks form a list kept inside the
//! free memory itself; `malloc` takes the first chunk that fits and splits it.
//! Grade it with `cargo grade lesson4`; the lesson is `docs/lesson4.md`.
#![forbid(unsafe_op_in_unsafe_fn)]

mod chunk;
mod free_list;
mod heap;
mod pages;

pub use chunk::{HEADER_BYTES, MIN_CHUNK_BYTES};
// BEGIN SOLUTION
pub use free_list::fit::Fit;
// END SOLUTION
pub use heap::{FreeListHeap, RUN_MIN_BYTES};
pub use pages::MmapPages;
