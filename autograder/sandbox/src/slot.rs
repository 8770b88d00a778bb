//! User slots, leased across every grader on the machine.
//!
//! A root grader runs each test's student code as a user of its own
//! (`UID_BASE + slot`) and, when the test ends, kills every process of that
//! user. Two graders at once (two terminals, a batch beside a watch, tests
//! of the kit in parallel) must therefore never use the same slot: a slot
//! is held by an exclusive `flock` on `/tmp/heaplab-slots/<slot>`, which
//! the kernel releases when the lease is dropped or its grader dies. A
//! grader that cannot make the folder falls back to a counter of its own
//! (slots unique within this grader only), as before leases.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

/// Slots there are (users `UID_BASE` to `UID_BASE + SLOTS - 1`).
pub const SLOTS: u32 = 4096;

/// Where the leases are held.
const DIR: &str = "/tmp/heaplab-slots";

/// Where this grader starts looking for a free slot, so its tests spread
/// over the slots instead of all asking for slot 0 first.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A slot, leased until dropped.
#[derive(Debug)]
pub struct Lease {
    slot: u32,
    _lock: Option<File>,
}

impl Lease {
    /// The first free slot from this grader's next one on.
    pub fn take() -> Lease {
        let start = NEXT
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(std::process::id());
        if make_dir().is_ok() {
            for k in 0..SLOTS {
                let slot = (start.wrapping_add(k)) % SLOTS;
                if let Some(lock) = try_lock(slot) {
                    return Lease {
                        slot,
                        _lock: Some(lock),
                    };
                }
            }
        }
        Lease {
            slot: start % SLOTS,
            _lock: None,
        }
    }

    /// The slot's number (the checker's `--slot`).
    pub fn slot(&self) -> u32 {
        self.slot
    }
}

fn make_dir() -> std::io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(DIR) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// The slot's lock file, locked, or `None` when another grader holds it.
fn try_lock(slot: u32) -> Option<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(Path::new(DIR).join(slot.to_string()))
        .ok()?;
    // SAFETY: flock on a descriptor this function owns; it only locks.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    locked.then_some(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_leases_held_at_once_never_share_a_slot() {
        let leases: Vec<Lease> = (0..64).map(|_| Lease::take()).collect();
        let mut slots: Vec<u32> = leases.iter().map(Lease::slot).collect();
        slots.sort_unstable();
        slots.dedup();
        assert_eq!(slots.len(), leases.len());
    }

    #[test]
    fn a_slot_held_elsewhere_is_not_leased_again() {
        let held = Lease::take();
        // A second open file description of the same slot, as another
        // grader would have: its lock attempt must fail while `held` lives.
        assert!(held._lock.is_none() || try_lock(held.slot()).is_none());
        let slot = held.slot();
        drop(held);
        assert!(try_lock(slot).is_some(), "a dropped lease frees its slot");
    }
}
