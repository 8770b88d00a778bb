//! Lessons 2 and 3: every test of the suites can fail, and fails for the
//! reason it names.
//!
//! Each test here runs the suites in-process (`harness::run_one`) against a
//! deliberately broken heap and asserts that the tests meant to catch that
//! bug fail, while the reference solutions pass everything and the stubs
//! report "not implemented" everywhere. The last test checks that every
//! suite test is caught by at least one broken heap.

use std::collections::{BTreeMap, BTreeSet};
use std::ptr::NonNull;
use std::sync::Mutex;

use heaplab_kit::{align_up, Heap, PageSource, Stats};
use heaplab_protocol::Outcome;
use heaplab_suites::alloc::InstrumentedPages;
use heaplab_suites::harness::{run_one, Suite, DEFAULT_SEED};
use heaplab_suites::own_pages::local_pages;
use heaplab_suites::{lesson2, lesson3};

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
/// one bug can break several properties), and returns the names of all that
/// failed.
fn assert_caught(label: &str, suite: &Suite, caught: &[&str]) -> BTreeSet<&'static str> {
    let all = reports(suite);
    let names: BTreeSet<&str> = all.iter().map(|(n, _)| *n).collect();
    for name in caught {
        assert!(names.contains(name), "{label}: no test named {name}");
    }
    let failed: BTreeSet<&'static str> = all
        .iter()
        .filter(|(_, r)| matches!(r, Outcome::Failed { .. }))
        .map(|(n, _)| *n)
        .collect();
    for name in caught {
        assert!(
            failed.contains(name),
            "{label}: `{name}` should fail on this heap but reported {:?}",
            all.iter().find(|(n, _)| n == name).map(|(_, r)| r)
        );
    }
    if std::env::var_os("HEAPLAB_SHOW").is_some() {
        for (name, report) in &all {
            if let Outcome::Failed { failure: message } = report {
                println!("==== {label} / {name}\n{message}");
            }
        }
    }
    assert!(
        all.iter()
            .all(|(_, r)| !matches!(r, Outcome::NotImplemented { .. })),
        "{label}: a broken heap is not a stub"
    );
    failed
}

/// A bug to plant in [`Broken`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flaw {
    /// Rounds blocks to 8 bytes: pointers 8 bytes off 16.
    Align8,
    /// Never checks whether a block fits: carves past the end of its run.
    NoFitCheck,
    /// Carves from a buffer of its own instead of pages from the source.
    OwnBuffer,
    /// Every third malloc returns the previous block again.
    Overlap,
    /// `malloc(0)` takes no room: the next block gets the same pointer.
    ZeroTakesNothing,
    /// Maps one page more than needed.
    ExtraPage,
    /// Maps a new run for every malloc.
    MapEveryTime,
    /// Rounds blocks to 32 bytes: wastes half of a page of 16-byte blocks.
    Round32,
    /// When nothing is live, starts the current run over (reuses memory).
    ResetWhenEmpty,
    /// Panics when the page source refuses (`expect` on map).
    PanicOnRefusal,
    /// Rounds with unchecked arithmetic: overflows on huge requests.
    UncheckedRounding,
    /// Reports one page more than it mapped.
    LieAboutPages,
    /// Does not count frees.
    UncountedFrees,
    /// Reports a free list it does not have.
    PhantomFreeList,
    /// On a refused map, forgets its run and starts over at the old start.
    ForgetRunOnRefusal,
    /// Maps lengths that are not whole pages.
    BytesNotPages,
    /// `free` unmaps the current run, with the other blocks still in it.
    UnmapOnFree,
    // Lesson 3 only (header > 0):
    /// Writes the header but does not make room for it: the payload runs 16
    /// bytes into the next chunk, whose header the payload then overwrites.
    HeaderNotReserved,
    /// Stores the payload size, not the chunk size, in the header.
    SizeWithoutHeader,
    /// `usable_size` reports 16 bytes too few.
    UsableTooSmall,
    /// `usable_size` reports nothing.
    UsableNone,
    /// `free` junk-fills the whole chunk size from the payload: 16 bytes
    /// past the chunk, over the next header.
    FreeOverrun,
    /// `malloc(0)` gets a header-only chunk: its pointer is the next
    /// chunk's header.
    ZeroChunkHeaderOnly,
    /// Counts pages for the payload only, forgetting the header.
    HeaderNotCountedInPages,
    /// `free` of a pointer that is not a live block returns quietly (no
    /// check of the header's flags): a double free or a foreign pointer
    /// goes unnoticed.
    FreeTrusts,
    /// `free` leaves the old bytes in the payload (no junk fill).
    NoJunk,
}

