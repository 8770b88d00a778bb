// STUB: //! Your way to find a block's size from its address, if your design needs one.
// BEGIN SOLUTION
//! The page map: from any address in the heap to the span that holds it.
//!
//! `free(ptr)` gets nothing but an address, and blocks here carry no header
//! to read their size from. Instead, every 4 KiB *grain* of the heap's
//! memory has an entry saying which span it belongs to, kept in a four-level
//! radix tree: the same shape as the page table the CPU walks to translate
//! an address (tcmalloc calls it the pagemap).
//!
//! ```text
//!   address bits:  47 ─ 39 │ 38 ─ 30 │ 29 ─ 21 │ 20 ─ 12 │ 11 ─ 0
//!                  root    │ level 1 │ level 2 │ leaf    │ offset in the grain
//!                  index   │ index   │ index   │ index   │
//! ```
//!
//! Each node is 512 eight-byte entries, one page; a leaf covers 2 MiB. Nodes
//! are mapped when first needed and live as long as the heap.
//!
//! A leaf entry is a span descriptor's address with the span's size class
//! in its low 6 bits (descriptors are 64-byte aligned, so those bits are
//! free): `class + 1` for a slab, 0 for anything else. `free` on a thread's
//! cache reads only this one word, without the heap's lock: entries are
//! atomics, written under the lock and read by any thread.

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use heaplab_kit::PageSource;

use crate::pages::CountedPages;

/// Bytes covered by one leaf entry.
pub const GRAIN_BYTES: usize = 1 << GRAIN_SHIFT;
const GRAIN_SHIFT: u32 = 12;
/// Index bits per level: 512 entries of 8 bytes fill a 4 KiB node.
const LEVEL_BITS: u32 = 9;
const FANOUT: usize = 1 << LEVEL_BITS;
const LEVELS: u32 = 4;
/// Addresses the map covers: `[0, 2^48)`, the user half of x86-64 and
/// AArch64 address spaces. `mmap` never returns more without a hint.
const ADDRESS_BITS: u32 = GRAIN_SHIFT + LEVELS * LEVEL_BITS;

/// Low bits of a leaf entry that hold `class + 1`.
pub const TAG_MASK: usize = 63;

/// One node of the tree: child nodes (levels 0 to 2) or span entries (leaf).
pub type Node = [AtomicUsize; FANOUT];

/// Maps every grain of the heap to its span.
pub struct PageMap {
    /// The root node, mapped on first use.
    root: Option<NonNull<Node>>,
    /// Nodes mapped ahead by [`stock`](Self::stock), so that a later
    /// [`set`](Self::set) can register a grain without asking for memory.
    spare: Spares,
    /// The leaf [`get`](Self::get) found last and its 2 MiB region plus one
    /// (0: none): consecutive lookups are mostly in one region, and then
    /// one load finds the entry instead of four.
    last: Cell<(usize, *const Node)>,
}

/// Up to three spare nodes: one path below the root.
type Spares = [Option<NonNull<Node>>; LEVELS as usize - 1];

/// The index into a node of `level` (0 = root) for `addr`.
fn index(addr: usize, level: u32) -> usize {
    (addr >> (GRAIN_SHIFT + (LEVELS - 1 - level) * LEVEL_BITS)) & (FANOUT - 1)
}

/// The entry for `addr` in the map whose root is `root` (null: an empty
/// map); 0 when no span holds `addr`. Any thread may call it while another
/// changes the map under the heap's lock: every entry a caller can rightly
/// ask about (a block it was handed) was written before the block was.
///
/// # Safety
/// `root` is null or the root of a [`PageMap`] that is still alive.
#[inline]
pub unsafe fn lookup(root: *const Node, addr: usize) -> usize {
    if root.is_null() || addr >> ADDRESS_BITS != 0 {
        return 0;
    }
    let mut node = root;
    for level in 0..LEVELS - 1 {
        // SAFETY: node is a live node of the map (the root, or a child read
        // from a live node); index() is below FANOUT.
        let child = unsafe { (*node)[index(addr, level)].load(Ordering::Acquire) };
        if child == 0 {
            return 0;
        }
        node = child as *const Node;
    }
    // SAFETY: as above, node is a live leaf.
    unsafe { (*node)[index(addr, LEVELS - 1)].load(Ordering::Acquire) }
}

/// Address bits below a leaf's index: a leaf covers `1 << LEAF_SHIFT`
/// bytes (2 MiB).
pub const LEAF_SHIFT: u32 = GRAIN_SHIFT + LEVEL_BITS;

