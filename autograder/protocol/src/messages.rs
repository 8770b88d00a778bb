//! What the checker and the subject send each other.
//!
//! The checker sends [`Down`] messages: a [`Request`] (do one thing with the
//! student's code and reply), or a [`PageAnswer`] to the subject's last
//! [`PageRequest`]. The subject sends [`Up`] messages: a [`Reply`] to the
//! request, a [`PageRequest`] while the request runs (the student's heap
//! asked the grader's page source for pages), or, from the zygote, how a
//! case process ended.
//!
//! ```text
//!   checker                                   subject
//!   Request(Malloc { size: 100 })  ────────►  heap.malloc(100)
//!                                  ◄────────  Page(Map { len: 65536 })   the heap grows
//!   Page(Mapped { addr })          ────────►  mmap(addr, memory file)
//!                                  ◄────────  Reply(Block(Some(addr + 16)))
//! ```
//!
//! Addresses and sizes travel as `u64`; every number the subject sends is
//! checked by the checker before it is used.

use serde::{Deserialize, Serialize};

/// Checker → subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Down {
    Request(Request),
    /// The answer to the subject's last [`Up::Page`].
    Page(PageAnswer),
}

/// Subject → checker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Up {
    /// The zygote started and waits for cases.
    Hello {
        page_size: u64,
    },
    /// A case process forked by the zygote is ready for requests: its
    /// process id (the checker checks that it is the zygote's child).
    CaseReady {
        pid: u32,
    },
    /// The grader's page source under the student's heap needs the checker.
    Page(PageRequest),
    Reply(Reply),
    /// From the zygote: the case process ended, with this wait status
    /// (`waitpid`'s raw status word).
    CaseEnded {
        status: i32,
    },
    /// The zygote could not fork a case process (`errno` of fork).
    CaseNotStarted {
        errno: i32,
    },
}

/// One thing to do with the student's code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    // ---- the zygote
    /// Fork a case process; it answers [`Up::CaseReady`] and serves the
    /// requests that follow until [`Request::EndCase`].
    StartCase,
    /// The case is over: the case process exits with status 0.
    EndCase,

    // ---- a heap over the grader's pages (lessons 2 to 8)
    /// Make a heap over a fresh grader page source (replaces any heap).
    NewHeap,
    /// Drop the heap (its `Drop` unmaps what it still holds).
    DropHeap,
    /// The heap calls that change it. With `view`, the reply is followed by
    /// a second, [`Reply::Snapshot`] of the whole view (`Snapshot` with
    /// every part), sent without waiting: one round trip for both.
    Malloc {
        size: u64,
        view: bool,
    },
    Free {
        addr: u64,
        view: bool,
    },
    Realloc {
        addr: u64,
        size: u64,
        view: bool,
    },
    Calloc {
        count: u64,
        size: u64,
        view: bool,
    },
    MallocAligned {
        align: u64,
        size: u64,
        view: bool,
    },
    UsableSize {
        addr: u64,
    },
    /// The heap's own view, the parts asked for: `stats()`, `free_blocks()`,
    /// and `usable_size` of every block the subject handed out and the
    /// checker has not freed.
    Snapshot {
        stats: bool,
        free_blocks: bool,
        usable: bool,
    },

    // ---- the student's own page source (lesson 2)
    PagesNew,
    PagesPageSize,
    PagesMap {
        len: u64,
    },
    PagesUnmap {
        addr: u64,
        len: u64,
    },

    // ---- lesson 1's array in a file
    ArrayCreate {
        path: String,
        len: u64,
    },
    ArrayOpen {
        path: String,
    },
    ArrayRead {
        id: u32,
    },
    ArrayWrite {
        id: u32,
        values: Vec<i32>,
    },
    ArrayDrop {
        id: u32,
    },

    // ---- lesson 7 and on: the heap behind the student's lock
    /// Make the shared heap over a fresh grader page source.
    SharedNew,
    /// Run the threads workload on the shared heap: `threads` threads,
    /// `rounds` operations each, drawn from `seed`. The reply lists every
    /// block the threads still hold (not freed).
    Threads {
        seed: u64,
        threads: u32,
        rounds: u32,
    },
    /// Free the blocks the threads workload left.
    SharedFreeAll,
    /// `stats()` and `free_blocks()` of the shared heap.
    SharedSnapshot,
    /// `GlobalAlloc::alloc` (or `alloc_zeroed`) through the shared heap.
    SharedAlloc {
        size: u64,
        align: u64,
        zeroed: bool,
    },
    SharedDealloc {
        addr: u64,
        size: u64,
        align: u64,
    },
    SharedRealloc {
        addr: u64,
        size: u64,
        align: u64,
        new_size: u64,
    },

    // ---- the grader's own fixture lesson
    /// Call the student's function `name` (a fixture).
    Call {
        name: String,
    },
}