/// A bump heap (with an optional 16-byte size header) with one planted bug.
struct Broken<S: PageSource> {
    pages: S,
    flaw: Option<Flaw>,
    header: usize,
    next: usize,
    end: usize,
    run_start: usize,
    last: Option<NonNull<u8>>,
    calls: usize,
    live: usize,
    /// How many live blocks each pointer is (more than one only for a flaw).
    handed: BTreeMap<usize, usize>,
    stats: Stats,
    /// Memory that did not come from the page source (for `OwnBuffer`).
    own: Vec<u128>,
}

impl<S: PageSource> Broken<S> {
    fn new(pages: S, header: usize, flaw: Option<Flaw>) -> Self {
        Broken {
            pages,
            flaw,
            header,
            next: 0,
            end: 0,
            run_start: 0,
            last: None,
            calls: 0,
            live: 0,
            handed: BTreeMap::new(),
            stats: Stats::default(),
            own: vec![0; 4096],
        }
    }

    fn has(&self, flaw: Flaw) -> bool {
        self.flaw == Some(flaw)
    }

    /// Bytes of payload a request takes.
    fn payload_bytes(&self, size: usize) -> Option<usize> {
        if self.has(Flaw::UncheckedRounding) {
            return Some((size.max(1) + 15) & !15);
        }
        if self.has(Flaw::ZeroTakesNothing) && size == 0 {
            return Some(0);
        }
        if self.has(Flaw::ZeroChunkHeaderOnly) && size == 0 {
            return Some(0);
        }
        let align = match self.flaw {
            Some(Flaw::Align8) => 8,
            Some(Flaw::Round32) => 32,
            _ => 16,
        };
        align_up(size.max(1), align)
    }
}

impl<S: PageSource> Broken<S> {
    fn malloc_inner(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.calls += 1;
        if self.has(Flaw::Overlap) && self.calls.is_multiple_of(3) {
            if let Some(last) = self.last {
                self.stats.chunks_allocated += 1;
                self.live += 1;
                return Some(last);
            }
        }
        let payload = self.payload_bytes(size)?;
        let header_room = if self.has(Flaw::HeaderNotReserved) {
            0
        } else {
            self.header
        };
        let chunk = payload.checked_add(header_room)?;
        let fits = chunk <= self.end - self.next;
        let map = match self.flaw {
            Some(Flaw::NoFitCheck) => self.end == 0,
            Some(Flaw::MapEveryTime) => true,
            _ => !fits,
        };
        if map {
            let page = self.pages.page_size();
            let counted = if self.has(Flaw::HeaderNotCountedInPages) {
                payload
            } else {
                chunk
            };
            let mut len = align_up(counted.max(1), page)?;
            if self.has(Flaw::ExtraPage) {
                len += page;
            }
            if self.has(Flaw::BytesNotPages) {
                len = chunk.max(16);
            }
            if self.has(Flaw::OwnBuffer) && chunk <= 4096 {
                self.run_start = self.own.as_mut_ptr() as usize;
                self.next = self.run_start;
                self.end = self.run_start + 16 * self.own.len();
                return self.carve(chunk, payload);
            }
            let run = match self.pages.map(len) {
                Some(run) => run,
                None if self.has(Flaw::PanicOnRefusal) => panic!("map failed"),
                None if self.has(Flaw::ForgetRunOnRefusal) => {
                    self.next = self.run_start;
                    return None;
                }
                None => return None,
            };
            self.stats.pages_mapped += len.div_ceil(page);
            self.run_start = run.as_ptr() as usize;
            self.next = self.run_start;
            self.end = self.run_start + len;
        }
        self.carve(chunk, payload)
    }

