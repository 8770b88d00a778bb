//! What the free-list lessons (4, 5 and 6) share: the chunk layout the
//! checks rely on, the configuration every free-list test starts from, and
//! its parts:
//!
//! - [`checker`], [`tiling`] and [`big_blocks`]: the heap checker's rules,
//!   run after every operation (the list, the runs, lesson 6's big blocks);
//! - [`picture`]: the layer that numbers free chunks in list order;
//! - [`walk`]: the checker's own walk of the list, from memory, for when
//!   the student's process stopped;
//! - `properties` and `scenarios`: the tests every free-list lesson
//!   runs, as tables, and [`coalescing`]: those of lessons 5 and 6.
//!
//! The checker relies on the chunk layout all three lessons use: a 16-byte
//! header whose first word is the chunk size (header included, a multiple of
//! 16); a free chunk is at least [`MIN_CHUNK_BYTES`] bytes (a header and a
//! list cell); `free_blocks()` reports `Block { addr: chunk start, size }`.
//! The numbers are the kit's ([`heaplab_kit::layout`]), the ones the
//! lessons' `chunk.rs` declares its layout with.

mod big_blocks;
mod checker;
mod coalescing;
mod no_walk;
mod picture;
mod properties;
mod scenarios;
mod tiling;
pub mod walk;

use heaplab_kit::layout::{is_big_chunk, HEADER_BYTES, MIN_CHUNK_BYTES};
use heaplab_kit::{align_up, Block, Heap, ALIGN};

use heaplab_protocol::checks;

use crate::alloc::{header_word, Check, Config, LiveBlock, Mapping, Model, OpMix, SizeMix};

pub use big_blocks::big_blocks_own_their_pages;
pub use checker::{address_ordered, free_list_consistent, list_is_sane};
pub use coalescing::{coalescing, lecture_case, merge_case};
pub use no_walk::{free_does_not_walk, free_does_not_walk_the_list};
pub use picture::paint_free_chunks;
pub use properties::{memory_is_reused, properties};
pub use scenarios::{common, neighbours, scenario, tests, Row};
pub use tiling::{chunks_tile_runs, empty_run_is_one_chunk};

/// Which lesson's rules the checker applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Lesson 5 on: the list is in address order and no two free chunks of a
    /// run touch (they would have been merged).
    pub coalescing: bool,
    /// Lesson 6: chunks of a page or more get a mapping of their own.
    pub big_blocks: bool,
}

impl Rules {
    pub const LESSON4: Rules = Rules {
        coalescing: false,
        big_blocks: false,
    };
    pub const LESSON5: Rules = Rules {
        coalescing: true,
        big_blocks: false,
    };
    pub const LESSON6: Rules = Rules {
        coalescing: true,
        big_blocks: true,
    };
}

/// The chunk size that serves `size` bytes: header plus payload, rounded up
/// to 16, at least [`MIN_CHUNK_BYTES`]; `None` on overflow. The suites'
/// own model of lesson 3's exercise, to check the students' against.
pub fn chunk_bytes_for(size: usize) -> Option<usize> {
    let n = align_up(size.checked_add(HEADER_BYTES)?, ALIGN)?;
    Some(n.max(MIN_CHUNK_BYTES))
}

/// True when lesson 6 serves `size` on the big path: its chunk, header
/// included, is at least a page.
pub fn is_big(size: usize, page: usize) -> bool {
    chunk_bytes_for(size).is_none_or(|n| is_big_chunk(n, page))
}

/// A live block's chunk: `[p - 16, p - 16 + 16 + usable_size(p))`, from the
/// heap's `usable_size` (or the header word when the heap reports none).
pub fn live_chunk<H: Heap>(heap: &H, b: &LiveBlock) -> Block {
    // SAFETY: b came from this heap's malloc and has not been freed.
    let usable = unsafe { heap.usable_size(b.ptr) };
    let size = match usable {
        Some(u) => u.saturating_add(HEADER_BYTES),
        None => header_word(b),
    };
    Block {
        addr: b.addr - HEADER_BYTES,
        size,
    }
}

pub(crate) fn show(b: &Block) -> String {
    format!(
        "[{:#x}, {:#x}) ({} bytes)",
        b.addr,
        b.addr.wrapping_add(b.size),
        b.size
    )
}

pub(crate) fn show_walk(walk: &[Block]) -> String {
    if walk.is_empty() {
        return "an empty list".to_string();
    }
    let shown: Vec<String> = walk
        .iter()
        .take(8)
        .enumerate()
        .map(|(i, b)| format!("#{} {:#x}+{}", i + 1, b.addr, b.size))
        .collect();
    let more = if walk.len() > 8 { ", ..." } else { "" };
    format!("{}{more}", shown.join(", "))
}

pub(crate) fn position(walk: &[Block], b: Block) -> usize {
    walk.iter().position(|x| *x == b).map_or(0, |i| i + 1)
}

/// The chunks (live and free) that start inside mapping `m`, by address,
/// with the live block they belong to, if any.
pub(crate) fn chunks_in<'m, H: Heap>(
    heap: &H,
    model: &'m Model,
    walk: &[Block],
    m: &Mapping,
) -> Vec<(Block, Option<&'m LiveBlock>)> {
    let mut chunks: Vec<(Block, Option<&LiveBlock>)> = model
        .live
        .iter()
        .map(|b| (live_chunk(heap, b), Some(b)))
        .chain(walk.iter().map(|f| (*f, None)))
        .filter(|(c, _)| c.addr >= m.addr && c.addr < m.end())
        .collect();
    chunks.sort_by_key(|(c, _)| c.addr);
    chunks
}

/// The sizes of chunks in `walk`, for messages.
pub(crate) fn free_chunk_sizes(walk: &[Block]) -> String {
    show_walk(walk)
}

/// The free chunk that holds `[addr, addr + len)`, if any.
pub(crate) fn free_chunk_holding(walk: &[Block], addr: usize, len: usize) -> Option<Block> {
    walk.iter()
        .copied()
        .find(|f| f.addr <= addr && addr + len <= f.end())
}

/// A configuration for the free-list lessons: headers, the free-chunk
/// picture, `checks`, and a mix with more frees than lessons 2-3 (so chunks
/// are reused and merged) and big requests now and then.
pub fn config<H: Heap + 'static>(checks: &[Check], rules: Rules) -> Config<H> {
    let mut sizes = vec![
        (1, 0..=0),
        (8, 1..=64),
        (6, 65..=512),
        (3, 513..=4000),
        (1, 4001..=3 * 4096),
    ];
    if rules.big_blocks {
        sizes.push((2, 4064..=4112));
    }
    Config::new(checks)
        .with_headers()
        .hook(checks::FREE_CHUNK_LIVE, list_is_sane::<H>)
        .painter(paint_free_chunks::<H>)
        .post_mortem(walk::post_mortem::<H>)
        .ops(OpMix {
            malloc: 5,
            free: 4,
            write: 2,
            refuse_next_map: 0,
            sizes: SizeMix(sizes),
            max_ops: 48,
        })
}

/// The built-in checks every free-list test includes as guards: the page
/// source's contract, and pointers aligned inside mapped pages (always
/// checked before the engine touches a block).
pub const BASE: [Check; 2] = [Check::SourceContract, Check::Aligned];

pub(crate) fn with_base(extra: &[Check]) -> Vec<Check> {
    let mut checks = BASE.to_vec();
    checks.extend_from_slice(extra);
    checks
}
