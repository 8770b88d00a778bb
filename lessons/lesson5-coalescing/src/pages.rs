//! The real page source: whole pages straight from the OS (written in
//! lesson 2).

use std::ptr::{self, NonNull};

use heaplab_kit::PageSource;

/// Pages from anonymous `mmap(2)`, given back with `munmap(2)`.
#[derive(Debug)]
pub struct MmapPages {
    /// Bytes in one page, asked of the OS once.
    page_bytes: usize,
}

impl MmapPages {
    /// A page source that asks the OS for its page size once.
    pub fn new() -> Self {
        // SAFETY: sysconf only reads a system constant.
        let page_bytes = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        // POSIX allows -1 for "no limit"; a page size always exists on Linux.
        let page_bytes = usize::try_from(page_bytes).expect("sysconf(_SC_PAGESIZE) failed");
        MmapPages { page_bytes }
    }
}

impl Default for MmapPages {
    fn default() -> Self {
        Self::new()
    }
}

impl PageSource for MmapPages {
    fn page_size(&self) -> usize {
        self.page_bytes
    }

    fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
        // MAP_PRIVATE | MAP_ANONYMOUS: memory of our own, backed by no file,
        // zero-filled by the kernel; -1 and 0 are the fd and offset that
        // anonymous mappings require.
        // SAFETY: a new mapping at an address the kernel picks touches no
        // existing memory.
        let addr = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            // ENOMEM, or EINVAL for a zero length: the caller reports None.
            return None;
        }
        NonNull::new(addr.cast())
    }

    unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
        // SAFETY: the caller promises [ptr, ptr + len) is exactly one of our
        // mappings and that nothing uses it any more.
        let rc = unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
        // munmap succeeds on any page-aligned range, mapped or not (POSIX:
        // "no effect" where nothing is mapped), so it cannot catch a wrong
        // range; it fails, with EINVAL, only for an address off a page
        // boundary, a length of 0 or a range outside user space.
        assert_eq!(
            rc,
            0,
            "munmap({ptr:p}, {len}) failed: {} (an address off a page boundary, or a length of 0?)",
            std::io::Error::last_os_error()
        );
    }
}
