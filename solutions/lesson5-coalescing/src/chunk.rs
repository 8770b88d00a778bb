//! The chunk: the unit of memory the heap hands out and takes back.
//!
//! Every chunk starts with a 16-byte header whose first word is the chunk's
//! size in bytes, header included; chunk sizes are multiples of 16.
//! Lesson 3 gave the header; lesson 4 added the list cell a free chunk keeps
//! in its payload; lesson 5 adds a flag that marks the first chunk of each
//! run of pages.
//!
//! ```text
//!   in use, handed to the user:
//!   chunk ─┬──────────────────┬──────────────┬─────────────────────────────┐
//!          │ size_bytes: usize│ flags: Flags │ payload (16-byte aligned) … │
//!          └──────────────────┴──────────────┴─────────────────────────────┘
//!          0                  8              16 = HEADER_BYTES    size_bytes
//!                                            ▲ the pointer malloc returns
//!   free, on the free list:
//!   chunk ─┬──────────────────┬──────────────┬──────────────┬──────────────┐
//!          │ size_bytes: usize│ flags: Flags │ next: link   │ junk …       │
//!          └──────────────────┴──────────────┴──────────────┴──────────────┘
//!          0                  8              16             24  size_bytes
//! ```
//!
//! The numbers in the picture (the header's 16 bytes, the smallest chunk,
//! the flag bits and the check pattern) come from the kit's [`layout`]: the
//! grader reads a chunk with the same numbers this heap writes it with.
//!
//! A free chunk must hold its header and its list cell, so the smallest chunk
//! is [`MIN_CHUNK_BYTES`] = 16 + 16 = 32 bytes (the 8-byte cell rounded up to
//! keep every chunk a multiple of 16), and `malloc(0)` gets one of those.
//!
//! Chunks never straddle two runs. The OS may well place a new run right
//! after an old one, but they are still two mappings: a chunk across both
//! would break the day one of them is unmapped (and in Rust they are two
//! allocations, which one pointer may not cross). So merging stops at a chunk
//! flagged [`Flags::starts_run`].

use std::mem::{offset_of, size_of};
use std::ptr::NonNull;

use heaplab_kit::layout;
use heaplab_kit::{align_up, ALIGN};

/// The kit's header and smallest-chunk sizes (see the picture above).
pub use heaplab_kit::layout::{HEADER_BYTES, MIN_CHUNK_BYTES};

/// The 16 bytes in front of every payload.
#[repr(C)]
pub struct Header {
    /// Bytes in the whole chunk, this header included; a multiple of 16.
    pub size_bytes: usize,
    /// Whether the chunk is in use and whether it starts its run; also a
    /// check word (see [`Flags`]).
    pub flags: Flags,
}

/// A free chunk as the free list sees it: the header, then the list cell.
#[repr(C)]
pub struct FreeChunk {
    pub header: Header,
    /// The next chunk on the free list; `None` ends the list.
    pub next: Option<NonNull<FreeChunk>>,
}

// The structs above are the kit's layout, field for field.
const _: () = assert!(size_of::<Header>() == HEADER_BYTES);
const _: () = assert!(offset_of!(Header, size_bytes) == layout::SIZE_OFFSET);
const _: () = assert!(offset_of!(Header, flags) == layout::FLAGS_OFFSET);
const _: () = assert!(offset_of!(FreeChunk, next) == layout::LINK_OFFSET);
const _: () = assert!(size_of::<FreeChunk>() <= MIN_CHUNK_BYTES);

/// The header's second word: the kit's check pattern in the high bits,
/// flags in the low bits. `free` reads it to catch pointers that never came
/// from `malloc` (the pattern is missing) and double frees (the chunk is
/// already free).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Flags(usize);

impl Flags {
    /// The flags of a free chunk inside a run (a split's rest).
    pub const fn free() -> Self {
        Flags(layout::CHECK_PATTERN)
    }

    /// The flags of a new run's first chunk, free.
    pub const fn run_start() -> Self {
        Flags(layout::CHECK_PATTERN | layout::RUN_START)
    }

    /// The same flags, marked in use (whether it starts a run is kept).
    pub const fn marked_in_use(self) -> Self {
        Flags(self.0 | layout::IN_USE)
    }

    /// The same flags, marked free (whether it starts a run is kept).
    pub const fn marked_free(self) -> Self {
        Flags(self.0 & !layout::IN_USE)
    }

    /// True if the check pattern is intact: this looks like one of our headers.
    pub const fn is_valid(self) -> bool {
        layout::has_check_pattern(self.0)
    }

    /// True for a chunk handed out and not freed since.
    pub const fn is_in_use(self) -> bool {
        self.0 & layout::IN_USE != 0
    }

    /// True for the first chunk of a run: nothing before it may merge with it.
    pub const fn starts_run(self) -> bool {
        self.0 & layout::RUN_START != 0
    }
}

/// The chunk size that serves a request of `size_bytes`: header plus
/// payload, rounded up to 16, at least [`MIN_CHUNK_BYTES`]. `None` when the
/// sum overflows (a request no heap can serve).
pub const fn chunk_bytes_for(size_bytes: usize) -> Option<usize> {
    let Some(with_header) = size_bytes.checked_add(HEADER_BYTES) else {
        return None;
    };
    match align_up(with_header, ALIGN) {
        Some(n) if n < MIN_CHUNK_BYTES => Some(MIN_CHUNK_BYTES),
        other => other,
    }
}

/// The pointer handed to the user for `chunk`: just past its header.
///
/// # Safety
/// `[chunk, chunk + HEADER_BYTES)` lies inside one mapping.
pub unsafe fn payload_of(chunk: NonNull<Header>) -> NonNull<u8> {
    // SAFETY: the chunk holds at least its header, so one past the header is
    // still inside (or one past the end of) the chunk's mapping.
    unsafe { chunk.cast::<u8>().add(HEADER_BYTES) }
}

/// The chunk whose payload starts at `ptr`, checked: panics, naming the
/// likely bug, when `ptr` cannot be a block this heap handed out.
///
/// # Safety
/// `[ptr - HEADER_BYTES, ptr)` is readable memory of the mapping `ptr`
/// points into (true for every pointer `malloc` returned).
pub unsafe fn chunk_of(ptr: NonNull<u8>) -> NonNull<Header> {
    assert!(
        ptr.addr().get().is_multiple_of(ALIGN),
        "free({ptr:p}): not 16-byte aligned, so not a pointer malloc returned"
    );
    // SAFETY: the caller promises the header in front of ptr is in the mapping.
    let chunk = unsafe { ptr.sub(HEADER_BYTES) }.cast::<Header>();
    // SAFETY: as above; the header is 16-byte aligned because ptr is.
    let flags = unsafe { (*chunk.as_ptr()).flags };
    assert!(
        flags.is_valid(),
        "free({ptr:p}): no chunk header in front of it: not a pointer malloc \
         returned, or the header was overwritten (a write before the block?)"
    );
    assert!(
        flags.is_in_use(),
        "free({ptr:p}): the block is already free: double free?"
    );
    chunk
}
