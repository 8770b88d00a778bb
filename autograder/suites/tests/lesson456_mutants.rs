//! Lessons 4, 5 and 6: every test of the suites can fail, and fails for the
//! reason it names.
//!
//! Each test here runs the suites in-process (`harness::run_one`) against a
//! deliberately broken heap and asserts that the tests meant to catch that
//! bug fail, while the reference solutions (and this file's own small heap
//! with no bug planted) pass everything and the stubs report "not
//! implemented" everywhere. The broken heaps are wrappers around the
//! reference solutions (a lying counter, a clobbered header, a leak) or
//! [`Mini`], a small free-list heap with one planted [`Flaw`]. The last test
//! checks that every suite test is caught by at least one broken heap.

use std::collections::{BTreeMap, BTreeSet};
use std::ptr::NonNull;
use std::sync::Mutex;

use heaplab_kit::{align_up, Block, Heap, PageSource, Stats};
use heaplab_protocol::Outcome;
use heaplab_suites::alloc::InstrumentedPages;
use heaplab_suites::harness::{run_one, Suite, DEFAULT_SEED};
use heaplab_suites::{lesson4, lesson5, lesson6};

/// `run_one` records `todo!()`s in process-wide state: one suite at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Every test's report, by name.
fn reports(suite: &Suite) -> Vec<(&'static str, Outcome)> {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    suite
        .tests
        .iter()
        .map(|t| (t.name, run_one(t, DEFAULT_SEED)))
        .collect()
}

/// Asserts that the `caught` tests fail on this heap (others may fail too:
/// one bug can break several properties).
fn assert_caught(label: &str, suite: &Suite, caught: &[&str]) {
    let all = reports(suite);
    let names: BTreeSet<&str> = all.iter().map(|(n, _)| *n).collect();
    for name in caught {
        assert!(names.contains(name), "{label}: no test named {name}");
    }
    let failed: BTreeSet<&str> = all
        .iter()
        .filter(|(_, r)| matches!(r, Outcome::Failed { .. }))
        .map(|(n, _)| *n)
        .collect();
    if std::env::var_os("HEAPLAB_SHOW").is_some() {
        println!("==== {label}: failed {failed:?}");
        for (name, report) in &all {
            if let Outcome::Failed { failure: message } = report {
                println!("---- {label} / {name}\n{message}");
            }
        }
    }
    for name in caught {
        assert!(
            failed.contains(name),
            "{label}: `{name}` should fail on this heap but reported {:?}",
            all.iter().find(|(n, _)| n == name).map(|(_, r)| r)
        );
    }
    assert!(
        all.iter()
            .all(|(_, r)| !matches!(r, Outcome::NotImplemented { .. })),
        "{label}: a broken heap is not a stub"
    );
}

fn assert_all_pass(label: &str, suite: &Suite) {
    for (name, report) in reports(suite) {
        assert_eq!(report, Outcome::Passed, "{label}: {name}");
    }
}

// ---------------------------------------------------------------------------
// Wrappers around the reference solutions.

/// `stats().free_length` one more than the list once anything is free.
struct LyingLength<H>(H);

/// Overwrites each live block's header size word with 0x4141... (what a
/// write 16 bytes before the block does), and puts it back before `free`.
struct ClobberedHeader<H> {
    heap: H,
    saved: BTreeMap<usize, usize>,
}

/// Never gives anything back: `free` only counts.
struct Leaky<H> {
    heap: H,
    frees: usize,
}

impl<H: Heap> Heap for LyingLength<H> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.0.malloc(size)
    }
    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // SAFETY: forwarded with the caller's promise.
        unsafe { self.0.free(ptr) }
    }
    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // SAFETY: forwarded with the caller's promise.
        unsafe { self.0.usable_size(ptr) }
    }
    fn stats(&self) -> Stats {
        let mut s = self.0.stats();
        if self.0.stats().chunks_freed > 0 {
            s.free_length += 1;
        }
        s
    }
    fn free_blocks(&self) -> Vec<Block> {
        self.0.free_blocks()
    }
}

