//! This process's one channel to the checker, reachable from anywhere: the
//! serve loop reads requests and writes replies on it, and the grader's
//! page source, deep inside the student's `malloc`, asks for pages on it.

use std::process;
use std::sync::{Mutex, MutexGuard};

use heaplab_protocol::{exit, fds, Channel, Down, PageAnswer, PageRequest, Request, Up};

static LINK: Mutex<Option<Channel>> = Mutex::new(None);

fn lock() -> MutexGuard<'static, Option<Channel>> {
    LINK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Takes the channel the checker started this process with; `false` when
/// there is none (the subject was started by hand).
pub fn connect() -> bool {
    // SAFETY: fcntl on a descriptor number only asks whether it is open.
    if unsafe { libc::fcntl(fds::CHANNEL, libc::F_GETFD) } == -1 {
        return false;
    }
    // SAFETY: the checker opened CHANNEL for this process as its end of a
    // channel pair; nothing else in this process owns it.
    let channel = unsafe { Channel::from_raw_fd(fds::CHANNEL) };
    *lock() = Some(channel);
    true
}

/// True when this process has a checker to talk to.
pub fn connected() -> bool {
    lock().is_some()
}

/// The checker is gone: there is no one to answer, so stop.
fn lost() -> ! {
    process::exit(i32::from(exit::SUBJECT_NO_CHECKER))
}

/// Sends `message` to the checker.
pub fn send(message: &Up) {
    let link = lock();
    let Some(channel) = link.as_ref() else { lost() };
    if channel.send(message).is_err() {
        lost();
    }
}

/// The checker's next request; a page answer out of turn is a protocol
/// error, and so is a broken channel: the process stops.
pub fn next_request() -> Request {
    let link = lock();
    let Some(channel) = link.as_ref() else { lost() };
    match channel.recv::<Down>(None) {
        Ok(Down::Request(request)) => request,
        _ => lost(),
    }
}

/// Asks the checker about pages and waits for its answer. Threads asking at
/// once take turns: each question and its answer happen under the lock.
pub fn page_request(request: PageRequest) -> PageAnswer {
    let link = lock();
    let Some(channel) = link.as_ref() else { lost() };
    if channel.send(&Up::Page(request)).is_err() {
        lost();
    }
    match channel.recv::<Down>(None) {
        Ok(Down::Page(answer)) => answer,
        _ => lost(),
    }
}
