//! heaplab lesson 1: an array of `i32` kept in a file and reached through a
//! shared memory mapping (`mmap(MAP_SHARED)`), and the lecture's two programs
//! on top of it: `save-array` writes the squares 0..9 to `./array.mem`,
//! `print-array` prints them back.
//!
//! Try it: `cargo run -q --bin save-array && cargo run -q --bin print-array`.
//! Grade it: `cargo grade lesson1`.
#![forbid(unsafe_op_in_unsafe_fn)]

use std::ffi::CString;
use std::fmt;
use std::io::{self, Write};
use std::mem::{size_of, MaybeUninit};
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;
use std::ptr::{self, NonNull};
use std::slice;

/// The file both programs use, in the directory they run in.
pub const ARRAY_PATH: &str = "./array.mem";

/// Elements `save-array` writes: the squares of 0 to 9.
pub const ARRAY_LEN: usize = 10;

/// A system call that failed: which one, and the OS error (`errno`) it gave.
///
/// Displays the way the lecture's C programs report a failure:
/// `Failed call: open: No such file or directory (os error 2)`.
#[derive(Debug)]
pub struct SysError {
    /// The call that failed, named as in its man page: `"open"`, `"mmap"`.
    pub call: &'static str,
    /// What the OS said: `errno` and its text.
    pub source: io::Error,
}

impl SysError {
    /// The error of the call that just failed, from `errno`. Call it right
    /// after the failing call: any later call may overwrite `errno`.
    pub fn last(call: &'static str) -> SysError {
        SysError {
            call,
            source: io::Error::last_os_error(),
        }
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Failed call: {}: {}", self.call, self.source)
    }
}

impl std::error::Error for SysError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

// The file holds the elements back to back in the machine's byte order
// (little-endian on x86-64 and arm64): element i is bytes [4i, 4i + 4). The
// mapping makes those very bytes the array's memory: with MAP_SHARED there is
// one copy, in the kernel's page cache, shared by the file and every process
// that maps it. The kernel maps whole pages, so the mapping's last page runs
// past the end of the file; those bytes belong to no element, are never
// written back, and the slice does not reach them.
//
//   array.mem   ┌──────┬──────┬─────┬──────┐
//   (40 bytes)  │ a[0] │ a[1] │ ... │ a[9] │
//               └──────┴──────┴─────┴──────┘
//                  ↕ the same bytes (page cache)
//   mapping     ┌──────┬──────┬─────┬──────┬──────────────────────────────┐
//   (one page)  │ a[0] │ a[1] │ ... │ a[9] │ rest of the page, not a file │
//               └──────┴──────┴─────┴──────┴──────────────────────────────┘
//               ptr                         ptr + 40 bytes    ptr + 4096

/// An array of `i32` that lives in a file: reading an element reads the file,
/// writing one writes it. Unmapped when dropped.
///
/// Derefs to `[i32]`, so `array[3]`, `array.iter()` and `array.len()` work
/// as on a slice.
///
/// A borrowed slice assumes that nothing else changes the file while the
/// borrow lives: another process writing the file at that moment would change
/// memory that Rust treats as frozen. The lecture's programs own their file,
/// so the wrapper is safe to use for them; a general-purpose one (such as the
/// `memmap2` crate) makes mapping `unsafe` for this reason.
pub struct MappedArray {
    /// First element: the start of the mapping, page aligned and so aligned
    /// for `i32`. Dangling when `len == 0`, because then nothing is mapped.
    ptr: NonNull<i32>,
    /// Elements in the array; the mapping covers `len * 4` bytes.
    len: usize,
}

