//! What the checker sees of a student's process from the outside: its
//! mappings (`/proc/<pid>/maps`), its open files (`/proc/<pid>/fd`), its
//! parent, and its memory (`process_vm_readv`, `process_vm_writev`). The
//! kernel says these, not the process.

use std::io;

/// One line of `/proc/<pid>/maps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub start: usize,
    pub end: usize,
    /// `rw-p`, `r-xs`…
    pub perms: String,
    /// The file mapped, `[heap]`, `[stack]`, or empty for anonymous memory.
    pub path: String,
}

/// The mappings of process `pid`.
pub fn maps(pid: u32) -> io::Result<Vec<Region>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    Ok(text.lines().filter_map(parse_region).collect())
}

fn parse_region(line: &str) -> Option<Region> {
    let mut fields = line.split_whitespace();
    let range = fields.next()?;
    let perms = fields.next()?.to_string();
    let (start, end) = range.split_once('-')?;
    let path = fields.nth(3).map(String::from).unwrap_or_default();
    Some(Region {
        start: usize::from_str_radix(start, 16).ok()?,
        end: usize::from_str_radix(end, 16).ok()?,
        perms,
        path,
    })
}

/// True when every byte of `[addr, addr + len)` is mapped in `regions`.
pub fn covered(regions: &[Region], addr: usize, len: usize) -> bool {
    let Some(end) = addr.checked_add(len.max(1)) else {
        return false;
    };
    let mut at = addr;
    while at < end {
        match regions.iter().find(|r| r.start <= at && at < r.end) {
            Some(r) => at = r.end,
            None => return false,
        }
    }
    true
}

/// The parent of process `pid`.
pub fn parent(pid: u32) -> io::Result<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no PPid in /proc/{pid}/status")))
}

/// The CPU time (user and system, all its threads) process `pid` has used,
/// from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> io::Result<std::time::Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name, which is in parentheses and may
    // hold spaces: utime and stime are the 12th and 13th after it.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let field = |k: usize| -> Option<u64> { rest.split_whitespace().nth(k)?.parse().ok() };
    let (Some(user), Some(system)) = (field(11), field(12)) else {
        return Err(io::Error::other("an unreadable /proc/<pid>/stat"));
    };
    // SAFETY: sysconf only reads a system setting.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Ok(std::time::Duration::from_millis(
        (user + system) * 1000 / ticks,
    ))
}

/// The targets of process `pid`'s open file descriptors.
pub fn open_files(pid: u32) -> io::Result<Vec<(u32, String)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        let entry = entry?;
        let fd = entry.file_name().to_string_lossy().parse().unwrap_or(0);
        let target = std::fs::read_link(entry.path())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((fd, target));
    }
    Ok(out)
}

/// `len` bytes of process `pid`'s memory at `addr`.
pub fn read(pid: u32, addr: usize, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: len,
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: len,
    };
    // SAFETY: process_vm_readv writes at most `len` bytes into `buf`, which
    // has room for them; the remote address is only read, in the other process.
    let n = unsafe { libc::process_vm_readv(pid as libc::pid_t, &local, 1, &remote, 1, 0) };
    match usize::try_from(n) {
        Ok(n) if n == len => Ok(buf),
        Ok(n) => Err(io::Error::other(format!("read {n} of {len} bytes"))),
        Err(_) => Err(io::Error::last_os_error()),
    }
}

/// Writes `bytes` into process `pid`'s memory at `addr`.
pub fn write(pid: u32, addr: usize, bytes: &[u8]) -> io::Result<()> {
    let local = libc::iovec {
        iov_base: bytes.as_ptr() as *mut libc::c_void,
        iov_len: bytes.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: bytes.len(),
    };
    // SAFETY: process_vm_writev reads `bytes` here and writes the other
    // process's memory only.
    let n = unsafe { libc::process_vm_writev(pid as libc::pid_t, &local, 1, &remote, 1, 0) };
    match usize::try_from(n) {
        Ok(n) if n == bytes.len() => Ok(()),
        Ok(n) => Err(io::Error::other(format!(
            "wrote {n} of {} bytes",
            bytes.len()
        ))),
        Err(_) => Err(io::Error::last_os_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines_parse() {
        let r = parse_region("7f00a000-7f00c000 rw-p 00000000 00:00 0 ").unwrap();
        assert_eq!(
            (r.start, r.end, r.perms.as_str(), r.path.as_str()),
            (0x7f00a000, 0x7f00c000, "rw-p", "")
        );
        let f = parse_region("55d0-55e0 r--p 00000000 08:01 123 /usr/bin/cat").unwrap();
        assert_eq!(f.path, "/usr/bin/cat");
        let regions = [
            r.clone(),
            Region {
                start: 0x7f00c000,
                end: 0x7f00d000,
                ..r
            },
        ];
        assert!(covered(&regions, 0x7f00a000, 0x3000));
        assert!(!covered(&regions, 0x7f00a000, 0x3001));
    }

    #[test]
    fn this_process_reads_itself() {
        let me = std::process::id();
        let value = [1u8, 2, 3, 4];
        let got = read(me, value.as_ptr() as usize, 4).unwrap();
        assert_eq!(got, value);
        assert!(covered(&maps(me).unwrap(), value.as_ptr() as usize, 4));
        assert_eq!(parent(me).unwrap(), std::os::unix::process::parent_id());
    }
}
