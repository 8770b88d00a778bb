// LESSONS 3..
// LESSONS 3
//! The chunk: a header, then the payload the user gets.
// ELSE LESSONS 4..=6
//! The chunk: the unit of memory the heap hands out and takes back.
// ELSE LESSONS 7..
//! The chunk: the unit of memory the heap hands out and takes back
//! (lessons 3 to 6; lesson 7 adds the `LEAD` flag and stops on misuse
//! without panicking).
// END LESSONS
//!
//! Every chunk starts with a 16-byte header whose first word is the chunk's
//! size in bytes, header included; chunk sizes are multiples of 16.
// LESSONS 4
//! Lesson 3 gave the header; lesson 4 adds the list cell a free chunk keeps
//! in its payload.
// ELSE LESSONS 5
//! Lesson 3 gave the header; lesson 4 added the list cell a free chunk keeps
//! in its payload; lesson 5 adds a flag that marks the first chunk of each
//! run of pages.
// ELSE LESSONS 6..
//! Lesson 3 gave the header; lesson 4 added the list cell a free chunk keeps
//! in its payload; lesson 5 a flag that marks the first chunk of each run of
//! pages; lesson 6 a flag for big chunks, which have pages of their own.
// END LESSONS
//!
//! ```text
// LESSONS 4..
//!   in use, handed to the user:
// END LESSONS
//!   chunk ─┬──────────────────┬──────────────┬─────────────────────────────┐
//!          │ size_bytes: usize│ flags: Flags │ payload (16-byte aligned) … │
//!          └──────────────────┴──────────────┴─────────────────────────────┘
//!          0                  8              16 = HEADER_BYTES    size_bytes
//!                                            ▲ the pointer malloc returns
// LESSONS 4..
//!   free, on the free list:
//!   chunk ─┬──────────────────┬──────────────┬──────────────┬──────────────┐
//!          │ size_bytes: usize│ flags: Flags │ next: link   │ junk …       │
//!          └──────────────────┴──────────────┴──────────────┴──────────────┘
//!          0                  8              16             24  size_bytes
// END LESSONS
// LESSONS 6..
//!
//!   big, with pages of its own (never on the free list):
//!   mapping ─┬──────────────────┬──────────────┬───────────────────────────┐
//!            │ size_bytes: usize│ flags: BIG   │ payload …                 │
//!            └──────────────────┴──────────────┴───────────────────────────┘
//!            0                  8              16     size_bytes = mapped length
// END LESSONS
//! ```
//!
//! The numbers in the picture (the header's 16 bytes, the smallest chunk,
//! the flag bits and the check pattern) come from the kit's [`layout`]: the
//! grader reads a chunk with the same numbers this heap writes it with.
//!
// LESSONS 3
//! The lecture's version allocates `B + 8` bytes, stores `B` in the first 8
//! and returns the pointer after it. Here the payload must be 16-byte
//! aligned (the heap contract), and chunks start 16-aligned, so an 8-byte
//! header would leave the payload 8 bytes off: the header is padded to 16.
//! The padding is put to work as a check word ([`Flags`]) that lets `free`
//! catch pointers that are not ours and double frees.
// ELSE LESSONS 4..
//! A free chunk must hold its header and its list cell, so the smallest chunk
//! is [`MIN_CHUNK_BYTES`] = 16 + 16 = 32 bytes (the 8-byte cell rounded up to
//! keep every chunk a multiple of 16), and `malloc(0)` gets one of those.
// END LESSONS
// LESSONS 7..
//!
//! Lesson 7's aligned big chunks start part-way into their mapping, so that
//! the payload lands on the alignment asked for; the word just before the
//! header keeps where the mapping starts (flag `LEAD`):
//!
//! ```text
//!   mapping ─┬──── lead ─────┬───────┬──────────┬──────────┬──────────────┐
//!            │ unused …      │ start │size_bytes│ BIG|LEAD │ payload …    │
//!            └───────────────┴───────┴──────────┴──────────┴──────────────┘
//!            start        chunk - 8  chunk               ▲ aligned   mapping end
//!                                                 size_bytes = end - chunk
//! ```
// END LESSONS
// LESSONS 5..
//!
//! Chunks never straddle two runs. The OS may well place a new run right
//! after an old one, but they are still two mappings: a chunk across both
//! would break the day one of them is unmapped (and in Rust they are two
//! allocations, which one pointer may not cross). So merging stops at a chunk
//! flagged [`Flags::starts_run`].
// END LESSONS