impl<H: Heap> Heap for ClobberedHeader<H> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        let p = self.heap.malloc(size)?;
        let word = (p.as_ptr() as usize - 16) as *mut usize;
        // SAFETY: the solution's header lies 16 bytes before its payload.
        unsafe {
            self.saved.insert(p.as_ptr() as usize, word.read());
            word.write(0x4141_4141_4141_4141);
        }
        Some(p)
    }
    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        let word = (ptr.as_ptr() as usize - 16) as *mut usize;
        if let Some(size) = self.saved.remove(&(ptr.as_ptr() as usize)) {
            // SAFETY: restores the header this wrapper overwrote.
            unsafe { word.write(size) };
        }
        // SAFETY: forwarded with the caller's promise.
        unsafe { self.heap.free(ptr) }
    }
    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // SAFETY: forwarded with the caller's promise.
        unsafe { self.heap.usable_size(ptr) }
    }
    fn stats(&self) -> Stats {
        self.heap.stats()
    }
    fn free_blocks(&self) -> Vec<Block> {
        self.heap.free_blocks()
    }
}

impl<H: Heap> Heap for Leaky<H> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.heap.malloc(size)
    }
    unsafe fn free(&mut self, _ptr: NonNull<u8>) {
        self.frees += 1;
    }
    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // SAFETY: forwarded with the caller's promise.
        unsafe { self.heap.usable_size(ptr) }
    }
    fn stats(&self) -> Stats {
        let mut s = self.heap.stats();
        s.chunks_freed += self.frees;
        s
    }
    fn free_blocks(&self) -> Vec<Block> {
        self.heap.free_blocks()
    }
}

// ---------------------------------------------------------------------------
// Mini: a small free-list heap with one planted bug.

/// A bug to plant in [`Mini`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flaw {
    /// Payloads 24 bytes into the chunk, not 16: pointers 8 off 16.
    Misaligned,
    /// Splitting hands out the front but leaves the whole chunk listed.
    SplitKeepsWhole,
    /// Splitting hands out the front and forgets the rest.
    SplitLosesRest,
    /// Splits even when only 16 bytes are left: chunks smaller than a
    /// header plus a list cell.
    SplitTinyRest,
    /// A new run gives the request its chunk and drops the rest.
    RestLost,
    /// `free` junk-fills 32 bytes past its chunk: the next chunk's header
    /// and first bytes.
    JunkOverrun,
    /// The header holds the payload size, not the chunk size.
    PayloadSizeInHeader,
    /// Counts one page per map call.
    PagesMiscounted,
    /// Panics when the page source refuses.
    PanicOnRefusal,
    /// Rounds with wrapping arithmetic: a huge request becomes a small one.
    UncheckedRounding,
    /// Best fit instead of first fit.
    BestFit,
    /// A refused map empties the free list.
    RefusalDropsList,
    /// Lesson 4: `free` appends at the tail.
    PushTail,
    /// Lesson 5: free chunks go at the head (merged, but not in order).
    Unordered,
    /// Lesson 5: no merging at all.
    NoMerge,
    /// Lesson 5: merges only with the free block after.
    MergeAfterOnly,
    /// Lesson 5: merges only with the free block before.
    MergeBeforeOnly,
    /// Lesson 5: merges with one neighbour at most (the one after first).
    MergeOnce,
    /// Lesson 6: unmaps a big block with its length plus a page.
    BigWrongLength,
    /// Lesson 6: never unmaps big blocks.
    BigNeverUnmapped,
    /// Lesson 6: no big path; everything comes from the free list.
    NoBigPath,
    /// Lesson 6: big only above a page, not at a page.
    ThresholdOffByOne,
    /// Lesson 6: panics when a big map is refused.
    BigRefusalPanics,
    /// `free` of a pointer that is not a live block returns quietly: a
    /// double free or a foreign pointer goes unnoticed.
    FreeTrusts,
    /// `free` leaves the old bytes in the payload (no junk fill): a use
    /// after free reads believable data.
    NoJunk,
    /// `usable_size` answers `None`, as if the heap had no headers.
    UsableNone,
}

const RUN_BYTES: usize = 64 * 1024;

struct Mini<S: PageSource> {
    pages: S,
    lesson: u8,
    flaw: Option<Flaw>,
    /// The free list, in list order.
    free: Vec<Block>,
    /// Live chunk sizes by chunk address (the truth; headers are for show).
    live: BTreeMap<usize, usize>,
    /// Small runs: (address, length).
    runs: Vec<(usize, usize)>,
    /// Big chunks' addresses.
    big: BTreeSet<usize>,
    stats: Stats,
}

