//! Reading memory that is not its own: its own (allowed: nothing secret is
//! there any more), the checker's and the grader's, through /proc/<pid>/mem
//! and process_vm_readv.

use crate::{breach, checker_and_grader, tried};

pub fn before_main() {}

pub fn in_the_heap() {
    let (checker, grader) = checker_and_grader();
    let mut targets = vec![("the checker", checker)];
    targets.extend(grader.map(|g| ("the grader", g)));
    for (who, pid) in targets {
        tried(&format!("reading {who}'s memory"));
        let Some(addr) = first_readable(pid) else {
            continue;
        };
        if read_mem(pid, addr) || read_vm(pid, addr) {
            breach(&format!("read {who}'s memory"));
        }
    }
}

/// The start of the first mapping of `pid` (0x400000 when its maps are
/// hidden: the read is tried anyway).
fn first_readable(pid: i32) -> Option<u64> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let readable = |l: &&str| l.split_whitespace().nth(1).is_some_and(|p| p.starts_with('r'));
    let start = maps
        .lines()
        .find(readable)
        .and_then(|l| l.split('-').next())
        .and_then(|a| u64::from_str_radix(a, 16).ok());
    Some(start.unwrap_or(0x40_0000))
}

fn read_mem(pid: i32, addr: u64) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(format!("/proc/{pid}/mem")) else {
        return false;
    };
    let mut buf = [0u8; 64];
    file.seek(SeekFrom::Start(addr)).is_ok() && file.read(&mut buf).is_ok_and(|n| n > 0)
}

fn read_vm(pid: i32, addr: u64) -> bool {
    let mut buf = [0u8; 64];
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: reads into `buf` only; the remote side is the attack.
    unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) > 0 }
}
