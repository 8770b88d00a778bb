//! The replayer's checks: each one shown to catch a heap broken in its way,
//! at the right line, and to pass heaps that keep the contract.

use std::collections::HashMap;
use std::ptr::NonNull;

use heaplab_kit::{align_up, Heap, PageSource, Realloc, Stats};
use heaplab_suites::alloc::InstrumentedPages;
use heaplab_suites::trace::generate::{self, DEFAULT_SEED};
use heaplab_suites::trace::replay::{
    self, Allocator, HeapAllocator, ReallocAllocator, SystemAllocator,
};
use heaplab_suites::trace::{metered, parse, Checked, Trace};

/// Correct and wasteful: every block gets pages of its own, unmapped on free.
struct PagePerBlock<S> {
    pages: S,
    blocks: HashMap<usize, usize>,
    /// Unmaps one page too many: a heap that gets lengths wrong.
    bad_unmap: bool,
}

impl<S: PageSource> PagePerBlock<S> {
    fn new(pages: S) -> Self {
        PagePerBlock {
            pages,
            blocks: HashMap::new(),
            bad_unmap: false,
        }
    }
}

impl<S: PageSource> Heap for PagePerBlock<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        let len = align_up(size.max(1), self.pages.page_size())?;
        let p = self.pages.map(len)?;
        self.blocks.insert(p.as_ptr() as usize, len);
        Some(p)
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        let len = self
            .blocks
            .remove(&(ptr.as_ptr() as usize))
            .expect("a block of this heap");
        let len = if self.bad_unmap {
            len + self.pages.page_size()
        } else {
            len
        };
        // SAFETY: exactly the run mapped for this block (or, for the broken
        // heap, a length the instrumented source refuses without unmapping).
        unsafe { self.pages.unmap(ptr, len) }
    }

    fn stats(&self) -> Stats {
        Stats::default()
    }
}

/// A correct realloc: in place while the block's pages hold the new size,
/// else new pages, a copy, and the old pages unmapped.
impl<S: PageSource> Realloc for PagePerBlock<S> {
    unsafe fn realloc(&mut self, ptr: NonNull<u8>, size: usize) -> Option<NonNull<u8>> {
        let old = self.blocks[&(ptr.as_ptr() as usize)];
        if size.max(1) <= old {
            return Some(ptr);
        }
        let new = self.malloc(size)?;
        // SAFETY: two distinct live mappings; old bytes all lie in the old one.
        unsafe { std::ptr::copy_nonoverlapping(ptr.as_ptr(), new.as_ptr(), old) };
        // SAFETY: ptr is a live block of this heap, not used after this.
        unsafe { self.free(ptr) };
        Some(new)
    }
}

/// What a broken bump heap gets wrong.
#[derive(Clone, Copy, PartialEq)]
enum Bug {
    None,
    /// Pointers 8 bytes past a multiple of 16.
    Misaligned,
    /// The third block is handed out on top of the second.
    Overlaps,
    /// Each malloc writes a "link" into the previous block's first byte.
    WritesIntoLiveBlock,
    /// Blocks come from a buffer the page source never mapped.
    OutsideMappedPages,
}

/// Correct but never reuses anything: bumps through 64 KiB arenas.
struct Bump<S> {
    pages: S,
    next: usize,
    end: usize,
    count: usize,
    last: usize,
    bug: Bug,
    outside: Vec<u8>,
}

impl<S: PageSource> Bump<S> {
    fn new(pages: S) -> Self {
        Self::with_bug(pages, Bug::None)
    }

    fn with_bug(pages: S, bug: Bug) -> Self {
        Bump {
            pages,
            next: 0,
            end: 0,
            count: 0,
            last: 0,
            bug,
            outside: vec![0; 1 << 20],
        }
    }
}

impl<S: PageSource> Heap for Bump<S> {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.count += 1;
        let need = align_up(size.max(1), 16)? + 16;
        if self.bug == Bug::OutsideMappedPages {
            let p = align_up(self.outside.as_ptr() as usize, 16)? + 16 * self.count;
            return NonNull::new(p as *mut u8);
        }
        if self.next + need > self.end {
            let len = align_up(need, 64 * 1024)?;
            self.next = self.pages.map(len)?.as_ptr() as usize;
            self.end = self.next + len;
        }
        let mut p = self.next;
        self.next += need;
        match self.bug {
            Bug::Misaligned => p += 8,
            Bug::Overlaps if self.count == 3 => p = self.last,
            Bug::WritesIntoLiveBlock if self.last != 0 => {
                // SAFETY: (deliberately wrong) last is a block this heap handed out.
                unsafe { *(self.last as *mut u8) ^= 0xFF };
            }
            _ => {}
        }
        self.last = p;
        NonNull::new(p as *mut u8)
    }

    unsafe fn free(&mut self, _ptr: NonNull<u8>) {}

    fn stats(&self) -> Stats {
        Stats::default()
    }
}

