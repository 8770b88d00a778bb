//! The bump heap's rule about pages (lessons 2 and 3), checked after every
//! operation: a `malloc` maps pages only when the request does not fit in
//! what is left of the current run, and then exactly one run of just enough
//! whole pages.

use std::cell::Cell;

use heaplab_kit::{align_up, Heap, ALIGN};

use crate::alloc::{CheckResult, Done, Failure, Mapping, PageEvent, State};

/// Bytes a bump heap carves for `size` with `header` bytes in front:
/// the size rounded up to 16 (at least 16), plus the header.
pub(crate) fn carved_bytes(size: usize, header: usize) -> Option<usize> {
    align_up(size.max(1), ALIGN)?.checked_add(header)
}

/// The check, for a bump heap whose chunks have `header` bytes in front of
/// the payload (0 in lesson 2, 16 in lesson 3).
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
        let left = bump.get().map_or(0, |(next, end)| end - next);
        check_maps(state, size, need, left)?;
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

/// The maps `malloc(size)` made, for `need` bytes with `left` bytes left in
/// the current run: none if it fits, else one of just enough whole pages.
fn check_maps<H>(state: &State<'_, H>, size: usize, need: usize, left: usize) -> CheckResult {
    let page = state.log.page_size();
    let maps = maps_made(state);
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
                format!(
                    "malloc({size}) mapped new pages although the block fits in the current run"
                ),
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
    Ok(())
}

/// The mappings the operation just done made.
fn maps_made<H>(state: &State<'_, H>) -> Vec<Mapping> {
    state
        .page_events
        .iter()
        .filter_map(|e| match e {
            PageEvent::Mapped(m) => Some(*m),
            _ => None,
        })
        .collect()
}
