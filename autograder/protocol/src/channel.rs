//! The socket the checker and the subject talk over: a `SOCK_SEQPACKET`
//! Unix socket pair, one message per packet (or a few packets for a large
//! message), each message a `postcard`-encoded value.
//!
//! Packets keep their boundaries, so a process that dies halfway through a
//! message leaves at most an unfinished message, never a stream the other
//! side can no longer read: the next packet (the zygote's report of how the
//! process ended) still arrives whole.
//!
//! ```text
//!   packet ─┬───────┬──────────────────────────────┐
//!           │ flags │ up to PIECE bytes of message │  FIRST: a message starts here
//!           └───────┴──────────────────────────────┘  MORE: it goes on in the next packet
//! ```
//!
//! A packet marked FIRST while a message is being put together means its
//! sender died halfway: the unfinished message is dropped, the new one read.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Bytes of message in one packet: well under the socket buffer every
/// Linux system allows without privileges (`net.core.wmem_max`, 208 KiB by
/// default).
const PIECE: usize = 32 * 1024;
/// Packet flag: the first piece of a message.
const FIRST: u8 = 0b10;
/// Packet flag: the message goes on in the next packet.
const MORE: u8 = 0b01;
/// The largest message either side accepts: the other side is not trusted
/// to be sane, and must not make this one allocate without bound.
pub const MAX_MESSAGE: usize = 16 << 20;

/// Why [`Channel::recv`] returned no message.
#[derive(Debug)]
pub enum RecvError {
    /// The other end is closed (the process exited or was killed).
    Closed,
    /// Nothing arrived before the deadline.
    TimedOut,
    /// A message that is not a valid encoding of what was expected, or is
    /// larger than [`MAX_MESSAGE`]: said in words.
    Garbage(String),
    /// The socket itself failed.
    Io(io::Error),
}

impl std::fmt::Display for RecvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecvError::Closed => write!(f, "the other end closed the channel"),
            RecvError::TimedOut => write!(f, "no answer in time"),
            RecvError::Garbage(what) => write!(f, "an unreadable message: {what}"),
            RecvError::Io(e) => write!(f, "the channel failed: {e}"),
        }
    }
}

/// One end of a checker–subject channel.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

impl Channel {
    /// A connected pair of ends, both close-on-exec.
    pub fn pair() -> io::Result<(Channel, Channel)> {
        let mut fds = [0; 2];
        // SAFETY: socketpair writes two new descriptors into `fds`.
        let rc = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        if rc == -1 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and nothing else owns them.
        let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok((Channel { fd: a }, Channel { fd: b }))
    }

    /// The end a process was handed as descriptor `fd`.
    ///
    /// # Safety
    /// `fd` is an open socket of a channel pair that nothing else in this
    /// process owns.
    pub unsafe fn from_raw_fd(fd: RawFd) -> Channel {
        // SAFETY: the caller's promise.
        Channel {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        }
    }

    /// Sends `message` whole (as one or more packets).
    pub fn send<T: Serialize>(&self, message: &T) -> io::Result<()> {
        let bytes = postcard::to_stdvec(message).map_err(io::Error::other)?;
        let mut pieces = bytes.chunks(PIECE).peekable();
        if pieces.peek().is_none() {
            return self.send_packet(&[FIRST]);
        }
        let mut packet = Vec::with_capacity(PIECE.min(bytes.len()) + 1);
        let mut flags = FIRST;
        while let Some(piece) = pieces.next() {
            if pieces.peek().is_some() {
                flags |= MORE;
            }
            packet.clear();
            packet.push(flags);
            packet.extend_from_slice(piece);
            self.send_packet(&packet)?;
            flags = 0;
        }
        Ok(())
    }

