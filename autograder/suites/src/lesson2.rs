//! Lesson 2's suite: the bump allocator (`BumpHeap`).
//!
//! Random sequences check one property each (aligned, inside mapped pages,
//! no overlap, contents kept, page and chunk counts, no reuse, maps only when
//! needed); named scenarios check one idea each; fault injection checks that
//! a refused map gives `None` and breaks nothing.

use std::cell::Cell;
use std::rc::Rc;

use heaplab_kit::{align_up, Heap, ALIGN};

use crate::alloc::{
    self, fault, Check, CheckResult, Config, Done, Failure, InstrumentedPages, OpMix, PageEvent,
    Session, State,
};
use crate::harness::{Suite, Test};
use crate::own_pages::OwnPages;
use heaplab_protocol::checks;

/// The checks every lesson 2 and 3 test keeps on: the page source's
/// contract (and, always, blocks inside mapped pages).
pub(crate) const BASE: [Check; 1] = [Check::SourceContract];

/// Every check of a bump heap without headers.
pub(crate) const BUMP_CHECKS: [Check; 10] = [
    Check::SourceContract,
    Check::InsideMapped,
    Check::Aligned,
    Check::NoOverlap,
    Check::ContentsKept,
    Check::UsableSize,
    Check::PageStats,
    Check::ChunkStats,
    Check::NoFreeList,
    Check::NoReuse,
];

/// Random sequences per property: a bump heap is quick to check, so many.
pub(crate) const CASES: u32 = 256;

/// `base` plus `more`.
pub(crate) fn checks(more: &[Check]) -> Vec<Check> {
    BASE.iter().chain(more).copied().collect()
}

/// Bytes a bump heap carves for `size` with `header` bytes in front:
/// the size rounded up to 16 (at least 16), plus the header.
pub(crate) fn carved_bytes(size: usize, header: usize) -> Option<usize> {
    align_up(size.max(1), ALIGN)?.checked_add(header)
}

