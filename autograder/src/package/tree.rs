//! The two workspaces a lesson's bundles are made of, assembled in memory
//! from the course: the student's starter and the grader tree.
//!
//! Both are the course workspace cut down to one lesson: `kit/`, `autograder/`
//! (without the instructor's commands, tests and benchmarks), the suites,
//! `lessons/<dir>/` (the stub), `course.toml` with that lesson only, the
//! workspace `Cargo.toml`, `Cargo.lock` and `.cargo/config.toml`. The starter
//! adds the lesson page and the dev container and drops hidden tests; no
//! bundle holds a solution.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item};

use super::io;
use crate::course::{Course, Lesson};
use crate::stubs;
use crate::Fatal;

/// Files of a tree: path relative to its root → contents and whether the
/// file is executable.
#[derive(Clone, Debug, Default)]
pub struct Files(BTreeMap<PathBuf, (Vec<u8>, bool)>);

impl Files {
    pub fn insert(&mut self, path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) {
        let path = path.into();
        let executable = path.extension().is_some_and(|e| e == "sh");
        self.0.insert(path, (bytes.into(), executable));
    }

    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.0.keys().map(PathBuf::as_path)
    }

    /// Writes every file under `root` (which must not exist yet).
    pub fn write_to(&self, root: &Path) -> Result<(), Fatal> {
        for (rel, (bytes, executable)) in &self.0 {
            let path = root.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
            if *executable {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| io(&path, e))?;
            }
        }
        Ok(())
    }

    /// Adds every file under `course_root/rel`, except build output and the
    /// folders or files named in `skip` (paths relative to `course_root`).
    fn add_dir(&mut self, course_root: &Path, rel: &Path, skip: &[&str]) -> Result<(), Fatal> {
        let dir = course_root.join(rel);
        let entries = std::fs::read_dir(&dir).map_err(|e| io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io(&dir, e))?;
            let rel = rel.join(entry.file_name());
            let name = entry.file_name();
            if name == "target" || skip.iter().any(|s| Path::new(s) == rel) {
                continue;
            }
            let kind = entry.file_type().map_err(|e| io(&entry.path(), e))?;
            if kind.is_dir() {
                self.add_dir(course_root, &rel, skip)?;
            } else if kind.is_file() {
                let bytes = std::fs::read(entry.path()).map_err(|e| io(&entry.path(), e))?;
                self.insert(rel, bytes);
            }
        }
        Ok(())
    }
}

/// What only instructors run: the stub generator, the packager, batch
/// grading, and the kit's own tests, benchmarks and examples (the figures,
/// the fit experiment: they link the reference solutions). Bundles leave it out and
/// build the autograder without its `instructor` feature.
const INSTRUCTOR_ONLY: &[&str] = &[
    "autograder/src/stubs",
    "autograder/src/package",
    "autograder/src/batch.rs",
    "autograder/tests",
    "autograder/benches",
    "autograder/examples",
    "autograder/suites/tests",
    "autograder/suites/benches",
    "autograder/suites/examples",
    "kit/tests",
    "kit/benches",
];

/// Whether a tree is for students or for the grading server.
#[derive(Clone, Copy, PartialEq, Eq)]
enum For {
    Student,
    Grader,
}

/// The student's starter workspace for `lesson`.
pub fn starter(course: &Course, lesson: &Lesson) -> Result<Files, Fatal> {
    let mut files = common(course, lesson, For::Student)?;
    if let Some(page) = lesson.page.as_deref() {
        let path = course.root.join(page);
        if path.is_file() {
            let text = std::fs::read(&path).map_err(|e| io(&path, e))?;
            add_figures(&mut files, course, Path::new(page), &text)?;
            files.insert(page, text);
        }
    }
    // The dev container, for students on macOS or Windows.
    if course.root.join(".devcontainer").is_dir() {
        files.add_dir(&course.root, Path::new(".devcontainer"), &[])?;
    }
    files.insert("README.md", starter_readme(lesson));
    Ok(files)
}

