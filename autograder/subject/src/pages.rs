//! The page source the grader hands the student's heap: pages of the
//! checker's memory file, mapped where the checker says.
//!
//! `map` asks the checker, which picks the address, maps the file there in
//! its own process first, and may refuse (fault injection, or the test's
//! memory is used up). `unmap` asks too: the checker unmaps only a range that
//! is exactly one earlier map, and records any other as a broken contract.
//!
//! Without a checker (the `replay` program of `grade bench`), the pages are
//! anonymous `mmap`s, recorded here for the replayer ([`local`]).

use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use heaplab_kit::PageSource;
use heaplab_protocol::{fds, window, PageAnswer, PageRequest};

use crate::link;
use crate::local::{self, Record};

/// Pages of the checker's memory file (see `heaplab_protocol::window`), or,
/// with no checker to ask, anonymous pages recorded in [`local::Record`].
#[derive(Clone, Debug)]
pub struct GraderPages {
    page_bytes: usize,
    /// The record of the pages, when there is no checker.
    local: Option<Arc<Mutex<Record>>>,
}

impl GraderPages {
    pub fn new() -> Self {
        // SAFETY: sysconf only reads a system constant.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page_bytes = usize::try_from(page).unwrap_or(4096);
        GraderPages {
            page_bytes,
            local: (!link::connected()).then(|| Arc::new(Mutex::new(Record::new(page_bytes)))),
        }
    }

    /// What the replayer reads of these pages (without a checker).
    pub fn footprint(&self) -> local::Footprint {
        local::Footprint(self.local.clone())
    }
}

impl Default for GraderPages {
    fn default() -> Self {
        Self::new()
    }
}

impl PageSource for GraderPages {
    fn page_size(&self) -> usize {
        self.page_bytes
    }

    fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
        if let Some(record) = &self.local {
            return local::map(record, len);
        }
        let PageAnswer::Mapped { addr } = link::page_request(PageRequest::Map { len: len as u64 })
        else {
            return None;
        };
        let offset = window::offset_of(addr).filter(|_| window::holds(addr, len as u64))?;
        // MAP_SHARED of the memory file: the checker sees every byte the heap
        // writes. MAP_FIXED_NOREPLACE: at exactly the checker's address, and
        // never over something of this process's own.
        // SAFETY: the checker mapped [addr, addr + len) of the file for this
        // heap; NOREPLACE fails rather than replace any existing mapping.
        let got = unsafe {
            libc::mmap(
                addr as usize as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED_NOREPLACE,
                fds::WINDOW,
                offset as libc::off_t,
            )
        };
        if got == libc::MAP_FAILED || got as usize as u64 != addr {
            let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            link::page_request(PageRequest::MapFailed { addr, errno });
            return None;
        }
        NonNull::new(got.cast())
    }

    unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
        if let Some(record) = &self.local {
            // SAFETY: forwarded with the caller's promise.
            return unsafe { local::unmap(record, ptr, len) };
        }
        let addr = ptr.as_ptr() as usize as u64;
        let answer = link::page_request(PageRequest::Unmap {
            addr,
            len: len as u64,
        });
        if answer == PageAnswer::Unmap {
            // SAFETY: the checker confirmed [ptr, ptr + len) is exactly one
            // earlier map, and the caller promises nothing uses it any more.
            unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
        }
    }
}
