//! Where the replayer learns what memory a heap really has: the grader's
//! [`InstrumentedPages`] under the heap records every map and unmap, and the
//! replayer reads the record through its [`PageLog`] handle.

use crate::alloc::{InstrumentedPages, PageLog};

/// What the replayer reads from the page source under a heap.
pub trait Footprint {
    /// Bytes mapped now (mapped minus unmapped).
    fn mapped_bytes(&self) -> usize;
    /// True when `[addr, addr + len)` lies inside one run of mapped pages
    /// (for `len == 0`: `addr` lies in or at the end of one).
    fn is_mapped(&self, addr: usize, len: usize) -> bool;
    /// A broken promise of the page-source contract seen so far (an unmap
    /// that matched no map, a length that is not whole pages), in words for
    /// the student; checked after every operation.
    fn misuse(&self) -> Option<String> {
        None
    }
}

impl Footprint for PageLog {
    fn mapped_bytes(&self) -> usize {
        (self.pages_mapped() - self.pages_unmapped()) * self.page_size()
    }

    fn is_mapped(&self, addr: usize, len: usize) -> bool {
        self.mapping_holding(addr, len).is_some()
    }

    fn misuse(&self) -> Option<String> {
        self.violations().into_iter().next()
    }
}

/// A fresh instrumented source for a heap, and the handle the replayer keeps.
pub fn metered() -> (InstrumentedPages, PageLog) {
    let pages = InstrumentedPages::new();
    let log = pages.log();
    (pages, log)
}
