// STUB: //! (The reference solution's tests of its heap live here; write your own.)
// BEGIN SOLUTION
//! The heap contract, checked on `FastHeap` over real pages: one scenario
//! per test, a model-based random run for everything else, and a walk that
//! checks the whole heap's bookkeeping after every step of it.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::rc::Rc;

use heaplab_kit::{FullHeap, Heap, PageSource, Realloc};

use crate::heap::FastHeap;
use crate::large::MAX_SHARED_BYTES;
use crate::page_map::{GRAIN_BYTES, TAG_MASK};
use crate::pages::MmapPages;
use crate::size_class::{CLASS_BYTES, MAX_SMALL_BYTES};
use crate::span::{Kind, Span};

/// Real pages that refuse every map while told to.
#[derive(Clone, Default)]
struct Pages {
    refuse: Rc<Cell<bool>>,
    real: Rc<MmapPagesCell>,
}

#[derive(Default)]
struct MmapPagesCell(std::cell::RefCell<Option<MmapPages>>);

impl PageSource for Pages {
    fn page_size(&self) -> usize {
        4096
    }

    fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
        if self.refuse.get() {
            return None;
        }
        let mut real = self.real.0.borrow_mut();
        real.get_or_insert_with(MmapPages::new).map(len)
    }

    unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
        let mut real = self.real.0.borrow_mut();
        // SAFETY: the caller's promise, passed on.
        unsafe { real.get_or_insert_with(MmapPages::new).unmap(ptr, len) }
    }
}

fn heap() -> (FastHeap<Pages>, Rc<Cell<bool>>) {
    let pages = Pages::default();
    let refuse = Rc::clone(&pages.refuse);
    (FastHeap::new(pages), refuse)
}

fn addr(p: NonNull<u8>) -> usize {
    p.as_ptr() as usize
}

/// Every shared arena is tiled by spans, each found through the page map;
/// slabs have every grain tagged with their class, free spans their two
/// ends and nothing inside, large blocks their first grain; no two free
/// spans touch (they would have merged); slabs with room are on their
/// class's list and full ones are not. A block's own arena has one entry,
/// at the block's first grain, or none once idle. `idle_bytes` is what the
/// idle arenas add up to.
fn check_heap<S: PageSource>(heap: &FastHeap<S>) {
    for arena in heap.arenas.iter() {
        // SAFETY: listed arenas are live descriptors.
        let a = unsafe { arena.as_ref() };
        if a.alone {
            check_alone(heap, a, arena.as_ptr(), true);
        } else {
            check_slab_arena(heap, a, arena.as_ptr());
        }
    }
    let mut idle = 0;
    for arena in heap.idle_arenas.iter() {
        // SAFETY: listed arenas are live descriptors.
        let a = unsafe { arena.as_ref() };
        if a.alone {
            check_alone(heap, a, arena.as_ptr(), false);
        } else {
            let span = heap.map.get(a.start) as *const Span;
            // SAFETY: an idle slab arena is one free span, registered.
            assert_eq!(
                unsafe { ((*span).start, (*span).bytes) },
                (a.start, a.bytes)
            );
        }
        idle += a.bytes;
    }
    assert_eq!(idle, heap.idle_bytes, "idle bytes: the idle arenas");
}

/// A large block's arena: its block's first grain registered (`busy`), or
/// nothing at all once idle.
fn check_alone<S: PageSource>(heap: &FastHeap<S>, a: &Span, arena: *mut Span, busy: bool) {
    let entries: Vec<(usize, usize)> = (a.start..a.end())
        .step_by(GRAIN_BYTES)
        .map(|at| (at, heap.map.get(at)))
        .filter(|&(_, entry)| entry != 0)
        .collect();
    if !busy {
        assert!(entries.is_empty(), "an idle arena with page map entries");
        return;
    }
    assert_eq!(entries.len(), 1, "a large block's arena has one entry");
    let (at, entry) = entries[0];
    // SAFETY: a non-zero entry points to a live descriptor.
    let s = unsafe { &*(entry as *const Span) };
    assert_eq!(
        (s.kind, s.start, s.end(), s.arena),
        (Kind::Large, at, a.end(), arena)
    );
}

