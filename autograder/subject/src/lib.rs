//! The student's side of a heaplab test: the student's crate linked with
//! this small server, which runs the student's code on the checker's
//! command and replies. It decides nothing: the checker, built without the
//! student's crate, verifies every reply (see `heaplab-protocol`).
//!
//! The grader generates the subject's `main` from the lesson's `subject`
//! line in `course.toml`, for example
//!
//! ```text
//! fn main() -> std::process::ExitCode {
//!     heaplab_subject::main(heaplab_subject::Serve::new().heap(student::FreeListHeap::new))
//! }
//! ```
//!
//! and runs it as `subject --serve` (a zygote that forks one process per
//! case, see [`zygote`]) or `subject --as PROGRAM ARGS…` (one of the
//! lesson's programs, such as lesson 1's `save-array`; every subject also
//! has `replay` for a heap, and `c-api LIBRARY`, see [`c_api`]).
#![forbid(unsafe_op_in_unsafe_fn)]

mod array;
pub mod c_api;
mod case;
mod dispatch;
mod heaps;
mod link;
mod local;
mod own_pages;
mod pages;
mod panics;
mod serve;
pub mod threads;
mod zygote;

use std::process::ExitCode;

pub use pages::GraderPages;
pub use serve::{CallFn, Serve};

/// The `main` of a subject: `--serve` or `--as PROGRAM ARGS…`.
pub fn main(serve: Serve) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--serve") => zygote::run(&serve),
        Some("--as") => {
            let name = args.get(1).map(String::as_str).unwrap_or("");
            let rest = args.get(2..).unwrap_or_default();
            if name == "c-api" {
                return c_api::main(rest);
            }
            match serve.find_program(name) {
                Some(program) => program(rest),
                None => {
                    eprintln!("subject: no program named {name:?}");
                    ExitCode::from(heaplab_protocol::exit::SUBJECT_USAGE)
                }
            }
        }
        _ => {
            eprintln!(
                "usage: subject --serve (started by heaplab's checker) | --as PROGRAM [ARGS...]"
            );
            ExitCode::from(heaplab_protocol::exit::SUBJECT_USAGE)
        }
    }
}
