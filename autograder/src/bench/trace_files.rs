//! The trace folder `grade bench` replays: its `.rep` files, parsed,
//! heaplab's workloads first.

use std::path::{Path, PathBuf};

use heaplab_traces::{generate, rep};

use crate::Fatal;

/// Every `.rep` file of `dir`, parsed: heaplab's workloads first in their
/// order, then any others by name.
pub(super) fn read_traces(dir: &Path) -> Result<Vec<(PathBuf, rep::Trace)>, Fatal> {
    let regenerate = format!(
        "write heaplab's workloads there with `cargo grade traces --out {}`",
        dir.display()
    );
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Fatal::new(format!(
            "cannot read the trace folder {}: {e}; {regenerate}",
            dir.display()
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("rep"))
        .collect();
    if files.is_empty() {
        return Err(Fatal::new(format!(
            "no .rep files in {}; {regenerate}",
            dir.display()
        )));
    }
    let rank = |p: &PathBuf| {
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let known = generate::WORKLOADS.iter().position(|w| w.name == stem);
        (known.unwrap_or(usize::MAX), stem)
    };
    files.sort_by_key(rank);
    files
        .into_iter()
        .map(|path| {
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            rep::read(&path)
                .map(|t| (path, t))
                .map_err(|e| Fatal::new(format!("{e} (fix the file, or {regenerate})")))
        })
        .collect()
}
