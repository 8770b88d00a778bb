//! Rust's allocator contract (`core::alloc::GlobalAlloc`) on the heap behind
//! the student's lock: the layout's alignment honoured by `alloc`,
//! `alloc_zeroed` and `realloc`; zeroed memory zero; contents kept by
//! `realloc`; null (never a panic) when memory runs out.

use std::alloc::{GlobalAlloc, Layout};
use std::rc::Rc;

use heaplab_protocol::Failure;

use super::shared::SharedApi;
use crate::harness::Test;

/// Alignments asked for, from a byte to a page.
const ALIGNS: [usize; 8] = [1, 2, 8, 16, 32, 64, 256, 4096];
/// Sizes asked for, from a byte to past lesson 6's big threshold.
const SIZES: [usize; 5] = [1, 24, 100, 3000, 70_000];
/// The byte every live block is filled with.
const FILL: u8 = 0xC3;

/// The contract's test; `shared` makes the heap.
pub fn test<S: SharedApi + 'static, G: Fn() -> S + 'static>(shared: &Rc<G>) -> Test {
    let shared = shared.clone();
    Test::new("global_alloc_contract", move |_| contract(&shared()))
}

/// Every alignment with every size, then exhaustion.
fn contract(shared: &impl SharedApi) -> Result<(), Failure> {
    let heap = shared.global();
    for align in ALIGNS {
        for size in SIZES {
            one_layout(heap, Layout::from_size_align(size, align).expect("valid"))?;
        }
    }
    shared.refuse_maps(true);
    exhaustion_is_null(heap)
}

/// `alloc`, `alloc_zeroed` and `realloc` with one layout.
fn one_layout(heap: &dyn GlobalAlloc, layout: Layout) -> Result<(), Failure> {
    let (size, align) = (layout.size(), layout.align());
    // SAFETY: a non-zero layout.
    let p = unsafe { heap.alloc(layout) };
    if p.is_null() || !(p as usize).is_multiple_of(align) {
        return Err(Failure::text(format!(
            "alloc(size {size}, align {align}) returned {p:p}: expected a non-null multiple of \
             {align}"
        )));
    }
    // SAFETY: p has `size` bytes.
    unsafe { p.write_bytes(FILL, size) };
    let z = zeroed(heap, layout)?;
    let (cur, cur_size) = reallocs(heap, p, layout)?;
    // SAFETY: cur is live with this layout (cur_size == size).
    unsafe {
        heap.dealloc(
            cur,
            Layout::from_size_align(cur_size, align).expect("valid"),
        )
    };
    // SAFETY: z is live with `layout`.
    unsafe { heap.dealloc(z, layout) };
    Ok(())
}

/// `alloc_zeroed` right after a dirty block of the same layout was freed:
/// the block, all zero.
fn zeroed(heap: &dyn GlobalAlloc, layout: Layout) -> Result<*mut u8, Failure> {
    let (size, align) = (layout.size(), layout.align());
    // A freed dirty block first, so that alloc_zeroed is likely to get
    // used memory back, not a fresh (already zero) page.
    // SAFETY: a non-zero layout; the block is freed at once.
    unsafe {
        let dirty = heap.alloc(layout);
        if !dirty.is_null() {
            dirty.write_bytes(0x5A, size);
            heap.dealloc(dirty, layout);
        }
    }
    // SAFETY: a non-zero layout.
    let z = unsafe { heap.alloc_zeroed(layout) };
    if z.is_null() || !(z as usize).is_multiple_of(align) {
        return Err(Failure::text(format!(
            "alloc_zeroed(size {size}, align {align}) returned {z:p}: expected a non-null \
             multiple of {align}"
        )));
    }
    // SAFETY: z has `size` bytes.
    let zeros = unsafe { std::slice::from_raw_parts(z, size) };
    if let Some(at) = zeros.iter().position(|&b| b != 0) {
        return Err(Failure::text(format!(
            "alloc_zeroed(size {size}, align {align}): byte {at} is {:#04x}, expected 0",
            zeros[at]
        )));
    }
    Ok(z)
}

/// `p`, live with `layout` and filled, shrunk, grown and brought back to
/// its size by `realloc`: the block and its size, contents kept throughout.
fn reallocs(
    heap: &dyn GlobalAlloc,
    p: *mut u8,
    layout: Layout,
) -> Result<(*mut u8, usize), Failure> {
    let (size, align) = (layout.size(), layout.align());
    let (mut cur, mut cur_size) = (p, size);
    for new_size in [size / 2 + 1, size * 3, size] {
        let old = Layout::from_size_align(cur_size, align).expect("valid");
        // SAFETY: cur is live with layout `old`; new_size is valid for align.
        let q = unsafe { heap.realloc(cur, old, new_size) };
        if q.is_null() || !(q as usize).is_multiple_of(align) {
            return Err(Failure::text(format!(
                "realloc(size {cur_size} → {new_size}, align {align}) returned {q:p}: expected a \
                 non-null multiple of {align} (realloc keeps the layout's alignment)"
            )));
        }
        let kept = cur_size.min(new_size);
        // SAFETY: q has at least `kept` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(q, kept) };
        if let Some(at) = bytes.iter().position(|&b| b != FILL) {
            return Err(Failure::text(format!(
                "realloc(size {cur_size} → {new_size}, align {align}) lost the contents: byte \
                 {at} is {:#04x}, expected 0xc3",
                bytes[at]
            )));
        }
        // SAFETY: q has new_size bytes.
        unsafe { q.write_bytes(FILL, new_size) };
        (cur, cur_size) = (q, new_size);
    }
    Ok((cur, cur_size))
}

/// With every map refused, a gigabyte is null, from `alloc` and from
/// `alloc_zeroed`.
fn exhaustion_is_null(heap: &dyn GlobalAlloc) -> Result<(), Failure> {
    let huge = Layout::from_size_align(1 << 30, 16).expect("valid");
    // SAFETY: a non-zero layout.
    let p = unsafe { heap.alloc(huge) };
    if !p.is_null() {
        return Err(Failure::text(format!(
            "alloc of 1 GiB while the page source refuses every map returned {p:p}: expected null"
        )));
    }
    // SAFETY: a non-zero layout.
    let z = unsafe { heap.alloc_zeroed(Layout::from_size_align(1 << 30, 4096).expect("valid")) };
    if !z.is_null() {
        return Err(Failure::text(format!(
            "alloc_zeroed of 1 GiB while the page source refuses every map returned {z:p}: \
             expected null"
        )));
    }
    Ok(())
}
