//! Lesson 7's reference heap with one bug planted, chosen at run time by the
//! file `HEAPLAB_MUTANT_FILE` names at build time, so that one build serves
//! every case of `autograder/tests/lesson7_mutants.rs`, which grades this
//! crate as lesson 7's solution of a small course (`../../course.toml`):
//!
//! - `einval`: `posix_memalign` accepts any alignment (no EINVAL);
//! - `calloc-wraps`: `calloc` computes `n * size` with wrap-around and does
//!   not zero;
//! - `no-stats`: nothing is printed at exit with `HEAPLAB_STATS=1`;
//! - `realloc-no-copy`: `realloc` moves every block without copying it;
//! - `no-atfork`: the Rust allocator `Malloc` uses a heap with no fork
//!   handlers;
//! - `forwards-to-libc`: the C functions hand everything to the C library's
//!   own malloc (`__libc_malloc`…): programs run the same, the library is
//!   loaded, but its heap is never used;
//! - anything else, or no file: the reference behaviour.
#![forbid(unsafe_op_in_unsafe_fn)]

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicU8, Ordering};

use heaplab_kit::{Heap, SharedHeap, Stats};
use lesson7_solution::MmapPages;
pub use lesson7_solution::{BigHeap, LockedHeap};

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mutant {
    None = 1,
    Einval,
    CallocWraps,
    NoStats,
    ReallocNoCopy,
    NoAtfork,
    ForwardsToLibc,
}

/// The planted bug, read once (no allocation: this runs inside malloc).
fn mutant() -> Mutant {
    static MODE: AtomicU8 = AtomicU8::new(0);
    let known = MODE.load(Ordering::Relaxed);
    if let Some(m) = ALL.iter().find(|m| **m as u8 == known) {
        return *m;
    }
    let m = match choice(&mut [0; 32]) {
        b"einval" => Mutant::Einval,
        b"calloc-wraps" => Mutant::CallocWraps,
        b"no-stats" => Mutant::NoStats,
        b"realloc-no-copy" => Mutant::ReallocNoCopy,
        b"no-atfork" => Mutant::NoAtfork,
        b"forwards-to-libc" => Mutant::ForwardsToLibc,
        _ => Mutant::None,
    };
    MODE.store(m as u8, Ordering::Relaxed);
    m
}

const ALL: [Mutant; 7] = [
    Mutant::None,
    Mutant::Einval,
    Mutant::CallocWraps,
    Mutant::NoStats,
    Mutant::ReallocNoCopy,
    Mutant::NoAtfork,
    Mutant::ForwardsToLibc,
];