    /// Fills the payload of the block at `ptr` with junk, as far as its
    /// header says, when that stays inside the current run or this heap's
    /// own buffer (a planted flaw may have broken the header).
    fn junk_fill(&self, ptr: NonNull<u8>) {
        // SAFETY: malloc wrote a header in front of every block it carved.
        let size = unsafe { (ptr.as_ptr() as *const usize).sub(2).read() };
        let (at, len) = (ptr.as_ptr() as usize, size.saturating_sub(self.header));
        let own = self.own.as_ptr() as usize..self.own.as_ptr() as usize + 16 * self.own.len();
        let inside = |start: usize, end: usize| at >= start && at + len <= end;
        if inside(self.run_start, self.end) || inside(own.start, own.end) {
            // SAFETY: [ptr, ptr + len) is the block's payload, inside memory
            // this heap carves (just checked).
            unsafe { ptr.write_bytes(0xDB, len) };
        }
    }

    /// Hands out the next `chunk` bytes of the current run.
    fn carve(&mut self, chunk: usize, payload: usize) -> Option<NonNull<u8>> {
        let start = self.next;
        self.next += chunk;
        let payload_at = start + self.header;
        if self.header > 0 {
            let stored = if self.has(Flaw::SizeWithoutHeader) {
                payload
            } else {
                payload + self.header
            };
            // SAFETY: (for the flaws that keep it true) the header lies in the run.
            unsafe { ((payload_at - 16) as *mut usize).write(stored) };
        }
        self.stats.chunks_allocated += 1;
        self.live += 1;
        *self.handed.entry(payload_at).or_default() += 1;
        let p = NonNull::new(payload_at as *mut u8);
        self.last = p;
        p
    }
}

impl<S: PageSource> Heap for Broken<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.malloc_inner(size)
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        let addr = ptr.as_ptr() as usize;
        let trusts = self.has(Flaw::FreeTrusts);
        match self.handed.get_mut(&addr) {
            Some(n) if *n > 1 => *n -= 1,
            Some(_) => {
                self.handed.remove(&addr);
            }
            None if trusts => return,
            None => panic!("free({ptr:p}): not a live block (double free?)"),
        }
        if !self.has(Flaw::UncountedFrees) {
            self.stats.chunks_freed += 1;
        }
        self.live -= 1;
        if self.header > 0 && !self.has(Flaw::NoJunk) {
            self.junk_fill(ptr);
        }
        let at = ptr.as_ptr() as usize;
        if self.has(Flaw::UnmapOnFree) && at >= self.run_start && at < self.end {
            let run = NonNull::new(self.run_start as *mut u8).expect("a run");
            // SAFETY: not safe at all: this is the bug under test (the run
            // still holds live blocks). It is exactly one earlier mapping.
            unsafe { self.pages.unmap(run, self.end - self.run_start) };
            self.stats.pages_unmapped += (self.end - self.run_start) / self.pages.page_size();
            (self.run_start, self.next, self.end) = (0, 0, 0);
        }
        if self.has(Flaw::ResetWhenEmpty) && self.live == 0 {
            self.next = self.run_start;
        }
        if self.has(Flaw::FreeOverrun) {
            // SAFETY: not safe at all: this is the bug under test (it writes
            // 16 bytes past the chunk, inside the same run here).
            let size = unsafe { (ptr.as_ptr() as *const usize).sub(2).read() };
            let at = ptr.as_ptr() as usize;
            // Only in the current run, so the test process itself survives.
            if at >= self.run_start && at + size <= self.end {
                unsafe { ptr.write_bytes(0xDB, size) };
            }
        }
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        if self.header == 0 || self.has(Flaw::UsableNone) {
            return None;
        }
        // SAFETY: ptr came from malloc, which wrote a header in front of it.
        let size = unsafe { (ptr.as_ptr() as *const usize).sub(2).read() };
        let less = if self.has(Flaw::UsableTooSmall) {
            32
        } else {
            16
        };
        Some(size.saturating_sub(less))
    }

    fn stats(&self) -> Stats {
        let mut s = self.stats;
        if self.has(Flaw::LieAboutPages) {
            s.pages_mapped += 1;
        }
        if self.has(Flaw::PhantomFreeList) {
            s.free_length = s.chunks_freed;
        }
        s
    }
}

