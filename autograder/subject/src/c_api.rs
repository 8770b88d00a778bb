//! `--as c-api LIBRARY`: calls the C functions of the student's library
//! directly, in this process: the errors C and POSIX specify, `free(NULL)`,
//! `realloc(NULL, n)`, `calloc` overflow, aligned allocation. Prints what
//! went wrong and exits 1, or exits 0.
//!
//! The library is loaded with `dlopen(RTLD_LOCAL)` and each function looked
//! up by name: its heap is its own, apart from this program's `malloc`.

use std::ffi::{c_int, c_void, CString};
use std::process::ExitCode;

type Malloc = unsafe extern "C" fn(usize) -> *mut c_void;
type Free = unsafe extern "C" fn(*mut c_void);
type Calloc = unsafe extern "C" fn(usize, usize) -> *mut c_void;
type Realloc = unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void;
type PosixMemalign = unsafe extern "C" fn(*mut *mut c_void, usize, usize) -> c_int;
type AlignedAlloc = unsafe extern "C" fn(usize, usize) -> *mut c_void;
type UsableSize = unsafe extern "C" fn(*mut c_void) -> usize;

/// The library's C functions.
struct Lib {
    malloc: Malloc,
    free: Free,
    calloc: Calloc,
    realloc: Realloc,
    posix_memalign: PosixMemalign,
    aligned_alloc: AlignedAlloc,
    memalign: AlignedAlloc,
    usable: UsableSize,
}

/// The program's `main`.
pub fn main(args: &[String]) -> ExitCode {
    let Some(path) = args.first() else {
        eprintln!("usage: --as c-api LIBRARY.so");
        return ExitCode::from(2);
    };
    let failures = match load(path) {
        Ok(lib) => lib.check(),
        Err(e) => vec![e],
    };
    if failures.is_empty() {
        return ExitCode::SUCCESS;
    }
    println!("{}", failures.join("\n"));
    ExitCode::FAILURE
}

/// Looks `name` up in the library `handle`.
fn symbol(handle: *mut c_void, name: &str) -> Result<*mut c_void, String> {
    let c_name = CString::new(name).map_err(|_| "a NUL in a name".to_string())?;
    // SAFETY: handle came from dlopen; c_name is NUL-terminated.
    let sym = unsafe { libc::dlsym(handle, c_name.as_ptr()) };
    if sym.is_null() {
        return Err(format!(
            "the library exports no `{name}`: is it #[no_mangle] pub extern \"C\" behind the \
             preload feature?"
        ));
    }
    Ok(sym)
}

fn load(lib: &str) -> Result<Lib, String> {
    let path = CString::new(lib).map_err(|_| "a NUL in the path".to_string())?;
    // RTLD_LOCAL: the library's symbols serve only lookups through this
    // handle; this program keeps its own malloc. The handle stays open:
    // the library may have registered fork handlers.
    // SAFETY: path is NUL-terminated; loading runs the library's constructors.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(format!("dlopen({lib}) failed"));
    }
    // SAFETY (each transmute): the symbol has the C signature its name says,
    // as the lesson's preload module declares it.
    unsafe {
        Ok(Lib {
            malloc: std::mem::transmute::<*mut c_void, Malloc>(symbol(handle, "malloc")?),
            free: std::mem::transmute::<*mut c_void, Free>(symbol(handle, "free")?),
            calloc: std::mem::transmute::<*mut c_void, Calloc>(symbol(handle, "calloc")?),
            realloc: std::mem::transmute::<*mut c_void, Realloc>(symbol(handle, "realloc")?),
            posix_memalign: std::mem::transmute::<*mut c_void, PosixMemalign>(symbol(
                handle,
                "posix_memalign",
            )?),
            aligned_alloc: std::mem::transmute::<*mut c_void, AlignedAlloc>(symbol(
                handle,
                "aligned_alloc",
            )?),
            memalign: std::mem::transmute::<*mut c_void, AlignedAlloc>(symbol(handle, "memalign")?),
            usable: std::mem::transmute::<*mut c_void, UsableSize>(symbol(
                handle,
                "malloc_usable_size",
            )?),
        })
    }
}

fn errno() -> c_int {
    // SAFETY: this thread's errno.
    unsafe { *libc::__errno_location() }
}

fn set_errno(v: c_int) {
    // SAFETY: this thread's errno.
    unsafe { *libc::__errno_location() = v };
}

impl Lib {
    /// Every check; what went wrong, one line each.
    fn check(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let mut expect = |ok: bool, what: String| {
            if !ok {
                failures.push(what);
            }
        };
        self.basics(&mut expect);
        self.errors(&mut expect);
        self.aligned(&mut expect);
        failures
    }

