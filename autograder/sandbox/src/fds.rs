//! The descriptors a student's process starts with: 0, 1 and 2, and for the
//! subject the channel (3) and the window's memory file (4); every other
//! one the checker has is closed at `exec`.

use std::io;

use heaplab_protocol::fds::{CHANNEL, WINDOW};

/// The highest descriptor a student's process is given.
pub const LAST_GIVEN: i32 = WINDOW;

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc)
}

/// Puts `channel` at [`CHANNEL`] and `window` at [`WINDOW`], inherited.
pub fn give(channel: i32, window: i32) -> io::Result<()> {
    // Out of the way first: either may sit where the other goes.
    let channel_high = above_targets(channel)?;
    let window_high = above_targets(window)?;
    move_fd(channel_high, CHANNEL)?;
    move_fd(window_high, WINDOW)
}

/// Marks every descriptor above `last` close-on-exec (not closed now: the
/// pipe that reports a failed exec back to the parent is among them).
pub fn close_on_exec_above(last: i32) -> io::Result<()> {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets a flag on this
    // (child) process's descriptors.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            (last + 1) as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    check(rc as libc::c_int).map(drop)
}

/// A copy of `fd` numbered above the descriptors the subject is given.
fn above_targets(fd: i32) -> io::Result<i32> {
    // SAFETY: F_DUPFD makes a new descriptor of this (child) process.
    check(unsafe { libc::fcntl(fd, libc::F_DUPFD, 10) })
}

/// Puts `from` at descriptor `to`, inherited across exec.
fn move_fd(from: i32, to: i32) -> io::Result<()> {
    if from == to {
        // SAFETY: clears close-on-exec on a descriptor this process owns.
        return check(unsafe { libc::fcntl(to, libc::F_SETFD, 0) }).map(drop);
    }
    // SAFETY: dup2 onto a number the child owns; the copy is not close-on-exec.
    check(unsafe { libc::dup2(from, to) }).map(drop)
}
