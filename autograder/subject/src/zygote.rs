//! The zygote: the subject's first process. It starts (the student's
//! crate's own start-up code included), says hello, and then forks one case
//! process per case the checker starts, reporting how each ended.
//!
//! Every case starts from the same state, whatever the case before it did,
//! and a case that crashes or hangs costs one process, not the test: the
//! checker can try the next, smaller case at once. That is what lets
//! proptest shrink a sequence that crashes the student's heap.
//!
//! ```text
//!   checker ──StartCase──► zygote ──fork──► case process ──► requests, replies
//!           ◄─CaseEnded{status}── (waitpid)          exits or dies
//! ```

use std::process::ExitCode;

use heaplab_protocol::{exit, Request, Up};

use crate::case;
use crate::link;
use crate::pages::GraderPages;
use crate::serve::Serve;
use heaplab_kit::PageSource;

/// The zygote's loop; returns when the checker closes the channel.
pub fn run(serve: &Serve) -> ExitCode {
    if !link::connect() {
        eprintln!(
            "subject: no channel to the checker; this program is started by heaplab's grader \
             (run `cargo grade`), or run a program with --as NAME"
        );
        return ExitCode::from(exit::SUBJECT_USAGE);
    }
    let page_size = GraderPages::new().page_size() as u64;
    link::send(&Up::Hello { page_size });
    loop {
        match link::next_request() {
            Request::StartCase => start_case(serve),
            Request::EndCase => return ExitCode::SUCCESS,
            _ => link::send(&Up::CaseEnded { status: -1 }),
        }
    }
}

/// Forks a case process and reports how it ended.
fn start_case(serve: &Serve) {
    // SAFETY: the zygote runs one thread of its own; the child continues
    // with a copy of it and never returns here.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        case::run(serve);
    }
    if pid < 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        link::send(&Up::CaseNotStarted { errno });
        return;
    }
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes the status word into `status`.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        if rc == -1 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            status = -1;
            break;
        }
    }
    link::send(&Up::CaseEnded { status });
}
