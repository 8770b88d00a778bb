//! Where the replayer learns what memory a heap really has: the page source
//! under the heap records every map and unmap, and the replayer reads that
//! record through this trait.

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