use std::mem::{offset_of, size_of};
use std::ptr::NonNull;

use heaplab_kit::layout;
use heaplab_kit::{align_up, ALIGN};

// LESSONS 7..
use crate::misuse::misuse;

// END LESSONS
/// The kit's header and smallest-chunk sizes (see the picture above).
pub use heaplab_kit::layout::{HEADER_BYTES, MIN_CHUNK_BYTES};

/// The 16 bytes in front of every payload.
#[repr(C)]
pub struct Header {
    /// Bytes in the whole chunk, this header included; a multiple of 16.
    pub size_bytes: usize,
    // LESSONS 3..=4
    /// Whether the chunk is in use; also a check word (see [`Flags`]).
    // ELSE LESSONS 5
    /// Whether the chunk is in use and whether it starts its run; also a
    /// check word (see [`Flags`]).
    // ELSE LESSONS 6..
    /// Whether the chunk is in use, starts its run, or is big; also a check
    /// word (see [`Flags`]).
    // END LESSONS
    pub flags: Flags,
}
// LESSONS 4..

/// A free chunk as the free list sees it: the header, then the list cell.
#[repr(C)]
pub struct FreeChunk {
    pub header: Header,
    /// The next chunk on the free list; `None` ends the list.
    pub next: Option<NonNull<FreeChunk>>,
}
// END LESSONS

// The structs above are the kit's layout, field for field.
const _: () = assert!(size_of::<Header>() == HEADER_BYTES);
const _: () = assert!(offset_of!(Header, size_bytes) == layout::SIZE_OFFSET);
const _: () = assert!(offset_of!(Header, flags) == layout::FLAGS_OFFSET);
// LESSONS 4..
const _: () = assert!(offset_of!(FreeChunk, next) == layout::LINK_OFFSET);
const _: () = assert!(size_of::<FreeChunk>() <= MIN_CHUNK_BYTES);
// END LESSONS

/// The header's second word: the kit's check pattern in the high bits,
/// flags in the low bits. `free` reads it to catch pointers that never came
/// from `malloc` (the pattern is missing) and double frees (the chunk is
/// already free).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Flags(usize);

impl Flags {
    // LESSONS 3
    /// The flags of a freed chunk.
    // ELSE LESSONS 4
    /// The flags of a chunk on the free list.
    // ELSE LESSONS 5..
    /// The flags of a free chunk inside a run (a split's rest).
    // END LESSONS
    pub const fn free() -> Self {
        Flags(layout::CHECK_PATTERN)
    }
    // LESSONS 3..=4

    /// The flags of a chunk handed to the user.
    pub const fn in_use() -> Self {
        Flags(layout::CHECK_PATTERN | layout::IN_USE)
    }
    // ELSE LESSONS 5..

    /// The flags of a new run's first chunk, free.
    pub const fn run_start() -> Self {
        Flags(layout::CHECK_PATTERN | layout::RUN_START)
    }
    // END LESSONS
    // LESSONS 6..

    /// The flags of a big chunk: in use, its mapping all its own.
    pub const fn big() -> Self {
        Flags(layout::CHECK_PATTERN | layout::IN_USE | layout::BIG)
    }
    // END LESSONS
    // LESSONS 7..

    /// The flags of a big chunk with a lead: the mapping starts at the
    /// address stored in the word before its header.
    pub const fn big_with_lead() -> Self {
        Flags(layout::CHECK_PATTERN | layout::IN_USE | layout::BIG | layout::LEAD)
    }
    // END LESSONS
    // LESSONS 5..

    /// The same flags, marked in use (whether it starts a run is kept).
    pub const fn marked_in_use(self) -> Self {
        Flags(self.0 | layout::IN_USE)
    }

    /// The same flags, marked free (whether it starts a run is kept).
    pub const fn marked_free(self) -> Self {
        Flags(self.0 & !layout::IN_USE)
    }
    // END LESSONS

