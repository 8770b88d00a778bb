//! The C functions of the shared library, called directly: the errors C and
//! POSIX specify, `free(NULL)`, `realloc(NULL, n)`, `calloc` overflow.
//!
//! The checks run in a child process (`harness --as lesson7-c-api LIB`),
//! which loads the library with `dlopen` and looks each function up by
//! name: its heap is the library's own, apart from the harness's, and a
//! crash or a stub's `todo!()` (an abort) ends only the child.

use std::ffi::{c_int, c_void, CString};
use std::process::{Command, ExitCode};
use std::time::Duration;

use super::preload::{build_library, run_with_timeout, tail, Crate};
use crate::harness::note_todo;

/// The program's name for `harness --as`.
pub const PROGRAM: &str = "lesson7-c-api";

/// Builds the library and runs the checks on it in a child process.
pub fn check(krate: &Crate) -> Result<(), String> {
    let lib = build_library(krate)?;
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the harness binary: {e}"))?;
    let mut command = Command::new(exe);
    command.args(["--as", PROGRAM]).arg(&lib);
    let ran = run_with_timeout(command, Duration::from_secs(30))?;
    let stderr = String::from_utf8_lossy(&ran.stderr);
    if let Some(line) = stderr.lines().find(|l| l.contains("not yet implemented")) {
        note_todo(format!("the shared library: {}", line.trim()));
    }
    if ran.status.success() {
        return Ok(());
    }
    Err(format!(
        "calling the library's C functions directly ({}):\n{}\n{}",
        ran.status,
        tail(&ran.stdout),
        tail(&ran.stderr)
    ))
}

type Malloc = unsafe extern "C" fn(usize) -> *mut c_void;
type Free = unsafe extern "C" fn(*mut c_void);
type Calloc = unsafe extern "C" fn(usize, usize) -> *mut c_void;
type Realloc = unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void;
type PosixMemalign = unsafe extern "C" fn(*mut *mut c_void, usize, usize) -> c_int;
type AlignedAlloc = unsafe extern "C" fn(usize, usize) -> *mut c_void;
type UsableSize = unsafe extern "C" fn(*mut c_void) -> usize;

/// Looks `name` up in the library `handle`.
fn symbol(handle: *mut c_void, name: &str) -> Result<*mut c_void, String> {
    let c_name = CString::new(name).expect("no NUL in names");
    // SAFETY: handle came from dlopen; c_name is NUL-terminated.
    let sym = unsafe { libc::dlsym(handle, c_name.as_ptr()) };
    if sym.is_null() {
        return Err(format!("the library exports no `{name}`: is it #[no_mangle] pub extern \"C\" behind the preload feature?"));
    }
    Ok(sym)
}

fn errno() -> c_int {
    // SAFETY: this thread's errno.
    unsafe { *libc::__errno_location() }
}

fn set_errno(v: c_int) {
    // SAFETY: this thread's errno.
    unsafe { *libc::__errno_location() = v };
}

