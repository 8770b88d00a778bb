//! Where the replayer learns what memory a heap really has: the grader's
//! [`InstrumentedPages`] under the heap records every map and unmap, and the
//! replayer reads the record through its [`PageLog`] handle.

pub use heaplab_traces::footprint::Footprint;

use crate::alloc::{InstrumentedPages, PageLog};

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
