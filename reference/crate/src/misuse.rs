// LESSONS 7..
//! Stopping loudly on misuse, without allocating (lesson 7).
//!
//! Lessons 4 to 6 `panic!` on a double free. A global allocator cannot: the
//! panic machinery allocates (the message, the payload box), and that
//! allocation would come back to this heap while its lock is held, so the
//! program would hang instead of stopping. `misuse` writes one line with
//! `write(2)` and calls `abort(3)`, neither of which allocates.

/// Prints `heaplab: <what>` to stderr and aborts the process.
pub fn misuse(what: &str) -> ! {
    write_stderr(b"heaplab: ");
    write_stderr(what.as_bytes());
    write_stderr(b"\n");
    // SAFETY: abort takes no arguments and never returns.
    unsafe { libc::abort() }
}

/// Writes all of `bytes` to stderr, giving up quietly on an error: there is
/// nobody left to tell.
pub fn write_stderr(bytes: &[u8]) {
    write_fd(2, bytes);
}

/// Writes all of `bytes` to the file descriptor `fd` with `write(2)`, giving
/// up quietly on an error.
pub fn write_fd(fd: i32, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        // SAFETY: rest is a live slice; write reads at most rest.len() bytes of it.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        match usize::try_from(n) {
            Ok(n) if n > 0 => rest = &rest[n..],
            _ => return,
        }
    }
}
// END LESSONS