/// A shared arena, tiled by free spans, slabs and large blocks.
fn check_slab_arena<S: PageSource>(heap: &FastHeap<S>, a: &Span, arena: *mut Span) {
    let mut at = a.start;
    let mut last_free = false;
    while at < a.end() {
        let entry = heap.map.get(at);
        let span = (entry & !TAG_MASK) as *const Span;
        assert!(
            !span.is_null(),
            "no span registered at {at:#x} in arena {:#x}",
            a.start
        );
        // SAFETY: a non-zero entry points to a live descriptor.
        let s = unsafe { &*span };
        assert_eq!((s.start, s.arena), (at, arena), "span start");
        match s.kind {
            Kind::Free => check_ends(heap, s, span, last_free),
            Kind::Slab => check_slab(heap, s, span),
            Kind::Large => check_large(heap, s),
            other => panic!("a {other:?} span inside a shared arena"),
        }
        last_free = s.kind == Kind::Free;
        at = s.end();
    }
    assert_eq!(at, a.end(), "spans overrun their arena");
}

/// A free span: its last grain registered, nothing inside.
fn check_ends<S: PageSource>(heap: &FastHeap<S>, s: &Span, span: *const Span, last_free: bool) {
    let free = s.kind == Kind::Free;
    assert!(
        !(free && last_free),
        "two free spans side by side at {:#x}",
        s.start
    );
    assert_eq!(
        heap.map.get(s.end() - 1),
        span as usize,
        "a span's last grain"
    );
    let mut inner = s.start + GRAIN_BYTES;
    while inner + GRAIN_BYTES < s.end() {
        assert_eq!(
            heap.map.get(inner),
            0,
            "stale entry inside a span at {inner:#x}"
        );
        inner += GRAIN_BYTES;
    }
}

/// A large block of a shared arena: its first grain registered (the walk
/// found it there), nothing else.
fn check_large<S: PageSource>(heap: &FastHeap<S>, s: &Span) {
    let mut inner = s.start + GRAIN_BYTES;
    while inner < s.end() {
        assert_eq!(heap.map.get(inner), 0, "a large block's grain {inner:#x}");
        inner += GRAIN_BYTES;
    }
}

/// A slab: every grain tagged, not empty, listed exactly when it has room.
fn check_slab<S: PageSource>(heap: &FastHeap<S>, s: &Span, span: *const Span) {
    let tagged = span as usize | (usize::from(s.class) + 1);
    let mut inner = s.start;
    while inner < s.end() {
        assert_eq!(heap.map.get(inner), tagged, "slab grain {inner:#x}");
        inner += GRAIN_BYTES;
    }
    assert!(s.live > 0, "an empty slab was kept");
    let listed = heap.bins[usize::from(s.class)]
        .iter()
        .any(|b| b.as_ptr().cast_const() == span);
    assert_eq!(listed, !s.is_full(), "slab with room listed, full one not");
}

/// Bytes of every arena of the heap.
fn arena_bytes<S: PageSource>(heap: &FastHeap<S>) -> usize {
    // SAFETY: listed arenas are live descriptors.
    let all = heap.arenas.iter().chain(heap.idle_arenas.iter());
    // SAFETY: as above.
    all.map(|a| unsafe { a.as_ref() }.bytes).sum()
}

#[test]
fn malloc_zero_gives_distinct_blocks() {
    let (mut heap, _) = heap();
    let a = heap.malloc(0).unwrap();
    let b = heap.malloc(0).unwrap();
    assert_ne!(a, b);
    // SAFETY: live blocks, freed once.
    unsafe {
        heap.free(a);
        heap.free(b);
    }
}

#[test]
fn every_class_gives_aligned_blocks_of_its_size() {
    let (mut heap, _) = heap();
    for (class, &bytes) in CLASS_BYTES.iter().enumerate() {
        let p = heap.malloc(bytes).unwrap();
        assert!(addr(p).is_multiple_of(16), "class {class} misaligned");
        // SAFETY: p is live.
        assert_eq!(unsafe { heap.usable_size(p) }, Some(bytes));
        // SAFETY: p has `bytes` bytes, then is freed once.
        unsafe {
            p.as_ptr().write_bytes(0xEE, bytes);
            heap.free(p);
        }
    }
    check_heap(&heap);
}

#[test]
fn a_freed_block_is_the_next_one_of_its_class() {
    let (mut heap, _) = heap();
    let keep = heap.malloc(40).unwrap(); // keeps the slab alive
    let a = heap.malloc(40).unwrap();
    // SAFETY: a is live, freed once.
    unsafe { heap.free(a) };
    assert_eq!(heap.malloc(33), Some(a), "the head of the slab's free list");
    assert_eq!(heap.free_blocks().len(), heap.stats().free_length);
    let _ = keep;
}