/// The leaf node that holds the entries of `addr`, or null if there is
/// none yet: the first three steps of [`lookup`]. A leaf, once made, stays
/// where it is as long as the map lives, so a caller may keep it and read
/// the entries of its 2 MiB with [`entry_in`] alone, as a CPU's TLB keeps
/// the translations it has looked up.
///
/// # Safety
/// As for [`lookup`].
#[inline]
pub unsafe fn leaf(root: *const Node, addr: usize) -> *const Node {
    if root.is_null() || addr >> ADDRESS_BITS != 0 {
        return std::ptr::null();
    }
    let mut node = root;
    for level in 0..LEVELS - 1 {
        // SAFETY: node is a live node of the map.
        let child = unsafe { (*node)[index(addr, level)].load(Ordering::Acquire) };
        if child == 0 {
            return std::ptr::null();
        }
        node = child as *const Node;
    }
    node
}

/// The entry for `addr` in `leaf`, the leaf that covers it.
///
/// # Safety
/// `leaf` is a leaf returned by [`leaf`] for an address in the same 2 MiB,
/// of a map that is still alive.
#[inline]
pub unsafe fn entry_in(leaf: *const Node, addr: usize) -> usize {
    // SAFETY: the caller's promise.
    unsafe { (*leaf)[index(addr, LEVELS - 1)].load(Ordering::Acquire) }
}

impl PageMap {
    /// An empty map: nothing mapped yet.
    pub const fn new() -> Self {
        PageMap {
            root: None,
            spare: [None; LEVELS as usize - 1],
            last: Cell::new((0, std::ptr::null())),
        }
    }

    /// The root, for [`lookup`] by threads that do not hold the heap's lock;
    /// null until something is registered.
    pub fn root(&self) -> *const Node {
        self.root.map_or(std::ptr::null(), |r| r.as_ptr())
    }

    /// This map's entry for `addr`.
    #[inline]
    pub fn get(&self, addr: usize) -> usize {
        let region = (addr >> LEAF_SHIFT) + 1;
        let (last_region, last_leaf) = self.last.get();
        if region == last_region {
            // SAFETY: a leaf of this map, which keeps its leaves while alive.
            return unsafe { entry_in(last_leaf, addr) };
        }
        // SAFETY: our own root, alive as long as self.
        let leaf = unsafe { leaf(self.root(), addr) };
        if leaf.is_null() {
            return 0;
        }
        self.last.set((region, leaf));
        // SAFETY: as above.
        unsafe { entry_in(leaf, addr) }
    }

    /// Maps one node: zero-filled pages, so every entry starts empty.
    fn new_node<S: PageSource>(&mut self, pages: &mut CountedPages<S>) -> Option<NonNull<Node>> {
        if let Some(spare) = self.spare.iter_mut().find_map(Option::take) {
            return Some(spare);
        }
        pages
            .map(pages.page_bytes().max(size_of::<Node>()))
            .map(NonNull::cast)
    }

    /// Makes sure the nodes that hold the entries of `[addr, addr + len)`
    /// exist, so that [`set`](Self::set) on those grains cannot fail.
    /// `None` when the page source refuses.
    pub fn reserve<S: PageSource>(
        &mut self,
        pages: &mut CountedPages<S>,
        addr: usize,
        len: usize,
    ) -> Option<()> {
        assert!(
            (addr + len) >> ADDRESS_BITS == 0,
            "heaplab: the OS returned memory above 2^48, which the page map does not cover"
        );
        let root = match self.root {
            Some(root) => root,
            None => {
                let root = self.new_node(pages)?;
                self.root = Some(root);
                root
            }
        };
        // One leaf covers 2 MiB: walk the range a leaf at a time.
        let leaf_bytes = GRAIN_BYTES << LEVEL_BITS;
        let mut at = addr & !(leaf_bytes - 1);
        while at < addr + len {
            let mut node = root;
            for level in 0..LEVELS - 1 {
                // SAFETY: node is a live node of this map.
                let slot = unsafe { &node.as_ref()[index(at, level)] };
                node = match NonNull::new(slot.load(Ordering::Relaxed) as *mut Node) {
                    Some(child) => child,
                    None => {
                        let child = self.new_node(pages)?;
                        slot.store(child.as_ptr() as usize, Ordering::Release);
                        child
                    }
                };
            }
            at += leaf_bytes;
        }
        Some(())
    }

    /// Maps ahead the nodes that reserving one more grain could need, so
    /// that it succeeds even if memory runs out first: a block moved by
    /// `mremap` must be registered at its new address after the move, when
    /// failing is no longer possible.
    pub fn stock<S: PageSource>(&mut self, pages: &mut CountedPages<S>) -> Option<()> {
        for i in 0..self.spare.len() {
            if self.spare[i].is_none() {
                let node = pages.map(pages.page_bytes().max(size_of::<Node>()))?;
                self.spare[i] = Some(node.cast());
            }
        }
        Some(())
    }