/// The subject's answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    Done,
    /// An allocation's result: the pointer, or `None`.
    Block(Option<u64>),
    /// A heap allocation's result: the pointer, or `None`, and the
    /// `usable_size` the heap gives the new block (asked at once, saving
    /// the checker a round trip).
    HeapBlock {
        addr: Option<u64>,
        usable: Option<u64>,
    },
    Usable(Option<u64>),
    Snapshot(Snapshot),
    PageSize(u64),
    /// The student's page source mapped `len` bytes here, or refused.
    Mapped(Option<u64>),
    /// An array was made: its handle and length.
    Array {
        id: u32,
        len: u64,
    },
    Values(Vec<i32>),
    /// The student's code returned an error (its `Display`).
    Error(String),
    /// A fixture's value.
    Value(u64),
    /// The threads workload's report.
    Threads(ThreadsReport),
    /// The student's code panicked; `todo` when it reached `todo!()` or
    /// `unimplemented!()`.
    Panicked {
        message: String,
        location: String,
        todo: bool,
    },
    /// This subject cannot do that (the lesson's subject has no such part).
    Unsupported {
        what: String,
    },
}

/// The heap's own view, after an operation: the parts asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// `stats()`: pages mapped, pages unmapped, chunks allocated, chunks
    /// freed, free list length.
    pub stats: Option<[u64; 5]>,
    /// `free_blocks()`, in list order.
    pub free_blocks: Option<Vec<WireBlock>>,
    /// `usable_size(p)` of each block the subject handed out and was not
    /// asked to free, by pointer.
    pub usable: Option<Vec<(u64, Option<u64>)>>,
}

/// A free chunk as `free_blocks()` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireBlock {
    pub addr: u64,
    pub size: u64,
}

/// The grader's page source asks the checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageRequest {
    Map {
        len: u64,
    },
    Unmap {
        addr: u64,
        len: u64,
    },
    /// The subject could not map the memory file where the checker said
    /// (something of the process's own is there): `errno`.
    MapFailed {
        addr: u64,
        errno: i32,
    },
}

/// The checker's answer to a [`PageRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageAnswer {
    /// Map the memory file's bytes `[addr - base, addr - base + len)` at `addr`.
    Mapped { addr: u64 },
    /// The page source refuses (as the OS would): `map` returns `None`.
    Refused,
    /// Unmap `[addr, addr + len)`: it is exactly one earlier map.
    Unmap,
    /// Leave the range alone: the unmap broke the page source's contract
    /// (the checker recorded it).
    Ignore,
}

/// What the threads workload did: each thread's blocks still live, and what
/// the threads saw go wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadsReport {
    /// `(thread, addr, size)`: every byte of the block holds `0xA0 + thread`.
    pub live: Vec<(u32, u64, u64)>,
    /// Problems in words (a thread found another's bytes in its block, an
    /// allocation returned `None`, two threads were inside the lock at once).
    pub problems: Vec<String>,
    /// Allocations and frees done, over all threads.
    pub operations: u64,
}
