//! Builds a lesson's harness: a small generated Cargo project per (lesson,
//! variant) that links the lesson's suite with the crate under test.
//!
//! ```text
//! <target>/heaplab/lesson4-solution/
//!   Cargo.toml    [workspace] of its own; student = { path, package }, heaplab-suites
//!   Cargo.lock    the course workspace's lock, so versions match and no network is needed
//!   src/main.rs   fn main() { heaplab_suites::harness::main(<harness from course.toml>) }
//!   student/      (submissions only) the grader's Cargo.toml + the submission's src/
//! <target>/heaplab/target/   one build folder shared by every generated project
//! ```
//!
//! Files are written only when their content changes, so grading an
//! unchanged crate is a no-op build.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::course::{Course, Lesson};
use crate::Fatal;

/// Which crate of a lesson is graded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Variant {
    /// `lessons/<dir>`: the student's working copy.
    Student,
    /// `solutions/<dir>`: the reference solution.
    Solution,
    /// A student's lesson crate anywhere on disk: only its `src/` is used.
    Submission(PathBuf),
}

impl Variant {
    pub fn slug(&self) -> &'static str {
        match self {
            Variant::Student => "student",
            Variant::Solution => "solution",
            Variant::Submission(_) => "submission",
        }
    }
}

/// A built harness binary.
#[derive(Debug)]
pub struct Harness {
    pub exe: PathBuf,
    /// Absolute folder of the crate under test as the compiler saw it, and
    /// what to show instead (`lessons/lesson4-free-list` or empty for a
    /// submission), to make `todo!()` locations readable.
    pub crate_dir: PathBuf,
    pub shown_dir: String,
    /// Folder of the generated project (relative paths of its members start here).
    pub project_dir: PathBuf,
    /// Held while the harness is in use: another `grade` of the same lesson
    /// and variant waits instead of rebuilding the binary under our tests.
    _lock: std::fs::File,
}

impl Harness {
    /// Copies the harness binary to `exe` and returns a harness running that
    /// copy, free of the build lock: batch grading builds the next
    /// submission in the same project while this copy's tests run.
    #[cfg(feature = "instructor")]
    pub fn copy_to(&self, exe: &Path) -> Result<Harness, Fatal> {
        std::fs::copy(&self.exe, exe).map_err(|e| {
            Fatal::new(format!("cannot copy the harness to {}: {e}", exe.display()))
        })?;
        let handle = std::fs::File::open(exe)
            .map_err(|e| Fatal::new(format!("cannot open {}: {e}", exe.display())))?;
        Ok(Harness {
            exe: exe.to_path_buf(),
            crate_dir: self.crate_dir.clone(),
            shown_dir: self.shown_dir.clone(),
            project_dir: self.project_dir.clone(),
            _lock: handle,
        })
    }

    /// Turns a compiler path (`/abs/lessons/x/src/a.rs:4:9`, or `student/src/a.rs:4:9`
    /// for a submission) into one relative to the course or the submission.
    pub fn relative_location(&self, course_root: &Path, location: &str) -> String {
        let candidates = [
            (self.crate_dir.clone(), self.shown_dir.clone()),
            (self.project_dir.join("student"), String::new()),
            (PathBuf::from("student"), String::new()),
            (course_root.to_path_buf(), String::new()),
        ];
        for (prefix, shown) in candidates {
            let prefix = prefix.to_string_lossy().into_owned();
            if let Some(rest) = location.strip_prefix(&prefix) {
                if let Some(rest) = rest.strip_prefix('/') {
                    return if shown.is_empty() {
                        rest.to_string()
                    } else {
                        format!("{shown}/{rest}")
                    };
                }
            }
        }
        location.to_string()
    }
}

impl Harness {
    /// Shortens every absolute path of the crate under test or the course
    /// in a message (panic locations) the way [`relative_location`] does.
    ///
    /// [`relative_location`]: Harness::relative_location
    pub fn relative_paths(&self, course_root: &Path, message: &str) -> String {
        let mut out = message.to_string();
        let crate_dir = format!("{}/", self.crate_dir.display());
        let shown = if self.shown_dir.is_empty() {
            String::new()
        } else {
            format!("{}/", self.shown_dir)
        };
        out = out.replace(&crate_dir, &shown);
        out = out.replace(
            &format!("{}/", self.project_dir.join("student").display()),
            "",
        );
        out = out.replace(&format!("{}/", course_root.display()), "");
        // The suites crate may sit outside the course (a test course).
        match find_up(course_root, "Cargo.lock")
            .as_deref()
            .and_then(Path::parent)
        {
            Some(ws) => out.replace(&format!("{}/", ws.display()), ""),
            None => out,
        }
    }
}

/// The outcome of a build.
#[derive(Debug)]
pub enum Build {
    Built(Harness),
    /// The crate under test (or its use by the suite) does not compile: the
    /// compiler's errors, rendered (may hold ANSI colour), trimmed.
    DidNotCompile(String),
}

