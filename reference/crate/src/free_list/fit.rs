// LESSONS 4..=5
// BEGIN SOLUTION
//! Placement policies, for the experiment on docs/lesson4.md ("First fit,
//! and the other fits"): which free chunk a search of the list takes, and
//! how many chunks it reads to decide. The lessons' heaps take the first
//! chunk that fits ([`FreeList::take_first_fit`]) and count nothing; a heap
//! made `with_fit` hands every search to [`FreeList::take_placed`]:
//!
//! - **first fit**: the first chunk from the head that fits (the lessons'
//!   rule, counted);
//! - **next fit**: the first chunk that fits, starting after the chunk the
//!   last search stopped at and going round to the head when it reaches the
//!   end: K&R's roving pointer, `freep` (§8.7);
//! - **best fit**: the smallest chunk that fits; the search reads the whole
//!   list, and stops early only at a chunk of exactly the size needed.
//!
//! The chunk found is taken as first fit takes it ([`FreeList::take`]):
//! split when the rest can be a chunk, unlinked otherwise.

use std::ptr::NonNull;

use super::FreeList;
use crate::chunk::{FreeChunk, Header};

/// Which free chunk a search takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    First,
    Next,
    Best,
}

impl Fit {
    /// Every policy, in the order the experiment prints them.
    pub const ALL: [Fit; 3] = [Fit::First, Fit::Next, Fit::Best];

    /// `first`, `next` or `best`.
    pub fn name(self) -> &'static str {
        match self {
            Fit::First => "first",
            Fit::Next => "next",
            Fit::Best => "best",
        }
    }
}

/// A free list's policy, and what its searches have cost.
pub(super) struct Placement {
    fit: Fit,
    /// Next fit's roving pointer: the chunk on the list after which the next
    /// search starts (K&R's `freep`); `None` starts it at the head.
    rover: Option<NonNull<FreeChunk>>,
    /// Free chunks read by every search so far.
    visits: u64,
}

/// One free chunk met by a walk, with the chunk before it on the list.
#[derive(Clone, Copy)]
struct Node {
    prev: Option<NonNull<FreeChunk>>,
    chunk: NonNull<FreeChunk>,
    size_bytes: usize,
}

impl FreeList {
    /// From now on, searches take chunks by `fit` and count what they read.
    pub fn place_by(&mut self, fit: Fit) {
        self.placement = Some(Placement {
            fit,
            rover: None,
            visits: 0,
        });
    }

    /// Free chunks read by the searches since [`place_by`](Self::place_by)
    /// (0 for a list that never was).
    pub fn visits(&self) -> u64 {
        self.placement.as_ref().map_or(0, |p| p.visits)
    }

    /// [`take_first_fit`](Self::take_first_fit) under the list's placement:
    /// the chunk its policy picks, taken, marked in use; `None` when no
    /// chunk is big enough.
    pub(super) fn take_placed(&mut self, need_bytes: usize) -> Option<NonNull<Header>> {
        let Placement { fit, rover, .. } = *self.placement.as_ref()?;
        let mut walk = self.walk(if fit == Fit::Next { rover } else { None });
        let found = match fit {
            Fit::First | Fit::Next => walk.find(|node| node.size_bytes >= need_bytes),
            Fit::Best => smallest(&mut walk, need_bytes),
        };
        let placement = self.placement.as_mut()?;
        placement.visits += walk.visited;
        let Node { prev, chunk, .. } = found?;
        // K&R's `freep = prevp`: the next search starts at the chunk this
        // one took from (the rest of a split holds its place).
        placement.rover = prev;
        // SAFETY: the walk met chunk on the list right after prev, and it
        // fits; nothing changed the list since.
        Some(unsafe { self.take(prev, chunk, need_bytes) })
    }
    // LESSONS 5

    /// Keeps next fit's roving pointer on the list when `chunk` is freed:
    /// if the rover is the chunk right after it, the merge may swallow it,
    /// so the next search starts at the head instead.
    ///
    /// # Safety
    /// `chunk`'s header is readable (a chunk `insert` is given).
    pub(super) unsafe fn keep_rover_listed(&mut self, chunk: NonNull<Header>) {
        // SAFETY: the caller's promise.
        let size_bytes = unsafe { (*chunk.as_ptr()).size_bytes };
        let after = chunk.addr().saturating_add(size_bytes);
        if let Some(placement) = &mut self.placement {
            if placement.rover.map(NonNull::addr) == Some(after) {
                placement.rover = None;
            }
        }
    }
    // END LESSONS

    /// The free chunks in list order, starting after `start` (at the head
    /// when `None`) and going round to the head at the end, each once.
    fn walk(&self, start: Option<NonNull<FreeChunk>>) -> Walk {
        let cursor = match start {
            // SAFETY: start is on the list (the rover is kept there).
            Some(start) => unsafe { (*start.as_ptr()).next },
            None => self.head,
        };
        Walk {
            head: self.head,
            start,
            prev: start,
            cursor,
            wrapped: start.is_none(),
            visited: 0,
        }
    }
}

/// The smallest chunk of `walk` with at least `need_bytes`, stopping at the
/// first of exactly `need_bytes` (nothing smaller fits); the first of equals.
fn smallest(walk: &mut Walk, need_bytes: usize) -> Option<Node> {
    let mut best: Option<Node> = None;
    for node in walk.filter(|node| node.size_bytes >= need_bytes) {
        if best.is_none_or(|b| node.size_bytes < b.size_bytes) {
            best = Some(node);
        }
        if node.size_bytes == need_bytes {
            break;
        }
    }
    best
}