/// The figures a lesson page shows (`](figures/NAME.svg)`, beside the
/// page), so that its pictures are not broken links in the starter.
fn add_figures(files: &mut Files, course: &Course, page: &Path, text: &[u8]) -> Result<(), Fatal> {
    let text = String::from_utf8_lossy(text);
    let folder = page.parent().unwrap_or(Path::new(""));
    for (at, _) in text.match_indices("](figures/") {
        let rest = &text[at + 2..];
        let Some(end) = rest.find(')') else { continue };
        let rel = folder.join(&rest[..end]);
        let path = course.root.join(&rel);
        if path.is_file() {
            files.insert(&rel, std::fs::read(&path).map_err(|e| io(&path, e))?);
        }
    }
    Ok(())
}

/// The grader tree for `lesson`: the starter's workspace with every test,
/// hidden ones included (vendored crates are added later).
pub fn grader(course: &Course, lesson: &Lesson) -> Result<Files, Fatal> {
    common(course, lesson, For::Grader)
}

/// The workspace members that are the kit itself (`kit`, `autograder` and
/// the crates under it), not lesson or solution crates: every bundle holds
/// them all.
fn kit_members(ws: &DocumentMut) -> Vec<String> {
    ws["workspace"]["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .filter_map(|m| m.as_str())
                .filter(|m| m.starts_with("kit") || m.starts_with("autograder"))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// What the lesson's builds (`[[lesson.build]]`) read from outside the
/// kit: a program's source, a folder of files (lesson 8's malloc-lab
/// traces). A bundle without them could not build the lesson.
fn add_build_sources(files: &mut Files, course: &Course, lesson: &Lesson) -> Result<(), Fatal> {
    let root = &course.root;
    for source in lesson.builds.iter().filter_map(|b| b.source.as_deref()) {
        let rel = Path::new(source);
        if rel.starts_with("kit") || rel.starts_with("autograder") {
            continue; // in every bundle already
        }
        let path = root.join(rel);
        if path.is_dir() {
            files.add_dir(root, rel, &[])?;
        } else {
            files.insert(rel, std::fs::read(&path).map_err(|e| io(&path, e))?);
        }
    }
    Ok(())
}

fn common(course: &Course, lesson: &Lesson, who: For) -> Result<Files, Fatal> {
    let root = &course.root;
    let mut files = Files::default();
    for dir in ["kit", "autograder"] {
        files.add_dir(root, Path::new(dir), INSTRUCTOR_ONLY)?;
    }
    files.add_dir(root, &Path::new("lessons").join(&lesson.dir), &[])?;
    add_build_sources(&mut files, course, lesson)?;

    // Member manifests: no dev-dependencies, tests or benches (not shipped),
    // and the autograder without the instructor's commands and crates.
    let ws_bytes =
        std::fs::read(root.join("Cargo.toml")).map_err(|e| io(&root.join("Cargo.toml"), e))?;
    let mut ws = parse(root, "Cargo.toml", &ws_bytes)?;
    let kit_members = kit_members(&ws);
    for member in &kit_members {
        let rel = format!("{member}/Cargo.toml");
        let rel = rel.as_str();
        let (bytes, _) = files.0.get(Path::new(rel)).ok_or_else(|| {
            Fatal::new(format!(
                "{}: missing from the course",
                root.join(rel).display()
            ))
        })?;
        let mut doc = parse(root, rel, bytes)?;
        for table in ["dev-dependencies", "bench", "test", "example"] {
            doc.remove(table);
        }
        if rel == "autograder/Cargo.toml" {
            drop_instructor_feature(&mut doc);
        }
        files.insert(rel, doc.to_string());
    }

    // Suites: code an instructor wrapped in solution markers (hidden tests)
    // is left out of what students get.
    if who == For::Student {
        let suite_files: Vec<PathBuf> = files
            .paths()
            .filter(|p| {
                p.starts_with("autograder/suites/src") && p.extension().is_some_and(|e| e == "rs")
            })
            .map(Path::to_path_buf)
            .collect();
        for rel in suite_files {
            let text = String::from_utf8_lossy(&files.0[&rel].0).into_owned();
            let stripped = stubs::stub_source(&text).map_err(|e| {
                Fatal::new(format!(
                    "{}:{}: {}",
                    root.join(&rel).display(),
                    e.line,
                    e.message
                ))
            })?;
            files.insert(rel, stripped);
        }
    }

    // The workspace: the same settings, one lesson.
    let mut members = toml_edit::Array::new();
    for m in &kit_members {
        members.push(m.as_str());
    }
    members.push(format!("lessons/{}", lesson.dir));
    ws["workspace"]["members"] = toml_edit::value(members);
    if let Some(table) = ws["workspace"].as_table_mut() {
        table.remove("exclude");
    }
    files.insert("Cargo.toml", ws.to_string());

    let lock = root.join("Cargo.lock");
    files.insert(
        "Cargo.lock",
        std::fs::read(&lock).map_err(|e| io(&lock, e))?,
    );
    let config = root.join(".cargo/config.toml");
    if config.is_file() {
        files.insert(
            ".cargo/config.toml",
            std::fs::read(&config).map_err(|e| io(&config, e))?,
        );
    }
    files.insert(
        "course.toml",
        one_lesson_manifest(course, lesson, who == For::Grader)?,
    );
    Ok(files)
}

/// `course.toml` with `lesson` only; hidden tests only when `with_hidden`.
fn one_lesson_manifest(
    course: &Course,
    lesson: &Lesson,
    with_hidden: bool,
) -> Result<String, Fatal> {
    let bytes = std::fs::read(&course.manifest_path).map_err(|e| io(&course.manifest_path, e))?;
    let mut doc = parse(&course.root, "course.toml", &bytes)?;
    if let Some(lessons) = doc.get_mut("lesson").and_then(Item::as_array_of_tables_mut) {
        lessons.retain(|l| l.get("id").and_then(Item::as_str) == Some(lesson.id.as_str()));
        if !with_hidden {
            for l in lessons.iter_mut() {
                if let Some(tests) = l.get_mut("test").and_then(Item::as_array_of_tables_mut) {
                    tests.retain(|t| !t.get("hidden").and_then(Item::as_bool).unwrap_or(false));
                }
            }
        }
    }
    Ok(doc.to_string())
}

/// Removes the crates only the `instructor` feature uses, and the feature
/// from the defaults, so a bundle neither vendors nor builds them.
fn drop_instructor_feature(doc: &mut DocumentMut) {
    let Some(features) = doc.get_mut("features").and_then(Item::as_table_like_mut) else {
        return;
    };
    let deps: Vec<String> = features
        .get("instructor")
        .and_then(Item::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str()?.strip_prefix("dep:").map(str::to_string))
        .collect();
    features.insert("instructor", toml_edit::value(toml_edit::Array::new()));
    features.insert("default", toml_edit::value(toml_edit::Array::new()));
    if let Some(table) = doc
        .get_mut("dependencies")
        .and_then(Item::as_table_like_mut)
    {
        for dep in deps {
            table.remove(&dep);
        }
    }
}

fn parse(root: &Path, rel: &str, bytes: &[u8]) -> Result<DocumentMut, Fatal> {
    String::from_utf8_lossy(bytes)
        .parse::<DocumentMut>()
        .map_err(|e| Fatal::new(format!("{}: {e}", root.join(rel).display())))
}

fn starter_readme(lesson: &Lesson) -> String {
    let page = lesson.page.as_deref().unwrap_or("the lesson page");
    format!(
        "# heaplab {id}: {title}\n\n\
         Your crate is `lessons/{dir}/`; the lesson is `{page}`.\n\n\
         ```sh\n\
         cargo grade {id}          # build your crate with the suite and grade it\n\
         cargo grade {id} --test NAME --seed N   # replay one test (the report prints this)\n\
         ```\n\n\
         Hand in `lessons/{dir}/` (its `Cargo.toml` and `src/`): the grader builds your\n\
         `src/` with its own copy of everything else.\n\n\
         Not on Linux? Open this folder in VS Code and choose \"Reopen in Container\"\n\
         (or open it in GitHub Codespaces): `.devcontainer/` is a Linux with Rust, gdb,\n\
         valgrind, just and Miri, where `cargo grade` works.\n",
        id = lesson.id,
        title = lesson.title,
        dir = lesson.dir,
    )
}