pub struct BuildOptions {
    pub offline: bool,
    pub color: bool,
}

/// The target folder: `$CARGO_TARGET_DIR`, else what `cargo metadata` says
/// for the workspace holding the course, else `<course>/target`.
pub fn target_dir(course: &Course) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            std::env::current_dir().map(|c| c.join(&dir)).unwrap_or(dir)
        };
    }
    #[derive(Deserialize)]
    struct Metadata {
        target_directory: PathBuf,
    }
    let out = Command::new(cargo())
        .args(["metadata", "--no-deps", "--format-version=1", "--offline"])
        .current_dir(&course.root)
        .stderr(Stdio::null())
        .output();
    if let Ok(out) = out {
        if out.status.success() {
            if let Ok(meta) = serde_json::from_slice::<Metadata>(&out.stdout) {
                return meta.target_directory;
            }
        }
    }
    course.root.join("target")
}

pub fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Generates (if changed) and builds the harness of `lesson` for `variant`.
pub fn build(
    course: &Course,
    lesson: &Lesson,
    variant: &Variant,
    target: &Path,
    opts: &BuildOptions,
) -> Result<Build, Fatal> {
    let project = target
        .join("heaplab")
        .join(format!("{}-{}", lesson.id, variant.slug()));
    let bin_name = format!("heaplab-{}-{}", lesson.id, variant.slug());
    let suites = canonical(&course.suites_dir(), "the suites crate")?;
    let lock = lock_project(&project, &lesson.id, variant)?;

    let (crate_dir, package, shown_dir) = match variant {
        Variant::Student => {
            let dir = course.student_dir(lesson);
            (
                canonical(&dir, "the lesson's student crate")?,
                lesson.package(),
                rel(course, &dir),
            )
        }
        Variant::Solution => {
            let dir = course.solution_dir(lesson);
            (
                canonical(&dir, "the lesson's solution")?,
                lesson.solution_package(),
                rel(course, &dir),
            )
        }
        Variant::Submission(src) => {
            let staged = project.join("student");
            stage_submission(course, lesson, src, &staged)?;
            (staged, lesson.package(), String::new())
        }
    };
    let student_path = match variant {
        // A member of the generated workspace: path relative to it.
        Variant::Submission(_) => "student".to_string(),
        _ => crate_dir.to_string_lossy().into_owned(),
    };

    let profile = workspace_profile(course);
    let manifest = format!(
        "# Generated by heaplab's `grade` from {manifest}; rewritten on every run.\n\
         [package]\n\
         name = \"heaplab-harness-{id}-{slug}\"\n\
         version = \"0.0.0\"\n\
         edition = \"2021\"\n\
         publish = false\n\
         \n\
         [[bin]]\n\
         name = {bin}\n\
         path = \"src/main.rs\"\n\
         \n\
         [dependencies]\n\
         student = {{ path = {student}, package = {package} }}\n\
         heaplab-suites = {{ path = {suites} }}\n\
         \n\
         # Not part of the course's workspace: built on its own.\n\
         [workspace]\n\
         {profile}",
        manifest = course.manifest_path.display(),
        id = lesson.id,
        slug = variant.slug(),
        bin = toml_str(&bin_name),
        student = toml_str(&student_path),
        package = toml_str(&package),
        suites = toml_str(&suites.to_string_lossy()),
    );
    let main = format!(
        "// Generated by heaplab's `grade`: the harness of {id} ({slug}).\n\
         fn main() -> std::process::ExitCode {{\n    heaplab_suites::harness::main({harness})\n}}\n",
        id = lesson.id,
        slug = variant.slug(),
        harness = lesson.harness.trim(),
    );
    write_if_changed(&project.join("Cargo.toml"), manifest.as_bytes())?;
    write_if_changed(&project.join("src").join("main.rs"), main.as_bytes())?;
    sync_lock(course, &project)?;

    let mut cmd = Command::new(cargo());
    cmd.arg("build")
        .arg("--quiet")
        .arg(if opts.color {
            "--message-format=json-diagnostic-rendered-ansi"
        } else {
            "--message-format=json"
        })
        .arg("--manifest-path")
        .arg(project.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target.join("heaplab").join("target"))
        .current_dir(&project)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if opts.offline {
        cmd.arg("--offline");
    }
    let mut child = cmd.spawn().map_err(|e| {
        Fatal::new(format!(
            "cannot run cargo ({}): {e}",
            cargo().to_string_lossy()
        ))
    })?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    let status = child
        .wait()
        .map_err(|e| Fatal::new(format!("cargo build did not finish: {e}")))?;
    let stderr = err_thread.join().unwrap_or_default();

    let mut errors = Vec::new();
    let mut foreign_errors = Vec::new();
    let mut exe = None;
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<CargoMessage>(line) else {
            continue;
        };
        match msg.reason.as_str() {
            "compiler-artifact" => {
                if let Some(path) = msg.executable {
                    if msg.target.as_ref().is_some_and(|t| t.name == bin_name) {
                        exe = Some(path);
                    }
                }
            }
            "compiler-message" => {
                let Some(m) = msg.message else { continue };
                if m.level != "error" && m.level != "error: internal compiler error" {
                    continue;
                }
                let rendered = m.rendered.unwrap_or(m.message);
                let id = msg.package_id.unwrap_or_default();
                if id.contains(&format!("#{package}@"))
                    || id.contains(&format!("heaplab-harness-{}-{}", lesson.id, variant.slug()))
                    || id.ends_with(&format!("#{package}"))
                {
                    errors.push(rendered);
                } else {
                    foreign_errors.push(rendered);
                }
            }
            _ => {}
        }
    }

    if status.success() {
        return match exe {
            Some(exe) => Ok(Build::Built(Harness {
                exe,
                crate_dir,
                shown_dir,
                project_dir: project,
                _lock: lock,
            })),
            None => Err(Fatal::new(format!(
                "cargo built {} but reported no executable `{bin_name}` (kit bug)",
                project.display()
            ))),
        };
    }
    if !foreign_errors.is_empty() {
        return Err(Fatal::new(format!(
            "the grading kit itself does not compile (heaplab-suites or a dependency); this is a kit bug, not the student's:\n{}",
            trim_errors(&foreign_errors)
        )));
    }
    if !errors.is_empty() {
        // Paths as the student knows them: `src/lib.rs` in a submission,
        // `lessons/lesson4-free-list/src/...` in the course.
        let mut text = trim_errors(&errors);
        match variant {
            Variant::Submission(_) => text = text.replace("student/src/", "src/"),
            _ => {
                let shown = if shown_dir.is_empty() {
                    String::new()
                } else {
                    format!("{shown_dir}/")
                };
                text = text.replace(&format!("{}/", crate_dir.display()), &shown);
            }
        }
        return Ok(Build::DidNotCompile(text));
    }
    Err(Fatal::new(format!(
        "cargo could not build the harness of {} ({}):\n{}",
        lesson.id,
        project.display(),
        stderr.trim_end()
    )))
}

