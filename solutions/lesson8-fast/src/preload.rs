//! The C functions, for `LD_PRELOAD` (lesson 7's, given; only with
//! `--features preload`).
//!
//! ```text
//! cargo build --release --features preload --lib
//! LD_PRELOAD=$PWD/../../target/release/liblesson8.so HEAPLAB_STATS=1 ls -l
//! ```
//!
//! The dynamic linker resolves every `malloc` in the program and its
//! libraries to the first definition it finds, and a preloaded library comes
//! first. Each function here must therefore never allocate through anything
//! but the heap itself while the lock is held, and never unwind: a panic
//! that reaches an `extern "C"` function aborts the process.

use std::ffi::{c_int, c_void};
use std::mem::size_of;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::global;

/// Sets C's `errno` for the calling thread.
fn set_errno(code: c_int) {
    // SAFETY: __errno_location returns this thread's errno, always valid.
    unsafe { *libc::__errno_location() = code };
}

/// The pointer C gets back: null with `errno = ENOMEM` on failure.
fn or_enomem(ptr: *mut u8) -> *mut c_void {
    if ptr.is_null() {
        set_errno(libc::ENOMEM);
    }
    ptr.cast()
}

#[no_mangle]
pub extern "C" fn malloc(size: usize) -> *mut c_void {
    or_enomem(global::malloc(size))
}

/// # Safety
/// `ptr` is null or a live block from these functions.
#[no_mangle]
pub unsafe extern "C" fn free(ptr: *mut c_void) {
    // SAFETY: the caller's promise.
    unsafe { global::free(ptr.cast()) }
}

#[no_mangle]
pub extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    or_enomem(global::calloc(n, size))
}

/// # Safety
/// `ptr` is null or a live block from these functions.
#[no_mangle]
pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: the caller's promise.
    let new = unsafe { global::realloc(ptr.cast(), size) };
    if new.is_null() && size != 0 {
        set_errno(libc::ENOMEM);
    }
    new.cast()
}

/// glibc's `reallocarray`: `realloc(ptr, n * size)`, refusing an overflow.
///
/// # Safety
/// `ptr` is null or a live block from these functions.
#[no_mangle]
pub unsafe extern "C" fn reallocarray(ptr: *mut c_void, n: usize, size: usize) -> *mut c_void {
    match n.checked_mul(size) {
        // SAFETY: the caller's promise.
        Some(total) => unsafe { realloc(ptr, total) },
        None => {
            set_errno(libc::ENOMEM);
            std::ptr::null_mut()
        }
    }
}

/// POSIX: `alignment` must be a power of two multiple of `sizeof(void *)`,
/// else EINVAL; ENOMEM when memory runs out. Returns the error instead of
/// setting `errno`, and leaves `*out` alone on failure.
///
/// # Safety
/// `out` is valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn posix_memalign(
    out: *mut *mut c_void,
    alignment: usize,
    size: usize,
) -> c_int {
    if !alignment.is_power_of_two() || !alignment.is_multiple_of(size_of::<*mut c_void>()) {
        return libc::EINVAL;
    }
    let ptr = global::malloc_aligned(alignment, size);
    if ptr.is_null() {
        return libc::ENOMEM;
    }
    // SAFETY: the caller promises out is writable.
    unsafe { out.write(ptr.cast()) };
    0
}

/// C11: null with EINVAL for an alignment that is not a power of two.
#[no_mangle]
pub extern "C" fn aligned_alloc(alignment: usize, size: usize) -> *mut c_void {
    if !alignment.is_power_of_two() {
        set_errno(libc::EINVAL);
        return std::ptr::null_mut();
    }
    or_enomem(global::malloc_aligned(alignment, size))
}

/// The old `memalign`: as `aligned_alloc`.
#[no_mangle]
pub extern "C" fn memalign(alignment: usize, size: usize) -> *mut c_void {
    aligned_alloc(alignment, size)
}

/// Page-aligned blocks (obsolete, but still called).
#[no_mangle]
pub extern "C" fn valloc(size: usize) -> *mut c_void {
    aligned_alloc(page_bytes(), size)
}

/// Page-aligned blocks rounded up to whole pages (obsolete, but still called).
#[no_mangle]
pub extern "C" fn pvalloc(size: usize) -> *mut c_void {
    let page = page_bytes();
    match size.checked_add(page - 1) {
        Some(n) => aligned_alloc(page, n & !(page - 1)),
        None => or_enomem(std::ptr::null_mut()),
    }
}

/// # Safety
/// `ptr` is null or a live block from these functions.
#[no_mangle]
pub unsafe extern "C" fn malloc_usable_size(ptr: *mut c_void) -> usize {
    // SAFETY: the caller's promise.
    unsafe { global::usable_size(ptr.cast()) }
}

fn page_bytes() -> usize {
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page).unwrap_or(4096)
}

/// Where the statistics go at exit: a copy of stderr made when the library
/// was loaded, or -1 when `HEAPLAB_STATS` is not `1`. A copy, because many
/// programs close stderr on their way out (GNU coreutils' `close_stdout`
/// does), before the library's destructor runs.
static STATS_FD: AtomicI32 = AtomicI32::new(-1);

/// The lowest descriptor number for the copy: well above 0-2 and the
/// descriptors programs and the grader pass to their children (3, 4, ...).
const STATS_FD_MIN: c_int = 100;

/// Runs when the dynamic linker loads the library, before the program's main.
extern "C" fn stats_at_load() {
    // getenv, not std::env::var: std's copies the value into a new String.
    // SAFETY: the name is a NUL-terminated literal; getenv does not allocate.
    let value = unsafe { libc::getenv(c"HEAPLAB_STATS".as_ptr()) };
    // SAFETY: a non-null getenv result is a NUL-terminated string.
    if value.is_null() || unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes() != b"1" {
        return;
    }
    // SAFETY: duplicating a descriptor touches no memory of ours.
    let fd = unsafe { libc::fcntl(2, libc::F_DUPFD_CLOEXEC, STATS_FD_MIN) };
    STATS_FD.store(fd, Ordering::Relaxed);
}

/// Runs when the library is unloaded, at exit: prints the heap's counters
/// (like the C version's `hprintstats()` at the end of main).
extern "C" fn stats_at_exit() {
    let fd = STATS_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        global::print_stats_to(fd);
    }
}

/// Constructor and destructor the dynamic linker calls when it loads and
/// unloads the library, without `atexit`, which may allocate.
#[used]
#[link_section = ".init_array"]
static STATS_AT_LOAD: extern "C" fn() = stats_at_load;
#[used]
#[link_section = ".fini_array"]
static STATS_AT_EXIT: extern "C" fn() = stats_at_exit;