#[test]
fn empty_arenas_stay_idle_up_to_the_budget_and_the_rest_go_back() {
    let (mut heap, _) = heap();
    let blocks: Vec<_> = (0..1000).map(|_| heap.malloc(1000).unwrap()).collect();
    for p in blocks {
        // SAFETY: live, freed once.
        unsafe { heap.free(p) };
    }
    check_heap(&heap);
    let budget = heap.idle_budget();
    assert!(
        (1000 * 1000 / 2..=1024 * 1024 * 3 / 4).contains(&budget),
        "half the peak, a little over 1 MB: {budget}"
    );
    assert!(
        heap.idle_bytes > 0 && heap.idle_bytes <= budget,
        "{} idle",
        heap.idle_bytes
    );
    assert_eq!(heap.arenas.len(), 0, "no arena in use");
    assert!(heap.stats().pages_unmapped * 4096 >= 1000 * 1000 - budget);
    let idle = heap.idle_arenas.len();
    assert_eq!(
        heap.stats().free_length,
        idle,
        "each idle arena is one free span"
    );
}

#[test]
fn idle_arenas_stay_below_the_peak_and_go_before_the_heap_passes_it() {
    let (mut heap, _) = heap();
    let _small = heap.malloc(16).unwrap();
    let b = heap.malloc(100_000).unwrap(); // 25 pages, an arena of its own
    let a = heap.malloc(300_000).unwrap(); // 74 pages
                                           // SAFETY: live, freed once.
    unsafe { heap.free(b) };
    assert_eq!(heap.idle_bytes, 25 * 4096, "within half the peak: kept");
    // SAFETY: live, freed once.
    unsafe { heap.free(a) };
    assert_eq!(
        heap.idle_bytes,
        25 * 4096,
        "past the budget: the latest goes"
    );
    let unmapped = heap.stats().pages_unmapped;
    // No idle arena about its size: a new one, which keeps the heap under
    // its peak with the idle one still mapped.
    let _c = heap.malloc(200_000).unwrap();
    assert_eq!(heap.stats().pages_unmapped, unmapped, "nothing unmapped");
    assert_eq!(heap.idle_bytes, 25 * 4096, "the idle arena waits");
    // One more would pass the peak: the idle arena goes first.
    let _d = heap.malloc(200_000).unwrap();
    assert_eq!(heap.stats().pages_unmapped, unmapped + 25);
    assert_eq!(heap.idle_bytes, 0);
    check_heap(&heap);
}

#[test]
fn an_idle_arena_a_32nd_of_the_peak_bigger_serves_a_block_alone() {
    let (mut heap, _) = heap();
    // A peak over 1 MB.
    let _big = heap.malloc(1_000_000).unwrap();
    // 25 pages, an arena of its own.
    let b = heap.malloc(100_000).unwrap();
    // SAFETY: live, freed once.
    unsafe { heap.free(b) };
    assert_eq!(heap.idle_bytes, 25 * 4096, "within half the peak: kept");
    let mapped = heap.stats().pages_mapped;
    // 18 pages: the idle arena is 7 pages, 28 KiB, bigger (more than a
    // quarter of the block, less than a 32nd of the peak).
    let c = heap.malloc(70_000).unwrap();
    assert_eq!(heap.stats().pages_mapped, mapped, "no new map: it served");
    // SAFETY: c is live.
    assert_eq!(unsafe { heap.usable_size(c) }, Some(25 * 4096));
    check_heap(&heap);
}

#[test]
fn an_idle_arena_more_than_twice_a_block_does_not_serve_it_alone() {
    let (mut heap, _) = heap();
    // A peak of 8 MB: a 32nd of it (256 KiB) would allow any slack here.
    let _big = heap.malloc(8_000_000).unwrap();
    // 49 pages, an arena of its own, idle once freed.
    let b = heap.malloc(200_000).unwrap();
    // SAFETY: live, freed once.
    unsafe { heap.free(b) };
    assert!(heap.idle_bytes >= 2 * 70_000, "within half the peak: kept");
    let mapped = heap.stats().pages_mapped;
    // 18 pages: the idle arena is more than twice as big; the slack may
    // never pass the block itself.
    let c = heap.malloc(70_000).unwrap();
    assert!(
        heap.stats().pages_mapped > mapped,
        "a new map, not the idle arena"
    );
    // SAFETY: c is live.
    assert_eq!(unsafe { heap.usable_size(c) }, Some(18 * 4096));
    check_heap(&heap);
}

