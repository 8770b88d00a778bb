//! Lesson 2's named scenarios, one idea each, and its fault injection, as a
//! table ([`lesson2`]); lesson 3 runs most of the same functions again, with
//! headers.

use std::rc::Rc;

use heaplab_kit::Heap;

use super::BUMP_CHECKS;
use crate::alloc::{
    self, fault, Check, Config, Failure, InstrumentedPages, PageEvent, ScenarioFn, Session,
};
use crate::harness::Test;

/// A row of a scenario table: the test's name, the checks run after every
/// operation (besides the lesson's base), and the scenario.
pub(crate) type Row<H> = (&'static str, &'static [Check], ScenarioFn<H>);

/// Lesson 2's scenarios, then its fault injection.
pub(crate) fn lesson2<H: Heap>() -> Vec<Row<H>> {
    vec![
        ("one_byte_costs_one_page", &[], one_byte_costs_one_page),
        (
            "small_blocks_fill_a_page",
            &[Check::NoOverlap],
            small_blocks_fill_a_page,
        ),
        (
            "big_request_maps_whole_pages",
            &[Check::ContentsKept],
            big_request_maps_whole_pages,
        ),
        (
            "malloc_zero_is_unique_and_freeable",
            &[Check::Aligned, Check::NoOverlap, Check::ChunkStats],
            malloc_zero_is_unique,
        ),
        ("free_is_counted", &[Check::ChunkStats], free_is_counted),
        // Fault injection, with every check on.
        (
            "refused_map_returns_none",
            &BUMP_CHECKS,
            refused_map_returns_none,
        ),
        ("first_map_refused", &BUMP_CHECKS, first_map_refused),
        (
            "hopeless_request_returns_none",
            &BUMP_CHECKS,
            fault::hopeless_requests,
        ),
    ]
}

/// The tests of a scenario table; `config` makes each row's configuration
/// from its checks.
pub(crate) fn tests<H, F>(
    make: &Rc<F>,
    rows: &[Row<H>],
    config: impl Fn(&[Check]) -> Config<H>,
) -> Vec<Test>
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    rows.iter()
        .map(|&(name, checks, body)| alloc::scenario(name, make.clone(), config(checks), body))
        .collect()
}

/// `malloc(1)` maps one page; a second `malloc(1)` fits in it.
pub(crate) fn one_byte_costs_one_page<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let page = s.page_size();
    let mark = s.log().event_count();
    s.malloc(1)?;
    expect_maps(s, mark, &[page], "a0 = malloc(1)")?;
    let mark = s.log().event_count();
    s.malloc(1)?;
    expect_maps(s, mark, &[], "a1 = malloc(1), with a0's page mostly empty")
}

/// A page's worth of 16-byte blocks takes one page; one more takes another.
fn small_blocks_fill_a_page<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    fill_a_page(s, 16, "")
}

/// A page's worth of 16-byte blocks, each taking `carved` bytes of the run
/// (`with_headers` says so in the message), takes one page; one more takes
/// another.
pub(crate) fn fill_a_page<H: Heap>(
    s: &mut Session<'_, H>,
    carved: usize,
    with_headers: &str,
) -> Result<(), Failure> {
    let page = s.page_size();
    let mark = s.log().event_count();
    for _ in 0..page / carved {
        s.malloc(16)?;
    }
    let what = format!("{} blocks of 16 bytes{with_headers}", page / carved);
    expect_maps(s, mark, &[page], &what)?;
    let mark = s.log().event_count();
    s.malloc(16)?;
    expect_maps(s, mark, &[page], "one more block, with the page full")
}

/// A request of several pages maps just enough whole pages.
fn big_request_maps_whole_pages<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let page = s.page_size();
    let mark = s.log().event_count();
    let a = s.malloc(3 * page)?;
    expect_maps(s, mark, &[3 * page], "a0 = malloc(3 pages)")?;
    s.write(a)?;
    let mark = s.log().event_count();
    s.malloc(3 * page + 1)?;
    expect_maps(s, mark, &[4 * page], "a1 = malloc(3 pages + 1)")
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

/// A map refused in the middle: `None`, and the heap goes on.
pub(crate) fn refused_map_returns_none<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let page = s.page_size();
    fault::survives_map_failure(s, &[24, 100, 3000], 2 * page, &[24, 5000])
}

/// The very first map refused: `None`, then blocks once maps work.
pub(crate) fn first_map_refused<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    fault::first_map_fails(s, 1)
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
