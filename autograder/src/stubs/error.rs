//! Why the generator stopped: a misused marker (file and line), a file that
//! could not be read or written, or a manifest that is not valid.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A misused marker, at a 1-based line of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerError {
    pub line: usize,
    pub message: String,
}

/// Why stubs or solutions could not be generated.
#[derive(Debug)]
pub enum StubError {
    /// A marker is misused in `file` (a reference or solution source).
    Marker { file: PathBuf, error: MarkerError },
    /// A file or folder could not be read or written.
    Io { path: PathBuf, error: io::Error },
    /// A manifest (`Cargo.toml`, `course.toml`, `reference/lessons.toml`) is
    /// not valid.
    Manifest { path: PathBuf, error: String },
}

impl fmt::Display for StubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StubError::Marker { file, error } => {
                write!(f, "{}:{}: {}", file.display(), error.line, error.message)
            }
            StubError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            StubError::Manifest { path, error } => {
                write!(f, "{}: not a valid manifest: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for StubError {}

/// Maps an I/O error to a [`StubError`] naming `path`.
pub(crate) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StubError + '_ {
    move |error| StubError::Io {
        path: path.to_path_buf(),
        error,
    }
}