/// `harness --as lesson7-c-api LIB`: exit 0 if every check passes; each
/// failure is one line on stdout.
pub fn program(args: &[String]) -> ExitCode {
    let Some(lib) = args.first() else {
        eprintln!("usage: harness --as {PROGRAM} LIBRARY.so");
        return ExitCode::from(2);
    };
    match checks(lib) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn checks(lib: &str) -> Result<(), String> {
    let path = CString::new(lib).map_err(|_| "a NUL in the path".to_string())?;
    // RTLD_LOCAL: the library's symbols serve only lookups through this
    // handle; the harness keeps its own malloc.
    // SAFETY: path is NUL-terminated; loading runs the library's constructors.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(format!("dlopen({lib}) failed"));
    }
    // SAFETY (all transmutes below): each symbol has the C signature its
    // name says, as the lesson's preload module declares it.
    let malloc: Malloc = unsafe { std::mem::transmute(symbol(handle, "malloc")?) };
    let free: Free = unsafe { std::mem::transmute(symbol(handle, "free")?) };
    let calloc: Calloc = unsafe { std::mem::transmute(symbol(handle, "calloc")?) };
    let realloc: Realloc = unsafe { std::mem::transmute(symbol(handle, "realloc")?) };
    let posix_memalign: PosixMemalign =
        unsafe { std::mem::transmute(symbol(handle, "posix_memalign")?) };
    let aligned_alloc: AlignedAlloc =
        unsafe { std::mem::transmute(symbol(handle, "aligned_alloc")?) };
    let memalign: AlignedAlloc = unsafe { std::mem::transmute(symbol(handle, "memalign")?) };
    let usable: UsableSize = unsafe { std::mem::transmute(symbol(handle, "malloc_usable_size")?) };
    let mut failures: Vec<String> = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };
    // SAFETY (the block below): every call follows the C contract of the
    // function; pointers passed back are ones the library returned.
    unsafe {
        free(std::ptr::null_mut());
        expect(
            usable(std::ptr::null_mut()) == 0,
            "malloc_usable_size(NULL) should be 0".into(),
        );

        let p = malloc(100) as *mut u8;
        expect(
            !p.is_null() && p as usize % 16 == 0,
            format!("malloc(100) = {p:p}: expected a 16-aligned block"),
        );
        if !p.is_null() {
            expect(
                usable(p.cast()) >= 100,
                format!(
                    "malloc_usable_size(malloc(100)) = {}: expected >= 100",
                    usable(p.cast())
                ),
            );
            for i in 0..100 {
                p.add(i).write(i as u8);
            }
            let q = realloc(p.cast(), 5000) as *mut u8;
            let kept = !q.is_null() && (0..100).all(|i| q.add(i).read() == i as u8);
            expect(kept, "realloc(p, 5000) lost p's first 100 bytes".into());
            if !q.is_null() {
                free(q.cast());
            }
        }

        let r = realloc(std::ptr::null_mut(), 40);
        expect(
            !r.is_null(),
            "realloc(NULL, 40) returned NULL: it should act as malloc(40)".into(),
        );
        free(r);

        set_errno(0);
        let huge = malloc(usize::MAX - 4096);
        expect(
            huge.is_null() && errno() == libc::ENOMEM,
            format!(
                "malloc(SIZE_MAX - 4096) = {huge:p}, errno {}: expected NULL with errno ENOMEM",
                errno()
            ),
        );

        let z = calloc(100, 10) as *mut u8;
        expect(
            !z.is_null() && (0..1000).all(|i| z.add(i).read() == 0),
            "calloc(100, 10) is not 1000 zero bytes".into(),
        );
        free(z.cast());
        set_errno(0);
        let over = calloc(usize::MAX / 2 + 2, 2);
        expect(over.is_null() && errno() == libc::ENOMEM, format!(
            "calloc(SIZE_MAX/2 + 2, 2) = {over:p}, errno {}: n * size overflows, expected NULL with errno ENOMEM", errno()
        ));

        let mut out: *mut c_void = 0x1 as *mut c_void;
        for bad in [0usize, 3, 4, 24, 48] {
            let rc = posix_memalign(&mut out, bad, 10);
            expect(rc == libc::EINVAL, format!(
                "posix_memalign(&p, {bad}, 10) = {rc}: expected EINVAL ({}), the alignment is not a power of two multiple of sizeof(void *)",
                libc::EINVAL
            ));
        }
        expect(
            out == 0x1 as *mut c_void,
            "posix_memalign changed *memptr although it failed".into(),
        );
        for align in [8usize, 16, 64, 4096, 65536] {
            let rc = posix_memalign(&mut out, align, 1000);
            expect(rc == 0 && !out.is_null() && out as usize % align == 0, format!(
                "posix_memalign(&p, {align}, 1000) = {rc}, p = {out:p}: expected 0 and a multiple of {align}"
            ));
            if rc == 0 {
                free(out);
            }
        }
        let rc = posix_memalign(&mut out, 64, usize::MAX - 4096);
        expect(
            rc == libc::ENOMEM,
            format!(
                "posix_memalign(&p, 64, SIZE_MAX - 4096) = {rc}: expected ENOMEM ({})",
                libc::ENOMEM
            ),
        );

        set_errno(0);
        let bad = aligned_alloc(24, 48);
        expect(bad.is_null() && errno() == libc::EINVAL, format!(
            "aligned_alloc(24, 48) = {bad:p}, errno {}: 24 is not a power of two, expected NULL with errno EINVAL", errno()
        ));
        let a = aligned_alloc(256, 512);
        expect(
            !a.is_null() && a as usize % 256 == 0,
            format!("aligned_alloc(256, 512) = {a:p}: expected a multiple of 256"),
        );
        free(a);
        let m = memalign(4096, 100);
        expect(
            !m.is_null() && m as usize % 4096 == 0,
            format!("memalign(4096, 100) = {m:p}: expected a multiple of 4096"),
        );
        free(m);
    }
    // The handle stays open: the library may have registered fork handlers.
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
