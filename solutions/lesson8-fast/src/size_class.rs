// STUB: //! Your size classes, if your design has them (docs/lesson8.md, "The design space").
// BEGIN SOLUTION
//! Size classes: every small request is rounded up to one of 32 sizes, so
//! that all blocks of one class are interchangeable and a free one can be
//! found in constant time (the head of that class's list).
//!
//! ```text
//!   16  32  48  64  80  96 112 128          every 16 bytes up to 128
//!   160 192 224 256 │ 320 384 448 512 │ …  then 4 per doubling, up to 8 KiB
//! ```
//!
//! Four classes per doubling (jemalloc's spacing) bound the space a request
//! wastes by rounding up to a quarter of its class, about a tenth on average
//! over sizes spread evenly on a log scale; finer classes would waste less
//! inside blocks but leave more half-used slabs around. Nothing is finer than
//! 16 bytes because every block must start on a 16-byte boundary.

use heaplab_kit::ALIGN;

/// Number of size classes.
pub const CLASSES: usize = 32;

/// The largest request served from a size class; bigger blocks are runs of
/// whole pages (`large.rs`).
pub const MAX_SMALL_BYTES: usize = 8 * 1024;

/// Classes spaced `ALIGN` apart, up to this size.
const LINEAR_MAX_BYTES: usize = 128;

/// Classes per doubling above [`LINEAR_MAX_BYTES`].
const PER_DOUBLING: usize = 4;

/// Bytes in a block of each class, smallest first.
pub const CLASS_BYTES: [usize; CLASSES] = class_bytes_table();

const fn class_bytes_table() -> [usize; CLASSES] {
    let linear = LINEAR_MAX_BYTES / ALIGN;
    let mut table = [0; CLASSES];
    let mut class = 0;
    while class < CLASSES {
        table[class] = if class < linear {
            ALIGN * (class + 1)
        } else {
            // Group g doubles from 128 << g to 256 << g in quarter steps.
            let group = (class - linear) / PER_DOUBLING;
            let step = (class - linear) % PER_DOUBLING + 1;
            let base = LINEAR_MAX_BYTES << group;
            base + step * (base / PER_DOUBLING)
        };
        class += 1;
    }
    table
}

/// The class of a request of `size` bytes (0 included), which must be at
/// most [`MAX_SMALL_BYTES`]: the smallest class whose blocks hold it.
///
/// Computed, not searched: up to 128 bytes it is a division; above, the
/// position of the highest set bit picks the doubling and the next two bits
/// the quarter within it.
#[inline]
pub const fn class_of(size: usize) -> usize {
    debug_assert!(size <= MAX_SMALL_BYTES);
    let linear = LINEAR_MAX_BYTES / ALIGN;
    if size <= LINEAR_MAX_BYTES {
        return size.saturating_sub(1) / ALIGN;
    }
    let last_byte = size - 1;
    let top_bit = (usize::BITS - 1 - last_byte.leading_zeros()) as usize; // 7 for 129..=256
    let quarter = (last_byte >> (top_bit - 2)) & (PER_DOUBLING - 1);
    linear + (top_bit - LINEAR_MAX_BYTES.trailing_zeros() as usize) * PER_DOUBLING + quarter
}

/// Per class, `ceil(2^40 / CLASS_BYTES[class])`: `offset * INVERSE >> 40`
/// is `offset / CLASS_BYTES[class]` for every offset below 2^27 (a slab is
/// far smaller), a multiplication where a division takes ten times as long.
/// (The quotient is exact while `offset * CLASS_BYTES[class] < 2^40`.)
pub const INVERSE: [u64; CLASSES] = inverse_table();

const fn inverse_table() -> [u64; CLASSES] {
    let mut table = [0; CLASSES];
    let mut class = 0;
    while class < CLASSES {
        table[class] = (1u64 << 40).div_ceil(CLASS_BYTES[class] as u64);
        class += 1;
    }
    table
}

/// The index of the block at `offset` bytes into a slab of `class`.
#[inline]
pub fn block_index(class: usize, offset: usize) -> usize {
    debug_assert!(offset < 1 << 27);
    ((offset as u64 * INVERSE[class]) >> 40) as usize
}

/// Where `realloc` puts a block of `class` asked to hold `size` bytes (at
/// most [`MAX_SMALL_BYTES`]): `None` to leave it where it is, else the
/// class to move it to. A block stays while `size` fits it and is more
/// than a quarter of it; one that grows moves to a class of twice `size`,
/// so that a vector doubling its capacity moves every other time only (a
/// block cannot grow in place: its neighbours in the slab are the same
/// size).
pub fn realloc_class(class: usize, size: usize) -> Option<usize> {
    let have = CLASS_BYTES[class];
    if size <= have && size > have / 4 {
        None
    } else if size > have {
        Some(class_of((2 * size).min(MAX_SMALL_BYTES)))
    } else {
        Some(class_of(size))
    }
}

