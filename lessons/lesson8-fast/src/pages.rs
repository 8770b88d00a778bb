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
        // TODO: mremap(2) with MREMAP_MAYMOVE: grow in place if the addresses after are free, else move the pages (no copy)
        todo!()
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
