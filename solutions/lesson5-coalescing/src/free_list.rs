//! The free list: free chunks linked through their own payloads, in address
//! order, searched first fit; a freed chunk merges with free neighbours.
//!
//! ```text
//!   head ──► ┌────┬────┬──────┐    ┌────┬────┬──────┐    ┌────┬────┬──────┐
//!            │size│flag│next ─┼──► │size│flag│next ─┼──► │size│flag│ None │
//!            └────┴────┴──────┘    └────┴────┴──────┘    └────┴────┴──────┘
//!            lowest address    <   higher             <  highest
//! ```
//!
//! Address order is what makes merging cheap: a chunk's neighbours in memory,
//! if free, are its neighbours on the list.

use std::ptr::NonNull;

use heaplab_kit::Block;

use crate::chunk::{Flags, FreeChunk, Header, MIN_CHUNK_BYTES};
// BEGIN SOLUTION

pub mod fit;

use fit::Placement;
// END SOLUTION

/// The free chunks of a heap, lowest address first; no two of them touch
/// inside a run.
pub struct FreeList {
    /// The first free chunk, or `None` when nothing is free.
    head: Option<NonNull<FreeChunk>>,
    /// Chunks on the list, kept as they come and go: what `stats()` reports.
    len: usize,
    // BEGIN SOLUTION
    /// Another placement policy than first fit, for docs/lesson4.md's
    /// experiment (`fit.rs`); `None` in the lesson's heap.
    placement: Option<Placement>,
    // END SOLUTION
}

impl FreeList {
    pub const fn new() -> Self {
        // STUB: FreeList { head: None, len: 0 }
        // BEGIN SOLUTION
        FreeList {
            head: None,
            len: 0,
            placement: None,
        }
        // END SOLUTION
    }

    /// Chunks on the list.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Puts `chunk` on the list in address order, merged with the free chunk
    /// right before it and the one right after it when they touch it in the
    /// same run. The chunk becomes free.
    ///
    /// # Safety
    /// `[chunk, chunk + size_bytes)` is a chunk inside one mapping, at least
    /// `MIN_CHUNK_BYTES` long, that nothing else uses and that is not on the
    /// list already.
    pub unsafe fn insert(&mut self, chunk: NonNull<Header>) {
        // BEGIN SOLUTION
        // SAFETY: the chunk is the caller's to give, header included.
        unsafe { self.keep_rover_listed(chunk) };
        // END SOLUTION
        // BEGIN SOLUTION: find the free neighbours in address order; merge with the next chunk, then the previous one
        let chunk = chunk.cast::<FreeChunk>();
        // The free chunks on either side by address: prev < chunk < next.
        let mut prev: Option<NonNull<FreeChunk>> = None;
        let mut next = self.head;
        while let Some(candidate) = next {
            if candidate >= chunk {
                break;
            }
            prev = next;
            // SAFETY: candidate is on the list, a free chunk in a mapped run.
            next = unsafe { (*candidate.as_ptr()).next };
        }
        assert!(
            next != Some(chunk),
            "free: chunk {chunk:p} is on the free list already: double free?"
        );
        if let Some(prev) = prev {
            // SAFETY: prev is on the list, a free chunk in a mapped run.
            let prev_bytes = unsafe { (*prev.as_ptr()).header.size_bytes };
            assert!(
                prev.addr().get() + prev_bytes <= chunk.addr().get(),
                "free: chunk {chunk:p} lies inside free chunk {prev:p}: double free?"
            );
        }
        // SAFETY: the caller gives us the whole chunk, and it is at least
        // MIN_CHUNK_BYTES, so its header and cell are ours to read and write.
        let flags = unsafe { (*chunk.as_ptr()).header.flags };
        // SAFETY: as above.
        unsafe { (*chunk.as_ptr()).header.flags = flags.marked_free() };
        // SAFETY: as above: the cell right after the header.
        unsafe { (*chunk.as_ptr()).next = next };

        // Join the chunk after it, which leaves the list.
        if let Some(next) = next {
            // SAFETY: chunk and next are free chunks in mapped runs.
            if unsafe { touches(chunk, next) } {
                // SAFETY: as above; next's bytes become part of chunk.
                unsafe { absorb(chunk, next) };
                self.len -= 1;
            }
        }
        // Join the chunk before it, which takes this chunk's place; otherwise
        // link this chunk in between.
        if let Some(prev) = prev {
            // SAFETY: prev and chunk are free chunks in mapped runs.
            if unsafe { touches(prev, chunk) } {
                // SAFETY: as above; chunk's bytes become part of prev.
                unsafe { absorb(prev, chunk) };
                return;
            }
        }
        self.relink(prev, Some(chunk));
        self.len += 1;
        // END SOLUTION
    }