    /// `free(NULL)`, `malloc`, `realloc` keeping contents, `realloc(NULL, n)`,
    /// `calloc` zeroing.
    fn basics(&self, expect: &mut dyn FnMut(bool, String)) {
        // SAFETY (the block): every call follows the C contract of the
        // function; pointers passed back are ones the library returned.
        unsafe {
            (self.free)(std::ptr::null_mut());
            expect(
                (self.usable)(std::ptr::null_mut()) == 0,
                "malloc_usable_size(NULL) should be 0".into(),
            );
            let p = (self.malloc)(100) as *mut u8;
            expect(
                !p.is_null() && (p as usize).is_multiple_of(16),
                format!("malloc(100) = {p:p}: expected a 16-aligned block"),
            );
            if !p.is_null() {
                let usable = (self.usable)(p.cast());
                expect(
                    usable >= 100,
                    format!("malloc_usable_size(malloc(100)) = {usable}: expected >= 100"),
                );
                for i in 0..100 {
                    p.add(i).write(i as u8);
                }
                let q = (self.realloc)(p.cast(), 5000) as *mut u8;
                let kept = !q.is_null() && (0..100).all(|i| q.add(i).read() == i as u8);
                expect(kept, "realloc(p, 5000) lost p's first 100 bytes".into());
                (self.free)(q.cast());
            }
            let r = (self.realloc)(std::ptr::null_mut(), 40);
            expect(
                !r.is_null(),
                "realloc(NULL, 40) returned NULL: it should act as malloc(40)".into(),
            );
            (self.free)(r);
            let z = (self.calloc)(100, 10) as *mut u8;
            expect(
                !z.is_null() && (0..1000).all(|i| z.add(i).read() == 0),
                "calloc(100, 10) is not 1000 zero bytes".into(),
            );
            (self.free)(z.cast());
        }
    }

    /// Requests no heap can serve: NULL with errno ENOMEM.
    fn errors(&self, expect: &mut dyn FnMut(bool, String)) {
        // SAFETY (the block): every call follows the C contract.
        unsafe {
            set_errno(0);
            let huge = (self.malloc)(usize::MAX - 4096);
            expect(
                huge.is_null() && errno() == libc::ENOMEM,
                format!(
                    "malloc(SIZE_MAX - 4096) = {huge:p}, errno {}: expected NULL with errno ENOMEM",
                    errno()
                ),
            );
            set_errno(0);
            let over = (self.calloc)(usize::MAX / 2 + 2, 2);
            expect(
                over.is_null() && errno() == libc::ENOMEM,
                format!(
                    "calloc(SIZE_MAX/2 + 2, 2) = {over:p}, errno {}: n * size overflows, expected \
                     NULL with errno ENOMEM",
                    errno()
                ),
            );
        }
    }

    /// `posix_memalign`, `aligned_alloc`, `memalign`: alignments kept, bad
    /// ones refused as POSIX and C say.
    fn aligned(&self, expect: &mut dyn FnMut(bool, String)) {
        let mut out: *mut c_void = std::ptr::dangling_mut::<c_void>();
        // SAFETY (the block): every call follows the C contract.
        unsafe {
            for bad in [0usize, 3, 4, 24, 48] {
                let rc = (self.posix_memalign)(&mut out, bad, 10);
                expect(
                    rc == libc::EINVAL,
                    format!(
                        "posix_memalign(&p, {bad}, 10) = {rc}: expected EINVAL ({}), the \
                         alignment is not a power of two multiple of sizeof(void *)",
                        libc::EINVAL
                    ),
                );
            }
            expect(
                out == std::ptr::dangling_mut::<c_void>(),
                "posix_memalign changed *memptr although it failed".into(),
            );
            for align in [8usize, 16, 64, 4096, 65536] {
                let rc = (self.posix_memalign)(&mut out, align, 1000);
                expect(
                    rc == 0 && !out.is_null() && (out as usize).is_multiple_of(align),
                    format!(
                        "posix_memalign(&p, {align}, 1000) = {rc}, p = {out:p}: expected 0 and a \
                         multiple of {align}"
                    ),
                );
                if rc == 0 {
                    (self.free)(out);
                }
            }
            let rc = (self.posix_memalign)(&mut out, 64, usize::MAX - 4096);
            expect(
                rc == libc::ENOMEM,
                format!(
                    "posix_memalign(&p, 64, SIZE_MAX - 4096) = {rc}: expected ENOMEM ({})",
                    libc::ENOMEM
                ),
            );
            self.aligned_alloc_and_memalign(expect);
        }
    }

    fn aligned_alloc_and_memalign(&self, expect: &mut dyn FnMut(bool, String)) {
        // SAFETY (the block): every call follows the C contract.
        unsafe {
            set_errno(0);
            let bad = (self.aligned_alloc)(24, 48);
            expect(
                bad.is_null() && errno() == libc::EINVAL,
                format!(
                    "aligned_alloc(24, 48) = {bad:p}, errno {}: 24 is not a power of two, \
                     expected NULL with errno EINVAL",
                    errno()
                ),
            );
            let a = (self.aligned_alloc)(256, 512);
            expect(
                !a.is_null() && (a as usize).is_multiple_of(256),
                format!("aligned_alloc(256, 512) = {a:p}: expected a multiple of 256"),
            );
            (self.free)(a);
            let m = (self.memalign)(4096, 100);
            expect(
                !m.is_null() && (m as usize).is_multiple_of(4096),
                format!("memalign(4096, 100) = {m:p}: expected a multiple of 4096"),
            );
            (self.free)(m);
        }
    }
}