/// The smallest class whose blocks hold `size` bytes and start on a multiple
/// of `align` (a power of two), or `None` if no class does. A slab starts on
/// a page boundary, so when a class's size is a multiple of `align` (and
/// `align` is at most a page), so is every block's address in its slabs.
pub fn aligned_class(size: usize, align: usize) -> Option<usize> {
    if size > MAX_SMALL_BYTES {
        return None;
    }
    (class_of(size)..CLASSES).find(|&class| CLASS_BYTES[class].is_multiple_of(align))
}

/// Bytes in one slab of `class`: the fewest whole pages (at most 8) whose
/// tail, too short for one more block, is at most 1/32 of the slab; failing
/// that, the size with the shortest tail. Classes of 5, 6 or 7 quarters fit
/// exactly into 5, 6 or 7 pages.
pub fn slab_bytes(class: usize, page_bytes: usize) -> usize {
    const MAX_PAGES: usize = 8;
    let block = CLASS_BYTES[class];
    let first = block.div_ceil(page_bytes); // at least one block per slab
    let tail = |pages: usize| (pages * page_bytes) % block;
    let candidates = first..=MAX_PAGES.max(first);
    let good = candidates.clone().find(|&p| tail(p) * 32 <= p * page_bytes);
    let pages = good.or_else(|| candidates.min_by_key(|&p| tail(p) * 1024 / (p * page_bytes)));
    pages.unwrap_or(first) * page_bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_grow_and_end_at_the_largest_small_size() {
        assert_eq!(&CLASS_BYTES[..9], &[16, 32, 48, 64, 80, 96, 112, 128, 160]);
        assert_eq!(CLASS_BYTES[CLASSES - 1], MAX_SMALL_BYTES);
        assert!(CLASS_BYTES.windows(2).all(|w| w[0] < w[1]));
        assert!(CLASS_BYTES.iter().all(|b| b.is_multiple_of(ALIGN)));
    }

    #[test]
    fn class_of_picks_the_smallest_class_that_holds_the_size() {
        for size in 0..=MAX_SMALL_BYTES {
            let class = class_of(size);
            assert!(CLASS_BYTES[class] >= size, "class of {size} too small");
            if class > 0 {
                assert!(
                    CLASS_BYTES[class - 1] < size.max(1),
                    "class of {size} too big"
                );
            }
        }
    }

    #[test]
    fn rounding_wastes_at_most_a_fifth_above_128_bytes() {
        for size in 129..=MAX_SMALL_BYTES {
            assert!(CLASS_BYTES[class_of(size)] * 4 <= size * 5 + 4 * ALIGN);
        }
    }

    #[test]
    fn block_index_divides_exactly() {
        for (class, &bytes) in CLASS_BYTES.iter().enumerate() {
            for offset in (0..1 << 20).step_by(7) {
                assert_eq!(
                    block_index(class, offset),
                    offset / bytes,
                    "class {class}, offset {offset}"
                );
            }
        }
    }

    #[test]
    fn realloc_keeps_a_block_that_still_fits_and_doubles_one_that_grows() {
        let c64 = class_of(64);
        assert_eq!(realloc_class(c64, 40), None, "shrinks a little: stays");
        assert_eq!(realloc_class(c64, 64), None);
        assert_eq!(
            realloc_class(c64, 16),
            Some(class_of(16)),
            "a quarter or less: moves"
        );
        assert_eq!(
            realloc_class(c64, 65),
            Some(class_of(130)),
            "grows: room for twice"
        );
        assert_eq!(realloc_class(c64, 6000), Some(class_of(MAX_SMALL_BYTES)));
    }

    #[test]
    fn aligned_classes_are_multiples_of_the_alignment() {
        assert_eq!(aligned_class(100, 64), Some(class_of(128)));
        assert_eq!(aligned_class(5000, 4096), Some(class_of(8192)));
        assert_eq!(aligned_class(5000, 8192), Some(class_of(8192)));
        assert_eq!(aligned_class(1, 4096), Some(class_of(4096)));
        assert_eq!(aligned_class(MAX_SMALL_BYTES + 1, 16), None);
    }

    #[test]
    fn slabs_waste_little() {
        for (class, &block) in CLASS_BYTES.iter().enumerate() {
            let bytes = slab_bytes(class, 4096);
            assert!(bytes >= block && bytes.is_multiple_of(4096));
            let tail = bytes % block;
            assert!(
                tail * 32 <= bytes,
                "class {class}: {tail} of {bytes} wasted"
            );
        }
        assert_eq!(slab_bytes(class_of(1280), 4096), 5 * 4096);
    }
}
// END SOLUTION