#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    #[serde(default)]
    package_id: Option<String>,
    #[serde(default)]
    target: Option<CargoTarget>,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    message: Option<Diagnostic>,
}

#[derive(Deserialize)]
struct CargoTarget {
    name: String,
}

#[derive(Deserialize)]
struct Diagnostic {
    level: String,
    message: String,
    rendered: Option<String>,
}

/// Keeps the first few errors, each cut to a screenful.
fn trim_errors(errors: &[String]) -> String {
    const MAX_ERRORS: usize = 6;
    const MAX_LINES: usize = 30;
    let real: Vec<&String> = errors
        .iter()
        .filter(|e| {
            let plain = anstream::adapter::strip_str(e).to_string();
            !plain.starts_with("error: aborting due to")
        })
        .collect();
    let mut out = String::new();
    for e in real.iter().take(MAX_ERRORS) {
        let lines: Vec<&str> = e.trim_end().lines().collect();
        for line in lines.iter().take(MAX_LINES) {
            out.push_str(line);
            out.push('\n');
        }
        if lines.len() > MAX_LINES {
            out.push_str("   ... (cut)\n");
        }
        out.push('\n');
    }
    if real.len() > MAX_ERRORS {
        out.push_str(&format!(
            "... and {} more errors\n",
            real.len() - MAX_ERRORS
        ));
    }
    out.trim_end().to_string()
}

/// Takes the project's lock file, waiting (and saying so) if another grader
/// holds it.
fn lock_project(project: &Path, id: &str, variant: &Variant) -> Result<std::fs::File, Fatal> {
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

/// Copies a submission's `src/` and the grader's own `Cargo.toml` of the
/// lesson (path dependencies made absolute) to `staged`.
fn stage_submission(
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

/// Copies the workspace's `Cargo.lock` in when it changed since the last
/// copy (cargo then adds the generated package to the copy; the stamp keeps
/// that from counting as a change next time).
fn sync_lock(course: &Course, project: &Path) -> Result<(), Fatal> {
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
fn workspace_profile(course: &Course) -> String {
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

fn find_up(start: &Path, name: &str) -> Option<PathBuf> {
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

fn canonical(path: &Path, what: &str) -> Result<PathBuf, Fatal> {
    std::fs::canonicalize(path).map_err(|_| {
        Fatal::new(format!(
            "{what} is missing: {} does not exist",
            path.display()
        ))
    })
}

fn rel(course: &Course, path: &Path) -> String {
    path.strip_prefix(&course.root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// A TOML string literal.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}
