//! Four tests of the student's own page source (lesson 2's `MmapPages`),
//! which the heap tests cannot reach: the grader hands the heap its own
//! instrumented pages instead.

use std::rc::Rc;

use crate::alloc::Failure;
use crate::harness::Test;
use crate::own_pages::OwnPages;

/// A test of the student's page source.
type PageTest<P> = fn(&mut P) -> Result<(), Failure>;

/// The page source tests, over sources made by `pages`.
pub(super) fn tests<P, G>(pages: Rc<G>) -> Vec<Test>
where
    P: OwnPages + 'static,
    G: Fn() -> P + 'static,
{
    let rows: [(&'static str, PageTest<P>); 4] = [
        ("page_source_reports_the_page_size", reports_the_page_size),
        ("page_source_maps_zeroed_pages", maps_zeroed_pages),
        ("page_source_unmaps", unmaps),
        ("page_source_refusal_is_none", refusal_is_none),
    ];
    rows.into_iter()
        .map(|(name, body)| {
            let pages = pages.clone();
            Test::new(name, move |_ctx| body(&mut pages()))
        })
        .collect()
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
