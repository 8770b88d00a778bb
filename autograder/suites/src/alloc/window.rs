//! The checker's side of the window (`heaplab_protocol::window`): the memory
//! file, the address range kept for it, and where each run of pages goes.
//!
//! The checker maps every run first, in its own process, then tells the
//! subject to map the same bytes of the file at the same address. When the
//! run is given back, the checker unmaps it, keeps the address range
//! reserved, and punches the bytes out of the file, so the next run there
//! starts zero-filled, as fresh pages from the kernel do.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use heaplab_protocol::window::{BASE, BYTES};

/// The memory file and the runs mapped in it now.
#[derive(Debug)]
pub struct Window {
    file: OwnedFd,
    /// Live runs: address → length.
    runs: RefCell<BTreeMap<usize, usize>>,
    /// Bytes the runs may hold at once, as the test's memory limit allows.
    cap: usize,
}

thread_local! {
    /// The window of this checker process, once made; `InstrumentedPages`
    /// maps from it when there is one.
    static CURRENT: RefCell<Option<std::rc::Rc<Window>>> = const { RefCell::new(None) };
}

/// The window heaps of this process map from, if there is one.
pub fn current() -> Option<std::rc::Rc<Window>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Makes this process's window: reserves the addresses and creates the
/// memory file. Runs may hold `cap` bytes at once.
pub fn install(cap: usize) -> io::Result<std::rc::Rc<Window>> {
    let window = std::rc::Rc::new(Window::new(cap)?);
    CURRENT.with(|c| *c.borrow_mut() = Some(window.clone()));
    Ok(window)
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Window {
    fn new(cap: usize) -> io::Result<Window> {
        // SAFETY: a PROT_NONE reservation at a fixed address that nothing of
        // this process uses (NOREPLACE fails rather than replace anything).
        let p = unsafe {
            libc::mmap(
                BASE as usize as *mut libc::c_void,
                BYTES as usize,
                libc::PROT_NONE,
                libc::MAP_PRIVATE
                    | libc::MAP_ANONYMOUS
                    | libc::MAP_NORESERVE
                    | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED || p as usize as u64 != BASE {
            return Err(io::Error::other(format!(
                "cannot reserve the window at {BASE:#x}: {}",
                io::Error::last_os_error()
            )));
        }
        // SAFETY: memfd_create takes a NUL-terminated name and flags.
        let fd = unsafe {
            libc::memfd_create(
                c"heaplab-pages".as_ptr(),
                libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
            )
        };
        if fd == -1 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just created and nothing else owns it.
        let file = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: ftruncate and fcntl act on the file only.
        check(unsafe { libc::ftruncate(fd, BYTES as libc::off_t) })?;
        // The subject holds the file too: it must not be able to shrink it
        // under the checker's mappings (a read past the end is a SIGBUS).
        let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;
        // SAFETY: as above.
        check(unsafe { libc::fcntl(fd, libc::F_ADD_SEALS, seals) })?;
        Ok(Window {
            file,
            runs: RefCell::new(BTreeMap::new()),
            cap,
        })
    }

    /// The memory file, for the subject to inherit.
    pub fn file(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// The highest free address range of `len` bytes (as Linux places
    /// `mmap`s: top down, reusing holes), or `None` when the window or the
    /// test's memory is used up.
    fn place(&self, len: usize) -> Option<usize> {
        let runs = self.runs.borrow();
        let used: usize = runs.values().sum();
        if len == 0 || used.checked_add(len)? > self.cap {
            return None;
        }
        let mut ceiling = (BASE + BYTES) as usize;
        for (&start, &size) in runs.iter().rev() {
            let end = start + size;
            if ceiling.checked_sub(end)? >= len {
                return Some(ceiling - len);
            }
            ceiling = start;
        }
        let floor = BASE as usize;
        (ceiling - floor >= len).then(|| ceiling - len)
    }

    /// Maps a run of `len` bytes (a whole number of pages) and returns its
    /// address, or `None` when there is no room.
    pub fn map(&self, len: usize) -> Option<*mut u8> {
        let addr = self.place(len)?;
        let offset = (addr as u64 - BASE) as libc::off_t;
        // SAFETY: [addr, addr + len) is part of this window's reservation and
        // holds no run: MAP_FIXED replaces only the reservation there.
        let p = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED,
                self.file.as_raw_fd(),
                offset,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        self.runs.borrow_mut().insert(addr, len);
        // Exposed: the heap's pointers into the run come back as numbers
        // from the subject, and are read through this mapping.
        Some(p.cast::<u8>().expose_provenance() as *mut u8)
    }

    /// Gives back the run at `addr`: reserved again, its bytes zeroed.
    pub fn unmap(&self, addr: usize, len: usize) {
        if self.runs.borrow_mut().remove(&addr).is_none() {
            return;
        }
        // SAFETY: [addr, addr + len) is a run of this window: replacing it
        // with a fresh reservation touches nothing else.
        unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
                -1,
                0,
            );
        }
        let offset = (addr as u64 - BASE) as libc::off_t;
        // SAFETY: fallocate frees the file's bytes of that range only.
        unsafe {
            libc::fallocate(
                self.file.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                offset,
                len as libc::off_t,
            );
        }
    }

    /// Bytes of runs mapped now.
    pub fn mapped_bytes(&self) -> usize {
        self.runs.borrow().values().sum()
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        // SAFETY: the whole reservation (and every run in it) is this
        // window's own; nothing reads it once the window is gone.
        unsafe { libc::munmap(BASE as usize as *mut libc::c_void, BYTES as usize) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_go_top_down_and_come_back_zeroed() {
        let w = Window::new(1 << 20).unwrap();
        let a = w.map(8192).unwrap() as usize;
        let b = w.map(4096).unwrap() as usize;
        assert_eq!(a, (BASE + BYTES) as usize - 8192);
        assert_eq!(b, a - 4096);
        // SAFETY: b is a fresh run of 4096 bytes of this window.
        unsafe { (b as *mut u8).write_bytes(0x5A, 4096) };
        w.unmap(b, 4096);
        let c = w.map(4096).unwrap();
        assert_eq!(c as usize, b, "the hole is reused");
        // SAFETY: c is a fresh run of 4096 bytes.
        let bytes = unsafe { std::slice::from_raw_parts(c, 4096) };
        assert!(bytes.iter().all(|&x| x == 0), "a new run is zero-filled");
        assert!(w.map(1 << 20).is_none(), "over the cap");
        w.unmap(a, 8192);
        w.unmap(c as usize, 4096);
        assert_eq!(w.mapped_bytes(), 0);
    }
}
