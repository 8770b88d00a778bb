//! The chunk layout of lessons 3 to 7, declared once: the reference heaps,
//! the student crates and the grader's suites all read a chunk with these
//! numbers.
//!
//! ```text
//!   in use:
//!   chunk ─┬────────────────┬─────────────────┬─────────────────────────────┐
//!          │ size: usize    │ check + flags   │ payload (16-byte aligned) … │
//!          └────────────────┴─────────────────┴─────────────────────────────┘
//!          0 = SIZE_OFFSET  8 = FLAGS_OFFSET  16 = HEADER_BYTES        size
//!                                             ▲ the pointer malloc returns
//!   free, on a free list (lesson 4 on):
//!   chunk ─┬────────────────┬─────────────────┬───────────────┬─────────────┐
//!          │ size: usize    │ check + flags   │ next: link    │ junk …      │
//!          └────────────────┴─────────────────┴───────────────┴─────────────┘
//!          0                8                 16 = LINK_OFFSET 24   size ≥ 32
//!
//!   the second word:  bits 63..4  CHECK_PATTERN
//!                     bit 3 LEAD (7)  bit 2 BIG (6)  bit 1 RUN_START (5)  bit 0 IN_USE (3)
//! ```
//!
//! - The first word is the whole chunk's size in bytes, header included, a
//!   multiple of 16.
//! - The header is 16 bytes, not the lecture's 8: chunks start 16-aligned,
//!   and an 8-byte header would leave every payload 8 bytes off [`ALIGN`].
//!   The spare word carries a check pattern, so `free` can tell a pointer
//!   that never came from `malloc`, and flags, so it can tell a double free.
//! - A free chunk keeps its list link in its payload, so the smallest chunk
//!   is a header plus a link, rounded up to 16: [`MIN_CHUNK_BYTES`].
//! - A chunk of at least one page, header included, gets a mapping of its
//!   own (lesson 6): [`is_big_chunk`].
//!
//! The numbers in parentheses above are the lessons that add each flag. How
//! a request's size becomes a chunk size is lesson 3's exercise, so it is
//! not here: the lessons write it, and the suites keep a model of their own
//! to check it against.

use std::mem::size_of;

use crate::{align_up, ALIGN};

/// Where the chunk's size (bytes, header included) sits: its first word.
pub const SIZE_OFFSET: usize = 0;
/// Where the check pattern and flags sit: the header's second word.
pub const FLAGS_OFFSET: usize = size_of::<usize>();
/// Bytes in a header; the payload starts this far into the chunk.
pub const HEADER_BYTES: usize = 16;
/// Where a free chunk keeps the link to the next chunk on its free list: the
/// first payload word, free to use because nobody owns the payload.
pub const LINK_OFFSET: usize = HEADER_BYTES;
/// The smallest chunk: a header and a list link, rounded up to 16. Even
/// `malloc(0)` gets one, so its pointer is unique and it can be listed when
/// freed.
pub const MIN_CHUNK_BYTES: usize = 32;

/// The check pattern in the second word's high bits. A header without it
/// was not written by the heap: a foreign pointer, or a block overwritten.
pub const CHECK_PATTERN: usize = 0x4EA9_1AB0;
/// The second word's low bits, where the flags go; the pattern leaves them 0.
pub const FLAG_MASK: usize = 0xF;
/// The chunk is handed out (lesson 3): `free` of a chunk without it is a
/// double free.
pub const IN_USE: usize = 1 << 0;
/// The chunk starts its run of pages (lesson 5): nothing below it may merge
/// with it, even if another run happens to end right there.
pub const RUN_START: usize = 1 << 1;
/// The chunk has a mapping of its own (lesson 6): `free` unmaps it.
pub const BIG: usize = 1 << 2;
/// A big chunk that does not start its mapping (lesson 7's aligned blocks):
/// the word just before its header holds the mapping's start.
pub const LEAD: usize = 1 << 3;

const _: () = assert!(
    HEADER_BYTES == 2 * size_of::<usize>(),
    "the layout is two words of header: a 64-bit target"
);
const _: () = assert!(HEADER_BYTES.is_multiple_of(ALIGN));
const _: () = assert!(matches!(
    align_up(LINK_OFFSET + size_of::<usize>(), ALIGN),
    Some(MIN_CHUNK_BYTES)
));
const _: () = assert!(CHECK_PATTERN & FLAG_MASK == 0);
const _: () = assert!((IN_USE | RUN_START | BIG | LEAD) == FLAG_MASK);

/// True when `flags_word` (a header's second word) carries the check
/// pattern: it looks like a header the heap wrote, whatever its flags.
pub const fn has_check_pattern(flags_word: usize) -> bool {
    flags_word & !FLAG_MASK == CHECK_PATTERN
}

/// True when a chunk of `chunk_bytes` (header included) takes lesson 6's big
/// path, a mapping of its own: from one page up. Below that, a mapping of its
/// own would waste most of a page, since `munmap` gives back whole pages only.
pub const fn is_big_chunk(chunk_bytes: usize, page_bytes: usize) -> bool {
    chunk_bytes >= page_bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_two_words_and_keeps_the_payload_aligned() {
        assert_eq!((SIZE_OFFSET, FLAGS_OFFSET, HEADER_BYTES), (0, 8, 16));
        assert_eq!(HEADER_BYTES % ALIGN, 0);
    }

    #[test]
    fn the_smallest_chunk_holds_a_header_and_a_link() {
        assert_eq!(LINK_OFFSET, HEADER_BYTES);
        assert_eq!(MIN_CHUNK_BYTES, 32);
        assert!(MIN_CHUNK_BYTES >= LINK_OFFSET + size_of::<usize>());
        assert_eq!(MIN_CHUNK_BYTES % ALIGN, 0);
    }

    #[test]
    fn flags_are_distinct_bits_below_the_pattern() {
        let flags = [IN_USE, RUN_START, BIG, LEAD];
        for (i, a) in flags.iter().enumerate() {
            assert!(a.is_power_of_two() && a & FLAG_MASK == *a);
            assert!(flags[i + 1..].iter().all(|b| a & b == 0));
        }
    }

    #[test]
    fn the_check_pattern_ignores_the_flags_and_nothing_else() {
        for flags in 0..=FLAG_MASK {
            assert!(has_check_pattern(CHECK_PATTERN | flags));
        }
        for word in [0, usize::MAX, CHECK_PATTERN ^ 0x10, CHECK_PATTERN << 4] {
            assert!(!has_check_pattern(word), "{word:#x}");
        }
    }

    #[test]
    fn a_chunk_of_one_page_is_big() {
        for page in [4096, 16384] {
            assert!(!is_big_chunk(page - ALIGN, page));
            assert!(is_big_chunk(page, page));
            assert!(is_big_chunk(3 * page + ALIGN, page));
        }
    }
}