impl<S: PageSource> Mini<S> {
    fn new(pages: S, lesson: u8, flaw: Option<Flaw>) -> Self {
        Mini {
            pages,
            lesson,
            flaw,
            free: Vec::new(),
            live: BTreeMap::new(),
            runs: Vec::new(),
            big: BTreeSet::new(),
            stats: Stats::default(),
        }
    }

    fn has(&self, flaw: Flaw) -> bool {
        self.flaw == Some(flaw)
    }

    /// Bytes from a chunk's start to its payload.
    fn offset(&self) -> usize {
        if self.has(Flaw::Misaligned) {
            24
        } else {
            16
        }
    }

    fn need(&self, size: usize) -> Option<usize> {
        if self.has(Flaw::UncheckedRounding) {
            return Some((size.wrapping_add(31) & !15).max(32));
        }
        let extra = self.offset();
        Some(align_up(size.checked_add(extra)?, 16)?.max(32))
    }

    fn map(&mut self, len: usize) -> Option<usize> {
        let page = self.pages.page_size();
        let p = if self.has(Flaw::PanicOnRefusal) {
            self.pages.map(len).expect("map failed")
        } else if let Some(p) = self.pages.map(len) {
            p
        } else {
            if self.has(Flaw::RefusalDropsList) {
                self.free.clear();
            }
            return None;
        };
        self.stats.pages_mapped += if self.has(Flaw::PagesMiscounted) {
            1
        } else {
            len / page
        };
        Some(p.as_ptr() as usize)
    }

    fn is_run_start(&self, addr: usize) -> bool {
        self.runs.iter().any(|r| r.0 == addr)
    }

    fn find(&self, need: usize) -> Option<usize> {
        let fits = |f: &&Block| f.size >= need;
        if self.has(Flaw::BestFit) {
            let best = self.free.iter().filter(fits).map(|f| f.size).min()?;
            return self.free.iter().position(|f| f.size == best);
        }
        self.free.iter().position(|f| f.size >= need)
    }

    /// Hands out chunk `[addr, addr + size)`: header written, recorded live.
    fn hand_out(&mut self, addr: usize, size: usize) -> NonNull<u8> {
        let word = if self.has(Flaw::PayloadSizeInHeader) {
            size - 16
        } else {
            size
        };
        let off = self.offset();
        // SAFETY: addr is the start of a chunk inside a live mapping.
        unsafe { ((addr + off - 16) as *mut usize).write_unaligned(word) };
        self.live.insert(addr, size);
        self.stats.chunks_allocated += 1;
        NonNull::new((addr + off) as *mut u8).expect("not null")
    }

    fn take(&mut self, i: usize, need: usize) -> NonNull<u8> {
        let f = self.free[i];
        let rest = f.size - need;
        let min_rest = if self.has(Flaw::SplitTinyRest) {
            16
        } else {
            32
        };
        let size = if rest >= min_rest {
            if self.has(Flaw::SplitLosesRest) {
                self.free.remove(i);
            } else if !self.has(Flaw::SplitKeepsWhole) {
                self.free[i] = Block {
                    addr: f.addr + need,
                    size: rest,
                };
            }
            need
        } else {
            self.free.remove(i);
            f.size
        };
        self.hand_out(f.addr, size)
    }

    fn insert_free(&mut self, chunk: Block) {
        if self.lesson == 4 {
            if self.has(Flaw::PushTail) {
                self.free.push(chunk);
            } else {
                self.free.insert(0, chunk);
            }
            return;
        }
        let mut b = chunk;
        let mut merged_after = false;
        let merge_after = !self.has(Flaw::NoMerge) && !self.has(Flaw::MergeBeforeOnly);
        if merge_after {
            let end = b.end();
            if let Some(j) = self.free.iter().position(|f| f.addr == end) {
                if !self.is_run_start(end) {
                    b.size += self.free.remove(j).size;
                    merged_after = true;
                }
            }
        }
        let once_done = self.has(Flaw::MergeOnce) && merged_after;
        let merge_before =
            !(self.has(Flaw::NoMerge) || self.has(Flaw::MergeAfterOnly) || once_done);
        if merge_before && !self.is_run_start(b.addr) {
            if let Some(j) = self.free.iter().position(|f| f.end() == b.addr) {
                let before = self.free.remove(j);
                b = Block {
                    addr: before.addr,
                    size: before.size + b.size,
                };
            }
        }
        if self.has(Flaw::Unordered) {
            self.free.insert(0, b);
        } else {
            let at = self.free.partition_point(|f| f.addr < b.addr);
            self.free.insert(at, b);
        }
    }

