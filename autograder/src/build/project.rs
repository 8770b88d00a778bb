//! The generated Cargo projects: their files written only when they
//! change, a copy of the course's `Cargo.lock` (the same versions, no
//! network), the course's `[profile]` settings, and the lock that keeps two
//! grades of one lesson and variant from building under each other.

use std::path::{Path, PathBuf};

use crate::course::{Course, Lesson};
use crate::Fatal;

use super::Variant;

/// Takes the project's lock file, waiting (and saying so) if another grader
/// holds it.
pub fn lock(project: &Path, lesson: &Lesson, variant: &Variant) -> Result<std::fs::File, Fatal> {
    let id = &lesson.id;
    std::fs::create_dir_all(project)
        .map_err(|e| Fatal::new(format!("cannot create {}: {e}", project.display())))?;
    let path = project.join(".grade.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Fatal::new(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!(
                "waiting for another grade of {id} ({}) to finish …",
                variant.slug()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(Fatal::new(format!("cannot lock {}: {e}", path.display())));
        }
    }
    file.lock()
        .map_err(|e| Fatal::new(format!("cannot lock {}: {e}", path.display())))?;
    Ok(file)
}

/// Copies the workspace's `Cargo.lock` in when it changed since the last
/// copy (cargo then adds the generated package to the copy; the stamp keeps
/// that from counting as a change next time).
pub fn sync_lock(course: &Course, project: &Path) -> Result<(), Fatal> {
    let Some(lock) = find_up(&course.root, "Cargo.lock") else {
        return Ok(());
    };
    let bytes = std::fs::read(&lock)
        .map_err(|e| Fatal::new(format!("cannot read {}: {e}", lock.display())))?;
    let stamp = project.join(".workspace-Cargo.lock");
    if std::fs::read(&stamp).ok().as_deref() != Some(&bytes[..])
        || !project.join("Cargo.lock").exists()
    {
        write_if_changed(&project.join("Cargo.lock"), &bytes)?;
        write_if_changed(&stamp, &bytes)?;
    }
    Ok(())
}

/// The `[profile]` table of the workspace's Cargo.toml, so the harness is
/// built with the same settings the course chose.
pub fn workspace_profile(course: &Course) -> String {
    let Some(lock) = find_up(&course.root, "Cargo.lock") else {
        return String::new();
    };
    let Some(ws) = lock.parent() else {
        return String::new();
    };
    let Ok(text) = std::fs::read_to_string(ws.join("Cargo.toml")) else {
        return String::new();
    };
    let Ok(table) = toml::from_str::<toml::Table>(&text) else {
        return String::new();
    };
    let Some(profile) = table.get("profile") else {
        return String::new();
    };
    let mut wrapper = toml::Table::new();
    wrapper.insert("profile".into(), profile.clone());
    format!("\n{}", toml::to_string(&wrapper).unwrap_or_default())
}

pub fn find_up(start: &Path, name: &str) -> Option<PathBuf> {
    let mut dir = start.to_path_buf();
    loop {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// Writes `bytes` to `path` unless it already holds them (keeps mtimes, so
/// cargo sees nothing new). Written through a temporary file and a rename,
/// so two graders running at once never see half a file.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), Fatal> {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Fatal::new(format!("cannot create {}: {e}", dir.display())))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Fatal::new(format!("cannot write in {}: {e}", dir.display())))?;
    std::io::Write::write_all(&mut tmp, bytes)
        .map_err(|e| Fatal::new(format!("cannot write {}: {e}", path.display())))?;
    tmp.persist(path)
        .map_err(|e| Fatal::new(format!("cannot write {}: {e}", path.display())))?;
    Ok(())
}

/// A path relative to the course root, as students know it.
pub fn rel(course: &Course, path: &Path) -> String {
    path.strip_prefix(&course.root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// A TOML string literal.
pub fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Writes a generated project: its `Cargo.toml`, `src/main.rs`, the
/// course's lock file; each only when it changed.
pub fn write_project(course: &Course, dir: &Path, manifest: &str, main: &str) -> Result<(), Fatal> {
    write_if_changed(&dir.join("Cargo.toml"), manifest.as_bytes())?;
    write_if_changed(&dir.join("src").join("main.rs"), main.as_bytes())?;
    sync_lock(course, dir)
}

/// The `heaplab-subject` crate: next to the suites.
pub fn subject_crate(course: &Course) -> PathBuf {
    course
        .suites_dir()
        .parent()
        .map(|p| p.join("subject"))
        .unwrap_or_else(|| course.root.join("autograder").join("subject"))
}

/// The `[package] name` of the crate in `dir`, or `fallback` when its
/// Cargo.toml does not say (cargo then reports the problem itself).
pub fn package_name(dir: &Path, fallback: String) -> String {
    #[derive(serde::Deserialize)]
    struct Manifest {
        package: Option<Package>,
    }
    #[derive(serde::Deserialize)]
    struct Package {
        name: String,
    }
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|text| toml::from_str::<Manifest>(&text).ok())
        .and_then(|m| m.package)
        .map_or(fallback, |p| p.name)
}
