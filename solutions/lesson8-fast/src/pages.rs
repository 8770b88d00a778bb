//! Where pages come from: the real source ([`MmapPages`], lesson 2's, now
//! with `mremap`), and [`CountedPages`], which counts what a heap maps for
//! its statistics.

use std::ptr::{self, NonNull};

use heaplab_kit::PageSource;

/// Pages from anonymous `mmap(2)`, given back with `munmap(2)` and resized
/// with `mremap(2)`.
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
            return None;
        }
        NonNull::new(addr.cast())
    }

    unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
        // SAFETY: the caller promises [ptr, ptr + len) is exactly one of our
        // mappings and that nothing uses it any more.
        let rc = unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
        assert_eq!(
            rc, 0,
            "munmap({ptr:p}, {len}) failed: that range was not mapped by this page source"
        );
    }

    unsafe fn remap(
        &mut self,
        ptr: NonNull<u8>,
        old_len: usize,
        new_len: usize,
    ) -> Option<NonNull<u8>> {
        // BEGIN SOLUTION: mremap(2) with MREMAP_MAYMOVE: grow in place if the addresses after are free, else move the pages (no copy)
        // MREMAP_MAYMOVE: when the addresses after the mapping are taken,
        // the kernel moves its pages elsewhere by editing page tables, which
        // costs the same for 1 MiB as for 1 GiB: nothing is copied.
        // SAFETY: the caller promises [ptr, ptr + old_len) is one of our
        // mappings; on success it is gone and only the result is used.
        let addr =
            unsafe { libc::mremap(ptr.as_ptr().cast(), old_len, new_len, libc::MREMAP_MAYMOVE) };
        if addr == libc::MAP_FAILED {
            return None;
        }
        NonNull::new(addr.cast())
        // END SOLUTION
    }
}

/// A page source with a count of the pages mapped and unmapped through it:
/// the numbers `Heap::stats` reports.
pub struct CountedPages<S> {
    source: S,
    /// Bytes in one page of `source`, asked once.
    page_bytes: usize,
    mapped_pages: usize,
    unmapped_pages: usize,
    /// The most pages mapped at once.
    peak_pages: usize,
}

impl<S: PageSource> CountedPages<S> {
    pub fn new(source: S) -> Self {
        let page_bytes = source.page_size();
        CountedPages {
            source,
            page_bytes,
            mapped_pages: 0,
            unmapped_pages: 0,
            peak_pages: 0,
        }
    }

    pub fn page_bytes(&self) -> usize {
        self.page_bytes
    }

    /// Pages ever mapped.
    pub fn mapped_pages(&self) -> usize {
        self.mapped_pages
    }

    /// Pages ever unmapped.
    pub fn unmapped_pages(&self) -> usize {
        self.unmapped_pages
    }

    /// The most pages mapped at once so far.
    pub fn peak_pages(&self) -> usize {
        self.peak_pages
    }

    /// [`PageSource::map`], counted.
    pub fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
        let ptr = self.source.map(len)?;
        self.mapped_pages += len / self.page_bytes;
        self.note_peak();
        Some(ptr)
    }

    /// Records the pages mapped now if they are the most so far.
    fn note_peak(&mut self) {
        self.peak_pages = self.peak_pages.max(self.mapped_pages - self.unmapped_pages);
    }

    /// [`PageSource::unmap`], counted.
    ///
    /// # Safety
    /// As for [`PageSource::unmap`].
    pub unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
        // SAFETY: the caller's promise.
        unsafe { self.source.unmap(ptr, len) };
        self.unmapped_pages += len / self.page_bytes;
    }

    /// [`PageSource::remap`], counted as the old pages unmapped and the new
    /// ones mapped.
    ///
    /// # Safety
    /// As for [`PageSource::remap`].
    pub unsafe fn remap(
        &mut self,
        ptr: NonNull<u8>,
        old_len: usize,
        new_len: usize,
    ) -> Option<NonNull<u8>> {
        // SAFETY: the caller's promise.
        let new = unsafe { self.source.remap(ptr, old_len, new_len) }?;
        self.unmapped_pages += old_len / self.page_bytes;
        self.mapped_pages += new_len / self.page_bytes;
        self.note_peak();
        Some(new)
    }
}
// BEGIN SOLUTION

// Miri does not model mremap.
#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    #[test]
    fn remap_keeps_the_bytes_and_grows() {
        let mut pages = MmapPages::new();
        let page = pages.page_size();
        let old = pages.map(page).unwrap();
        // SAFETY: a fresh mapping of one page.
        unsafe { old.as_ptr().write_bytes(0x5A, page) };
        // SAFETY: old is exactly one of our mappings.
        let new = unsafe { pages.remap(old, page, 64 * page) }.unwrap();
        // SAFETY: the new mapping has 64 pages.
        let bytes = unsafe { std::slice::from_raw_parts(new.as_ptr(), 64 * page) };
        assert!(bytes[..page].iter().all(|&b| b == 0x5A), "first page kept");
        assert!(bytes[page..].iter().all(|&b| b == 0), "new pages zero");
        // SAFETY: new is exactly one of our mappings.
        let small = unsafe { pages.remap(new, 64 * page, page) }.unwrap();
        assert_eq!(small, new, "shrinking never moves");
        // SAFETY: as above.
        unsafe { pages.unmap(small, page) };
    }
}
// END SOLUTION