    fn malloc_big(&mut self, need: usize) -> Option<NonNull<u8>> {
        let page = self.pages.page_size();
        let len = align_up(need, page)?;
        let p = if self.has(Flaw::BigRefusalPanics) {
            let p = self.pages.map(len).expect("big map failed");
            self.stats.pages_mapped += len / page;
            p.as_ptr() as usize
        } else {
            self.map(len)?
        };
        self.big.insert(p);
        Some(self.hand_out(p, len))
    }
}

impl<S: PageSource> Heap for Mini<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        let need = self.need(size)?;
        let page = self.pages.page_size();
        let big = if self.has(Flaw::ThresholdOffByOne) {
            need > page
        } else {
            need >= page
        };
        if self.lesson == 6 && big && !self.has(Flaw::NoBigPath) {
            return self.malloc_big(need);
        }
        if let Some(i) = self.find(need) {
            return Some(self.take(i, need));
        }
        let run = align_up(need.max(RUN_BYTES), page)?;
        let p = self.map(run)?;
        self.runs.push((p, run));
        if self.has(Flaw::RestLost) {
            return Some(self.hand_out(p, need));
        }
        self.insert_free(Block { addr: p, size: run });
        let i = self.find(need).expect("a new run fits");
        Some(self.take(i, need))
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        let chunk = ptr.as_ptr() as usize - self.offset();
        let Some(size) = self.live.remove(&chunk) else {
            if self.has(Flaw::FreeTrusts) {
                return;
            }
            panic!("free({ptr:p}): not a live block (double free?)");
        };
        self.stats.chunks_freed += 1;
        if self.big.remove(&chunk) {
            if self.has(Flaw::BigNeverUnmapped) {
                return;
            }
            let page = self.pages.page_size();
            let len = if self.has(Flaw::BigWrongLength) {
                size + page
            } else {
                size
            };
            // SAFETY: [chunk, chunk + size) is the big chunk's own mapping.
            unsafe {
                self.pages
                    .unmap(NonNull::new(chunk as *mut u8).expect("not null"), len)
            };
            self.stats.pages_unmapped += size / page;
            return;
        }
        if !self.has(Flaw::NoJunk) {
            let len = (chunk + size).saturating_sub(ptr.as_ptr() as usize);
            // SAFETY: [ptr, chunk + size) is the freed chunk's payload, in
            // its run (this heap keeps its list outside the chunks).
            unsafe { ptr.write_bytes(0xDB, len) };
        }
        if self.has(Flaw::JunkOverrun) {
            let end = chunk + size;
            let inside = self
                .runs
                .iter()
                .any(|&(a, l)| end >= a && end + 32 <= a + l);
            if inside {
                // SAFETY: the 32 bytes lie inside the same run (the bug is
                // that they belong to the next chunk).
                unsafe { std::ptr::write_bytes(end as *mut u8, 0xDB, 32) };
            }
        }
        self.insert_free(Block { addr: chunk, size });
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        if self.has(Flaw::UsableNone) {
            return None;
        }
        let word = (ptr.as_ptr() as usize - 16) as *const usize;
        // SAFETY: the header word lies inside the block's mapping.
        Some(unsafe { word.read_unaligned() }.saturating_sub(16))
    }

    fn stats(&self) -> Stats {
        Stats {
            free_length: self.free.len(),
            ..self.stats
        }
    }

    fn free_blocks(&self) -> Vec<Block> {
        self.free.clone()
    }
}

fn mini(lesson: u8, flaw: Option<Flaw>) -> Suite {
    let make = move |p: InstrumentedPages| Mini::new(p, lesson, flaw);
    match lesson {
        4 => lesson4::suite(make),
        5 => lesson5::suite(make),
        _ => lesson6::suite(make),
    }
}

// ---------------------------------------------------------------------------

#[test]
fn solutions_pass_everything() {
    assert_all_pass(
        "lesson 4 solution",
        &lesson4::suite(lesson4_solution::FreeListHeap::new),
    );
    assert_all_pass(
        "lesson 5 solution",
        &lesson5::suite(lesson5_solution::CoalescingHeap::new),
    );
    assert_all_pass(
        "lesson 6 solution",
        &lesson6::suite(lesson6_solution::BigHeap::new),
    );
    // The test's own small heap, with no bug planted, is a correct heap.
    for lesson in [4, 5, 6] {
        assert_all_pass(&format!("lesson {lesson} Mini"), &mini(lesson, None));
    }
}