#[test]
fn an_idle_arena_serves_the_next_wave() {
    let (mut heap, _) = heap();
    let wave: Vec<_> = (0..50).map(|_| heap.malloc(1000).unwrap()).collect();
    for p in wave {
        // SAFETY: live, freed once.
        unsafe { heap.free(p) };
    }
    let mapped = heap.stats().pages_mapped;
    let again: Vec<_> = (0..50).map(|_| heap.malloc(500).unwrap()).collect();
    assert_eq!(
        heap.stats().pages_mapped,
        mapped,
        "no new map: the idle arena served"
    );
    check_heap(&heap);
    drop(again);
}

#[test]
fn slabs_of_one_class_serve_another_once_free() {
    let (mut heap, _) = heap();
    let small: Vec<_> = (0..1000).map(|_| heap.malloc(48).unwrap()).collect();
    let keep = heap.malloc(16).unwrap(); // keeps the arena mapped
    let mapped = heap.stats().pages_mapped;
    for p in small {
        // SAFETY: live, freed once.
        unsafe { heap.free(p) };
    }
    let bigger: Vec<_> = (0..240).map(|_| heap.malloc(200).unwrap()).collect();
    assert_eq!(
        heap.stats().pages_mapped,
        mapped,
        "the freed slabs' pages were reused"
    );
    check_heap(&heap);
    drop((bigger, keep));
}

#[test]
fn large_blocks_are_spans_of_shared_arenas() {
    let (mut heap, _) = heap();
    let _small = heap.malloc(16).unwrap();
    let p = heap.malloc(MAX_SMALL_BYTES + 1).unwrap();
    // SAFETY: p is live.
    assert_eq!(unsafe { heap.usable_size(p) }, Some(3 * 4096));
    // SAFETY: the newest arena heads the list.
    let arena = unsafe { heap.arenas.head().unwrap().as_ref() };
    assert!(!arena.alone, "a large block shares its arena");
    assert!(arena.start <= addr(p) && addr(p) < arena.end());
    check_heap(&heap);
}

#[test]
fn blocks_over_64_kib_are_mappings_of_their_own() {
    let (mut heap, _) = heap();
    let p = heap.malloc(MAX_SHARED_BYTES + 1).unwrap();
    // SAFETY: the newest arena heads the list; p is live.
    let arena = unsafe { heap.arenas.head().unwrap().as_ref() };
    assert!(arena.alone);
    assert_eq!(
        (arena.start, arena.bytes),
        (addr(p), MAX_SHARED_BYTES + 4096)
    );
    check_heap(&heap);
}

#[test]
fn a_large_block_grows_into_the_free_span_after_it_and_shrinks_in_place() {
    let (mut heap, _) = heap();
    // A 10-page arena, idle once its block is freed: the next large block
    // takes its first 5 pages and leaves 5 free after it.
    let first = heap.malloc(40_000).unwrap();
    // SAFETY: live, freed once.
    unsafe { heap.free(first) };
    let p = heap.malloc(20_000).unwrap();
    assert_eq!(p, first, "the idle arena served the next block");
    // SAFETY: p has 20 000 bytes.
    unsafe { p.as_ptr().add(19_999).write(7) };
    // SAFETY: p is live; the result replaces it.
    assert_eq!(
        unsafe { heap.realloc(p, 36_000) },
        Some(p),
        "grown in place"
    );
    // SAFETY: p is live, 9 pages now, its bytes kept.
    assert_eq!(
        unsafe { (heap.usable_size(p), p.as_ptr().add(19_999).read()) },
        (Some(9 * 4096), 7)
    );
    check_heap(&heap);
    // SAFETY: p is live; the result replaces it.
    assert_eq!(
        unsafe { heap.realloc(p, 12_000) },
        Some(p),
        "shrunk in place"
    );
    // SAFETY: p is live.
    assert_eq!(unsafe { heap.usable_size(p) }, Some(3 * 4096));
    check_heap(&heap);
}