fn lesson2_with(flaw: Option<Flaw>) -> Suite {
    lesson2::suite(move |p: InstrumentedPages| Broken::new(p, 0, flaw))
}

fn lesson3_with(flaw: Option<Flaw>) -> Suite {
    lesson3::suite(move |p: InstrumentedPages| Broken::new(p, 16, flaw))
}

fn assert_all_pass(label: &str, suite: &Suite) {
    for (name, report) in reports(suite) {
        assert_eq!(report, Outcome::Passed, "{label}: {name}");
    }
}

#[test]
fn solutions_pass_everything() {
    assert_all_pass(
        "lesson 2 solution",
        &lesson2::suite(lesson2_solution::BumpHeap::new),
    );
    assert_all_pass(
        "lesson 3 solution",
        &lesson3::suite(lesson3_solution::HeaderHeap::new),
    );
    // The test's own broken heap, with no bug planted, is a correct heap.
    assert_all_pass("lesson 2 unbroken", &lesson2_with(None));
    assert_all_pass("lesson 3 unbroken", &lesson3_with(None));
}

#[test]
fn stubs_are_not_implemented_everywhere() {
    for (label, suite) in [
        ("lesson 2 stub", lesson2::suite(::lesson2::BumpHeap::new)),
        ("lesson 3 stub", lesson3::suite(::lesson3::HeaderHeap::new)),
    ] {
        for (name, report) in reports(&suite) {
            assert!(
                matches!(report, Outcome::NotImplemented { .. }),
                "{label}: {name} reported {report:?}"
            );
        }
    }
}

/// Which tests each bug must trip, in each lesson.
fn lesson2_cases() -> Vec<(Flaw, Vec<&'static str>)> {
    vec![
        (Flaw::Align8, vec!["blocks_are_aligned"]),
        (Flaw::NoFitCheck, vec!["blocks_are_inside_mapped_pages"]),
        (
            Flaw::Overlap,
            vec!["blocks_do_not_overlap", "blocks_keep_their_contents"],
        ),
        (
            Flaw::ZeroTakesNothing,
            vec!["malloc_zero_is_unique_and_freeable"],
        ),
        (
            Flaw::ExtraPage,
            vec![
                "maps_only_when_needed",
                "one_byte_costs_one_page",
                "big_request_maps_whole_pages",
            ],
        ),
        (
            Flaw::MapEveryTime,
            vec!["maps_only_when_needed", "one_byte_costs_one_page"],
        ),
        (Flaw::Round32, vec!["small_blocks_fill_a_page"]),
        (Flaw::ResetWhenEmpty, vec!["freed_memory_is_not_reused"]),
        (
            Flaw::PanicOnRefusal,
            vec![
                "survives_refused_maps",
                "refused_map_returns_none",
                "first_map_refused",
            ],
        ),
        (
            Flaw::UncheckedRounding,
            vec!["hopeless_request_returns_none"],
        ),
        (Flaw::LieAboutPages, vec!["stats_count_pages"]),
        (
            Flaw::UncountedFrees,
            vec!["stats_count_chunks", "free_is_counted"],
        ),
        (Flaw::PhantomFreeList, vec!["stats_count_chunks"]),
        (
            Flaw::ForgetRunOnRefusal,
            vec!["survives_refused_maps", "refused_map_returns_none"],
        ),
        (
            Flaw::BytesNotPages,
            vec!["blocks_are_aligned", "one_byte_costs_one_page"],
        ),
        (
            Flaw::UnmapOnFree,
            vec![
                "blocks_are_inside_mapped_pages",
                "blocks_keep_their_contents",
            ],
        ),
    ]
}

