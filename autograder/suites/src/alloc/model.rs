//! The model the heap is compared with: which blocks are live, where, how big,
//! and what bytes they should hold.

use std::fmt;
use std::ptr::NonNull;

/// A block the test got from `malloc` and has not freed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveBlock {
    /// The block's number: `a0` is the first block of a run, `a1` the next...
    pub id: usize,
    /// The pointer `malloc` returned, as a number.
    pub addr: usize,
    /// The same pointer, with its provenance: the engine reads and writes
    /// the block through it, so Miri can follow every access.
    pub ptr: NonNull<u8>,
    /// The size asked for.
    pub size: usize,
    /// The bytes written by `write(aN)`: the block must keep them until freed.
    /// Empty until the block is written.
    pub pattern: Vec<u8>,
}

impl LiveBlock {
    /// Bytes the block covers for overlap and bounds checks: a `malloc(0)`
    /// block counts as one byte, so its pointer must be unique and inside
    /// mapped memory.
    pub fn extent(&self) -> usize {
        self.size.max(1)
    }

    /// One past the block's last byte (by [`extent`](Self::extent)).
    /// Saturates rather than overflows: a broken heap may hand out a block
    /// for `malloc(usize::MAX)`, and the report must still say so.
    pub fn end(&self) -> usize {
        self.addr.saturating_add(self.extent())
    }

    /// The block's name in operation sequences (`a3`).
    pub fn name(&self) -> BlockName {
        BlockName(self.id)
    }

    /// The block's letter in pictures.
    pub fn letter(&self) -> char {
        letter(self.id)
    }
}

/// How a block is named in messages: `a0`, `a1`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockName(pub usize);

impl fmt::Display for BlockName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a{}", self.0)
    }
}

/// The picture letter of block `id`: `a` for a0, `b` for a1, ... (wrapping
/// after `z`).
pub fn letter(id: usize) -> char {
    (b'a' + (id % 26) as u8) as char
}

/// The byte `write(a<id>)` puts at offset `i`: never zero (fresh pages are
/// zero), different from block to block and along the block.
pub fn pattern_byte(id: usize, i: usize) -> u8 {
    (((id.wrapping_mul(37)).wrapping_add(i.wrapping_mul(7)) % 251) + 1) as u8
}

/// The full pattern of block `id` for `size` bytes.
pub fn pattern(id: usize, size: usize) -> Vec<u8> {
    (0..size).map(|i| pattern_byte(id, i)).collect()
}

/// What the heap should look like from the outside.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Live blocks, oldest first.
    pub live: Vec<LiveBlock>,
    /// Address ranges `[start, end)` of blocks freed so far (headers
    /// included when the lesson has them).
    pub freed: Vec<(usize, usize)>,
    /// Successful `malloc` calls.
    pub mallocs: usize,
    /// `free` calls.
    pub frees: usize,
    /// The id the next block gets.
    pub next_id: usize,
}

impl Model {
    /// The live block with this id.
    pub fn block(&self, id: usize) -> Option<&LiveBlock> {
        self.live.iter().find(|b| b.id == id)
    }

    /// The live block holding byte `addr`, if any.
    pub fn block_at(&self, addr: usize) -> Option<&LiveBlock> {
        self.live.iter().find(|b| addr >= b.addr && addr < b.end())
    }
}
