//! cargo-mutants' side of `grade mutants`: the list of mutants it would make
//! of a crate (`cargo mutants --list --json`), and one of them written into
//! a copy of the crate, to be graded as a submission.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::build;
use crate::Fatal;

/// One mutant, as `cargo mutants --list --json` describes it (its other
/// fields, the diff and the function, are not needed here).
#[derive(Clone, Debug, Deserialize)]
pub struct Mutant {
    /// `file:line:column: what changes`, cargo-mutants' own name for it.
    pub name: String,
    /// The file, relative to the crate's folder (`src/heap.rs`).
    pub file: String,
    /// The text that replaces the span.
    pub replacement: String,
    pub span: Span,
}

/// The text a mutant replaces, from `start` up to (not including) `end`.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

/// A line (from 1) and column (from 1, in characters).
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// The mutants of the crate in `crate_dir`, the bodies of its `unsafe fn`s
/// included (cargo-mutants leaves those alone, and a heap's `free` is one):
/// cargo-mutants lists them in a copy whose `unsafe` keywords before `fn`
/// are blanked out, column for column, so every span fits the crate too.
pub fn list(crate_dir: &Path) -> Result<Vec<Mutant>, Fatal> {
    let work = tempfile::tempdir().map_err(|e| Fatal::new(format!("no scratch folder: {e}")))?;
    let listing = work.path().join("crate");
    copy_dir(crate_dir, &listing)?;
    unsafe_fns_listable(&listing)?;
    let out = Command::new(build::cargo())
        .args(["mutants", "--list", "--json", "-d", "."])
        .current_dir(&listing)
        .output()
        .map_err(|e| Fatal::new(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Fatal::new(if err.contains("no such command") {
            "cargo-mutants is not installed: run `cargo install cargo-mutants`, then again"
                .to_string()
        } else {
            format!(
                "cargo mutants --list failed: {}",
                err.lines().last().unwrap_or("").trim()
            )
        }));
    }
    parse(&out.stdout)
}

/// Readies the copy in `dir` for listing: a manifest of its own package
/// only (no workspace, no dependencies: listing parses, it does not build),
/// and every `.rs` file through [`blank_unsafe_fns`].
fn unsafe_fns_listable(dir: &Path) -> Result<(), Fatal> {
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| Fatal::new(format!("cannot read {}: {e}", manifest.display())))?;
    let package = text.split("\n[").next().unwrap_or_default();
    std::fs::write(&manifest, format!("{package}\n\n[workspace]\n"))
        .map_err(|e| Fatal::new(format!("cannot write {}: {e}", manifest.display())))?;
    for entry in walk_rs(&dir.join("src")) {
        let text = std::fs::read_to_string(&entry)
            .map_err(|e| Fatal::new(format!("cannot read {}: {e}", entry.display())))?;
        std::fs::write(&entry, blank_unsafe_fns(&text))
            .map_err(|e| Fatal::new(format!("cannot write {}: {e}", entry.display())))?;
    }
    Ok(())
}

/// `text` with `unsafe` blanked where it makes a function unsafe (`unsafe
/// fn`, `unsafe extern "C" fn`): the same length, line for line.
pub fn blank_unsafe_fns(text: &str) -> String {
    let blank = " ".repeat("unsafe".len());
    text.replace("unsafe fn", &format!("{blank} fn"))
        .replace("unsafe extern", &format!("{blank} extern"))
}

