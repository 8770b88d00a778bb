//! malloc-lab traces, shared by the grader (`grade bench`, `grade traces`)
//! and the suites (the replayer and the utilization tests):
//!
//! - [`rep`]: the `.rep` file format (parse, write);
//! - [`generate`]: heaplab's named workloads, reproducible from a seed;
//! - [`report`]: what a replay reports, as JSON between the replay program
//!   and `grade bench`;
//! - [`replay`] and [`program`]: the replayer (checked and timed) and the
//!   `replay` program the student's process runs for `grade bench`.
//!
//! Small (the kit's traits, `libc`, `serde`), so the grader and the
//! student's process link it without the suites.

mod crash;
pub mod footprint;
pub mod generate;
pub mod program;
pub mod rep;
pub mod replay;
pub mod report;