/// A check for bump heaps (lessons 2 and 3): a `malloc` maps pages only when
/// the request does not fit in what is left of the current run, and then
/// exactly one run of just enough whole pages.
pub(crate) fn maps_only_when_needed<H: Heap + 'static>(
    header: usize,
) -> impl Fn(&State<'_, H>) -> CheckResult {
    // (next free byte, end of the current run), as the bump heap should have them.
    let bump: Cell<Option<(usize, usize)>> = Cell::new(None);
    move |state| {
        let size = match state.done {
            Done::Start => {
                bump.set(None);
                return Ok(());
            }
            Done::Malloc { size, .. } => *size,
            _ => return Ok(()),
        };
        let Some(need) = carved_bytes(size, header) else {
            return Ok(());
        };
        let page = state.log.page_size();
        let maps: Vec<_> = state
            .page_events
            .iter()
            .filter_map(|e| match e {
                PageEvent::Mapped(m) => Some(*m),
                _ => None,
            })
            .collect();
        let left = bump.get().map_or(0, |(next, end)| end - next);
        let fits = need <= left;
        if maps.len() > 1 {
            return Err(Failure::new(
                format!("malloc({size}) mapped {} runs of pages", maps.len()),
                "at most one map call per malloc",
                maps.iter()
                    .map(|m| format!("map({})", m.len))
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
        if let Some(m) = maps.first() {
            let want = align_up(need, page).unwrap_or(usize::MAX);
            if fits {
                return Err(Failure::new(
                    format!("malloc({size}) mapped new pages although the block fits in the current run"),
                    format!("no map: {need} bytes needed, {left} bytes left in the current run"),
                    format!("map({})", m.len),
                )
                .at(m.addr));
            }
            if m.len != want {
                return Err(Failure::new(
                    format!("malloc({size}) mapped the wrong number of pages"),
                    format!(
                        "map({want}): {need} bytes rounded up to whole pages of {page} ({} page{})",
                        want / page,
                        if want / page == 1 { "" } else { "s" }
                    ),
                    format!("map({}) ({} pages)", m.len, m.len / page),
                )
                .at(m.addr));
            }
        }
        if let Done::Malloc { id: Some(id), .. } = state.done {
            let b = state.model.block(*id).expect("the new block is live");
            let start = b.addr - header;
            if let Some(m) = state.log.mapping_holding(start, need) {
                bump.set(Some((start + need, m.end())));
            }
        }
        Ok(())
    }
}

/// A scenario check: the page source's record after `what`.
pub(crate) fn expect_maps<H: Heap>(
    s: &Session<'_, H>,
    events_before: usize,
    want: &[usize],
    what: &str,
) -> Result<(), Failure> {
    let lens: Vec<usize> = s
        .log()
        .events_since(events_before)
        .iter()
        .filter_map(|e| match e {
            PageEvent::Mapped(m) => Some(m.len),
            _ => None,
        })
        .collect();
    let show = |l: &[usize]| {
        if l.is_empty() {
            "no map call".to_string()
        } else {
            l.iter()
                .map(|n| format!("map({n})"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    s.ensure(lens == want, || {
        Failure::new(
            format!("{what}: the heap mapped the wrong pages"),
            show(want),
            show(&lens),
        )
    })
}

/// Lesson 2's tests, over heaps made by `make` (`student::BumpHeap::new`).
pub fn suite<H, F>(make: F) -> Suite
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let make = Rc::new(make);
    let m = || make.clone();
    let prop = |more: &[Check]| Config::<H>::new(&checks(more)).cases(CASES);
    let tests = vec![
        // Properties, one idea each, over random sequences.
        alloc::property("blocks_are_aligned", m(), prop(&[Check::Aligned])),
        alloc::property(
            "blocks_are_inside_mapped_pages",
            m(),
            prop(&[Check::InsideMapped]),
        ),
        alloc::property("blocks_do_not_overlap", m(), prop(&[Check::NoOverlap])),
        alloc::property(
            "blocks_keep_their_contents",
            m(),
            prop(&[Check::ContentsKept]),
        ),
        alloc::property("stats_count_pages", m(), prop(&[Check::PageStats])),
        alloc::property(
            "stats_count_chunks",
            m(),
            prop(&[Check::ChunkStats, Check::NoFreeList]),
        ),
        alloc::property("freed_memory_is_not_reused", m(), prop(&[Check::NoReuse])),
        alloc::property(
            "maps_only_when_needed",
            m(),
            prop(&[]).hook(checks::MAPS_WHEN_NEEDED, maps_only_when_needed(0)),
        ),
        alloc::property(
            "survives_refused_maps",
            m(),
            Config::new(&BUMP_CHECKS)
                .ops(OpMix {
                    refuse_next_map: 1,
                    ..OpMix::default()
                })
                .cases(CASES),
        ),
        // Scenarios, one idea each.
        alloc::scenario("one_byte_costs_one_page", m(), prop(&[]), |s| {
            let page = s.page_size();
            let mark = s.log().event_count();
            s.malloc(1)?;
            expect_maps(s, mark, &[page], "a0 = malloc(1)")?;
            let mark = s.log().event_count();
            s.malloc(1)?;
            expect_maps(s, mark, &[], "a1 = malloc(1), with a0's page mostly empty")
        }),
        alloc::scenario(
            "small_blocks_fill_a_page",
            m(),
            prop(&[Check::NoOverlap]),
            |s| {
                let page = s.page_size();
                let mark = s.log().event_count();
                for _ in 0..page / 16 {
                    s.malloc(16)?;
                }
                let what = format!("{} blocks of 16 bytes", page / 16);
                expect_maps(s, mark, &[page], &what)?;
                let mark = s.log().event_count();
                s.malloc(16)?;
                expect_maps(s, mark, &[page], "one more block, with the page full")
            },
        ),
        alloc::scenario(
            "big_request_maps_whole_pages",
            m(),
            prop(&[Check::ContentsKept]),
            |s| {
                let page = s.page_size();
                let mark = s.log().event_count();
                let a = s.malloc(3 * page)?;
                expect_maps(s, mark, &[3 * page], "a0 = malloc(3 pages)")?;
                s.write(a)?;
                let mark = s.log().event_count();
                s.malloc(3 * page + 1)?;
                expect_maps(s, mark, &[4 * page], "a1 = malloc(3 pages + 1)")
            },
        ),
        alloc::scenario(
            "malloc_zero_is_unique_and_freeable",
            m(),
            prop(&[Check::Aligned, Check::NoOverlap, Check::ChunkStats]),
            malloc_zero_is_unique,
        ),
        alloc::scenario(
            "free_is_counted",
            m(),
            prop(&[Check::ChunkStats]),
            free_is_counted,
        ),
        // Fault injection.
        alloc::scenario(
            "refused_map_returns_none",
            m(),
            Config::new(&BUMP_CHECKS),
            |s| {
                let page = s.page_size();
                fault::survives_map_failure(s, &[24, 100, 3000], 2 * page, &[24, 5000])
            },
        ),
        alloc::scenario("first_map_refused", m(), Config::new(&BUMP_CHECKS), |s| {
            fault::first_map_fails(s, 1)
        }),
        alloc::scenario(
            "hopeless_request_returns_none",
            m(),
            Config::new(&BUMP_CHECKS),
            fault::hopeless_requests,
        ),
    ];
    Suite {
        tests,
        programs: vec![crate::trace::replay_program(&make)],
    }
}

/// Three `malloc(0)`: distinct pointers, each freeable.
pub(crate) fn malloc_zero_is_unique<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let ids = [s.malloc(0)?, s.malloc(0)?, s.malloc(0)?];
    for (i, &a) in ids.iter().enumerate() {
        for &b in &ids[i + 1..] {
            s.ensure(s.ptr(a) != s.ptr(b), || {
                Failure::new(
                    format!("malloc(0) returned the same pointer twice (a{a} and a{b})"),
                    "a unique pointer from every malloc(0)",
                    format!("{:p} twice", s.ptr(a)),
                )
            })?;
        }
    }
    for id in ids {
        s.free(id)?;
    }
    Ok(())
}

/// Three blocks, two freed: the stats count both frees.
pub(crate) fn free_is_counted<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let a = s.malloc(24)?;
    let _b = s.malloc(40)?;
    let c = s.malloc(8)?;
    s.free(a)?;
    s.free(c)?;
    let stats = s.stats();
    s.ensure(stats.chunks_freed == 2, || {
        Failure::new(
            "stats().chunks_freed does not count the frees",
            "2",
            stats.chunks_freed.to_string(),
        )
    })
}

/// Lesson 2's tests plus four that check the student's own page source
/// (`MmapPages`), which `suite` cannot reach: the grader hands the heap its
/// own pages instead. `pages` makes the student's source where the tests
/// can look at it from the outside: `heaplab_suites::remote::own_pages` in
/// the checker, `heaplab_suites::own_pages::local_pages(student::MmapPages::new)`
/// in a local harness.
pub fn suite_with_pages<H, F, P, G>(make: F, pages: G) -> Suite
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
    P: OwnPages + 'static,
    G: Fn() -> P + 'static,
{
    let mut suite = suite(make);
    let pages = Rc::new(pages);
    let p = || pages.clone();
    suite.tests.extend([
        page_source_test(
            "page_source_reports_the_page_size",
            p(),
            reports_the_page_size,
        ),
        page_source_test("page_source_maps_zeroed_pages", p(), maps_zeroed_pages),
        page_source_test("page_source_unmaps", p(), unmaps),
        page_source_test("page_source_refusal_is_none", p(), refusal_is_none),
    ]);
    suite
}

fn page_source_test<P, G>(
    name: &'static str,
    pages: Rc<G>,
    body: fn(&mut P) -> Result<(), Failure>,
) -> Test
where
    P: OwnPages + 'static,
    G: Fn() -> P + 'static,
{
    Test::new(name, move |_ctx| body(&mut pages()))
}

/// `page_size()` is the OS's page size.
fn reports_the_page_size(pages: &mut impl OwnPages) -> Result<(), Failure> {
    let want = os_page_size();
    let got = pages.page_size()?;
    ensure(
        got == want,
        "page_size() is not the OS's page size",
        format!("{want} (sysconf(_SC_PAGESIZE))"),
        got.to_string(),
    )
}

/// `map` returns fresh, zero-filled, page-aligned memory of the length asked.
fn maps_zeroed_pages(pages: &mut impl OwnPages) -> Result<(), Failure> {
    let page = os_page_size();
    let len = 3 * page;
    let Some(addr) = pages.map(len)? else {
        return Err(Failure::new(
            format!("map({len}) returned None"),
            "three fresh pages",
            "None",
        ));
    };
    ensure(
        addr.is_multiple_of(page),
        "map returned an address that is not page aligned",
        format!("a multiple of {page}"),
        format!("{addr:#x}"),
    )?;
    ensure(
        pages.is_mapped(addr, len)?,
        "map returned memory that is not mapped",
        format!("[{addr:#x}, {:#x}) mapped", addr + len),
        "not mapped (the kernel lists no mapping there)".to_string(),
    )?;
    let bytes = pages.read(addr, len)?;
    let nonzero = bytes.iter().position(|&b| b != 0);
    ensure(
        nonzero.is_none(),
        "fresh pages are not zero-filled",
        "every byte 0 (MAP_ANONYMOUS memory is zero-filled)".to_string(),
        format!("byte {} is not", nonzero.unwrap_or(0)),
    )?;
    pages.write(addr, &vec![0xA5; len])?;
    pages.unmap(addr, len)
}

/// `unmap` gives the pages back to the OS.
fn unmaps(pages: &mut impl OwnPages) -> Result<(), Failure> {
    let page = os_page_size();
    let Some(addr) = pages.map(2 * page)? else {
        return Err(Failure::new(
            "map(2 pages) returned None",
            "two fresh pages",
            "None",
        ));
    };
    pages.unmap(addr, 2 * page)?;
    ensure(
        !pages.is_mapped(addr, page)? && !pages.is_mapped(addr + page, page)?,
        "unmap left the pages mapped",
        format!("[{addr:#x}, {:#x}) unmapped (munmap)", addr + 2 * page),
        "still mapped".to_string(),
    )
}

/// A map of more than the address space returns `None`.
fn refusal_is_none(pages: &mut impl OwnPages) -> Result<(), Failure> {
    let page = os_page_size();
    // No address space holds this: mmap fails with ENOMEM.
    let len = usize::MAX - page + 1;
    let got = pages.map(len)?;
    ensure(
        got.is_none(),
        "map of more than the address space did not return None",
        "None (mmap returned MAP_FAILED, which is not a null pointer)".to_string(),
        format!("{got:?}"),
    )
}

fn ensure(ok: bool, what: &str, expected: String, found: String) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure::new(what, expected, found))
    }
}

fn os_page_size() -> usize {
    // SAFETY: sysconf only reads a system constant.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}
