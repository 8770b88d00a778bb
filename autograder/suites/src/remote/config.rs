//! What the checker knows about the student's side of a test: which program
//! to start, where, and within which limits.

use std::collections::BTreeMap;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Duration;

/// The student's side of one test.
#[derive(Clone, Debug)]
pub struct Config {
    /// The subject program (the student's crate and the server loop).
    pub subject: PathBuf,
    /// Time one operation of the student's code may take.
    pub op_limit: Duration,
    /// Memory of the student's processes, together, in bytes.
    pub memory_bytes: u64,
    /// Bytes of stdout and of stderr kept.
    pub output_bytes: usize,
    /// The test's scratch folder: the student's processes run in it and may
    /// write only there.
    pub scratch: PathBuf,
    /// The window's memory file, which the subject inherits.
    pub window_file: RawFd,
    /// What the grader built before the tests (lesson 7's library), by name.
    pub artifacts: BTreeMap<String, PathBuf>,
    /// The grader's worker that runs the test: a root grader runs the
    /// student's code as a user of its own per slot.
    pub slot: u32,
}

impl Config {
    /// What the confinement needs to know of this test.
    pub fn spec(&self) -> heaplab_sandbox::Spec {
        heaplab_sandbox::Spec {
            subject: self.subject.clone(),
            scratch: self.scratch.clone(),
            memory_bytes: self.memory_bytes,
            slot: self.slot,
        }
    }
}