    /// Takes the first chunk on the list with at least `need_bytes`, splitting
    /// off the rest when the rest can be a chunk of its own. Returns the chunk,
    /// marked in use, or `None` when no chunk is big enough.
    ///
    /// `need_bytes` is a chunk size: a multiple of 16, at least
    /// `MIN_CHUNK_BYTES`.
    pub fn take_first_fit(&mut self, need_bytes: usize) -> Option<NonNull<Header>> {
        // BEGIN SOLUTION
        if self.placement.is_some() {
            // docs/lesson4.md's experiment: another policy, counted (fit.rs).
            return self.take_placed(need_bytes);
        }
        // END SOLUTION
        debug_assert!(need_bytes >= MIN_CHUNK_BYTES && need_bytes.is_multiple_of(16));
        let mut prev: Option<NonNull<FreeChunk>> = None;
        let mut cursor = self.head;
        while let Some(chunk) = cursor {
            // SAFETY: chunks on the list are free chunks in mapped runs, each at
            // least MIN_CHUNK_BYTES long (the list's invariant).
            let FreeChunk { header, next } = unsafe { chunk.read() };
            if header.size_bytes >= need_bytes {
                // SAFETY: chunk is on the list right after prev, and fits.
                return Some(unsafe { self.take(prev, chunk, need_bytes) });
            }
            prev = cursor;
            cursor = next;
        }
        None
    }

    /// Takes `chunk` off the list for a request of `need_bytes`: splits off
    /// the rest when the rest can be a chunk of its own, unlinks the whole
    /// chunk otherwise. Returns the chunk, marked in use.
    ///
    /// # Safety
    /// `chunk` is on the list right after `prev` (first when `prev` is
    /// `None`), and its `size_bytes` is at least `need_bytes`.
    unsafe fn take(
        &mut self,
        prev: Option<NonNull<FreeChunk>>,
        chunk: NonNull<FreeChunk>,
        need_bytes: usize,
    ) -> NonNull<Header> {
        // SAFETY: chunk is on the list (the caller's promise): a free chunk in
        // a mapped run, at least MIN_CHUNK_BYTES long.
        let FreeChunk { header, next } = unsafe { chunk.read() };
        let rest_bytes = header.size_bytes - need_bytes;
        if rest_bytes >= MIN_CHUNK_BYTES {
            // Split: hand out the front; the rest takes the chunk's place
            // on the list, which keeps the address order. The rest never
            // starts a run: the chunk's front does.
            // SAFETY: need_bytes < size_bytes, so the rest starts inside
            // this chunk, and [rest, rest + rest_bytes) is its tail.
            let rest = unsafe { chunk.cast::<u8>().add(need_bytes) }.cast::<FreeChunk>();
            // SAFETY: the tail is free memory of this chunk, 16-aligned
            // (need_bytes is a multiple of 16) and at least MIN_CHUNK_BYTES.
            unsafe {
                rest.write(FreeChunk {
                    header: Header {
                        size_bytes: rest_bytes,
                        flags: Flags::free(),
                    },
                    next,
                });
            }
            // SAFETY: the front is still this chunk's memory.
            unsafe { (*chunk.as_ptr()).header.size_bytes = need_bytes };
            self.relink(prev, Some(rest));
        } else {
            // Too little left over to hold a header and a link: the caller
            // gets the whole chunk, a few bytes more than asked.
            self.relink(prev, next);
            self.len -= 1;
        }
        let chunk = chunk.cast::<Header>();
        // SAFETY: the chunk is off the list and ours alone now.
        unsafe { (*chunk.as_ptr()).flags = header.flags.marked_in_use() };
        chunk
    }

    /// The free chunks, walked in list order (the heap checker's view).
    pub fn blocks(&self) -> Vec<Block> {
        let mut blocks = Vec::with_capacity(self.len);
        let mut cursor = self.head;
        while let Some(chunk) = cursor {
            // SAFETY: chunks on the list are free chunks in mapped runs.
            let FreeChunk { header, next } = unsafe { chunk.read() };
            blocks.push(Block {
                addr: chunk.addr().get(),
                size: header.size_bytes,
            });
            cursor = next;
        }
        blocks
    }

    /// Points the link before a chunk (the head when `prev` is `None`) at `to`.
    fn relink(&mut self, prev: Option<NonNull<FreeChunk>>, to: Option<NonNull<FreeChunk>>) {
        match prev {
            None => self.head = to,
            // SAFETY: prev is a chunk on the list, so its cell is ours to write.
            Some(prev) => unsafe { (*prev.as_ptr()).next = to },
        }
    }
}
// BEGIN SOLUTION

/// True when `upper` starts right where `lower` ends, in the same run.
///
/// # Safety
/// Both are free chunks in mapped runs (their headers are readable).
unsafe fn touches(lower: NonNull<FreeChunk>, upper: NonNull<FreeChunk>) -> bool {
    // SAFETY: lower's header is readable (the caller's promise).
    let lower_bytes = unsafe { (*lower.as_ptr()).header.size_bytes };
    // SAFETY: upper's header is readable (the caller's promise).
    let upper_flags = unsafe { (*upper.as_ptr()).header.flags };
    lower.addr().get() + lower_bytes == upper.addr().get() && !upper_flags.starts_run()
}

/// Makes `lower` cover `upper` too, taking over `upper`'s link.
///
/// # Safety
/// `lower` and `upper` are free chunks, `upper` starting where `lower` ends
/// in the same run ([`touches`]).
unsafe fn absorb(lower: NonNull<FreeChunk>, upper: NonNull<FreeChunk>) {
    // SAFETY: upper is a free chunk (the caller's promise); read whole.
    let FreeChunk { header, next } = unsafe { upper.read() };
    // SAFETY: lower is a free chunk: its header and cell are the list's.
    unsafe { (*lower.as_ptr()).header.size_bytes += header.size_bytes };
    // SAFETY: as above.
    unsafe { (*lower.as_ptr()).next = next };
}
// END SOLUTION
