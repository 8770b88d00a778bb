//! The confinement of a student's processes, layer by layer as far as the
//! machine allows: a user of their own when the grader is root, their own
//! user, mount, network, IPC and host-name namespaces (every file read-only
//! but the scratch folder, no network), Landlock and seccomp filters,
//! `no_new_privs`, limits, a clean start; and nothing of theirs outlives
//! the test ([`sweep`]).
//!
//! The checker confines every process it starts with the student's code
//! ([`Prepared::enter`] in the child before `exec`); the grader asks which
//! layers this machine allows ([`allowed`], [`confinement`]) to say so in
//! its reports.

mod enter;
mod fds;
mod filters;
mod layers;
mod mounts;
pub mod slot;
pub mod sweep;

use std::path::{Path, PathBuf};

pub use enter::{Prepared, StepFailed, User};
pub use layers::{allowed, confinement, prepare, user_for, Allowed, FILE_BYTES, UID_BASE};
pub use sweep::{reap_orphans, watchdog_fired, Watchdog};

/// What the confinement of one test needs to know.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The program the student's process runs (checked reachable).
    pub subject: PathBuf,
    /// The one folder it may write to.
    pub scratch: PathBuf,
    /// Memory of its processes together.
    pub memory_bytes: u64,
    /// The grader's slot: a root grader runs each slot as a user of its own.
    pub slot: u32,
}

/// Gives `path` (a file or folder a test made in the scratch folder) to the
/// user the student's code runs as, when that is a user of its own.
pub fn hand_over(path: &Path, spec: &Spec) -> std::io::Result<()> {
    match allowed(spec).ok().and_then(|a| a.user) {
        Some(user) => std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)),
        None => Ok(()),
    }
}

/// Gives the scratch folder itself to the student's user (before
/// [`allowed`] probes, which checks that user can write it).
pub fn give_scratch(spec: &Spec) -> std::io::Result<()> {
    match user_for(spec.slot) {
        Some(user) => std::os::unix::fs::chown(&spec.scratch, Some(user.uid), Some(user.gid)),
        None => Ok(()),
    }
}
