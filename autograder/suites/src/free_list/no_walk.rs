//! `free` in constant time, for the optional exercise of O(1) coalescing
//! (boundary tags and a doubly linked list, docs/lesson5.md): freeing a
//! chunk whose neighbours are both live must not walk the free list.
//!
//! No clock decides it. The checker owns the heap's memory, so it points the
//! link of every free chunk at a *decoy*, a fake free chunk it writes inside
//! a live block below the chunk, and then frees that chunk. A `free` that
//! walks the list (lesson 5's address-ordered insert) follows a link into
//! the decoy, stops there, and links the chunk in after it: it writes the
//! decoy's link, inside a live block. A `free` that finds its neighbours by
//! address and pushes the chunk at the head reads none of the links it was
//! not given. The checker then puts every link back.

use std::rc::Rc;

use heaplab_kit::layout::{CHECK_PATTERN, LINK_OFFSET, MIN_CHUNK_BYTES};
use heaplab_kit::{Block, Heap};

use super::{neighbours, paint_free_chunks, BASE};
use crate::alloc::{self, Config, Failure, InstrumentedPages, Session};
use crate::harness::Test;

/// The test `free_does_not_walk_the_list` for the heap `make` builds: the
/// guards only, and not the free-list hook every other free-list test runs
/// after each operation, which would walk into the decoy itself.
pub fn free_does_not_walk<H, F>(make: &Rc<F>) -> Test
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let config = Config::new(&BASE)
        .with_headers()
        .painter(paint_free_chunks::<H>);
    alloc::scenario(
        "free_does_not_walk_the_list",
        make.clone(),
        config,
        free_does_not_walk_the_list,
    )
}

/// A word of the heap's memory and what it held before the checker wrote it.
struct Saved {
    addr: usize,
    word: usize,
}

/// Seven blocks side by side, b0 to b6; b0, b2 and b6 freed (each between
/// live blocks, so nothing merges); every free chunk's link pointed at a
/// decoy inside b1; then `free(b4)`, between b3 and b5, both live.
pub fn free_does_not_walk_the_list<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let b = neighbours(s, 7, 48)?;
    for id in [b[0], b[2], b[6]] {
        s.free(id)?;
    }
    let decoy = s.block(b[1]).addr;
    let listed = s.heap().free_blocks();
    let mut saved = write_decoy(decoy);
    saved.extend(point_links_at(&listed, decoy));
    s.note(format!(
        "(the checker points every free chunk's link at a decoy chunk at {decoy:#x}, inside \
         a{}'s payload)",
        b[1]
    ));
    s.free(b[4])?;
    let written = read(decoy + LINK_OFFSET) != 0;
    restore(&saved, decoy);
    // The walk first: a heap that walked may also have broken a rule on the
    // way (it linked the chunk in after the decoy), but the walk is the cause.
    s.ensure(!written, || {
        Failure::new(
            format!("free(a{}) walked the free list", b[4]),
            "a free that finds both neighbours by address (both are live here) and pushes \
             the chunk at the head of the list, reading no other chunk's link",
            format!(
                "it followed a link to the decoy chunk the checker had put at {decoy:#x} (in \
                 the live block a{}) and linked the chunk in after it",
                b[1]
            ),
        )
        .at(decoy)
    })?;
    s.check_now()
}

/// Writes a free chunk of `MIN_CHUNK_BYTES` whose link ends the list at
/// `decoy`; returns the words it covered.
fn write_decoy(decoy: usize) -> Vec<Saved> {
    let words = [MIN_CHUNK_BYTES, CHECK_PATTERN, 0];
    let mut saved = Vec::new();
    for (i, word) in words.into_iter().enumerate() {
        let addr = decoy + i * size_of::<usize>();
        saved.push(Saved {
            addr,
            word: read(addr),
        });
        write(addr, word);
    }
    saved
}

/// Points the link of every chunk of `listed` at `decoy`; returns what the
/// links held.
fn point_links_at(listed: &[Block], decoy: usize) -> Vec<Saved> {
    listed
        .iter()
        .map(|chunk| {
            let addr = chunk.addr + LINK_OFFSET;
            let saved = Saved {
                addr,
                word: read(addr),
            };
            write(addr, decoy);
            saved
        })
        .collect()
}

/// Puts back every saved word that still holds what the checker wrote
/// (the decoy's words, and links still pointing at it); a link the heap
/// rewrote since is the heap's.
fn restore(saved: &[Saved], decoy: usize) {
    for s in saved.iter().rev() {
        let is_decoy_word = (decoy..decoy + 3 * size_of::<usize>()).contains(&s.addr);
        if is_decoy_word || read(s.addr) == decoy {
            write(s.addr, s.word);
        }
    }
}

/// The word at `addr`, in the heap's memory.
fn read(addr: usize) -> usize {
    // SAFETY: every address here is a free chunk's link or a word of a
    // live block's payload (the decoy), inside the heap's mapped runs, which
    // the checker maps too; the heap is not running.
    unsafe { (addr as *const usize).read() }
}

/// Writes `word` at `addr`, in the heap's memory.
fn write(addr: usize, word: usize) {
    // SAFETY: as for `read`; the heap is not running, and every word is put
    // back before it runs again but for the call under test.
    unsafe { (addr as *mut usize).write(word) }
}
