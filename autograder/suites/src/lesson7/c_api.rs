//! The C functions of the shared library, called directly: the errors C and
//! POSIX specify, `free(NULL)`, `realloc(NULL, n)`, `calloc` overflow.
//!
//! The checks run in a forked child process, which loads the library with
//! `dlopen` and looks each function up by name: its heap is the library's
//! own, apart from the harness's, and a crash or a stub's `todo!()` (an
//! abort) ends only the child. The child's stdout and stderr go to pipes
//! the parent reads.

use std::ffi::{c_int, c_void, CString};
use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};

use super::preload::{build_library, notice_todo, Crate};

/// How long the child may take.
const LIMIT: Duration = Duration::from_secs(30);

/// Builds the library and runs the checks on it in a child process.
pub fn check(krate: &Crate) -> Result<(), String> {
    let lib = build_library(krate)?;
    let lib = lib.to_string_lossy().to_string();
    let (status, stdout, stderr) = in_child(|| checks(&lib))?;
    notice_todo(stderr.as_bytes());
    if status == Some(0) {
        return Ok(());
    }
    let how = match status {
        Some(code) => format!("exit {code}"),
        None => "killed by a signal: a crash or an abort".to_string(),
    };
    Err(format!(
        "calling the library's C functions directly ({how}):\n{stdout}\n{stderr}"
    ))
}

/// Runs `f` in a forked child: its `Err` text goes to stdout and the exit
/// code is 1; `Ok` exits 0. Returns the exit code (`None` for a signal) and
/// what the child wrote to stdout and stderr.
fn in_child(
    f: impl FnOnce() -> Result<(), String>,
) -> Result<(Option<i32>, String, String), String> {
    let mut out = [0; 2];
    let mut err = [0; 2];
    // SAFETY: pipe writes two descriptors into each array.
    if unsafe { libc::pipe2(out.as_mut_ptr(), libc::O_CLOEXEC) } != 0
        || unsafe { libc::pipe2(err.as_mut_ptr(), libc::O_CLOEXEC) } != 0
    {
        return Err("could not make pipes for the child".to_string());
    }
    // SAFETY: the child only runs the checks, writes to its pipes and _exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err("fork failed".to_string());
    }
    if pid == 0 {
        // SAFETY: in the child: point fd 1 and 2 at the pipes.
        unsafe {
            libc::dup2(out[1], 1);
            libc::dup2(err[1], 2);
        }
        let code = match f() {
            Ok(()) => 0,
            Err(e) => {
                let bytes = e.as_bytes();
                // SAFETY: writes the message to the stdout pipe.
                unsafe { libc::write(1, bytes.as_ptr().cast(), bytes.len()) };
                1
            }
        };
        // SAFETY: leaves the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    // SAFETY: the parent's copies of the write ends, closed so reads end.
    unsafe {
        libc::close(out[1]);
        libc::close(err[1]);
    }
    // SAFETY: the read ends are ours alone now.
    let (mut out, mut err) = unsafe { (File::from_raw_fd(out[0]), File::from_raw_fd(err[0])) };
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child without blocking.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        if started.elapsed() > LIMIT {
            // SAFETY: our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Err(format!(
                "the C functions did not return within {} s (a deadlock?)",
                LIMIT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut stdout = String::new();
    let _ = out.read_to_string(&mut stdout);
    let stderr = reader.join().unwrap_or_default();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ok((code, stdout, stderr))
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
            !p.is_null() && (p as usize).is_multiple_of(16),
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

        let mut out: *mut c_void = std::ptr::dangling_mut::<c_void>();
        for bad in [0usize, 3, 4, 24, 48] {
            let rc = posix_memalign(&mut out, bad, 10);
            expect(rc == libc::EINVAL, format!(
                "posix_memalign(&p, {bad}, 10) = {rc}: expected EINVAL ({}), the alignment is not a power of two multiple of sizeof(void *)",
                libc::EINVAL
            ));
        }
        expect(
            out == std::ptr::dangling_mut::<c_void>(),
            "posix_memalign changed *memptr although it failed".into(),
        );
        for align in [8usize, 16, 64, 4096, 65536] {
            let rc = posix_memalign(&mut out, align, 1000);
            expect(rc == 0 && !out.is_null() && (out as usize).is_multiple_of(align), format!(
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
            !a.is_null() && (a as usize).is_multiple_of(256),
            format!("aligned_alloc(256, 512) = {a:p}: expected a multiple of 256"),
        );
        free(a);
        let m = memalign(4096, 100);
        expect(
            !m.is_null() && (m as usize).is_multiple_of(4096),
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
