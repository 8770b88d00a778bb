//! A submission as the grader builds it: the grader's own copy of the
//! lesson's `Cargo.toml` (path dependencies made absolute) and the
//! submission's `src/`, nothing else, so the grader's files win over
//! anything the student changed.

use std::path::Path;

use super::canonical;
use super::project::write_if_changed;
use crate::course::{Course, Lesson};
use crate::Fatal;

/// lesson (path dependencies made absolute) to `staged`.
pub fn stage_submission(
    course: &Course,
    lesson: &Lesson,
    src: &Path,
    staged: &Path,
) -> Result<(), Fatal> {
    let given = course.student_dir(lesson);
    let given = canonical(&given, "the lesson's student crate")?;
    let text = std::fs::read_to_string(given.join("Cargo.toml")).map_err(|e| {
        Fatal::new(format!(
            "cannot read {}: {e}",
            given.join("Cargo.toml").display()
        ))
    })?;
    let mut table: toml::Table = toml::from_str(&text)
        .map_err(|e| Fatal::new(format!("{}: {e}", given.join("Cargo.toml").display())))?;
    absolutize_paths(&mut table, &given);
    let mut out =
        String::from("# The grader's copy of this lesson's Cargo.toml (the grader's files win).\n");
    out.push_str(
        &toml::to_string(&table)
            .map_err(|e| Fatal::new(format!("cannot write Cargo.toml: {e}")))?,
    );
    write_if_changed(&staged.join("Cargo.toml"), out.as_bytes())?;
    sync_dir(&src.join("src"), &staged.join("src"))
}

/// Rewrites every `path = "..."` of a dependency table relative to `base`.
fn absolutize_paths(table: &mut toml::Table, base: &Path) {
    for (key, value) in table.iter_mut() {
        let toml::Value::Table(inner) = value else {
            continue;
        };
        if key.ends_with("dependencies") {
            for (_, dep) in inner.iter_mut() {
                if let toml::Value::Table(dep) = dep {
                    if let Some(toml::Value::String(p)) = dep.get_mut("path") {
                        let abs = base.join(&*p);
                        *p = std::fs::canonicalize(&abs)
                            .unwrap_or(abs)
                            .to_string_lossy()
                            .into_owned();
                    }
                }
            }
        } else if key == "target" {
            for (_, cfg) in inner.iter_mut() {
                if let toml::Value::Table(cfg) = cfg {
                    absolutize_paths(cfg, base);
                }
            }
        }
    }
}

/// Makes `to` hold exactly the regular files of `from` (recursively).
fn sync_dir(from: &Path, to: &Path) -> Result<(), Fatal> {
    let entries = std::fs::read_dir(from)
        .map_err(|e| Fatal::new(format!("cannot read {}: {e}", from.display())))?;
    let mut keep = std::collections::HashSet::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| Fatal::new(format!("cannot read {}: {e}", from.display())))?;
        let kind = entry
            .file_type()
            .map_err(|e| Fatal::new(format!("cannot read {}: {e}", entry.path().display())))?;
        let name = entry.file_name();
        if kind.is_dir() {
            sync_dir(&entry.path(), &to.join(&name))?;
        } else if kind.is_file() {
            let bytes = std::fs::read(entry.path())
                .map_err(|e| Fatal::new(format!("cannot read {}: {e}", entry.path().display())))?;
            write_if_changed(&to.join(&name), &bytes)?;
        } else {
            continue; // symlinks and the like are not part of a submission
        }
        keep.insert(name);
    }
    // Files a previous submission had and this one does not.
    if let Ok(entries) = std::fs::read_dir(to) {
        for entry in entries.flatten() {
            if !keep.contains(&entry.file_name()) {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
    Ok(())
}
