//! What `free` leaves in the freed payload, as the lesson pages promise from
//! lesson 3 on: junk (`0xDB`, as xv6's `kfree` fills freed pages), so that a
//! use after free reads garbage instead of believable data.

use heaplab_kit::Heap;

use super::check::Failure;
use super::session::Session;

/// The byte `free` fills a freed payload with.
pub const JUNK_BYTE: u8 = 0xDB;

/// Bytes at the payload's start that a free chunk may use for itself: the
/// free list's link (lesson 4 on, `heaplab_kit::layout::LINK_OFFSET`).
const LINK_BYTES: usize = std::mem::size_of::<usize>();

/// `free(a1)` of a written 100-byte block between two live ones: its bytes
/// after the first word are all [`JUNK_BYTE`].
pub fn freed_payload_is_junk<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let _fence = s.malloc(24)?;
    let a = s.malloc(100)?;
    let _fence = s.malloc(24)?;
    s.write(a)?;
    let (ptr, size) = (s.ptr(a), s.block(a).size);
    let checked = (ptr.as_ptr() as usize + LINK_BYTES, size - LINK_BYTES);
    s.free(a)?;
    s.ensure(
        s.log().mapping_holding(checked.0, checked.1).is_some(),
        || {
            Failure::new(
                "after free(a1), a1's payload is no longer mapped",
                "a small block's run mapped for the heap's life",
                format!("no mapping holds {:#x}", checked.0),
            )
        },
    )?;
    // SAFETY: the bytes lie inside a live mapping of the page source (just
    // checked), which the checker can read; the heap is not running.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.as_ptr().add(LINK_BYTES), checked.1) };
    let stale: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i] != JUNK_BYTE)
        .collect();
    s.ensure(stale.is_empty(), || {
        let first = stale[0];
        Failure::new(
            "free(a1) did not fill a1's payload with junk: a use after free still reads the \
             old data",
            format!(
                "0x{JUNK_BYTE:X} in bytes {LINK_BYTES} to {} of the payload (the first \
                 {LINK_BYTES} may hold the free list's link)",
                size - 1
            ),
            format!(
                "{} of those {} bytes are not 0x{JUNK_BYTE:X}; byte {} is {:#04x}",
                stale.len(),
                bytes.len(),
                first + LINK_BYTES,
                bytes[first]
            ),
        )
        .at(checked.0 + first)
    })
}
