//! A crate as files in memory: reading one from disk, comparing it with what
//! the generator makes, showing the difference, and writing it back.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use super::error::{io_error, StubError};

/// A crate's files: path relative to the crate root → contents.
pub type Files = BTreeMap<PathBuf, Vec<u8>>;

/// Reads every file of a crate, except its build output (`target/`).
pub fn read_crate(dir: &Path) -> Result<Files, StubError> {
    let mut files = Files::new();
    if dir.is_dir() {
        read_into(dir, Path::new(""), &mut files)?;
    }
    Ok(files)
}

fn read_into(root: &Path, rel: &Path, files: &mut Files) -> Result<(), StubError> {
    let dir = root.join(rel);
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .map_err(io_error(&dir))?
        .collect::<Result<_, _>>()
        .map_err(io_error(&dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let rel = rel.join(entry.file_name());
        if rel == Path::new("target") {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(io_error(&path))?;
        if kind.is_dir() {
            read_into(root, &rel, files)?;
        } else {
            files.insert(rel, fs::read(&path).map_err(io_error(&path))?);
        }
    }
    Ok(())
}

/// How a crate on disk differs from what the generator produces.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// The generator produces this file; the crate on disk has none.
    Missing(PathBuf),
    /// Both have the file, with different contents.
    Differs(PathBuf),
    /// The crate on disk has this file; the generator makes none.
    Extra(PathBuf),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Missing(p) => write!(f, "missing  {}", p.display()),
            Change::Differs(p) => write!(f, "differs  {}", p.display()),
            Change::Extra(p) => write!(f, "extra    {}", p.display()),
        }
    }
}

/// The changes that turn `actual` into `expected`.
pub fn compare(expected: &Files, actual: &Files) -> Vec<Change> {
    let mut changes = Vec::new();
    for (path, bytes) in expected {
        match actual.get(path) {
            None => changes.push(Change::Missing(path.clone())),
            Some(have) if have != bytes => changes.push(Change::Differs(path.clone())),
            Some(_) => {}
        }
    }
    for path in actual.keys() {
        if !expected.contains_key(path) {
            changes.push(Change::Extra(path.clone()));
        }
    }
    changes.sort();
    changes
}

/// A unified diff of one changed file, the crate on disk (`a/`) against the
/// generator (`b/`), for a reviewer to read.
pub fn diff(change: &Change, expected: &Files, actual: &Files) -> String {
    let (Change::Missing(path) | Change::Differs(path) | Change::Extra(path)) = change;
    let text = |files: &Files| {
        files
            .get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    };
    let (old, new) = (text(actual), text(expected));
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(2)
        .header(
            &format!("a/{} (on disk)", path.display()),
            &format!("b/{} (generated)", path.display()),
        )
        .to_string()
}

/// Makes the crate at `dir` equal `expected`: writes missing and differing
/// files, deletes extra ones and the folders they leave empty.
pub fn write(dir: &Path, expected: &Files, changes: &[Change]) -> Result<(), StubError> {
    for change in changes {
        match change {
            Change::Missing(rel) | Change::Differs(rel) => {
                let path = dir.join(rel);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(io_error(parent))?;
                }
                fs::write(&path, &expected[rel]).map_err(io_error(&path))?;
            }
            Change::Extra(rel) => {
                let path = dir.join(rel);
                fs::remove_file(&path).map_err(io_error(&path))?;
                let mut folder = path.parent();
                while let Some(d) = folder.filter(|d| *d != dir) {
                    // Stops at the first folder that still holds something.
                    if fs::remove_dir(d).is_err() {
                        break;
                    }
                    folder = d.parent();
                }
            }
        }
    }
    Ok(())
}