    fn send_packet(&self, packet: &[u8]) -> io::Result<()> {
        loop {
            // SAFETY: send reads `packet.len()` bytes of a live slice.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    packet.as_ptr().cast(),
                    packet.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// The next message, waiting until `deadline` (forever without one).
    pub fn recv<T: DeserializeOwned>(&self, deadline: Option<Instant>) -> Result<T, RecvError> {
        let mut message: Option<Vec<u8>> = None;
        loop {
            let packet = self.recv_packet(deadline)?;
            let Some((&flags, piece)) = packet.split_first() else {
                return Err(RecvError::Garbage("an empty packet".into()));
            };
            if flags & !(FIRST | MORE) != 0 {
                return Err(RecvError::Garbage("a packet with a bad header".into()));
            }
            let mut so_far = match (flags & FIRST != 0, message.take()) {
                // A new message; an unfinished one before it is dropped.
                (true, _) => Vec::new(),
                (false, Some(so_far)) => so_far,
                // A continuation of a message whose start was dropped.
                (false, None) => continue,
            };
            if so_far.len() + piece.len() > MAX_MESSAGE {
                return Err(RecvError::Garbage(format!(
                    "a message of more than {MAX_MESSAGE} bytes"
                )));
            }
            so_far.extend_from_slice(piece);
            if flags & MORE == 0 {
                return postcard::from_bytes(&so_far)
                    .map_err(|e| RecvError::Garbage(e.to_string()));
            }
            message = Some(so_far);
        }
    }

    /// One packet, whole: read at once when one is waiting, else after
    /// waiting for one (so a busy channel costs one system call a packet).
    fn recv_packet(&self, deadline: Option<Instant>) -> Result<Vec<u8>, RecvError> {
        // Room for the largest packet a sender makes, plus one byte to tell
        // a larger one (MSG_TRUNC returns its real length).
        let mut packet: Vec<u8> = Vec::with_capacity(PIECE + 2);
        // No spinning before the wait: with two workers on two CPUs a
        // spinning receiver takes the CPU its peer needs (docs/design.md).
        loop {
            // SAFETY: recv writes at most `capacity` bytes into the buffer's
            // spare room, which is allocated (not read before it is written).
            let got = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    packet.as_mut_ptr().cast(),
                    packet.capacity(),
                    libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                )
            };
            if got < 0 {
                match io::Error::last_os_error().kind() {
                    io::ErrorKind::WouldBlock => {
                        self.wait_readable(deadline)?;
                        continue;
                    }
                    io::ErrorKind::Interrupted => continue,
                    _ => {}
                }
            }
            let len = check_len(got)?;
            if len > PIECE + 1 {
                return Err(RecvError::Garbage(format!(
                    "a packet of {len} bytes (at most {} expected)",
                    PIECE + 1
                )));
            }
            // SAFETY: recv wrote the packet's `len` bytes (all of it: it is
            // shorter than the buffer) at the start of the buffer.
            unsafe { packet.set_len(len) };
            return Ok(packet);
        }
    }

    fn wait_readable(&self, deadline: Option<Instant>) -> Result<(), RecvError> {
        loop {
            let timeout_ms = match deadline {
                None => -1,
                Some(d) => {
                    // Rounded up, so a wait never ends just short of the deadline.
                    let left = d.saturating_duration_since(Instant::now());
                    i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
                }
            };
            let mut poll = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: poll reads and writes the one pollfd it is given.
            let rc = unsafe { libc::poll(&mut poll, 1, timeout_ms) };
            match rc {
                1.. => return Ok(()),
                0 if deadline.is_some_and(|d| Instant::now() >= d) => {
                    return Err(RecvError::TimedOut)
                }
                0 => continue,
                _ => {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(RecvError::Io(e));
                    }
                }
            }
        }
    }
}

/// A `recv` result as a length: 0 is the peer's close.
fn check_len(n: isize) -> Result<usize, RecvError> {
    match n {
        0 => Err(RecvError::Closed),
        1.. => Ok(n as usize),
        _ => {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::ECONNRESET) => Err(RecvError::Closed),
                _ => Err(RecvError::Io(e)),
            }
        }
    }
}

impl AsRawFd for Channel {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl From<Channel> for OwnedFd {
    fn from(c: Channel) -> OwnedFd {
        c.fd
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn messages_cross_whole_small_and_large() {
        let (a, b) = Channel::pair().unwrap();
        a.send(&(7u32, "seven".to_string())).unwrap();
        let got: (u32, String) = b.recv(None).unwrap();
        assert_eq!(got, (7, "seven".to_string()));
        let big: Vec<u64> = (0..20_000).collect();
        let sender = std::thread::spawn(move || {
            a.send(&big).unwrap();
            a
        });
        let got: Vec<u64> = b.recv(None).unwrap();
        assert_eq!(got.len(), 20_000);
        assert_eq!(got[19_999], 19_999);
        drop(sender.join().unwrap());
        assert!(matches!(b.recv::<u32>(None), Err(RecvError::Closed)));
    }

    #[test]
    fn a_deadline_stops_the_wait() {
        let (_a, b) = Channel::pair().unwrap();
        let start = Instant::now();
        let r = b.recv::<u32>(Some(Instant::now() + Duration::from_millis(30)));
        assert!(matches!(r, Err(RecvError::TimedOut)));
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn garbage_is_named_not_trusted() {
        let (a, b) = Channel::pair().unwrap();
        a.send_packet(&[FIRST, 0xFF, 0xFF, 0xFF]).unwrap();
        assert!(matches!(b.recv::<String>(None), Err(RecvError::Garbage(_))));
        a.send_packet(&[0x80, 1]).unwrap();
        assert!(matches!(b.recv::<u8>(None), Err(RecvError::Garbage(_))));
    }

    #[test]
    fn an_unfinished_message_does_not_hide_the_next() {
        let (a, b) = Channel::pair().unwrap();
        // A sender that died after the first piece of a long message, then
        // a whole message from another process on the same socket.
        a.send_packet(&[FIRST | MORE, 1, 2, 3]).unwrap();
        a.send(&5u8).unwrap();
        assert_eq!(b.recv::<u8>(None).unwrap(), 5);
    }
}