/// A realloc that forgets to copy.
impl<S: PageSource> Realloc for Bump<S> {
    unsafe fn realloc(&mut self, _ptr: NonNull<u8>, size: usize) -> Option<NonNull<u8>> {
        self.malloc(size)
    }
}

fn run<H: Heap>(text: &str, make: impl FnOnce(InstrumentedPages) -> H) -> Checked {
    let trace = parse("t.rep", text).expect("the test's trace is valid");
    let (pages, log) = metered();
    replay::checked(&trace, &mut HeapAllocator(make(pages)), &log)
}

/// Four blocks, a resize, frees: lines 5 to 11.
const SMALL: &str = "0\n4\n7\n1\na 0 100\na 1 200\na 2 300\nr 1 500\na 3 40\nf 0\nf 2\n";

fn failure_line(c: &Checked) -> usize {
    c.failure.as_ref().map(|f| f.line).unwrap_or(0)
}

#[test]
fn correct_heaps_pass_the_small_trace() {
    let c = run(SMALL, PagePerBlock::new);
    assert_eq!(c.failure, None);
    assert_eq!(c.ops_done, 7);
    let c = run(SMALL, Bump::new);
    assert_eq!(c.failure, None);
}

#[test]
fn misaligned_blocks_are_caught_at_the_first_malloc() {
    let c = run(SMALL, |p| Bump::with_bug(p, Bug::Misaligned));
    assert_eq!(failure_line(&c), 5);
    assert!(c.failure.unwrap().message.contains("not 16-byte aligned"));
}

#[test]
fn overlapping_blocks_are_caught_where_they_overlap() {
    let c = run(SMALL, |p| Bump::with_bug(p, Bug::Overlaps));
    assert_eq!(failure_line(&c), 7);
    assert!(c.failure.unwrap().message.contains("overlaps live block 1"));
}

#[test]
fn a_heap_writing_into_a_live_block_is_caught_when_the_block_is_checked() {
    let c = run(SMALL, |p| Bump::with_bug(p, Bug::WritesIntoLiveBlock));
    // Block 2's malloc damaged block 1, which is checked first by its resize.
    let f = c.failure.expect("the damage is seen");
    assert_eq!(f.line, 8, "{f}");
    assert!(f.message.contains("block 1 (200 bytes"), "{f}");
    assert!(f.message.contains("byte 0"), "{f}");
}

#[test]
fn blocks_outside_mapped_pages_are_caught() {
    let c = run(SMALL, |p| Bump::with_bug(p, Bug::OutsideMappedPages));
    assert_eq!(failure_line(&c), 5);
    assert!(c
        .failure
        .unwrap()
        .message
        .contains("not inside pages the heap mapped"));
}

#[test]
fn an_unmap_of_the_wrong_length_is_caught_at_the_free() {
    let c = run(SMALL, |p| {
        let mut h = PagePerBlock::new(p);
        h.bad_unmap = true;
        h
    });
    // The first free is the emulated resize of block 1 (malloc, copy, free).
    assert_eq!(failure_line(&c), 8, "{:?}", c.failure);
    assert!(c.failure.unwrap().message.contains("unmap"));
}

#[test]
fn a_realloc_that_does_not_copy_is_caught() {
    let trace = parse("t.rep", SMALL).unwrap();
    let (pages, log) = metered();
    let c = replay::checked(&trace, &mut ReallocAllocator(Bump::new(pages)), &log);
    let f = c.failure.expect("lost contents are seen");
    assert_eq!(f.line, 8);
    assert!(f.message.starts_with("after the resize, block 1"), "{f}");
}

