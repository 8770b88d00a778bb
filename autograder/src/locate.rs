//! Finding a lesson's crate inside whatever a student handed in: the lesson
//! folder alone, the whole starter workspace, or either one level down in an
//! archive's top folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::course::{Course, Lesson};
use crate::Fatal;

/// Folders never searched: build output, version control, vendored crates,
/// and hidden folders (where the Inkfish grader unpacks itself).
fn skipped(name: &str) -> bool {
    name.starts_with('.') || matches!(name, "target" | "vendor" | "node_modules")
}

/// How deep under the submission a crate is looked for.
const MAX_DEPTH: usize = 6;

/// The folder of `lesson`'s crate inside `dir`: the one closest to the top
/// whose `Cargo.toml` names the package `<id>` and which has `src/`; else a
/// folder named like the lesson's (`lesson4-free-list`) with `src/`; else
/// `dir` itself when it has `src/`.
pub fn find_crate(dir: &Path, lesson: &Lesson) -> Result<PathBuf, String> {
    if !dir.is_dir() {
        return Err(format!("{} is not a folder", dir.display()));
    }
    let mut by_name = None;
    let mut by_dir = None;
    // Breadth first, so the shallowest match wins.
    let mut level = vec![dir.to_path_buf()];
    for _ in 0..=MAX_DEPTH {
        let mut next = Vec::new();
        for d in &level {
            if d.join("src").is_dir() {
                if by_name.is_none() && package_name(d).as_deref() == Some(lesson.id.as_str()) {
                    by_name = Some(d.clone());
                }
                if by_dir.is_none() && d.file_name().is_some_and(|n| *n == *lesson.dir) {
                    by_dir = Some(d.clone());
                }
            }
            let Ok(entries) = std::fs::read_dir(d) else {
                continue;
            };
            let mut children: Vec<PathBuf> = entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter(|e| !skipped(&e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect();
            children.sort();
            next.extend(children);
        }
        if by_name.is_some() {
            break;
        }
        level = next;
    }
    if let Some(found) = by_name.or(by_dir) {
        return Ok(found);
    }
    if dir.join("src").is_dir() {
        return Ok(dir.to_path_buf());
    }
    Err(format!(
        "no {id} crate in {}: hand in the folder lessons/{dir}/ (its Cargo.toml, naming package {id}, and src/)",
        dir.display(),
        id = lesson.id,
        dir = lesson.dir
    ))
}

/// The package name in `dir/Cargo.toml`, if it can be read.
pub fn package_name(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let table: toml::Table = text.parse().ok()?;
    Some(table.get("package")?.get("name")?.as_str()?.to_string())
}

#[derive(clap::Args)]
pub struct Args {
    /// The lesson (id, folder or number).
    pub lesson: String,
    /// A submission as handed in (unpacked).
    pub dir: PathBuf,
}

/// `grade locate LESSON DIR`: prints the folder of the lesson's crate inside
/// DIR; exit 1 with the reason when there is none.
pub fn run(args: Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    let lesson = course.lesson(&args.lesson)?;
    match find_crate(&args.dir, lesson) {
        Ok(found) => {
            println!("{}", found.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            eprintln!("grade locate: {why}");
            Ok(ExitCode::FAILURE)
        }
    }
}
