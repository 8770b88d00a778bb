//! Stopping loudly on misuse, without allocating (as in lesson 7).
//!
//! A global allocator cannot `panic!`: the panic machinery allocates (the
//! message, the payload box), and that allocation would come back to this
//! heap, perhaps while its lock is held, so the program would hang instead
//! of stopping. `misuse` writes one line with `write(2)` and calls
//! `abort(3)`, neither of which allocates.

/// Prints `heaplab: <what>` to stderr and aborts the process.
pub fn misuse(what: &str) -> ! {
    write_stderr(b"heaplab: ");
    write_stderr(what.as_bytes());
    write_stderr(b"\n");
    // SAFETY: abort takes no arguments and never returns.
    unsafe { libc::abort() }
}

/// Prints `heaplab: <call>(<addr>): <what>` to stderr and aborts: the
/// address in hexadecimal, formatted on the stack.
pub fn misuse_at(call: &str, what: &str, addr: usize) -> ! {
    let mut digits = [0u8; 18]; // "0x" and 16 hexadecimal digits
    write_stderr(b"heaplab: ");
    write_stderr(call.as_bytes());
    write_stderr(b"(");
    write_stderr(hex(addr, &mut digits));
    write_stderr(b"): ");
    misuse(what)
}

/// `n` as `0x…` in hexadecimal, written at the end of `buf`.
fn hex(mut n: usize, buf: &mut [u8; 18]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b"0123456789abcdef"[n % 16];
        n /= 16;
        if n == 0 {
            break;
        }
    }
    buf[start - 2..start].copy_from_slice(b"0x");
    &buf[start - 2..]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_formats_without_allocating() {
        let mut buf = [0u8; 18];
        assert_eq!(hex(0, &mut buf), b"0x0");
        assert_eq!(hex(0x7f3a_0010, &mut buf), b"0x7f3a0010");
        assert_eq!(hex(usize::MAX, &mut buf), b"0xffffffffffffffff");
    }
}