#[test]
#[cfg(not(miri))] // Miri does not model mremap
fn a_freed_big_block_is_unmapped_past_the_idle_budget() {
    let mut heap = FastHeap::new(MmapPages::new());
    let _small = heap.malloc(16).unwrap();
    let p = heap.malloc(2 << 20).unwrap();
    let unmapped = heap.stats().pages_unmapped;
    // SAFETY: live, freed once.
    unsafe { heap.free(p) };
    assert_eq!(heap.idle_bytes, 0, "2 MiB is over the idle budget");
    assert_eq!(heap.stats().pages_unmapped - unmapped, 512);
    let q = heap.malloc(3 << 20).unwrap();
    // SAFETY: q has 3 MiB.
    unsafe { q.as_ptr().write_bytes(1, 3 << 20) };
    check_heap(&heap);
}

#[test]
#[cfg(not(miri))] // Miri does not model mremap
fn a_large_block_is_resized_where_it_is_when_mremap_can() {
    let mut heap = FastHeap::new(MmapPages::new());
    let p = heap.malloc(10_000).unwrap();
    // SAFETY: p is live; the result replaces it.
    let q = unsafe { heap.realloc(p, 5000 * 4096) }.unwrap();
    // SAFETY: q has 5000 pages; the result replaces it.
    assert_eq!(
        unsafe { heap.realloc(q, 3000 * 4096) },
        Some(q),
        "shrinking never moves"
    );
    check_heap(&heap);
}

#[test]
fn realloc_within_a_class_stays_put() {
    let (mut heap, _) = heap();
    let p = heap.malloc(100).unwrap();
    // SAFETY: p is live; the result replaces it.
    assert_eq!(unsafe { heap.realloc(p, 110) }, Some(p));
}

#[test]
fn realloc_moves_between_classes_keeping_bytes() {
    let (mut heap, _) = heap();
    let mut p = heap.malloc(10).unwrap();
    // SAFETY: p has 10 bytes.
    unsafe { p.as_ptr().copy_from(b"0123456789".as_ptr(), 10) };
    for size in [100, 5000, 40_000, 3_000_000, 60_000, 20, 10] {
        // SAFETY: p is live; the result replaces it.
        p = unsafe { heap.realloc(p, size) }.unwrap();
        // SAFETY: p has at least 10 bytes.
        let bytes = unsafe { std::slice::from_raw_parts(p.as_ptr(), 10) };
        assert_eq!(bytes, b"0123456789", "after realloc to {size}");
    }
    check_heap(&heap);
}

#[test]
fn a_big_block_grows_by_remapping_its_pages() {
    let (mut heap, _) = heap();
    let p = heap.malloc(2 << 20).unwrap();
    // SAFETY: p has 2 MiB.
    unsafe { p.as_ptr().add((2 << 20) - 1).write(7) };
    let mapped = heap.stats().pages_mapped;
    // SAFETY: p is live; the result replaces it.
    let q = unsafe { heap.realloc(p, 4 << 20) }.unwrap();
    // SAFETY: q has 4 MiB, the first 2 MiB kept.
    assert_eq!(unsafe { q.as_ptr().add((2 << 20) - 1).read() }, 7);
    // One new mapping of 4 MiB (this page source's remap is map, copy,
    // unmap), and at most six page-map nodes mapped ahead of the move.
    let new_pages = heap.stats().pages_mapped - mapped;
    assert!(
        (1024..=1030).contains(&new_pages),
        "{new_pages} pages mapped"
    );
    // SAFETY: q is live.
    assert_eq!(unsafe { heap.usable_size(q) }, Some(4 << 20));
}

#[test]
fn aligned_blocks_from_16_bytes_to_a_megabyte() {
    let (mut heap, _) = heap();
    let mut live = Vec::new();
    for shift in 4..=20 {
        for size in [1, 100, 5000, 70_000] {
            let align = 1usize << shift;
            let p = heap.malloc_aligned(align, size).unwrap();
            assert!(
                addr(p).is_multiple_of(align),
                "aligned({align}, {size}) = {p:p}"
            );
            // SAFETY: p is live.
            assert!(unsafe { heap.usable_size(p) }.unwrap() >= size);
            live.push(p);
        }
    }
    for p in live {
        // SAFETY: live, freed once.
        unsafe { heap.free(p) };
    }
    check_heap(&heap);
    assert_eq!(heap.idle_bytes, arena_bytes(&heap), "every arena idle");
}

