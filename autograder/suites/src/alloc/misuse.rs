//! Misuse that `free` must stop loudly, as the lesson pages promise from
//! lesson 3 on: a double free, and a pointer `malloc` never returned. A
//! panic of the heap's own code (its message naming the bug) is the pass;
//! returning as if nothing happened is the failure, since the heap is then
//! corrupt (a chunk twice on the free list, a "header" made of user bytes).

use heaplab_kit::Heap;

use super::check::Failure;
use super::session::Session;

/// `free(a0)` twice: the second must panic.
pub fn double_free_is_stopped<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let a = s.malloc(24)?;
    let _fence = s.malloc(24)?;
    let ptr = s.ptr(a);
    s.free(a)?;
    let stopped = s.free_misuse(ptr, "free(a0) again (a double free)")?;
    s.ensure(stopped.is_some(), || {
        Failure::new(
            "free(a0) a second time returned as if a0 were still live",
            "a panic naming the bug (\"double free?\"): the chunk's flags say it is free \
             already",
            "free returned",
        )
    })
}

/// `free(a0 + 32)`, inside a live block: must panic.
pub fn foreign_pointer_is_stopped<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let a = s.malloc(100)?;
    s.write(a)?;
    let inside = s.ptr(a).as_ptr().wrapping_add(32);
    let ptr = std::ptr::NonNull::new(inside).expect("inside a block");
    let stopped = s.free_misuse(ptr, "free(a0 + 32) (not a pointer malloc returned)")?;
    s.ensure(stopped.is_some(), || {
        Failure::new(
            "free of a pointer malloc never returned (32 bytes into a0) returned as if it \
             were a block",
            "a panic naming the bug: the 16 bytes in front of it are a0's data, not a \
             header with the check pattern",
            "free returned",
        )
        .at(inside as usize)
    })
}
