// STUB: //! How your threads find their own data, if your design has per-thread data.
// BEGIN SOLUTION
//! Where a thread finds its cache: thread-local storage, the fast way.
//!
//! `thread_local!` in a shared library uses the *general dynamic* TLS
//! model: every access calls `__tls_get_addr` in the dynamic linker,
//! because the library might have been `dlopen`ed after the thread started.
//! Measured on the course's list program under `LD_PRELOAD`, those calls
//! were a quarter of the time of a `malloc`-`free` pair. A library loaded
//! at startup, as `LD_PRELOAD`'s is, can use the *initial exec* model
//! instead: its thread-locals sit at a fixed offset from the thread
//! pointer, and one load from the GOT finds them. glibc, jemalloc and
//! mimalloc keep their caches that way.
//!
//! Stable Rust cannot ask for a TLS model, so on x86-64 Linux this file
//! declares the storage and reads its address in assembly; elsewhere, and
//! under Miri, it falls back to `thread_local!`. The price: a library built
//! so cannot be `dlopen`ed into a process whose static TLS room is used up
//! (glibc refuses it: "cannot allocate memory in static TLS block");
//! `LD_PRELOAD` and linking are unaffected.
//!
//! Either way the storage starts as all zero bytes, which is
//! `ThreadCache::new()` (see its documentation), and lives as long as its
//! thread.

use crate::thread_cache::ThreadCache;

/// The calling thread's cache.
#[cfg(all(target_arch = "x86_64", target_os = "linux", not(miri)))]
#[inline(always)]
pub fn this_thread() -> *const ThreadCache {
    let addr: usize;
    // The symbol's GOT entry holds its offset from the thread pointer, and
    // the x86-64 TLS ABI keeps the thread pointer's own value at fs:0.
    // SAFETY: two loads from memory that always exists for a running
    // thread (the GOT and the thread control block); no stack, no flags.
    unsafe {
        std::arch::asm!(
            "mov {addr}, qword ptr [rip + heaplab_lesson8_thread_cache@GOTTPOFF]",
            "add {addr}, qword ptr fs:[0]",
            addr = out(reg) addr,
            options(pure, readonly, nostack, preserves_flags),
        )
    };
    addr as *const ThreadCache
}

// The storage: `.tbss` (thread-local, zero-initialized), 64-byte aligned,
// hidden so that it is neither exported from the shared library nor
// replaced by another object's symbol of the same name.
#[cfg(all(target_arch = "x86_64", target_os = "linux", not(miri)))]
std::arch::global_asm!(
    ".pushsection .tbss,\"awT\",@nobits",
    ".p2align 6",
    ".globl heaplab_lesson8_thread_cache",
    ".hidden heaplab_lesson8_thread_cache",
    ".type heaplab_lesson8_thread_cache, @object",
    ".size heaplab_lesson8_thread_cache, {bytes}",
    "heaplab_lesson8_thread_cache:",
    ".zero {bytes}",
    ".popsection",
    bytes = const size_of::<ThreadCache>(),
);

/// The calling thread's cache (the portable way).
#[cfg(not(all(target_arch = "x86_64", target_os = "linux", not(miri))))]
#[inline(always)]
pub fn this_thread() -> *const ThreadCache {
    thread_local! {
        // A `const` initializer and no `Drop`: no lazy set-up or destructor
        // registration (which could allocate), just the TLS block.
        static CACHE: ThreadCache = const { ThreadCache::new() };
    }
    CACHE.with(|cache| cache as *const ThreadCache)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thread_has_its_own_cache_at_a_fixed_place() {
        let here = this_thread() as usize;
        assert_eq!(
            here,
            this_thread() as usize,
            "the same thread, the same place"
        );
        assert!(here.is_multiple_of(align_of::<ThreadCache>()));
        let there = std::thread::spawn(|| this_thread() as usize)
            .join()
            .unwrap();
        assert_ne!(here, there, "another thread, another cache");
    }
}
// END SOLUTION
