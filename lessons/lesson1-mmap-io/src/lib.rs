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
        // TODO: open the file (created or emptied, mode 0644), ftruncate it to `len` elements, map it
        todo!()
    }

    /// Opens the existing file at `path` and maps it, read and write: the
    /// array has one element per 4 bytes of the file.
    pub fn open(path: &Path) -> Result<MappedArray, SysError> {
        // TODO: open the file read-write, learn its size with fstat, map its whole elements
        todo!()
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
        // TODO: make a slice of `len` elements starting at `ptr`
        todo!()
    }

    /// The elements, for writing: every write goes to the file.
    pub fn as_mut_slice(&mut self) -> &mut [i32] {
        // TODO: make a mutable slice of `len` elements starting at `ptr`
        todo!()
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
        // TODO: munmap the array's bytes (an empty array has nothing mapped)
        todo!()
    }
}

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
    // TODO: create the array and store i * i in element i
    todo!()
}

/// Prints each element of the array file at `path` to stdout as `i: value`,
/// one a line.
pub fn print_elements(path: &Path) -> Result<(), SysError> {
    // TODO: open the array and print `i: value` for each element
    todo!()
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
