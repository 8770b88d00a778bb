//! Trace-driven workloads: malloc-lab `.rep` traces, heaplab's own seeded
//! workloads, and a replayer that checks a heap on them and measures its
//! utilization (peak live payload ÷ peak mapped bytes) and throughput.
//!
//! - [`rep`]: the file format (parse, write).
//! - [`generate`]: the named workloads, reproducible from a seed.
//! - [`replay`]: the checked replay and the timed replay.
//! - [`report`]: what a replay reports (JSON between harness and grader).
//! - [`program`]: `harness --as replay TRACE...`, the harness side of
//!   `grade bench`, and the utilization tests lessons 5 and 6 grade with.

mod crash;
pub mod generate;
pub mod grading;
pub mod pages;
pub mod program;
pub mod rep;
pub mod replay;
pub mod report;

pub use grading::utilization_test;
pub use pages::{metered, Footprint};
pub use program::{replay_program, replay_program_realloc};
pub use rep::{parse, read, Op, OpKind, ParseError, Trace};
pub use replay::{
    Allocator, Checked, Failure, HeapAllocator, ReallocAllocator, Sample, SystemAllocator,
};
pub use report::{performance_index, ReplayReport, TraceResult};