impl MappedArray {
    /// Creates the file at `path` (or empties it if it exists), sizes it for
    /// `len` elements, all zero, and maps it.
    ///
    /// The lecture's steps: `open(O_CREAT | O_TRUNC | O_RDWR, 0644)`,
    /// `ftruncate`, `mmap(MAP_SHARED)`.
    pub fn create(path: &Path, len: usize) -> Result<MappedArray, SysError> {
        // BEGIN SOLUTION: open the file (created or emptied, mode 0644), ftruncate it to `len` elements, map it
        // A size that does not fit in `off_t` is one ftruncate would refuse.
        let too_large = || SysError {
            call: "ftruncate",
            source: io::Error::from_raw_os_error(libc::EFBIG),
        };
        let bytes = len.checked_mul(size_of::<i32>()).ok_or_else(too_large)?;
        let size = libc::off_t::try_from(bytes).map_err(|_| too_large())?;

        let fd = open_file(path, libc::O_CREAT | libc::O_TRUNC | libc::O_RDWR)?;
        // A new file is empty, and a mapping cannot grow it: touching a page
        // that lies wholly past the end of the file raises SIGBUS. So the
        // file gets its size first; ftruncate fills it with zeros.
        // SAFETY: ftruncate changes the size of the open file `fd`, no memory.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), size) } == -1 {
            return Err(SysError::last("ftruncate"));
        }
        map_file(&fd, len)
        // END SOLUTION
    }

    /// Opens the existing file at `path` and maps it, read and write: the
    /// array has one element per 4 bytes of the file.
    pub fn open(path: &Path) -> Result<MappedArray, SysError> {
        // BEGIN SOLUTION: open the file read-write, learn its size with fstat, map its whole elements
        let fd = open_file(path, libc::O_RDWR)?;
        let mut stat = MaybeUninit::<libc::stat>::uninit();
        // SAFETY: fstat writes one `struct stat` through the pointer, which
        // points to room for exactly one.
        if unsafe { libc::fstat(fd.as_raw_fd(), stat.as_mut_ptr()) } == -1 {
            return Err(SysError::last("fstat"));
        }
        // SAFETY: fstat succeeded, so it filled in the whole struct.
        let size = unsafe { stat.assume_init() }.st_size;
        // Only a file too large for this machine's address space fails here;
        // mmap would refuse it with this same error.
        let bytes = usize::try_from(size).map_err(|_| SysError {
            call: "mmap",
            source: io::Error::from_raw_os_error(libc::EOVERFLOW),
        })?;
        // A partial element at the end (a size not a multiple of 4) is left
        // out of the array, and out of the mapping.
        map_file(&fd, bytes / size_of::<i32>())
        // END SOLUTION
    }

    /// Elements in the array.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the array has no elements (and nothing is mapped).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements, read through the mapping.
    pub fn as_slice(&self) -> &[i32] {
        // BEGIN SOLUTION: make a slice of `len` elements starting at `ptr`
        // SAFETY: `ptr` is valid for reads of `len` elements: the mapping
        // covers `len * 4` bytes (or `len` is 0 and `ptr` is a dangling but
        // aligned pointer, which an empty slice allows). Page alignment is
        // enough for i32, and every 4 bytes of the file are some i32. The
        // slice borrows `self`, so no `&mut` slice exists while it lives.
        unsafe { slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
        // END SOLUTION
    }

    /// The elements, for writing: every write goes to the file.
    pub fn as_mut_slice(&mut self) -> &mut [i32] {
        // BEGIN SOLUTION: make a mutable slice of `len` elements starting at `ptr`
        // SAFETY: as in `as_slice`, and the mapping is writable (PROT_WRITE);
        // the slice borrows `self` mutably, so it is the only view.
        unsafe { slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
        // END SOLUTION
    }
}

impl Deref for MappedArray {
    type Target = [i32];

    fn deref(&self) -> &[i32] {
        self.as_slice()
    }
}

impl DerefMut for MappedArray {
    fn deref_mut(&mut self) -> &mut [i32] {
        self.as_mut_slice()
    }
}

impl Drop for MappedArray {
    /// Unmaps the array. Nothing needs flushing first: with MAP_SHARED every
    /// write is already in the page cache, and so in the file.
    fn drop(&mut self) {
        // BEGIN SOLUTION: munmap the array's bytes (an empty array has nothing mapped)
        if self.len == 0 {
            return;
        }
        // SAFETY: `[ptr, ptr + len * 4)` is exactly the range `map_file`
        // mapped, not unmapped since; `drop` has `&mut self`, so no slice of
        // it is borrowed, and nothing uses it after this.
        let rv = unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len * size_of::<i32>()) };
        // munmap fails only for a range that is not a mapping: `ptr` or
        // `len` was corrupted, a bug to stop at rather than step over.
        assert!(
            rv == 0,
            "munmap of the array's own mapping failed ({}): were ptr or len changed?",
            io::Error::last_os_error()
        );
        // END SOLUTION
    }
}
// BEGIN SOLUTION