#[test]
fn calloc_zeroes_reused_blocks_and_refuses_overflow() {
    let (mut heap, _) = heap();
    let dirty = heap.malloc(64).unwrap();
    // SAFETY: 64 bytes, then freed once.
    unsafe {
        dirty.as_ptr().write_bytes(0xFF, 64);
        heap.free(dirty);
    }
    let p = heap.calloc(8, 8).unwrap();
    assert_eq!(p, dirty, "the dirty block came back");
    // SAFETY: p has 64 bytes.
    assert!(unsafe { std::slice::from_raw_parts(p.as_ptr(), 64) }
        .iter()
        .all(|&b| b == 0));
    assert_eq!(heap.calloc(usize::MAX / 2 + 2, 2), None);
}

#[test]
fn out_of_memory_is_none_and_keeps_blocks() {
    let (mut heap, refuse) = heap();
    let p = heap.malloc(100).unwrap();
    // SAFETY: p has 100 bytes.
    unsafe { p.as_ptr().write_bytes(0xAB, 100) };
    refuse.set(true);
    assert_eq!(heap.malloc(1_000_000), None);
    assert_eq!(heap.malloc_aligned(1 << 16, 100), None);
    // SAFETY: p is live; on None it stays.
    assert_eq!(unsafe { heap.realloc(p, 1_000_000) }, None);
    // SAFETY: p still has 100 bytes.
    assert!(unsafe { std::slice::from_raw_parts(p.as_ptr(), 100) }
        .iter()
        .all(|&b| b == 0xAB));
    let fill = heap.malloc(MAX_SMALL_BYTES).unwrap_or(p); // the arena's last pages, if it has room
    refuse.set(true);
    // SAFETY: p is live; shrinking must not fail, moved or not.
    let q = unsafe { heap.realloc(p, 10) }.expect("shrinking never fails");
    // SAFETY: q has at least 10 bytes.
    assert!(unsafe { std::slice::from_raw_parts(q.as_ptr(), 10) }
        .iter()
        .all(|&b| b == 0xAB));
    refuse.set(false);
    let _ = fill;
    check_heap(&heap);
}

/// Runs `f` in a child process and returns the signal that ended it.
#[cfg(not(miri))] // Miri does not run fork
fn child_signal(f: impl FnOnce()) -> Option<i32> {
    // SAFETY: the child only runs f (the heap, write(2), abort) and _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // Silence the child's message: the test only looks at how it ended.
        // SAFETY: dup2 onto stderr of this child only.
        unsafe { libc::dup2(libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY), 2) };
        f();
        // SAFETY: ends the child without running the parent's test harness.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status))
}

#[test]
#[cfg(not(miri))] // Miri does not run fork
fn a_double_free_stops_the_program() {
    let signal = child_signal(|| {
        let (mut heap, _) = heap();
        let _keep = heap.malloc(24).unwrap();
        let p = heap.malloc(24).unwrap();
        // SAFETY: deliberately wrong: the second free is the bug under test.
        unsafe {
            heap.free(p);
            heap.free(p);
        }
    });
    assert_eq!(signal, Some(libc::SIGABRT));
}

#[test]
#[cfg(not(miri))] // Miri does not run fork
fn freeing_a_foreign_pointer_stops_the_program() {
    let signal = child_signal(|| {
        let (mut heap, _) = heap();
        let _keep = heap.malloc(24).unwrap();
        let mut on_stack = [0u8; 32];
        // SAFETY: deliberately wrong: the stack is not the heap's.
        unsafe { heap.free(NonNull::new(on_stack.as_mut_ptr()).unwrap()) };
    });
    assert_eq!(signal, Some(libc::SIGABRT));
}

#[test]
#[cfg(not(miri))] // Miri does not run fork
fn freeing_inside_a_block_stops_the_program() {
    let signal = child_signal(|| {
        let (mut heap, _) = heap();
        let p = heap.malloc(64).unwrap();
        // SAFETY: deliberately wrong: 16 bytes into a block.
        unsafe { heap.free(p.add(16)) };
    });
    assert_eq!(signal, Some(libc::SIGABRT));
}

/// A tiny deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn size(&mut self) -> usize {
        match self.below(10) {
            0..=5 => self.below(130),
            6..=8 => self.below(5000),
            _ => self.below(120_000),
        }
    }
}

/// A live block of the model: where, how big, and the byte it is filled with.
struct Live {
    size: usize,
    fill: u8,
}