fn lesson3_cases() -> Vec<(Flaw, Vec<&'static str>)> {
    vec![
        (Flaw::Align8, vec!["blocks_are_aligned"]),
        (Flaw::OwnBuffer, vec!["blocks_are_inside_mapped_pages"]),
        (
            Flaw::Overlap,
            vec!["blocks_do_not_overlap", "blocks_keep_their_contents"],
        ),
        (
            Flaw::HeaderNotReserved,
            vec![
                "blocks_do_not_overlap",
                "headers_hold_chunk_sizes",
                "header_survives_neighbour_writes",
            ],
        ),
        (
            Flaw::SizeWithoutHeader,
            vec!["headers_hold_chunk_sizes", "usable_size_covers_the_request"],
        ),
        (
            Flaw::UsableTooSmall,
            vec![
                "usable_size_covers_the_request",
                "usable_size_is_at_least_the_request",
            ],
        ),
        (
            Flaw::UsableNone,
            vec![
                "usable_size_covers_the_request",
                "usable_size_is_at_least_the_request",
            ],
        ),
        (
            Flaw::FreeOverrun,
            vec!["free_leaves_neighbours_alone", "headers_hold_chunk_sizes"],
        ),
        (
            Flaw::ZeroChunkHeaderOnly,
            vec!["malloc_zero_is_unique_and_freeable"],
        ),
        (
            Flaw::HeaderNotCountedInPages,
            vec!["header_counts_toward_pages"],
        ),
        (
            Flaw::ExtraPage,
            vec!["maps_only_when_needed", "one_byte_costs_one_page"],
        ),
        (Flaw::Round32, vec!["small_blocks_fill_a_page"]),
        (Flaw::ResetWhenEmpty, vec!["freed_memory_is_not_reused"]),
        (
            Flaw::PanicOnRefusal,
            vec![
                "survives_refused_maps",
                "refused_map_returns_none",
                "first_map_refused",
            ],
        ),
        (
            Flaw::UncheckedRounding,
            vec!["hopeless_request_returns_none"],
        ),
        (Flaw::LieAboutPages, vec!["stats_count_pages"]),
        (
            Flaw::UncountedFrees,
            vec!["stats_count_chunks", "free_is_counted"],
        ),
        (Flaw::PhantomFreeList, vec!["stats_count_chunks"]),
        (
            Flaw::FreeTrusts,
            vec!["double_free_is_stopped", "foreign_pointer_is_stopped"],
        ),
        (Flaw::NoJunk, vec!["free_fills_the_payload_with_junk"]),
    ]
}

#[test]
fn lesson2_broken_heaps_are_caught() {
    for (flaw, caught) in lesson2_cases() {
        assert_caught(
            &format!("lesson 2, {flaw:?}"),
            &lesson2_with(Some(flaw)),
            &caught,
        );
    }
}

#[test]
fn lesson3_broken_heaps_are_caught() {
    for (flaw, caught) in lesson3_cases() {
        assert_caught(
            &format!("lesson 3, {flaw:?}"),
            &lesson3_with(Some(flaw)),
            &caught,
        );
    }
}

