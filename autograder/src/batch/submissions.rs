//! The submissions of a batch: one folder or archive each under the batch's
//! folder, archives unpacked, and the lesson they are, when not given.

use std::path::{Path, PathBuf};

use crate::course::{Course, Lesson};
use crate::locate::{find_crate, package_name};
use crate::Fatal;

/// One submission to grade.
pub(super) struct Submission {
    pub name: String,
    pub path: PathBuf,
}

/// The submissions under `dir`, sorted by name: folders as they are,
/// archives unpacked into `work`. Hidden entries are skipped.
pub(super) fn collect(dir: &Path, work: &Path) -> Result<Vec<Submission>, Fatal> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Fatal::new(format!("cannot read {}: {e}", dir.display())))?;
    let mut subs = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            subs.push(Submission {
                name: file_name,
                path,
            });
            continue;
        }
        let Some((name, kind)) = archive_kind(&file_name) else {
            eprintln!("skipping {}: not a folder or an archive", path.display());
            continue;
        };
        let into = work.join("unpacked").join(name);
        let _ = std::fs::remove_dir_all(&into);
        // An archive that cannot be unpacked still gets its row (no crate).
        if let Err(e) = unpack(&path, kind, &into) {
            eprintln!("{}: cannot unpack: {e}", path.display());
        }
        subs.push(Submission {
            name: name.to_string(),
            path: into,
        });
    }
    subs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(subs)
}

#[derive(Clone, Copy)]
enum Archive {
    Zip,
    Tar,
    TarGz,
}

fn archive_kind(file_name: &str) -> Option<(&str, Archive)> {
    for (suffix, kind) in [
        (".tar.gz", Archive::TarGz),
        (".tgz", Archive::TarGz),
        (".tar", Archive::Tar),
        (".zip", Archive::Zip),
    ] {
        if let Some(name) = file_name.strip_suffix(suffix) {
            return Some((name, kind));
        }
    }
    None
}

/// Unpacks an archive; `tar` and `zip` refuse entries that would land
/// outside `into`.
fn unpack(path: &Path, kind: Archive, into: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(into)?;
    let file = std::fs::File::open(path)?;
    match kind {
        Archive::Tar => tar::Archive::new(file).unpack(into),
        Archive::TarGz => tar::Archive::new(flate2::read::GzDecoder::new(file)).unpack(into),
        Archive::Zip => zip::ZipArchive::new(file)
            .and_then(|mut z| z.extract(into))
            .map_err(std::io::Error::other),
    }
}

/// The lesson whose crate (package `lessonN`) the first submission that has
/// one holds.
pub(super) fn infer_lesson<'a>(
    course: &'a Course,
    subs: &[Submission],
) -> Result<&'a Lesson, Fatal> {
    for sub in subs {
        for lesson in &course.manifest.lessons {
            if let Ok(found) = find_crate(&sub.path, lesson) {
                if package_name(&found).as_deref() == Some(lesson.id.as_str()) {
                    eprintln!(
                        "grading {} (found in {}; --lesson picks another)",
                        lesson.id, sub.name
                    );
                    return Ok(lesson);
                }
            }
        }
    }
    Err(Fatal::new(
        "cannot tell which lesson these submissions are: no Cargo.toml names a lesson's package; pass --lesson",
    ))
}
