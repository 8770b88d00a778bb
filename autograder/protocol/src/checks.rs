//! The names of the rules a failure can break ([`Failure::check`](crate::Failure)),
//! one list both sides share: the suites put a name on every failure of a
//! rule, and `course.toml`'s `[checks]` tables give each name its hint, so
//! a report shows the hint for the rule that broke rather than the hint of
//! the test that happened to notice.
//!
//! A name is a short kebab-case word. A failure without a name (a scenario's
//! own expectation) is shown with its test's hint.

/// One rule: its name and what it says, in a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub says: &'static str,
}

const fn rule(name: &'static str, says: &'static str) -> Rule {
    Rule { name, says }
}

// The engine's checks, run after every operation (lessons 2 to 7).
pub const PAGE_SOURCE_CONTRACT: &str = "page-source-contract";
pub const INSIDE_MAPPED: &str = "inside-mapped";
pub const UNMAPPED_LIVE: &str = "unmapped-live";
pub const ALIGNED: &str = "aligned";
pub const SIZE_HEADER: &str = "size-header";
pub const NO_OVERLAP: &str = "no-overlap";
pub const CONTENTS_KEPT: &str = "contents-kept";
pub const USABLE_SIZE: &str = "usable-size";
pub const PAGE_STATS: &str = "page-stats";
pub const CHUNK_STATS: &str = "chunk-stats";
pub const NO_FREE_LIST: &str = "no-free-list";
pub const NO_REUSE: &str = "no-reuse";
pub const MALLOC_NONE: &str = "malloc-none";
pub const MAPS_WHEN_NEEDED: &str = "maps-when-needed";
// The heap checker of the free-list lessons (4 to 6).
pub const FREE_CHUNK_INVALID: &str = "free-chunk-invalid";
pub const FREE_CHUNK_OUTSIDE: &str = "free-chunk-outside";
pub const FREE_CHUNK_LIVE: &str = "free-chunk-live";
pub const FREE_CHUNKS_OVERLAP: &str = "free-chunks-overlap";
pub const FREE_LENGTH: &str = "free-length";
pub const ADDRESS_ORDER: &str = "address-order";
pub const MISSED_MERGE: &str = "missed-merge";
pub const LOST_BYTES: &str = "lost-bytes";
pub const CHUNKS_OVERLAP: &str = "chunks-overlap";
pub const EMPTY_RUN: &str = "empty-run";
pub const BIG_BLOCK_PAGES: &str = "big-block-pages";
pub const BIG_BLOCK_UNMAP: &str = "big-block-unmap";
pub const SMALL_UNMAP: &str = "small-unmap";
pub const LIST_CYCLE: &str = "list-cycle";
// How the student's code stopped.
pub const PANIC: &str = "panic";
pub const CRASH: &str = "crash";
pub const HANG: &str = "hang";
pub const EXIT: &str = "exit";
/// Not a check of the suites: the whole test ran past its time limit.
pub const TIMEOUT: &str = "timeout";

/// Every rule, in the order a lesson meets them.
pub const ALL: &[Rule] = &[
    rule(PAGE_SOURCE_CONTRACT, "map lengths are whole pages; an unmap matches one earlier map exactly"),
    rule(INSIDE_MAPPED, "every block, header included, lies inside one run the heap mapped"),
    rule(UNMAPPED_LIVE, "pages under a live block stay mapped until it is freed"),
    rule(ALIGNED, "every pointer malloc returns is a multiple of 16"),
    rule(SIZE_HEADER, "the word 16 bytes before a payload is its chunk size: a multiple of 16, header and request included"),
    rule(NO_OVERLAP, "no two live blocks (headers included) share a byte"),
    rule(CONTENTS_KEPT, "a live block keeps the bytes written to it"),
    rule(USABLE_SIZE, "usable_size(p) is at least the size asked (and the header's size less 16)"),
    rule(PAGE_STATS, "stats() counts the pages really mapped and unmapped"),
    rule(CHUNK_STATS, "stats() counts the successful mallocs and the frees"),
    rule(NO_FREE_LIST, "a heap without a free list reports none"),
    rule(NO_REUSE, "a heap without a free list never hands out freed memory"),
    rule(MALLOC_NONE, "malloc returns None only when the page source refused a map"),
    rule(MAPS_WHEN_NEEDED, "a bump heap maps only when the block does not fit, and just enough whole pages"),
    rule(FREE_CHUNK_INVALID, "a free chunk is 16-aligned, a multiple of 16 and at least 32 bytes"),
    rule(FREE_CHUNK_OUTSIDE, "a free chunk lies inside one mapped run"),
    rule(FREE_CHUNK_LIVE, "a chunk handed out is off the free list"),
    rule(FREE_CHUNKS_OVERLAP, "each free chunk is on the list once, apart from the others"),
    rule(FREE_LENGTH, "stats().free_length is the length of the list"),
    rule(ADDRESS_ORDER, "the free list is in address order (lesson 5 on)"),
    rule(MISSED_MERGE, "no two free chunks of a run touch: free merges them (lesson 5 on)"),
    rule(LOST_BYTES, "every byte of a run belongs to a chunk, live or free"),
    rule(CHUNKS_OVERLAP, "the chunks of a run lie side by side, none over another or past the run's end"),
    rule(EMPTY_RUN, "a run with no live block is one free chunk (lesson 5 on)"),
    rule(BIG_BLOCK_PAGES, "a big request gets one mapping of its own, just enough pages (lesson 6)"),
    rule(BIG_BLOCK_UNMAP, "freeing a big block unmaps exactly its pages (lesson 6)"),
    rule(SMALL_UNMAP, "freeing a small block unmaps nothing (lesson 6)"),
    rule(LIST_CYCLE, "walking the free list from its head reaches its end"),
    rule(PANIC, "the heap's code does not panic on a valid call"),
    rule(CRASH, "the heap's code does not crash"),
    rule(HANG, "every call of the heap's code returns within the operation time limit"),
    rule(EXIT, "the heap's code does not end the process"),
    rule(TIMEOUT, "the whole test finishes within its time limit"),
];

/// The rule called `name`.
pub fn find(name: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_words() {
        for (i, r) in ALL.iter().enumerate() {
            assert!(
                r.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                r.name
            );
            assert!(
                ALL[i + 1..].iter().all(|o| o.name != r.name),
                "{} twice",
                r.name
            );
        }
        assert_eq!(find(ALIGNED).map(|r| r.name), Some("aligned"));
        assert!(find("alignd").is_none());
    }
}
