//! malloc-lab traces, shared by the grader (`grade bench`, `grade traces`)
//! and the suites (the replayer and the utilization tests):
//!
//! - [`rep`]: the `.rep` file format (parse, write);
//! - [`generate`]: heaplab's named workloads, reproducible from a seed;
//! - [`report`]: what a replay reports, as JSON between the replay program
//!   and `grade bench`.
//!
//! Only `std` and `serde`, so the grader links it without the suites.

pub mod generate;
pub mod rep;
pub mod report;