/// [`FreeList::walk`]'s iterator.
struct Walk {
    head: Option<NonNull<FreeChunk>>,
    /// Where the walk started; it ends after meeting it again.
    start: Option<NonNull<FreeChunk>>,
    prev: Option<NonNull<FreeChunk>>,
    cursor: Option<NonNull<FreeChunk>>,
    /// True once past the end and back at the head (from the start when
    /// the walk began at the head).
    wrapped: bool,
    /// Chunks read so far: what the search cost.
    visited: u64,
}

impl Iterator for Walk {
    type Item = Node;

    fn next(&mut self) -> Option<Node> {
        if self.cursor.is_none() && !self.wrapped {
            self.wrapped = true;
            self.prev = None;
            self.cursor = self.head;
        }
        if self.wrapped && self.start.is_some() && self.prev == self.start {
            return None; // round the list, back where it started
        }
        let chunk = self.cursor?;
        // SAFETY: chunks on the list are free chunks in mapped runs.
        let FreeChunk { header, next } = unsafe { chunk.read() };
        self.visited += 1;
        let node = Node {
            prev: self.prev,
            chunk,
            size_bytes: header.size_bytes,
        };
        self.prev = Some(chunk);
        self.cursor = next;
        Some(node)
    }
}

/// Each policy on a few chunks of known sizes, on real pages.
#[cfg(test)]
mod tests {
    use std::ptr::NonNull;

    use heaplab_kit::Heap;

    use super::Fit;
    use crate::chunk::HEADER_BYTES;
    // LESSONS 4
    use crate::FreeListHeap as Tested;
    // ELSE LESSONS 5
    use crate::CoalescingHeap as Tested;
    // END LESSONS
    use crate::MmapPages;

    /// A heap under `fit`, a live block `lead` at its start, and three free
    /// holes after it: chunks (headers included) of 256, 1024 and 512
    /// bytes, each followed by a live block so that none merges. They are
    /// freed last to first, so the list is the three in address order, then
    /// the run's rest, in lesson 4's newest-first list as in lesson 5's.
    /// Returns the heap, `lead` and the holes' payload addresses.
    fn holes(fit: Fit) -> (Tested<MmapPages>, NonNull<u8>, [usize; 3]) {
        let mut heap = Tested::with_fit(MmapPages::new(), fit);
        let lead = heap.malloc(0).unwrap();
        let mut holes = Vec::new();
        for bytes in [256, 1024, 512] {
            holes.push(heap.malloc(bytes - HEADER_BYTES).unwrap());
            heap.malloc(0).unwrap();
        }
        for &hole in holes.iter().rev() {
            // SAFETY: each hole is a live block of this heap, freed once.
            unsafe { heap.free(hole) };
        }
        (heap, lead, [0, 1, 2].map(|i| holes[i].addr().get()))
    }

    /// The payload address `malloc(size)` returns.
    fn malloc_at(heap: &mut Tested<MmapPages>, size: usize) -> usize {
        heap.malloc(size).unwrap().addr().get()
    }

    #[test]
    fn first_fit_takes_the_first_chunk_that_fits() {
        let (mut heap, _, [_, big, _]) = holes(Fit::First);
        assert_eq!(malloc_at(&mut heap, 400), big);
    }

    #[test]
    fn best_fit_takes_the_smallest_chunk_that_fits() {
        let (mut heap, _, [_, _, middle]) = holes(Fit::Best);
        assert_eq!(malloc_at(&mut heap, 400), middle);
    }

    #[test]
    fn next_fit_starts_where_the_last_search_stopped() {
        let (mut heap, _, [_, big, _]) = holes(Fit::Next);
        assert_eq!(malloc_at(&mut heap, 600), big);
        // First fit would go back to the small hole; next fit goes on with
        // what is left of the big one (a chunk of 624 bytes was cut off).
        assert_eq!(malloc_at(&mut heap, 200), big + 624);
    }

    #[test]
    fn first_fit_reads_up_to_the_first_chunk_that_fits() {
        let (mut heap, _, _) = holes(Fit::First);
        let before = heap.visits();
        malloc_at(&mut heap, 400);
        assert_eq!(heap.visits() - before, 2, "the small hole, the big");
    }

    #[test]
    fn best_fit_reads_the_whole_list() {
        let (mut heap, _, _) = holes(Fit::Best);
        let before = heap.visits();
        malloc_at(&mut heap, 400);
        assert_eq!(heap.visits() - before, 4, "three holes and the rest");
    }

    #[test]
    fn an_exact_fit_ends_a_best_fit_search() {
        let (mut heap, _, _) = holes(Fit::Best);
        let before = heap.visits();
        malloc_at(&mut heap, 256 - HEADER_BYTES);
        assert_eq!(heap.visits() - before, 1, "the small hole fits exactly");
    }

    #[test]
    fn a_heap_without_a_policy_counts_nothing() {
        let mut heap = Tested::new(MmapPages::new());
        malloc_at(&mut heap, 400);
        assert_eq!(heap.visits(), 0);
    }
    // LESSONS 5

    #[test]
    fn next_fit_restarts_at_the_head_when_a_merge_swallows_its_rover() {
        let (mut heap, lead, _) = holes(Fit::Next);
        // From the big hole: the rover is the small hole, before it.
        malloc_at(&mut heap, 600);
        // SAFETY: lead is live; freeing it merges the small hole into it.
        unsafe { heap.free(lead) };
        let merged = lead.addr().get();
        // The merged chunk, 288 bytes, is the first that fits 250 from the
        // head; a rover left on the small hole's old header would hand out
        // the big hole's rest through a link that is no longer the list's.
        assert_eq!(malloc_at(&mut heap, 250), merged);
        let taken = merged - HEADER_BYTES;
        assert!(heap.free_blocks().iter().all(|b| b.addr != taken));
    }
    // END LESSONS
}
// END SOLUTION
// END LESSONS
