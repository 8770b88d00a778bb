//! Where the grader's pages live: a range of addresses both processes keep
//! for them, backed by one memory file (`memfd_create`) that the checker
//! creates and the subject inherits.
//!
//! ```text
//!   address      BASE                                   BASE + BYTES
//!   checker      ├──[run]────────[run]──────────────────────┤  mapped by the checker first
//!   subject      ├──[run]────────[run]──────────────────────┤  the same file, the same addresses
//!   memory file  0 ─────────────────────────────────────── BYTES   offset = address - BASE
//! ```
//!
//! The checker picks each run's address (top down, as the kernel does), maps
//! the file there in its own process, and tells the subject to map the same
//! bytes at the same address. Both see every byte of the heap at the same
//! address, so the checker reads headers, lists and contents directly,
//! while the subject runs, hangs, or after it died. Only the checker
//! decides where pages are and when they are given back.

/// First address of the window: far from where Linux puts programs
/// (`0x55…`), their heaps, and its own `mmap`s (`0x7f…`), so neither
/// process has anything there.
pub const BASE: u64 = 0x2000_0000_0000;
/// Bytes in the window (address space only: the memory file is sparse, and
/// a page costs memory only once written).
pub const BYTES: u64 = 64 << 30;

/// The memory file's offset for `addr`, if `addr` is in the window.
pub fn offset_of(addr: u64) -> Option<u64> {
    addr.checked_sub(BASE).filter(|&o| o < BYTES)
}

/// True when `[addr, addr + len)` lies in the window.
pub fn holds(addr: u64, len: u64) -> bool {
    offset_of(addr).is_some_and(|o| o.checked_add(len).is_some_and(|end| end <= BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_from_the_base() {
        assert_eq!(offset_of(BASE), Some(0));
        assert_eq!(offset_of(BASE + 4096), Some(4096));
        assert_eq!(offset_of(BASE - 1), None);
        assert_eq!(offset_of(BASE + BYTES), None);
        assert!(holds(BASE, BYTES));
        assert!(!holds(BASE + 1, BYTES));
        assert!(!holds(u64::MAX, 2));
    }
}