    /// Sets the entry of every grain of `[addr, addr + len)` to `entry`.
    ///
    /// # Panics
    /// If the range was not [`reserve`](Self::reserve)d: that is a bug in
    /// the heap, not something a caller can cause.
    pub fn set(&mut self, addr: usize, len: usize, entry: usize) {
        let mut at = addr & !(GRAIN_BYTES - 1);
        while at < addr + len {
            self.leaf_entry(at).store(entry, Ordering::Release);
            at += GRAIN_BYTES;
        }
    }

    /// The leaf entry for `addr`, whose nodes must exist.
    fn leaf_entry(&self, addr: usize) -> &AtomicUsize {
        let mut node = self.root.expect("heaplab: page map used before reserve");
        for level in 0..LEVELS - 1 {
            // SAFETY: node is a live node of this map.
            let child = unsafe { node.as_ref()[index(addr, level)].load(Ordering::Relaxed) };
            node = NonNull::new(child as *mut Node).expect("heaplab: page map range not reserved");
        }
        // SAFETY: node is a live leaf of this map, alive as long as self.
        unsafe { &node.as_ref()[index(addr, LEVELS - 1)] }
    }

    /// Unmaps every node (the heap is being dropped).
    ///
    /// # Safety
    /// Nothing calls [`lookup`] on this map's root after this.
    pub unsafe fn unmap_all<S: PageSource>(&mut self, pages: &mut CountedPages<S>) {
        let node_bytes = pages.page_bytes().max(size_of::<Node>());
        self.last.set((0, std::ptr::null()));
        if let Some(root) = self.root.take() {
            // SAFETY: root is this map's, and nothing uses it afterwards.
            unsafe { unmap_subtree(pages, root, 0, node_bytes) };
        }
        for spare in self.spare.iter_mut().filter_map(Option::take) {
            // SAFETY: a spare node is a mapping of its own that nothing uses.
            unsafe { pages.unmap(spare.cast(), node_bytes) };
        }
    }
}

/// Unmaps `node` (at `level`) and every node below it.
///
/// # Safety
/// `node` is a live node of a map that nothing uses after this.
unsafe fn unmap_subtree<S: PageSource>(
    pages: &mut CountedPages<S>,
    node: NonNull<Node>,
    level: u32,
    node_bytes: usize,
) {
    if level < LEVELS - 1 {
        // SAFETY: node is live until unmapped below.
        for slot in unsafe { node.as_ref() } {
            if let Some(child) = NonNull::new(slot.load(Ordering::Relaxed) as *mut Node) {
                // SAFETY: a child of a live node, used by nothing else.
                unsafe { unmap_subtree(pages, child, level + 1, node_bytes) };
            }
        }
    }
    // SAFETY: each node is one mapping of node_bytes, no longer referenced.
    unsafe { pages.unmap(node.cast(), node_bytes) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::MmapPages;

    #[test]
    fn an_empty_map_knows_no_address() {
        let map = PageMap::new();
        assert_eq!(map.get(0x7f00_0000_1000), 0);
        // SAFETY: a null root is an empty map.
        assert_eq!(unsafe { lookup(std::ptr::null(), 1 << 47) }, 0);
    }

    #[test]
    fn set_covers_exactly_the_grains_of_the_range() {
        let mut pages = CountedPages::new(MmapPages::new());
        let mut map = PageMap::new();
        // A range that straddles two leaves (2 MiB boundary).
        let start = 0x7f00_0020_0000 - 2 * GRAIN_BYTES;
        map.reserve(&mut pages, start, 4 * GRAIN_BYTES).unwrap();
        map.set(start, 4 * GRAIN_BYTES, 0x40 | 3);
        assert_eq!(map.get(start - 1), 0, "the grain before is untouched");
        assert_eq!(map.get(start), 0x43);
        assert_eq!(map.get(start + 4 * GRAIN_BYTES - 1), 0x43);
        assert_eq!(
            map.get(start + 4 * GRAIN_BYTES),
            0,
            "the grain after is untouched"
        );
        assert_eq!(pages.mapped_pages(), 5, "root, two inner nodes, two leaves");
        // SAFETY: nothing looks the map up afterwards.
        unsafe { map.unmap_all(&mut pages) };
        assert_eq!(pages.unmapped_pages(), 5);
    }

    #[test]
    fn addresses_above_the_map_are_not_found() {
        let map = PageMap::new();
        assert_eq!(map.get(usize::MAX), 0);
    }
}
// END SOLUTION