/// The `.rs` files under `dir`.
fn walk_rs(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk_rs(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// `cargo mutants --list --json`'s output, read.
pub fn parse(json: &[u8]) -> Result<Vec<Mutant>, Fatal> {
    serde_json::from_slice(json)
        .map_err(|e| Fatal::new(format!("cannot read cargo mutants' list: {e}")))
}

/// Writes `copy`, the crate in `crate_dir` (without its `target/`) with
/// `mutant` applied.
pub fn write_mutated_copy(crate_dir: &Path, mutant: &Mutant, copy: &Path) -> Result<(), Fatal> {
    if copy.exists() {
        std::fs::remove_dir_all(copy)
            .map_err(|e| Fatal::new(format!("cannot empty {}: {e}", copy.display())))?;
    }
    copy_dir(crate_dir, copy)?;
    let file = copy.join(&mutant.file);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Fatal::new(format!("cannot read {}: {e}", file.display())))?;
    let mutated = apply(&text, mutant).ok_or_else(|| {
        Fatal::new(format!(
            "{}: the span is outside the file (has it changed since the list?)",
            mutant.name
        ))
    })?;
    std::fs::write(&file, mutated)
        .map_err(|e| Fatal::new(format!("cannot write {}: {e}", file.display())))
}

/// `text` with the mutant's span replaced, or `None` if the span is not in
/// `text`.
pub fn apply(text: &str, mutant: &Mutant) -> Option<String> {
    let (start, end) = (
        offset(text, mutant.span.start)?,
        offset(text, mutant.span.end)?,
    );
    if start > end {
        return None;
    }
    let mut out = text.to_string();
    out.replace_range(start..end, &mutant.replacement);
    Some(out)
}

/// The byte offset of a line and column (a column just past the line's end
/// is its end).
fn offset(text: &str, at: Position) -> Option<usize> {
    let skipped = at.line.checked_sub(1)?;
    let mut lines = text.split_inclusive('\n');
    let start: usize = lines.by_ref().take(skipped).map(str::len).sum();
    let line = lines.next()?.trim_end_matches('\n');
    let column = at.column.checked_sub(1)?;
    let byte = match line.char_indices().nth(column) {
        Some((i, _)) => i,
        None if column == line.chars().count() => line.len(),
        None => return None,
    };
    Some(start + byte)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), Fatal> {
    std::fs::create_dir_all(to)
        .map_err(|e| Fatal::new(format!("cannot create {}: {e}", to.display())))?;
    let entries = std::fs::read_dir(from)
        .map_err(|e| Fatal::new(format!("cannot read {}: {e}", from.display())))?;
    for entry in entries.flatten() {
        let (path, name) = (entry.path(), entry.file_name());
        if name == "target" {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(&name))?;
        } else {
            std::fs::copy(&path, to.join(&name))
                .map_err(|e| Fatal::new(format!("cannot copy {}: {e}", path.display())))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One mutant as cargo-mutants 27 lists it, fields this module ignores
    /// included.
    const LISTED: &str = r#"[{
        "diff": "--- a\n+++ b\n",
        "file": "solutions/lesson4-free-list/src/chunk.rs",
        "function": {"function_name": "chunk_bytes_for", "return_type": "-> Option<usize>",
                     "span": {"start": {"line": 96, "column": 1}, "end": {"line": 104, "column": 2}}},
        "genre": "BinaryOperator",
        "name": "solutions/lesson4-free-list/src/chunk.rs:2:7: replace + with - in f",
        "package": "lesson4-solution",
        "replacement": "-",
        "span": {"start": {"line": 2, "column": 7}, "end": {"line": 2, "column": 8}}
    }]"#;

    #[test]
    fn the_list_is_read_and_a_span_replaced_by_lines_and_columns() {
        let mutants = parse(LISTED.as_bytes()).unwrap();
        assert_eq!(mutants.len(), 1);
        let text = "fn f() -> u8 {\n    1 + 2\n}\n";
        assert_eq!(
            apply(text, &mutants[0]).unwrap(),
            "fn f() -> u8 {\n    1 - 2\n}\n"
        );
    }

    #[test]
    fn columns_count_characters_and_may_end_a_line() {
        let span = |(l1, c1), (l2, c2)| Span {
            start: Position {
                line: l1,
                column: c1,
            },
            end: Position {
                line: l2,
                column: c2,
            },
        };
        let mutant = |span, replacement: &str| Mutant {
            name: "m".into(),
            file: "f.rs".into(),
            replacement: replacement.into(),
            span,
        };
        let text = "// é\nfn g() {\n    x\n}\n";
        let body = mutant(span((2, 8), (4, 2)), "{}");
        assert_eq!(apply(text, &body).unwrap(), "// é\nfn g() {}\n");
        let after_accent = mutant(span((1, 5), (1, 5)), "!");
        assert_eq!(
            apply(text, &after_accent).unwrap(),
            "// é!\nfn g() {\n    x\n}\n"
        );
        let past = mutant(span((9, 1), (9, 2)), "-");
        assert_eq!(apply(text, &past), None);
    }

    #[test]
    fn unsafe_fns_are_listed_with_every_column_in_place() {
        let text = "pub unsafe fn f() {}\nunsafe { g() }\npub unsafe extern \"C\" fn free() {}\n";
        let blanked = blank_unsafe_fns(text);
        assert_eq!(
            blanked,
            "pub        fn f() {}\nunsafe { g() }\npub        extern \"C\" fn free() {}\n"
        );
        let lengths = |t: &str| t.lines().map(str::len).collect::<Vec<_>>();
        assert_eq!(lengths(&blanked), lengths(text));
    }

    #[test]
    fn an_unreadable_list_is_one_line() {
        let err = parse(b"cargo-mutants says hello").unwrap_err();
        assert!(err.message.starts_with("cannot read cargo mutants' list"));
    }
}
