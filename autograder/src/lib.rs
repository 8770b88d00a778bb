//! heaplab's autograder as a library: every command of `grade` is a module
//! here, and `src/main.rs` is a few lines over [`cli::main`]. The kit's own
//! tests and benchmarks use the modules directly (the stub generator, the
//! course manifest).
//!
//! Subcommands live in their own module with `pub struct Args` (clap::Args)
//! and `pub fn run(args: Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal>`;
//! adding one is a variant in [`cli::Command`] and an arm in its dispatch.
//!
//! The library is Linux's alone: on another system it is empty, and `grade`
//! only says that it needs Linux (see `src/main.rs`).
#![cfg(target_os = "linux")]

#[cfg(feature = "instructor")]
pub mod batch;
pub mod bench;
pub mod build;
pub mod carry;
pub mod cli;
pub mod course;
pub mod debug;
pub mod grade;
pub mod list;
pub mod local;
pub mod locate;
#[cfg(feature = "instructor")]
pub mod mutants;
#[cfg(feature = "instructor")]
pub mod package;
pub mod report;
pub mod runner;
pub mod status;
#[cfg(feature = "instructor")]
pub mod stubs;
pub mod traces;
pub mod watch;

/// Exit code: every test passed, full marks.
pub const EXIT_FULL_MARKS: u8 = 0;
/// Exit code: graded, with points lost (including "did not compile").
pub const EXIT_POINTS_LOST: u8 = 1;
/// Exit code: could not grade (bad input, a kit bug, a missing toolchain).
pub const EXIT_CANNOT_GRADE: u8 = 2;

/// A reason grading could not happen: one line (or a short block) for the
/// user, exit code 2.
#[derive(Debug)]
pub struct Fatal {
    pub message: String,
}

impl Fatal {
    pub fn new(message: impl Into<String>) -> Self {
        Fatal {
            message: message.into(),
        }
    }
}