/// The first line of the file `HEAPLAB_MUTANT_FILE` named when the crate
/// was built (empty when it named none, or the file is missing). The
/// grader runs the programs with a cleared environment, so the choice
/// travels in a file; one build serves every case.
fn choice(buf: &mut [u8; 32]) -> &[u8] {
    let Some(path) = option_env!("HEAPLAB_MUTANT_FILE") else {
        return &[];
    };
    let mut name = [0u8; 4096];
    if path.len() >= name.len() {
        return &[];
    }
    name[..path.len()].copy_from_slice(path.as_bytes());
    // SAFETY: `name` is NUL-terminated (zeroed past the path).
    let fd = unsafe { libc::open(name.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return &[];
    }
    // SAFETY: reads at most buf.len() bytes into buf.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    // SAFETY: our own descriptor.
    unsafe { libc::close(fd) };
    let n = usize::try_from(n).unwrap_or(0);
    let line = &buf[..n];
    let end = line.iter().position(|b| b.is_ascii_whitespace()).unwrap_or(n);
    &line[..end]
}

/// A process heap with no fork handlers (the `no-atfork` bug).
static PLAIN: LockedHeap<BigHeap<MmapPages>> = LockedHeap::lazy(|| BigHeap::new(MmapPages::new()));

/// The Rust allocator, as `student::Malloc`.
pub struct Malloc;

// SAFETY: forwarded to allocators that keep the contract (the planted bug
// is about fork, not about the blocks).
unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        unsafe {
            if mutant() == Mutant::NoAtfork {
                PLAIN.alloc(layout)
            } else {
                lesson7_solution::Malloc.alloc(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded.
        unsafe {
            if mutant() == Mutant::NoAtfork {
                PLAIN.dealloc(ptr, layout)
            } else {
                lesson7_solution::Malloc.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded.
        unsafe {
            if mutant() == Mutant::NoAtfork {
                PLAIN.realloc(ptr, layout, new_size)
            } else {
                lesson7_solution::Malloc.realloc(ptr, layout, new_size)
            }
        }
    }
}

/// The counters of whichever heap `Malloc` uses.
pub fn process_stats() -> Stats {
    if mutant() == Mutant::NoAtfork {
        PLAIN.with_heap(|h| h.stats())
    } else {
        lesson7_solution::process_stats()
    }
}

#[cfg(feature = "preload")]
mod preload {
    use std::ffi::{c_int, c_void};
    use std::sync::atomic::{AtomicI32, Ordering};

    use lesson7_solution::global;

    use super::{mutant, Mutant};

    extern "C" {
        fn __libc_malloc(size: usize) -> *mut c_void;
        fn __libc_free(ptr: *mut c_void);
        fn __libc_calloc(n: usize, size: usize) -> *mut c_void;
        fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
        fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    }

    /// The `forwards-to-libc` bug: the C library's malloc does the work.
    fn forwards() -> bool {
        mutant() == Mutant::ForwardsToLibc
    }

    fn enomem(p: *mut u8) -> *mut c_void {
        if p.is_null() {
            // SAFETY: this thread's errno.
            unsafe { *libc::__errno_location() = libc::ENOMEM };
        }
        p.cast()
    }

    #[no_mangle]
    pub extern "C" fn malloc(size: usize) -> *mut c_void {
        if forwards() {
            // SAFETY: the C library's own malloc.
            return unsafe { __libc_malloc(size) };
        }
        enomem(global::malloc(size))
    }

    /// # Safety
    /// As C's free.
    #[no_mangle]
    pub unsafe extern "C" fn free(ptr: *mut c_void) {
        if forwards() {
            // SAFETY: the caller's promise; the block is the C library's.
            return unsafe { __libc_free(ptr) };
        }
        // SAFETY: the caller's promise.
        unsafe { global::free(ptr.cast()) }
    }

    #[no_mangle]
    pub extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
        if forwards() {
            // SAFETY: the C library's own calloc.
            return unsafe { __libc_calloc(n, size) };
        }
        if mutant() == Mutant::CallocWraps {
            return enomem(global::malloc(n.wrapping_mul(size)));
        }
        enomem(global::calloc(n, size))
    }

    /// # Safety
    /// As C's realloc.
    #[no_mangle]
    pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
        if forwards() {
            // SAFETY: the caller's promise; the block is the C library's.
            return unsafe { __libc_realloc(ptr, size) };
        }
        if mutant() == Mutant::ReallocNoCopy && !ptr.is_null() && size != 0 {
            let new = global::malloc(size);
            if !new.is_null() {
                // SAFETY: the caller's promise.
                unsafe { global::free(ptr.cast()) };
            }
            return enomem(new);
        }
        // SAFETY: the caller's promise.
        let new = unsafe { global::realloc(ptr.cast(), size) };
        if size == 0 {
            return new.cast();
        }
        enomem(new)
    }

    /// # Safety
    /// As POSIX's posix_memalign.
    #[no_mangle]
    pub unsafe extern "C" fn posix_memalign(
        out: *mut *mut c_void,
        align: usize,
        size: usize,
    ) -> c_int {
        let valid = align.is_power_of_two() && align % std::mem::size_of::<usize>() == 0;
        if !valid && mutant() != Mutant::Einval {
            return libc::EINVAL;
        }
        let p = if forwards() {
            // SAFETY: the C library's own memalign.
            unsafe { __libc_memalign(align, size) }.cast()
        } else {
            global::malloc_aligned(align.max(1).next_power_of_two(), size)
        };
        if p.is_null() {
            return libc::ENOMEM;
        }
        // SAFETY: the caller's promise.
        unsafe { out.write(p.cast()) };
        0
    }

    #[no_mangle]
    pub extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
        if !align.is_power_of_two() {
            // SAFETY: this thread's errno.
            unsafe { *libc::__errno_location() = libc::EINVAL };
            return std::ptr::null_mut();
        }
        if forwards() {
            // SAFETY: the C library's own memalign.
            return unsafe { __libc_memalign(align, size) };
        }
        enomem(global::malloc_aligned(align, size))
    }

    #[no_mangle]
    pub extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
        aligned_alloc(align, size)
    }

    /// # Safety
    /// As glibc's malloc_usable_size.
    #[no_mangle]
    pub unsafe extern "C" fn malloc_usable_size(ptr: *mut c_void) -> usize {
        if forwards() {
            return 0;
        }
        // SAFETY: the caller's promise.
        unsafe { global::usable_size(ptr.cast()) }
    }

    static STATS_FD: AtomicI32 = AtomicI32::new(-1);

    extern "C" fn at_load() {
        // SAFETY: a NUL-terminated name.
        let v = unsafe { libc::getenv(c"HEAPLAB_STATS".as_ptr()) };
        if !v.is_null() && mutant() != Mutant::NoStats {
            // SAFETY: duplicating a descriptor.
            let fd = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, 100) };
            STATS_FD.store(fd, Ordering::Relaxed);
        }
    }

    extern "C" fn at_exit() {
        let fd = STATS_FD.load(Ordering::Relaxed);
        if fd >= 0 {
            lesson7_solution::print_stats_to(fd);
        }
    }

    #[used]
    #[link_section = ".init_array"]
    static AT_LOAD: extern "C" fn() = at_load;
    #[used]
    #[link_section = ".fini_array"]
    static AT_EXIT: extern "C" fn() = at_exit;
}
