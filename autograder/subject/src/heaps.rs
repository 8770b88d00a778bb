//! The student's heap over the grader's pages, and the requests that use it.

use std::collections::BTreeMap;
use std::ptr::NonNull;

use heaplab_kit::{Block, FullHeap, Heap, Stats};
use heaplab_protocol::{Reply, Snapshot, WireBlock};

/// A lesson's heap: malloc and free only, or C's whole family.
pub enum AnyHeap {
    Plain(Box<dyn Heap>),
    Full(Box<dyn FullHeap>),
}

impl AnyHeap {
    fn heap(&mut self) -> &mut dyn Heap {
        match self {
            AnyHeap::Plain(h) => h.as_mut(),
            AnyHeap::Full(h) => h.as_mut(),
        }
    }

    fn heap_ref(&self) -> &dyn Heap {
        match self {
            AnyHeap::Plain(h) => h.as_ref(),
            AnyHeap::Full(h) => h.as_ref(),
        }
    }

    fn full(&mut self) -> Option<&mut dyn FullHeap> {
        match self {
            AnyHeap::Plain(_) => None,
            AnyHeap::Full(h) => Some(h.as_mut()),
        }
    }
}

/// The heap of this case and the blocks it handed out that the checker has
/// not freed (by address, with the pointer as the heap returned it).
pub struct HeapState {
    heap: AnyHeap,
    live: BTreeMap<u64, NonNull<u8>>,
}

/// A pointer the checker names: the one the heap returned when the address
/// is a live block, else the bare address (a test of what `free` does with
/// a pointer it never returned).
fn pointer(live: &BTreeMap<u64, NonNull<u8>>, addr: u64) -> Option<NonNull<u8>> {
    live.get(&addr)
        .copied()
        .or_else(|| NonNull::new(std::ptr::with_exposed_provenance_mut(addr as usize)))
}

fn unsupported(what: &str) -> Reply {
    Reply::Unsupported {
        what: format!("{what}: this lesson's heap has no such function"),
    }
}

impl HeapState {
    pub fn new(heap: AnyHeap) -> Self {
        HeapState {
            heap,
            live: BTreeMap::new(),
        }
    }

    fn handed_out(&mut self, got: Option<NonNull<u8>>) -> Reply {
        let Some(p) = got else {
            return Reply::HeapBlock {
                addr: None,
                usable: None,
            };
        };
        self.live.insert(p.as_ptr() as u64, p);
        // SAFETY: a block the heap just handed out.
        let usable = unsafe { self.heap.heap_ref().usable_size(p) };
        Reply::HeapBlock {
            addr: Some(p.expose_provenance().get() as u64),
            usable: usable.map(|u| u as u64),
        }
    }

    pub fn malloc(&mut self, size: u64) -> Reply {
        let got = self.heap.heap().malloc(size as usize);
        self.handed_out(got)
    }

    pub fn free(&mut self, addr: u64) -> Reply {
        let Some(ptr) = pointer(&self.live, addr) else {
            return Reply::Error("free(NULL) is not a request the checker makes".into());
        };
        self.live.remove(&addr);
        // SAFETY: the checker frees each block it got from this heap once;
        // tests of misuse (a double free, a foreign pointer) pass a pointer
        // into the heap's own pages, which is what free must catch.
        unsafe { self.heap.heap().free(ptr) };
        Reply::Done
    }

    pub fn realloc(&mut self, addr: u64, size: u64) -> Reply {
        let Some(ptr) = pointer(&self.live, addr) else {
            return Reply::Error("realloc(NULL, n) is asked as malloc(n)".into());
        };
        let Some(heap) = self.heap.full() else {
            return unsupported("realloc");
        };
        // SAFETY: the checker reallocates only blocks this heap handed out.
        let got = unsafe { heap.realloc(ptr, size as usize) };
        if got.is_some() {
            self.live.remove(&addr);
        }
        self.handed_out(got)
    }

    pub fn calloc(&mut self, count: u64, size: u64) -> Reply {
        let Some(heap) = self.heap.full() else {
            return unsupported("calloc");
        };
        let got = heap.calloc(count as usize, size as usize);
        self.handed_out(got)
    }

    pub fn malloc_aligned(&mut self, align: u64, size: u64) -> Reply {
        let Some(heap) = self.heap.full() else {
            return unsupported("malloc_aligned");
        };
        let got = heap.malloc_aligned(align as usize, size as usize);
        self.handed_out(got)
    }

    pub fn usable_size(&self, addr: u64) -> Reply {
        let Some(ptr) = pointer(&self.live, addr) else {
            return Reply::Usable(None);
        };
        // SAFETY: the checker asks only about blocks it holds.
        let usable = unsafe { self.heap.heap_ref().usable_size(ptr) };
        Reply::Usable(usable.map(|u| u as u64))
    }

    /// The parts asked for of: `stats()`, `free_blocks()` and the usable
    /// size of every live block.
    pub fn snapshot(&self, stats: bool, free_blocks: bool, usable: bool) -> Reply {
        let heap = self.heap.heap_ref();
        let usable = usable.then(|| {
            self.live
                .iter()
                .map(|(&addr, &ptr)| {
                    // SAFETY: a block this heap handed out and the checker holds.
                    let u = unsafe { heap.usable_size(ptr) };
                    (addr, u.map(|u| u as u64))
                })
                .collect()
        });
        Reply::Snapshot(Snapshot {
            stats: stats.then(|| wire_stats(heap.stats())),
            free_blocks: free_blocks.then(|| wire_blocks(&heap.free_blocks())),
            usable,
        })
    }
}

/// `stats()` as it travels.
pub fn wire_stats(s: Stats) -> [u64; 5] {
    [
        s.pages_mapped as u64,
        s.pages_unmapped as u64,
        s.chunks_allocated as u64,
        s.chunks_freed as u64,
        s.free_length as u64,
    ]
}

/// `free_blocks()` as it travels.
pub fn wire_blocks(blocks: &[Block]) -> Vec<WireBlock> {
    blocks
        .iter()
        .map(|b| WireBlock {
            addr: b.addr as u64,
            size: b.size as u64,
        })
        .collect()
}