/// Opens `path` with `flags`, creating it with mode 0644 if `flags` holds
/// `O_CREAT`. The descriptor closes when the `OwnedFd` drops.
fn open_file(path: &Path, flags: libc::c_int) -> Result<OwnedFd, SysError> {
    let path = c_path(path)?;
    // rw-r--r--: the owner reads and writes, everyone else reads (less what
    // the umask removes).
    let mode: libc::c_uint = 0o644;
    // SAFETY: `path` is a NUL-terminated string that outlives the call.
    let fd = unsafe { libc::open(path.as_ptr(), flags, mode) };
    if fd == -1 {
        return Err(SysError::last("open"));
    }
    // SAFETY: open just returned `fd`; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Maps the first `len` elements of the open file `fd`, shared, for reading
/// and writing. The file must hold at least `len * 4` bytes (checked by the
/// callers), and `len * 4` must not overflow.
///
/// The descriptor is not kept: a mapping holds its own reference to the
/// file, so the caller closes `fd` right after this returns, and `munmap`
/// alone releases the file.
fn map_file(fd: &OwnedFd, len: usize) -> Result<MappedArray, SysError> {
    if len == 0 {
        // mmap refuses a length of 0 (EINVAL): an empty array maps nothing,
        // and its empty slice needs only an aligned pointer.
        return Ok(MappedArray {
            ptr: NonNull::dangling(),
            len: 0,
        });
    }
    // MAP_SHARED makes writes go to the file (and be seen by every process
    // mapping it); MAP_PRIVATE would give this process a private copy of each
    // page it writes, and the file would never change.
    // SAFETY: with a null address hint and no MAP_FIXED, the kernel picks a
    // range that overlaps no existing memory of this process.
    let addr = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len * size_of::<i32>(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        return Err(SysError::last("mmap"));
    }
    let ptr =
        NonNull::new(addr.cast::<i32>()).expect("mmap without MAP_FIXED never maps address 0");
    Ok(MappedArray { ptr, len })
}
// END SOLUTION

/// `path` as the NUL-terminated string system calls take. A path holding a
/// NUL byte cannot be passed to `open`, so it fails like one.
pub fn c_path(path: &Path) -> Result<CString, SysError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| SysError {
        call: "open",
        source: io::Error::new(io::ErrorKind::InvalidInput, "the path holds a NUL byte"),
    })
}

/// The `save-array` program: writes the squares 0, 1, 4, ..., 81 to
/// `./array.mem`. Exits 1 with `Failed call: ...` when a call fails.
pub fn save_array() -> ExitCode {
    exit_code(write_squares(Path::new(ARRAY_PATH)))
}

/// The `print-array` program: prints each element of `./array.mem` as
/// `i: value`, one a line. Exits 1 with `Failed call: ...` when a call fails
/// (`Failed call: open` when there is no `./array.mem`).
pub fn print_array() -> ExitCode {
    match print_elements(Path::new(ARRAY_PATH)) {
        // The likely mistake gets its remedy on the same line.
        Err(err) if err.call == "open" && err.source.kind() == io::ErrorKind::NotFound => {
            eprintln!("{err}; run save-array first to create {ARRAY_PATH}");
            ExitCode::from(1)
        }
        result => exit_code(result),
    }
}

/// Creates the array file at `path` with [`ARRAY_LEN`] elements, element `i`
/// holding `i * i`.
pub fn write_squares(path: &Path) -> Result<(), SysError> {
    // BEGIN SOLUTION: create the array and store i * i in element i
    let mut array = MappedArray::create(path, ARRAY_LEN)?;
    for (element, i) in array.iter_mut().zip(0..) {
        *element = i * i;
    }
    // Dropping `array` unmaps it; the squares are already in the file.
    Ok(())
    // END SOLUTION
}

/// Prints each element of the array file at `path` to stdout as `i: value`,
/// one a line.
pub fn print_elements(path: &Path) -> Result<(), SysError> {
    // BEGIN SOLUTION: open the array and print `i: value` for each element
    let array = MappedArray::open(path)?;
    let mut out = io::stdout().lock();
    for (i, value) in array.iter().enumerate() {
        // `println!` would panic if stdout were closed; this reports it.
        writeln!(out, "{i}: {value}").map_err(|source| SysError {
            call: "write",
            source,
        })?;
    }
    Ok(())
    // END SOLUTION
}

/// Ends a program as the lecture's C programs do: on failure, one line on
/// stderr naming the call and the OS error, and exit status 1.
fn exit_code(result: Result<(), SysError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(1)
        }
    }
}