/// Random mallocs, callocs, aligned blocks, reallocs and frees against a
/// model; after every step: blocks aligned, apart, holding their bytes,
/// usable size at least their size, free blocks touching no live block,
/// `free_length` matching the walk, and `check_heap`.
#[test]
fn random_operations_keep_the_contract() {
    for seed in 1..=6u64 {
        let (mut heap, _) = heap();
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut live: BTreeMap<usize, Live> = BTreeMap::new();
        for step in 0..1500 {
            random_step(&mut heap, &mut rng, &mut live, step);
            if step % 25 == 0 {
                check_all(&heap, &live);
            }
        }
        for &at in live.keys() {
            // SAFETY: every model block is live, freed once here.
            unsafe { heap.free(NonNull::new(at as *mut u8).unwrap()) };
        }
        check_heap(&heap);
        assert!(
            heap.idle_bytes <= heap.idle_budget(),
            "seed {seed}: too much kept idle"
        );
        let in_use = arena_bytes(&heap) - heap.idle_bytes;
        assert_eq!(
            in_use, 0,
            "seed {seed}: memory in use after freeing everything"
        );
        let stats = heap.stats();
        assert_eq!(stats.chunks_allocated, stats.chunks_freed, "seed {seed}");
    }
}

fn random_step(
    heap: &mut FastHeap<Pages>,
    rng: &mut Rng,
    live: &mut BTreeMap<usize, Live>,
    step: usize,
) {
    let fill = (step % 251) as u8 + 1;
    let choice = rng.below(10);
    if choice < 4 || live.is_empty() {
        let size = rng.size();
        let (p, zero) = match rng.below(3) {
            0 => (heap.malloc(size), false),
            1 => (heap.calloc(1, size), true),
            _ => (heap.malloc_aligned(1 << (4 + rng.below(9)), size), false),
        };
        let p = addr(p.expect("memory is plentiful"));
        if zero {
            // SAFETY: a live block of `size` bytes.
            assert!(unsafe { std::slice::from_raw_parts(p as *const u8, size) }
                .iter()
                .all(|&b| b == 0));
        }
        // SAFETY: as above.
        unsafe { (p as *mut u8).write_bytes(fill, size) };
        assert!(
            live.insert(p, Live { size, fill }).is_none(),
            "{p:#x} handed out twice"
        );
        return;
    }
    let at = *live.keys().nth(rng.below(live.len())).unwrap();
    let block = live.remove(&at).unwrap();
    let ptr = NonNull::new(at as *mut u8).unwrap();
    if choice < 7 {
        let size = rng.size();
        // SAFETY: a live block; the result replaces it.
        let q = addr(unsafe { heap.realloc(ptr, size) }.expect("memory is plentiful"));
        let kept = size.min(block.size);
        // SAFETY: q has at least `size` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(q as *const u8, kept) };
        assert!(bytes.iter().all(|&b| b == block.fill), "realloc lost bytes");
        // SAFETY: as above.
        unsafe { (q as *mut u8).write_bytes(fill, size) };
        live.insert(q, Live { size, fill });
    } else {
        // SAFETY: a live block, freed once.
        unsafe { heap.free(ptr) };
    }
}

fn check_all(heap: &FastHeap<Pages>, live: &BTreeMap<usize, Live>) {
    let mut end = 0;
    for (&at, block) in live {
        assert!(at.is_multiple_of(16), "{at:#x} misaligned");
        assert!(at >= end, "block at {at:#x} overlaps the one before it");
        end = at + block.size.max(1);
        // SAFETY: a live block of the model.
        let usable = unsafe { heap.usable_size(NonNull::new(at as *mut u8).unwrap()) }.unwrap();
        assert!(usable >= block.size, "usable {usable} < {}", block.size);
        // SAFETY: as above.
        let bytes = unsafe { std::slice::from_raw_parts(at as *const u8, block.size) };
        assert!(
            bytes.iter().all(|&b| b == block.fill),
            "block at {at:#x} lost its bytes"
        );
    }
    let free = heap.free_blocks();
    assert_eq!(
        free.len(),
        heap.stats().free_length,
        "free_length and the walk"
    );
    for f in free {
        let before = live.range(..f.end()).next_back();
        if let Some((&at, block)) = before {
            assert!(
                at + block.size.max(1) <= f.addr || at >= f.end(),
                "free block {f:?} overlaps {at:#x}"
            );
        }
    }
    check_heap(heap);
}
// END SOLUTION
