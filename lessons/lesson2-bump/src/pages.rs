//! The real page source: whole pages straight from the OS.

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
        // TODO: ask the OS for its page size with sysconf(_SC_PAGESIZE)
        todo!()
    }
}

impl Default for MmapPages {
    fn default() -> Self {
        Self::new()
    }
}

impl PageSource for MmapPages {
    fn page_size(&self) -> usize {
        // TODO: the page size asked of the OS in new()
        todo!()
    }

    fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
        // TODO: mmap len bytes of private anonymous memory; None when mmap returns MAP_FAILED
        todo!()
    }

    unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
        // TODO: munmap the range; it fails only on an unaligned address or a zero length, which is a bug: say so
        todo!()
    }
}
