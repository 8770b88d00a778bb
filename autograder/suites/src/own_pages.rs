//! The student's own page source (lesson 2's `MmapPages`) as the page
//! source tests reach it: make it, map, unmap, and look at the process that
//! holds it from the outside (is a range mapped, what bytes are there).
//!
//! In the checker the source lives in the student's process
//! ([`crate::remote::RemotePages`]); in a local harness it is here
//! ([`LocalPages`]).

use heaplab_kit::PageSource;
use heaplab_protocol::Failure;

/// The student's page source and the process that holds it.
pub trait OwnPages {
    fn page_size(&mut self) -> Result<usize, Failure>;
    /// `map(len)`: the address, or `None` when the source refused.
    fn map(&mut self, len: usize) -> Result<Option<usize>, Failure>;
    fn unmap(&mut self, addr: usize, len: usize) -> Result<(), Failure>;
    /// True when every page of `[addr, addr + len)` is mapped.
    fn is_mapped(&self, addr: usize, len: usize) -> Result<bool, Failure>;
    /// The bytes at `[addr, addr + len)` (mapped, checked by the caller).
    fn read(&self, addr: usize, len: usize) -> Result<Vec<u8>, Failure>;
    /// Writes `bytes` at `addr` (mapped, checked by the caller).
    fn write(&self, addr: usize, bytes: &[u8]) -> Result<(), Failure>;
}

/// The student's page source in this process.
pub struct LocalPages<P>(P);

/// Makes the student's page source with `make`, in this process.
pub fn local_pages<P: PageSource + 'static>(
    make: impl Fn() -> P + 'static,
) -> impl Fn() -> LocalPages<P> {
    move || LocalPages(make())
}

fn os_page_size() -> usize {
    // SAFETY: sysconf only reads a system constant.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}

impl<P: PageSource> OwnPages for LocalPages<P> {
    fn page_size(&mut self) -> Result<usize, Failure> {
        Ok(self.0.page_size())
    }

    fn map(&mut self, len: usize) -> Result<Option<usize>, Failure> {
        Ok(self.0.map(len).map(|p| p.as_ptr() as usize))
    }

    fn unmap(&mut self, addr: usize, len: usize) -> Result<(), Failure> {
        let ptr = std::ptr::NonNull::new(std::ptr::with_exposed_provenance_mut(addr))
            .ok_or_else(|| Failure::text("unmap of a null pointer"))?;
        // SAFETY: the tests unmap exactly a range this source's map returned.
        unsafe { self.0.unmap(ptr, len) };
        Ok(())
    }

    /// `mincore` fails with ENOMEM on a range that is not all mapped.
    fn is_mapped(&self, addr: usize, len: usize) -> Result<bool, Failure> {
        let mut residency = vec![0u8; len.div_ceil(os_page_size())];
        // SAFETY: mincore only reads the page tables of the range and writes
        // one byte per page into `residency`, which has room for them.
        let rc = unsafe { libc::mincore(addr as *mut libc::c_void, len, residency.as_mut_ptr()) };
        Ok(rc == 0)
    }

    fn read(&self, addr: usize, len: usize) -> Result<Vec<u8>, Failure> {
        // SAFETY: the caller checked [addr, addr + len) is mapped; the source
        // handed it out and nobody else uses it.
        let bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, len) };
        Ok(bytes.to_vec())
    }

    fn write(&self, addr: usize, bytes: &[u8]) -> Result<(), Failure> {
        // SAFETY: as for read; the test owns the pages it mapped.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), addr as *mut u8, bytes.len()) };
        Ok(())
    }
}
