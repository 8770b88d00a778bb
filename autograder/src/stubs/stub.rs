//! The stub pass: a lesson's student crate from its solution crate, by the
//! solution markers (`// BEGIN SOLUTION`, `// END SOLUTION`, `// STUB:`).
//! The rules are in the module documentation (`stubs/mod.rs`).

use std::path::{Path, PathBuf};

use super::error::{MarkerError, StubError};
use super::files::{read_crate, Files};
use super::rename::Renamer;

const BEGIN: &str = "// BEGIN SOLUTION";
const END: &str = "// END SOLUTION";
const STUB: &str = "// STUB:";

/// What the stub's `Cargo.toml` adds: bodies replaced by `todo!()` leave
/// parameters, imports and helpers unused, and a stub must build warning-free.
const ALLOW_UNUSED: &str = "unused = \"allow\"";

/// The stub of one source file: applies the marker rules to `text`.
///
/// Errors name the line of the misused marker: an `END` with no `BEGIN`, a
/// `BEGIN` inside another or never ended, a `STUB` inside a solution block,
/// or a line that looks like a marker but is not one.
pub fn stub_source(text: &str) -> Result<String, MarkerError> {
    let mut out = String::with_capacity(text.len());
    // The open block: its BEGIN line number, and whether it is being dropped.
    let mut open: Option<usize> = None;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        let error = |message: String| MarkerError {
            line: number,
            message,
        };
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        let trimmed = body.trim_start();
        let indent = &body[..body.len() - trimmed.len()];
        match Marker::parse(trimmed.trim_end()).map_err(error)? {
            Some(Marker::Begin(todo)) => {
                if let Some(begun) = open {
                    return Err(error(format!(
                        "`{BEGIN}` inside the block begun at line {begun}: \
                         solution blocks do not nest; end that block first"
                    )));
                }
                open = Some(number);
                if let Some(todo) = todo {
                    out.push_str(&format!("{indent}// TODO: {todo}{ending}"));
                    out.push_str(&format!("{indent}todo!(){ending}"));
                }
            }
            Some(Marker::End) => {
                if open.take().is_none() {
                    return Err(error(format!("`{END}` with no `{BEGIN}` before it")));
                }
            }
            Some(Marker::Stub(code)) => {
                if let Some(begun) = open {
                    return Err(error(format!(
                        "`{STUB}` inside the solution block begun at line {begun}: \
                         it would be removed with the block; move it after `{END}`"
                    )));
                }
                if code.is_empty() {
                    out.push_str(ending);
                } else {
                    out.push_str(&format!("{indent}{code}{ending}"));
                }
            }
            None => {
                if open.is_none() {
                    out.push_str(line);
                }
            }
        }
    }
    match open {
        Some(begun) => Err(MarkerError {
            line: begun,
            message: format!("`{BEGIN}` is never ended: add `{END}` after the solution"),
        }),
        None => Ok(out),
    }
}

/// One marker line, already trimmed of its indentation.
#[derive(Debug, PartialEq, Eq)]
enum Marker<'a> {
    /// `// BEGIN SOLUTION`, with the text of its TODO if it has one.
    Begin(Option<&'a str>),
    End,
    /// `// STUB: <code>`: the code.
    Stub(&'a str),
}

impl<'a> Marker<'a> {
    /// `Ok(None)` for an ordinary line; an error for a line that looks like
    /// a marker (a comment naming `BEGIN SOLUTION`, `END SOLUTION` or `STUB:`)
    /// but is spelled otherwise, since it would silently leak a solution.
    fn parse(line: &'a str) -> Result<Option<Marker<'a>>, String> {
        if let Some(rest) = line.strip_prefix(STUB) {
            return Ok(Some(Marker::Stub(rest.trim())));
        }
        if line == END {
            return Ok(Some(Marker::End));
        }
        if line == BEGIN {
            return Ok(Some(Marker::Begin(None)));
        }
        if let Some(rest) = line.strip_prefix(BEGIN).and_then(|r| r.strip_prefix(':')) {
            let todo = rest.trim();
            if todo.is_empty() {
                return Err(format!(
                    "`{BEGIN}:` needs a text saying what to do (`{BEGIN}: <what to do>`), \
                     or no colon to remove the block from the stub"
                ));
            }
            return Ok(Some(Marker::Begin(Some(todo))));
        }
        let comment = line.starts_with("//") || line.starts_with("/*");
        let upper = line.to_ascii_uppercase();
        let looks_like = ["BEGIN SOLUTION", "END SOLUTION", "STUB:"]
            .iter()
            .any(|m| upper.contains(m));
        if comment && looks_like {
            return Err(format!(
                "malformed marker {line:?}: write `{BEGIN}: <what to do>`, `{BEGIN}`, \
                 `{END}` or `{STUB} <code>`, alone on the line"
            ));
        }
        Ok(None)
    }
}

/// The stub's `Cargo.toml`: the solution's, renamed, allowing unused code.
fn stub_manifest(renamed: &str) -> String {
    let mut lines: Vec<&str> = renamed.lines().collect();
    if let Some(at) = lines.iter().position(|l| l.trim() == "[lints.rust]") {
        lines.insert(at + 1, ALLOW_UNUSED);
        let mut out = lines.join("\n");
        out.push('\n');
        return out;
    }
    let mut out = renamed.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("\n[lints.rust]\n");
    out.push_str(ALLOW_UNUSED);
    out.push('\n');
    out
}

/// The files of a lesson's student crate, generated from its solution crate
/// at `solution_dir`.
pub fn generate(solution_dir: &Path) -> Result<Files, StubError> {
    stub_crate(solution_dir, &read_crate(solution_dir)?)
}

/// The files of a lesson's student crate, generated from `solution`, the
/// files of its solution crate; `solution_dir` is where that crate is (or
/// will be) on disk, for error messages.
pub fn stub_crate(solution_dir: &Path, solution: &Files) -> Result<Files, StubError> {
    let manifest_path = solution_dir.join("Cargo.toml");
    let manifest = solution
        .get(Path::new("Cargo.toml"))
        .ok_or_else(|| StubError::Manifest {
            path: manifest_path.clone(),
            error: "the solution crate has no Cargo.toml".to_string(),
        })?;
    let manifest = String::from_utf8_lossy(manifest);
    let renamer = Renamer::for_manifest(&manifest).map_err(|error| StubError::Manifest {
        path: manifest_path.clone(),
        error,
    })?;
    let mut stub = Files::new();
    for (rel, bytes) in solution {
        let out_rel = PathBuf::from(renamer.rename(&rel.to_string_lossy()));
        // A file that is not UTF-8 text (an image, a data file) is copied as is.
        let Ok(text) = std::str::from_utf8(bytes) else {
            stub.insert(out_rel, bytes.clone());
            continue;
        };
        let text = if rel.extension().is_some_and(|e| e == "rs") {
            stub_source(text).map_err(|error| StubError::Marker {
                file: solution_dir.join(rel),
                error,
            })?
        } else {
            text.to_string()
        };
        if text.trim().is_empty() && !bytes.is_empty() {
            continue; // solution-only code, all of it: no file in the stub
        }
        let text = renamer.rename(&text);
        let text = if rel == Path::new("Cargo.toml") {
            stub_manifest(&text)
        } else {
            text
        };
        stub.insert(out_rel, text.into_bytes());
    }
    Ok(stub)
}