    /// True if the check pattern is intact: this looks like one of our headers.
    pub const fn is_valid(self) -> bool {
        layout::has_check_pattern(self.0)
    }

    /// True for a chunk handed out and not freed since.
    pub const fn is_in_use(self) -> bool {
        self.0 & layout::IN_USE != 0
    }
    // LESSONS 5..

    /// True for the first chunk of a run: nothing before it may merge with it.
    pub const fn starts_run(self) -> bool {
        self.0 & layout::RUN_START != 0
    }
    // END LESSONS
    // LESSONS 6..

    /// True for a big chunk: `free` unmaps it instead of listing it.
    pub const fn is_big(self) -> bool {
        self.0 & layout::BIG != 0
    }
    // END LESSONS
    // LESSONS 7..

    /// True for a big chunk whose mapping starts before it (see [`Flags::big_with_lead`]).
    pub const fn has_lead(self) -> bool {
        self.0 & layout::LEAD != 0
    }
    // END LESSONS
}

/// The chunk size that serves a request of `size_bytes`: header plus
/// payload, rounded up to 16, at least [`MIN_CHUNK_BYTES`]. `None` when the
/// sum overflows (a request no heap can serve).
pub const fn chunk_bytes_for(size_bytes: usize) -> Option<usize> {
    // BEGIN SOLUTION 3: header plus payload, rounded up to 16, at least MIN_CHUNK_BYTES; None on overflow
    let Some(with_header) = size_bytes.checked_add(HEADER_BYTES) else {
        return None;
    };
    match align_up(with_header, ALIGN) {
        Some(n) if n < MIN_CHUNK_BYTES => Some(MIN_CHUNK_BYTES),
        other => other,
    }
    // END SOLUTION
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

// LESSONS 3..=6
/// The chunk whose payload starts at `ptr`, checked: panics, naming the
/// likely bug, when `ptr` cannot be a block this heap handed out.
// ELSE LESSONS 7..
/// The chunk whose payload starts at `ptr`, checked: stops the program,
/// naming the likely bug, when `ptr` cannot be a block this heap handed out
/// (with [`misuse`], not a panic: see `misuse.rs`).
// END LESSONS
///
/// # Safety
/// `[ptr - HEADER_BYTES, ptr)` is readable memory of the mapping `ptr`
/// points into (true for every pointer `malloc` returned).
pub unsafe fn chunk_of(ptr: NonNull<u8>) -> NonNull<Header> {
    // BEGIN SOLUTION 3: step back HEADER_BYTES from ptr; panic, naming the bug, if the header is not one of ours or the chunk is already free
    // LESSONS 3..=6
    assert!(
        ptr.addr().get().is_multiple_of(ALIGN),
        "free({ptr:p}): not 16-byte aligned, so not a pointer malloc returned"
    );
    // ELSE LESSONS 7..
    if !ptr.addr().get().is_multiple_of(ALIGN) {
        misuse("free: a pointer that is not 16-byte aligned, so not one malloc returned");
    }
    // END LESSONS
    // SAFETY: the caller promises the header in front of ptr is in the mapping.
    let chunk = unsafe { ptr.sub(HEADER_BYTES) }.cast::<Header>();
    // SAFETY: as above; the header is 16-byte aligned because ptr is.
    let flags = unsafe { (*chunk.as_ptr()).flags };
    // LESSONS 3..=6
    assert!(
        flags.is_valid(),
        "free({ptr:p}): no chunk header in front of it: not a pointer malloc \
         returned, or the header was overwritten (a write before the block?)"
    );
    assert!(
        flags.is_in_use(),
        "free({ptr:p}): the block is already free: double free?"
    );
    // ELSE LESSONS 7..
    if !flags.is_valid() {
        misuse(
            "free: no chunk header in front of the pointer: not a pointer malloc \
             returned, or the header was overwritten (a write before the block?)",
        );
    }
    if !flags.is_in_use() {
        misuse("free: the block is already free: double free?");
    }
    // END LESSONS
    chunk
    // END SOLUTION
}
// END LESSONS