/// Every test of both suites is named by at least one broken heap above.
#[test]
fn every_test_catches_some_broken_heap() {
    for (label, suite, cases) in [
        ("lesson 2", lesson2_with(None), lesson2_cases()),
        ("lesson 3", lesson3_with(None), lesson3_cases()),
    ] {
        let caught: BTreeSet<&str> = cases.iter().flat_map(|(_, c)| c.iter().copied()).collect();
        for test in &suite.tests {
            assert!(
                caught.contains(test.name),
                "{label}: no broken heap shows that `{}` can fail",
                test.name
            );
        }
    }
}

/// A bug to plant in [`BrokenPages`], lesson 2's own page source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PageFlaw {
    /// `page_size()` is a constant, not what the OS says.
    FixedPageSize,
    /// Hands out `MAP_FAILED` as if it were a mapping.
    MapFailedIsSome,
    /// `unmap` does nothing.
    NoUnmap,
    /// Hands out memory 16 bytes into a mapping: not page aligned.
    Offset,
}

/// `MmapPages` from the lesson 2 solution, with one bug planted.
struct BrokenPages {
    inner: lesson2_solution::MmapPages,
    flaw: PageFlaw,
}

impl PageSource for BrokenPages {
    fn page_size(&self) -> usize {
        match self.flaw {
            PageFlaw::FixedPageSize => 3 * self.inner.page_size(),
            _ => self.inner.page_size(),
        }
    }

    fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
        match self.flaw {
            PageFlaw::MapFailedIsSome => self
                .inner
                .map(len)
                .or(NonNull::new(libc::MAP_FAILED.cast())),
            PageFlaw::Offset => {
                let run = self.inner.map(len + self.inner.page_size())?;
                // SAFETY: the run is a page longer than asked, so +16 is inside.
                Some(unsafe { run.add(16) })
            }
            _ => self.inner.map(len),
        }
    }

    unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
        match self.flaw {
            PageFlaw::NoUnmap => {}
            // SAFETY: forwarded with the caller's promise.
            _ => unsafe { self.inner.unmap(ptr, len) },
        }
    }
}

fn page_cases() -> Vec<(PageFlaw, &'static str)> {
    vec![
        (PageFlaw::FixedPageSize, "page_source_reports_the_page_size"),
        (PageFlaw::MapFailedIsSome, "page_source_refusal_is_none"),
        (PageFlaw::NoUnmap, "page_source_unmaps"),
        (PageFlaw::Offset, "page_source_maps_zeroed_pages"),
    ]
}

#[test]
fn lesson2_page_source_tests() {
    let solution = lesson2::suite_with_pages(
        lesson2_solution::BumpHeap::new,
        local_pages(lesson2_solution::MmapPages::new),
    );
    assert_all_pass("lesson 2 solution with its pages", &solution);
    let stub = lesson2::suite_with_pages(
        ::lesson2::BumpHeap::new,
        local_pages(::lesson2::MmapPages::new),
    );
    for (name, report) in reports(&stub) {
        assert!(
            matches!(report, Outcome::NotImplemented { .. }),
            "lesson 2 stub with its pages: {name} reported {report:?}"
        );
    }
    for (flaw, caught) in page_cases() {
        let suite = lesson2::suite_with_pages(
            lesson2_solution::BumpHeap::new,
            local_pages(move || BrokenPages {
                inner: lesson2_solution::MmapPages::new(),
                flaw,
            }),
        );
        assert_caught(&format!("lesson 2 pages, {flaw:?}"), &suite, &[caught]);
    }
    // Every page-source test is shown to fail on some broken source.
    let names: BTreeSet<&str> = page_cases().iter().map(|(_, n)| *n).collect();
    let plain: BTreeSet<&str> = lesson2_with(None).tests.iter().map(|t| t.name).collect();
    for test in &solution.tests {
        assert!(
            plain.contains(test.name) || names.contains(test.name),
            "no broken page source shows that `{}` can fail",
            test.name
        );
    }
}
