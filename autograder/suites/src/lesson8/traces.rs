//! The traces lesson 8 is measured on: heaplab's workloads (`traces/`,
//! generated from the default seed) and the malloc-lab traces the
//! instructor gives (every `.rep` file of the folder `course.toml` hands the
//! tests as `malloc-lab-traces`, in either dialect, their weights obeyed).

use std::path::PathBuf;

use heaplab_protocol::Failure;

use crate::remote::CannotStart;
use crate::trace::generate::{self, DEFAULT_SEED};
use crate::trace::{rep, Trace};

/// The name under which `course.toml` hands the instructor's traces.
pub const INSTRUCTOR_TRACES: &str = "malloc-lab-traces";

/// What a trace is needed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    Utilization,
    Throughput,
}

/// Every trace that scores `use_`: heaplab's, then the instructor's by
/// file name. A course trace that cannot be read is the kit's trouble (the
/// test reports a kit error), never the student's.
pub fn traces(use_: Use) -> Vec<Trace> {
    let mut all = generate::generate(DEFAULT_SEED);
    all.extend(instructor_traces());
    all.retain(|t| {
        let scoring = t.scoring();
        match use_ {
            Use::Utilization => scoring.utilization,
            Use::Throughput => scoring.throughput,
        }
    });
    all
}

/// The instructor's traces, if the course gives any.
fn instructor_traces() -> Vec<Trace> {
    let Some(dir) =
        crate::remote::config().and_then(|c| c.artifacts.get(INSTRUCTOR_TRACES).cloned())
    else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "rep"))
            .collect(),
        Err(e) => std::panic::panic_any(CannotStart(format!(
            "cannot read the course's malloc-lab traces in {}: {e}",
            dir.display()
        ))),
    };
    files.sort();
    files
        .iter()
        .map(|path| {
            rep::read(path).unwrap_or_else(|e| {
                std::panic::panic_any(CannotStart(format!(
                    "a malloc-lab trace of the course cannot be read: {e}"
                )))
            })
        })
        .collect()
}

/// Where `trace` can be read by a program: written to the test's scratch
/// folder.
pub fn file_of(trace: &Trace) -> Result<PathBuf, Failure> {
    super::measure::scratch_file(&format!("{}.rep", trace.name), &trace.to_rep())
}
