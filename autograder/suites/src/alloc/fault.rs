//! Fault injection: the page source refuses, and the heap must say `None`,
//! keep what it handed out, and go on working.

use heaplab_kit::Heap;

use super::check::Failure;
use super::session::Session;

/// Mallocs and writes a block of each size in `before`, makes the next map
/// fail, asks for `failing` bytes (which must need fresh pages) and expects
/// `None`; the checks confirm the earlier blocks kept their bytes. Then frees
/// the earlier blocks and mallocs, writes and frees each size in `after`.
pub fn survives_map_failure<H: Heap>(
    s: &mut Session<'_, H>,
    before: &[usize],
    failing: usize,
    after: &[usize],
) -> Result<(), Failure> {
    let mut ids = Vec::new();
    for &size in before {
        let id = s.malloc(size)?;
        s.write(id)?;
        ids.push(id);
    }
    s.refuse_next_map()?;
    let got = s.try_malloc(failing)?;
    let refused = !s.log().failure_pending();
    s.ensure(got.is_none(), || {
        if refused {
            Failure::new(
                format!("malloc({failing}) returned a block after the page source refused to map"),
                "None: the pages it needs were refused",
                "a block",
            )
        } else {
            Failure::new(
                format!("malloc({failing}) did not ask the page source for pages"),
                format!("a map call: {failing} bytes do not fit in what the heap has mapped"),
                "a block and no map call",
            )
        }
    })?;
    for id in ids {
        s.free(id)?;
    }
    for &size in after {
        let id = s.malloc(size)?;
        s.write(id)?;
        s.free(id)?;
    }
    Ok(())
}

/// Every map fails from the start: `malloc(size)` must return `None` (not
/// panic), and once maps work again the heap serves `size` normally.
pub fn first_map_fails<H: Heap>(s: &mut Session<'_, H>, size: usize) -> Result<(), Failure> {
    s.log().refuse_all_maps(true);
    s.note("(the page source refuses every map)");
    let got = s.try_malloc(size)?;
    s.ensure(got.is_none(), || {
        Failure::new(
            format!("malloc({size}) returned a block while the page source refused every map"),
            "None",
            "a block",
        )
    })?;
    s.log().refuse_all_maps(false);
    s.note("(the page source maps again)");
    let id = s.malloc(size)?;
    s.write(id)?;
    s.free(id)
}

/// Requests no heap can serve (sizes near `usize::MAX`, where rounding up
/// overflows, and a terabyte the page source refuses) return `None` without
/// panicking; the heap keeps working.
pub fn hopeless_requests<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    s.log().refuse_maps_over(Some(1 << 30));
    let page = s.page_size();
    for size in [usize::MAX, usize::MAX - page + 1, usize::MAX / 2, 1 << 40] {
        let got = s.try_malloc(size)?;
        s.ensure(got.is_none(), || {
            Failure::new(
                format!("malloc({size}) returned a block"),
                "None: no heap can serve that (rounding it up to pages overflows, or the source refuses)",
                "a block",
            )
        })?;
    }
    s.log().refuse_maps_over(None);
    let id = s.malloc(24)?;
    s.write(id)?;
    s.free(id)
}
