//! The student's code, reached from the checker: the suites run here, in a
//! process built without the student's crate, and every operation of the
//! student's heap is a request to the student's own process (the
//! *subject*, `heaplab-subject`), whose replies are checked, never trusted.
//!
//! - [`heap`] is the lessons' `make`: `suite(heaplab_suites::remote::heap)`
//!   gives a suite whose heaps are [`RemoteHeap`]s. A remote heap
//!   implements the kit's heap traits, so every check, property and picture
//!   of the suites works on it unchanged: the heap's pages are the checker's
//!   own ([`crate::alloc::window`]), mapped at the same addresses in both
//!   processes, so the checker reads headers, lists and contents directly.
//! - [`Subject`]: the student's process (a zygote that forks one process per
//!   case), with a time limit on every operation.
//! - A crash, a hang or an exit of the student's process in the middle of an
//!   operation panics with a [`Stop`]: the session turns it into a diagnosis
//!   (the operation, the shortest sequence that still stops it, the heap as
//!   it was left), and proptest shrinks it like any failure.

mod arrays;
mod config;
mod heap;
mod output;
mod own_pages;
pub mod procfs;
mod sandbox;
mod shared;
mod subject;

use std::cell::RefCell;

pub use arrays::{arrays, RemoteArrays};
pub use config::Config;
pub use heap::{RemoteHeap, StudentStopped};
pub use own_pages::{own_pages, RemotePages};
pub use sandbox::{confine, hand_over, reap_orphans, run_program};
pub use shared::{shared, RemoteShared};
pub use subject::{Stop, Subject};

use heaplab_protocol::{Failure, PageAnswer, Reply, Request};

use crate::alloc::InstrumentedPages;

thread_local! {
    static CONFIG: RefCell<Option<Config>> = const { RefCell::new(None) };
    static SUBJECT: RefCell<Option<Subject>> = const { RefCell::new(None) };
    /// Set once an operation hung in this test: proptest is shrinking a
    /// hang, and every case it tries that hangs would cost the full time
    /// limit. Operations then get a tenth of it (at least 100 ms): far more
    /// than a small case needs, far less than a minute of shrinking.
    static HUNG: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The time one operation may take now.
fn op_limit(config: &Config) -> std::time::Duration {
    if HUNG.with(std::cell::Cell::get) {
        (config.op_limit / 10).max(std::time::Duration::from_millis(100))
    } else {
        config.op_limit
    }
}

/// Sets up this checker process to reach the student's code as `config`
/// says (the checker's `main` does this once, before the test runs).
pub fn install(config: Config) {
    CONFIG.with(|c| *c.borrow_mut() = Some(config));
}

/// The settings [`install`] was given.
pub fn config() -> Option<Config> {
    CONFIG.with(|c| c.borrow().clone())
}

/// The test's processes could not be started at all: the kit's trouble, not
/// the student's (a panic payload, reported as a kit error).
#[derive(Debug)]
pub struct CannotStart(pub String);

/// Runs `f` with the student's process, starting it (again) when there is
/// none or it died.
pub fn with_subject<R>(f: impl FnOnce(&mut Subject) -> Result<R, Stop>) -> Result<R, Stop> {
    SUBJECT.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(Subject::is_dead) {
            *slot = None;
            let Some(mut config) = config() else {
                std::panic::panic_any(CannotStart(
                    "no student process is set up: the remote heap runs only in the checker".into(),
                ));
            };
            config.op_limit = op_limit(&config);
            *slot = Some(Subject::start(&config).map_err(|e| match e {
                subject::StartError::Kit(message) => std::panic::panic_any(CannotStart(message)),
                subject::StartError::Student(stop) => stop,
            })?);
        }
        let result = f(slot.as_mut().expect("started above"));
        if let Err(Stop {
            stopped: heaplab_protocol::Stopped::Hung { .. },
            ..
        }) = &result
        {
            HUNG.with(|h| h.set(true));
        }
        result
    })
}

/// Stops the student's process, if it runs (at the end of a test), and
/// returns what it wrote to stdout and stderr.
pub fn shut_down() -> (String, String) {
    SUBJECT.with(|cell| match cell.borrow_mut().take() {
        Some(mut subject) => {
            subject.kill();
            subject.output()
        }
        None => (String::new(), String::new()),
    })
}

/// Calls the student's function `name` (a fixture) in a case of its own.
pub fn call(name: &str) -> Result<u64, Failure> {
    let request = Request::Call {
        name: name.to_string(),
    };
    let reply = with_subject(|s| {
        s.start_case()?;
        let reply = s.call(request, &mut |_| PageAnswer::Refused)?;
        s.end_case()?;
        Ok(reply)
    });
    let during = format!("{name}()");
    match reply {
        Ok(Reply::Value(v)) => Ok(v),
        Ok(other) => Err(unexpected(other, &during)),
        Err(stop) => Err(StudentStopped { stop, during }.failure()),
    }
}

/// A reply that is not the value asked for: a panic of the student's code
/// (a `todo!()` is noted), or something the subject cannot do.
pub(crate) fn unexpected(reply: Reply, during: &str) -> Failure {
    match reply {
        Reply::Panicked {
            message,
            location,
            todo,
        } => {
            if todo {
                crate::harness::note_todo(location.clone());
            }
            Failure::text(format!("{during} panicked at {location}: {message}"))
                .check(heaplab_protocol::checks::PANIC)
        }
        Reply::Error(e) | Reply::Unsupported { what: e } => Failure::text(format!("{during}: {e}")),
        other => Failure::text(format!("{during}: an odd reply {other:?}")),
    }
}

/// The `make` of a lesson's suite in the checker: the student's heap, in the
/// student's process, over `pages`.
pub fn heap(pages: InstrumentedPages) -> RemoteHeap {
    RemoteHeap::new(pages)
}