#[test]
fn stubs_are_not_implemented_everywhere() {
    for (label, suite) in [
        (
            "lesson 4 stub",
            lesson4::suite(::lesson4::FreeListHeap::new),
        ),
        (
            "lesson 5 stub",
            lesson5::suite(::lesson5::CoalescingHeap::new),
        ),
        ("lesson 6 stub", lesson6::suite(::lesson6::BigHeap::new)),
    ] {
        for (name, report) in reports(&suite) {
            assert!(
                matches!(report, Outcome::NotImplemented { .. }),
                "{label}: {name} reported {report:?}"
            );
        }
    }
}

/// The tests every free-list lesson shares, and the flaws that break them.
fn shared_cases() -> Vec<(Flaw, Vec<&'static str>)> {
    vec![
        (
            Flaw::Misaligned,
            vec!["blocks_are_aligned_and_inside_mapped_pages"],
        ),
        (Flaw::SplitKeepsWhole, vec!["blocks_do_not_overlap"]),
        (
            Flaw::FreeTrusts,
            vec!["double_free_is_stopped", "foreign_pointer_is_stopped"],
        ),
        (
            Flaw::SplitLosesRest,
            vec![
                "every_byte_belongs_to_one_chunk",
                "split_leaves_the_remainder_on_the_list",
            ],
        ),
        (
            Flaw::SplitTinyRest,
            vec!["rest_too_small_is_not_split", "free_list_is_consistent"],
        ),
        (Flaw::RestLost, vec!["new_run_rest_goes_on_the_list"]),
        (Flaw::JunkOverrun, vec!["contents_are_kept"]),
        (Flaw::NoJunk, vec!["free_fills_the_payload_with_junk"]),
        (Flaw::UsableNone, vec!["headers_hold_chunk_sizes"]),
        (Flaw::PayloadSizeInHeader, vec!["headers_hold_chunk_sizes"]),
        (Flaw::PagesMiscounted, vec!["stats_match_the_page_source"]),
        (
            Flaw::PanicOnRefusal,
            vec![
                "random_map_refusals_are_survived",
                "survives_map_failure",
                "first_map_fails",
            ],
        ),
        (
            Flaw::UncheckedRounding,
            vec!["hopeless_requests_return_none"],
        ),
        (
            Flaw::BestFit,
            vec!["first_fit_takes_the_first_chunk_that_fits"],
        ),
        (
            Flaw::RefusalDropsList,
            vec!["refused_map_leaves_the_free_list_intact"],
        ),
    ]
}

fn lesson4_cases() -> Vec<(Flaw, Vec<&'static str>)> {
    let mut cases = shared_cases();
    cases.push((Flaw::PushTail, vec!["free_puts_the_chunk_at_the_head"]));
    cases
}

fn lesson5_cases() -> Vec<(Flaw, Vec<&'static str>)> {
    let mut cases = shared_cases();
    cases.extend([
        (Flaw::Unordered, vec!["free_list_is_in_address_order"]),
        (
            Flaw::NoMerge,
            vec![
                "freed_run_is_one_chunk",
                "lecture_fragmentation_case",
                "utilization_binary_at_least_80",
                "utilization_coalescing_at_least_70",
            ],
        ),
        (
            Flaw::MergeAfterOnly,
            vec!["free_merges_with_the_block_before"],
        ),
        (
            Flaw::MergeBeforeOnly,
            vec!["free_merges_with_the_block_after"],
        ),
        (Flaw::MergeOnce, vec!["free_merges_with_both_neighbours"]),
    ]);
    cases
}

fn lesson6_cases() -> Vec<(Flaw, Vec<&'static str>)> {
    let mut cases = lesson5_cases();
    cases.extend([
        (
            Flaw::BigWrongLength,
            vec!["big_blocks_are_unmapped_exactly"],
        ),
        (
            Flaw::BigNeverUnmapped,
            vec!["big_blocks_are_unmapped_exactly"],
        ),
        (
            Flaw::NoBigPath,
            vec![
                "big_block_gets_pages_of_its_own",
                "big_blocks_are_unmapped_exactly",
                "utilization_big_blocks_at_least_90",
                "utilization_realloc_at_least_65",
            ],
        ),
        (
            Flaw::ThresholdOffByOne,
            vec!["threshold_is_a_one_page_chunk"],
        ),
        (
            Flaw::BigRefusalPanics,
            vec!["refused_big_map_leaves_the_heap_working"],
        ),
    ]);
    cases
}

