//! Trace-driven workloads: malloc-lab `.rep` traces, heaplab's own seeded
//! workloads, and a replayer that checks a heap on them and measures its
//! utilization (peak live payload ÷ peak mapped bytes) and throughput.
//!
//! - [`rep`], [`generate`], [`report`]: the file format, the named
//!   workloads and what a replay reports (the `heaplab-traces` crate).
//! - [`replay`]: the checked replay and the timed replay.
//! - [`program`]: `harness --as replay TRACE...` in a local harness;
//!   [`grading`]: the utilization tests lessons 5 and 6 grade with.

pub mod grading;
pub mod pages;
pub mod program;

// The format, the workloads, the replayer and the report live in
// `heaplab-traces`, which the grader and the student's process link too.
pub use heaplab_traces::{generate, rep, replay, report};

pub use grading::utilization_test;
pub use pages::{metered, Footprint};
pub use program::{replay_program, replay_program_realloc};
pub use rep::{parse, read, Op, OpKind, ParseError, Trace};
pub use replay::{
    Allocator, Checked, Failure, HeapAllocator, ReallocAllocator, Sample, SystemAllocator,
};
pub use report::{performance_index, ReplayReport, TraceResult};
