//! A case process: forked by the zygote for one case of one test, it serves
//! the checker's requests until the case ends, then exits.

use std::io::Write;

use heaplab_protocol::{Reply, Request, Up};

use crate::dispatch::{self, State};
use crate::link;
use crate::panics;
use crate::serve::Serve;

/// Serves one case; never returns.
pub fn run(serve: &Serve) -> ! {
    // A case process dies with its zygote (which dies with the checker), so
    // nothing it does outlives the test.
    // SAFETY: prctl sets a flag of this process only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
    panics::install();
    link::send(&Up::CaseReady {
        pid: std::process::id(),
    });
    let mut state = State::default();
    loop {
        let request = link::next_request();
        if request == Request::EndCase {
            // What the student's code built is dropped here, in this process,
            // so its cleanup (unmaps through the grader's pages) is checked.
            drop(state);
            end(0);
        }
        let view = dispatch::wants_view(&request);
        let reply: Reply = dispatch::handle(serve, &mut state, request);
        let failed = matches!(reply, Reply::Panicked { .. } | Reply::Error(_));
        link::send(&Up::Reply(reply));
        if view && !failed {
            link::send(&Up::Reply(dispatch::view(&state)));
        }
    }
}

/// Exits at once: output flushed, no exit handlers (they belong to the
/// zygote, and run once, there).
fn end(code: i32) -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit ends this process; nothing runs after it.
    unsafe { libc::_exit(code) }
}