/// The wrappers around each lesson's solution, and what they break.
fn wrapper_cases<H: Heap + 'static>(
    label: &str,
    make: fn(InstrumentedPages) -> H,
    suite: fn(Box<dyn Fn(InstrumentedPages) -> Dyn>) -> Suite,
) {
    let lying = suite(Box::new(move |p| Dyn(Box::new(LyingLength(make(p))))));
    assert_caught(
        &format!("{label}, free_length lies"),
        &lying,
        &["free_list_is_consistent"],
    );
    let clobbered = suite(Box::new(move |p| {
        Dyn(Box::new(ClobberedHeader {
            heap: make(p),
            saved: BTreeMap::new(),
        }))
    }));
    assert_caught(
        &format!("{label}, header overwritten"),
        &clobbered,
        &["headers_hold_chunk_sizes"],
    );
    let leaky = suite(Box::new(move |p| {
        Dyn(Box::new(Leaky {
            heap: make(p),
            frees: 0,
        }))
    }));
    assert_caught(
        &format!("{label}, freed block never reused"),
        &leaky,
        &["freed_block_is_reused", "every_byte_belongs_to_one_chunk"],
    );
}

/// Any heap, so one function can wrap each lesson's solution.
struct Dyn(Box<dyn Heap>);

impl Heap for Dyn {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.0.malloc(size)
    }
    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // SAFETY: forwarded with the caller's promise.
        unsafe { self.0.free(ptr) }
    }
    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        // SAFETY: forwarded with the caller's promise.
        unsafe { self.0.usable_size(ptr) }
    }
    fn stats(&self) -> Stats {
        self.0.stats()
    }
    fn free_blocks(&self) -> Vec<Block> {
        self.0.free_blocks()
    }
}

#[test]
fn wrapped_solutions_are_caught() {
    wrapper_cases("lesson 4", lesson4_solution::FreeListHeap::new, |m| {
        lesson4::suite(m)
    });
    wrapper_cases("lesson 5", lesson5_solution::CoalescingHeap::new, |m| {
        lesson5::suite(m)
    });
    wrapper_cases("lesson 6", lesson6_solution::BigHeap::new, |m| {
        lesson6::suite(m)
    });
    // Lesson 4's own idea: a heap that never reuses fails the reuse property.
    let leaky = lesson4::suite(|p| Leaky {
        heap: lesson4_solution::FreeListHeap::new(p),
        frees: 0,
    });
    assert_caught("lesson 4, never reuses", &leaky, &["memory_is_reused"]);
}

#[test]
fn lesson4_broken_heaps_are_caught() {
    for (flaw, caught) in lesson4_cases() {
        assert_caught(
            &format!("lesson 4, {flaw:?}"),
            &mini(4, Some(flaw)),
            &caught,
        );
    }
}

#[test]
fn lesson5_broken_heaps_are_caught() {
    for (flaw, caught) in lesson5_cases() {
        assert_caught(
            &format!("lesson 5, {flaw:?}"),
            &mini(5, Some(flaw)),
            &caught,
        );
    }
}

#[test]
fn lesson6_broken_heaps_are_caught() {
    for (flaw, caught) in lesson6_cases() {
        assert_caught(
            &format!("lesson 6, {flaw:?}"),
            &mini(6, Some(flaw)),
            &caught,
        );
    }
}

/// Every test of the three suites is named by at least one broken heap.
#[test]
fn every_test_catches_some_broken_heap() {
    let wrapped = [
        "free_list_is_consistent",
        "headers_hold_chunk_sizes",
        "freed_block_is_reused",
        "every_byte_belongs_to_one_chunk",
        "memory_is_reused",
    ];
    for (label, suite, cases) in [
        ("lesson 4", mini(4, None), lesson4_cases()),
        ("lesson 5", mini(5, None), lesson5_cases()),
        ("lesson 6", mini(6, None), lesson6_cases()),
    ] {
        let caught: BTreeSet<&str> = cases
            .iter()
            .flat_map(|(_, c)| c.iter().copied())
            .chain(wrapped)
            .collect();
        for test in &suite.tests {
            assert!(
                caught.contains(test.name),
                "{label}: no broken heap shows that `{}` can fail",
                test.name
            );
        }
    }
}
