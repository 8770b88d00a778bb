//! What heaplab's two test processes say to each other, and what the checker
//! tells the grader: one crate both sides build, so nothing is written twice.
//!
//! A test runs as two processes. The *checker* (the suites, the model, the
//! heap checker, the verdict) is built without the student's crate; the
//! *subject* is the student's crate plus a small server loop
//! (`heaplab-subject`) that performs operations on command. The checker owns
//! the heap's memory (a memory file both map at the same addresses, see
//! [`window`]) and verifies every reply: nothing the subject says is a
//! verdict.
//!
//! - [`channel`]: the socket both ends talk over, one message per packet;
//! - [`confinement`]: the layers the student's processes run under;
//! - [`messages`]: what goes over it ([`Down`] to the subject, [`Up`] back);
//! - [`window`]: where the grader's pages live in both processes;
//! - [`outcome`]: a test's result as the checker reports it to the grader;
//! - [`checks`]: the names of the rules a failure can break, which hints are keyed by;
//! - [`heap_state`] and [`footprint`]: what a failure carries for the
//!   report to draw (the heap after each step, a footprint over a trace);
//! - [`ended`]: how a process ended, in words;
//! - [`stderr`]: what it printed, without the run-to-run thread ids;
//! - [`exit`]: the exit codes of `grade`, the checker and the subject;
//! - `manifest` (feature `manifest`): the course manifest's schema.

pub mod channel;
pub mod checks;
pub mod confinement;
pub mod ended;
pub mod exit;
pub mod footprint;
pub mod heap_state;
#[cfg(feature = "manifest")]
pub mod manifest;
pub mod messages;
pub mod outcome;
pub mod stderr;
pub mod window;

pub use channel::{Channel, RecvError};
pub use ended::Stopped;
pub use messages::{Down, PageAnswer, PageRequest, Reply, Request, Snapshot, Up, WireBlock};
pub use outcome::{Failure, Measured, Outcome};

/// The seed of every random choice a suite makes when the grader is given
/// none: the same seed, the same cases, the same counterexamples.
pub const DEFAULT_SEED: u64 = 0x4EA9_1AB5;

/// The environment variable that gives the checker the width of the
/// reader's screen (columns), when the report is shown in a terminal: the
/// checker draws its pictures of the heap to fit it.
pub const COLUMNS_ENV: &str = "HEAPLAB_COLUMNS";

/// File descriptors a subject process is started with, besides 0, 1 and 2.
pub mod fds {
    /// The channel to the checker (a `SOCK_SEQPACKET` socket).
    pub const CHANNEL: i32 = 3;
    /// The memory file holding the grader's pages ([`crate::window`]).
    pub const WINDOW: i32 = 4;
}
