//! Where the replayer learns what memory a heap really has: the regions its
//! page source mapped, and how many bytes are mapped right now.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::rc::Rc;

use heaplab_kit::PageSource;

/// What the replayer reads from the page source under a heap.
pub trait Footprint {
    /// Bytes mapped now (mapped minus unmapped).
    fn mapped_bytes(&self) -> usize;
    /// True when every byte of `[addr, addr + len)` lies in mapped pages (for
    /// `len == 0`, when `addr` lies in or at the end of a mapped region).
    fn is_mapped(&self, addr: usize, len: usize) -> bool;
    /// A misuse of the page source seen so far (an unmap that matched no
    /// map), described for the student; checked after every operation.
    fn misuse(&self) -> Option<String> {
        None
    }
}

/// The regions mapped now: start → length.
#[derive(Debug, Default)]
pub struct Regions {
    map: BTreeMap<usize, usize>,
    bytes: usize,
}

impl Regions {
    /// Records a region `map` returned.
    pub fn mapped(&mut self, addr: usize, len: usize) {
        self.map.insert(addr, len);
        self.bytes += len;
    }

    /// Records an unmap; returns false when it matches no earlier map
    /// exactly (the unmap is then not recorded).
    pub fn unmapped(&mut self, addr: usize, len: usize) -> bool {
        if self.map.get(&addr) == Some(&len) {
            self.map.remove(&addr);
            self.bytes -= len;
            true
        } else {
            false
        }
    }

    /// The regions mapped now, as `(start, len)`.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.map.iter().map(|(&a, &l)| (a, l))
    }
}

impl Footprint for Regions {
    fn mapped_bytes(&self) -> usize {
        self.bytes
    }

    fn is_mapped(&self, addr: usize, len: usize) -> bool {
        let Some(end) = addr.checked_add(len) else {
            return false;
        };
        // Walk the regions that cover [addr, end): two mappings the OS placed
        // side by side cover a block that spans them.
        let mut at = addr;
        let mut first = true;
        loop {
            let Some((&start, &rlen)) = self.map.range(..=at).next_back() else {
                return false;
            };
            let rend = start + rlen;
            let covers = if first && len == 0 {
                at <= rend
            } else {
                at < rend
            };
            if !covers {
                return false;
            }
            if end <= rend {
                return true;
            }
            at = rend;
            first = false;
        }
    }
}

/// A page source that maps real memory and keeps a shared record of what is
/// mapped, so the replayer can measure a heap's footprint from outside it.
///
/// Clones share the record: keep one, give the other to the heap.
#[derive(Clone, Debug, Default)]
pub struct CountingPages {
    regions: Rc<RefCell<Regions>>,
    /// Unmaps that matched no map: the heap's bug, reported by the replayer.
    bad_unmaps: Rc<RefCell<Vec<(usize, usize)>>>,
}

impl CountingPages {
    pub fn new() -> Self {
        Self::default()
    }

    /// Unmaps that did not match an earlier map exactly, as `(addr, len)`.
    pub fn bad_unmaps(&self) -> Vec<(usize, usize)> {
        self.bad_unmaps.borrow().clone()
    }
}

impl Footprint for CountingPages {
    fn mapped_bytes(&self) -> usize {
        self.regions.borrow().mapped_bytes()
    }

    fn is_mapped(&self, addr: usize, len: usize) -> bool {
        self.regions.borrow().is_mapped(addr, len)
    }

    fn misuse(&self) -> Option<String> {
        self.bad_unmaps.borrow().first().map(|&(addr, len)| {
            format!("the heap unmapped [{addr:#x}, {:#x}) ({len} bytes), which is not exactly a region it mapped", addr + len)
        })
    }
}

fn os_page_size() -> usize {
    // SAFETY: sysconf only reads a configuration value.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

impl PageSource for CountingPages {
    fn page_size(&self) -> usize {
        os_page_size()
    }

    fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
        if len == 0 || len % os_page_size() != 0 {
            return None;
        }
        // SAFETY: an anonymous private mapping at an address the kernel picks
        // touches no existing memory.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        self.regions.borrow_mut().mapped(p as usize, len);
        NonNull::new(p.cast())
    }

    unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
        let addr = ptr.as_ptr() as usize;
        if !self.regions.borrow_mut().unmapped(addr, len) {
            // Not a region this source mapped: refuse, and let the replayer
            // report it rather than unmapping memory someone else owns.
            self.bad_unmaps.borrow_mut().push((addr, len));
            return;
        }
        // SAFETY: [ptr, ptr + len) is exactly a region this source mapped and
        // has not unmapped (checked just above); the caller promises nothing
        // uses it any more.
        unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
    }
}

impl Drop for CountingPages {
    /// The last clone gives every region still mapped back to the OS, so
    /// replaying many traces in one process does not pile up memory.
    fn drop(&mut self) {
        if Rc::strong_count(&self.regions) != 1 {
            return;
        }
        let regions: Vec<(usize, usize)> = self.regions.borrow().iter().collect();
        for (addr, len) in regions {
            // SAFETY: the region was mapped by this source and not unmapped;
            // the heap that used it owned the other clone, which is gone.
            unsafe { libc::munmap(addr as *mut libc::c_void, len) };
        }
    }
}