#[test]
fn a_heap_with_its_own_realloc_is_resized_by_it() {
    let text = "0\n2\n7\n1\na 0 1000\na 1 10\nr 0 3000\nr 0 9000\nr 0 5\nf 1\nf 0\n";
    let trace = parse("t.rep", text).unwrap();
    let (pages, log) = metered();
    let c = replay::checked(
        &trace,
        &mut ReallocAllocator(PagePerBlock::new(pages)),
        &log,
    );
    assert_eq!(c.failure, None);
    // In place up to a page, then moved: the peak is the 9000-byte block's
    // three pages (the old one is unmapped by realloc itself) and block 1's page.
    let page = log.page_size();
    assert_eq!(c.peak_mapped, 9000usize.div_ceil(page) * page + page);
}

#[test]
fn the_emulated_realloc_keeps_contents_and_shrinks_too() {
    let text = "0\n1\n5\n1\na 0 1000\nr 0 5000\nr 0 10\nr 0 0\nf 0\n";
    assert_eq!(run(text, PagePerBlock::new).failure, None);
    assert_eq!(run(text, Bump::new).failure, None);
}

#[test]
fn utilization_is_peak_live_payload_over_peak_mapped_bytes() {
    let page = InstrumentedPages::new().page_size();
    let c = run(&format!("0\n1\n2\n1\na 0 {page}\nf 0\n"), PagePerBlock::new);
    assert_eq!((c.peak_live, c.peak_mapped), (page, page));
    assert_eq!(c.utilization(), 1.0);
    // Two live at once, then one: peaks are over the whole trace.
    let c = run(
        "0\n2\n4\n1\na 0 100\na 1 300\nf 0\nf 1\n",
        PagePerBlock::new,
    );
    assert_eq!((c.peak_live, c.peak_mapped), (400, 2 * page));
    assert!((c.utilization() - 400.0 / (2 * page) as f64).abs() < 1e-12);
}

#[test]
fn a_failed_trace_has_no_utilization() {
    let c = run(SMALL, |p| Bump::with_bug(p, Bug::Misaligned));
    assert_eq!(c.utilization(), 0.0);
}

#[test]
fn the_timeline_follows_the_trace() {
    let c = run(SMALL, PagePerBlock::new);
    assert_eq!(c.timeline.first().map(|s| s.op), Some(0));
    assert_eq!(c.timeline.last().map(|s| s.op), Some(7));
    assert!(c.timeline.iter().any(|s| s.live == 100 + 500 + 300 + 40));
}

fn generated() -> Vec<Trace> {
    generate::generate(DEFAULT_SEED)
}

#[test]
fn a_correct_heap_replays_every_generated_workload() {
    for trace in generated() {
        let (pages, log) = metered();
        let c = replay::checked(&trace, &mut HeapAllocator(Bump::new(pages)), &log);
        assert_eq!(c.failure, None, "{}", trace.name);
        assert_eq!(c.ops_done, trace.ops.len());
    }
}

#[test]
fn a_heap_that_never_reuses_has_poor_utilization_where_reuse_matters() {
    for name in ["binary", "coalescing", "mixed-lifetimes"] {
        let trace = generate::workload(name, DEFAULT_SEED).unwrap();
        let (pages, log) = metered();
        let c = replay::checked(&trace, &mut HeapAllocator(Bump::new(pages)), &log);
        assert!(c.utilization() < 0.3, "{name}: {}", c.utilization());
    }
}

#[test]
fn the_timed_replay_runs_the_system_allocator_and_a_heap() {
    let trace = generate::workload("realloc", DEFAULT_SEED).unwrap();
    assert!(SystemAllocator.resizes());
    assert!(replay::timed(&trace, &mut SystemAllocator).is_ok());
    let (pages, _log) = metered();
    assert!(replay::timed(&trace, &mut HeapAllocator(Bump::new(pages))).is_ok());
}

#[test]
fn a_malloc_that_returns_none_fails_the_trace_at_its_line() {
    let trace = parse("t.rep", "0\n2\n3\n1\na 0 100\na 1 10000\nf 0\n").unwrap();
    let (pages, log) = metered();
    log.refuse_maps_over(Some(log.page_size()));
    let c = replay::checked(&trace, &mut HeapAllocator(PagePerBlock::new(pages)), &log);
    let f = c.failure.expect("a refused request stops the trace");
    assert_eq!((f.line, f.op.as_str()), (6, "a 1 10000"), "{f}");
    assert!(
        f.message
            .starts_with("malloc(10000) returned None (out of memory)"),
        "{f}"
    );
    assert_eq!(c.ops_done, 1);
}
