//! Builds what a lesson's grade runs, before any test starts:
//!
//! - the *checker*: the suites of every lesson of the course, built once per
//!   course, without any student code ([`checker`]);
//! - the *subject*: the crate under test with `heaplab-subject`'s server, one
//!   generated project per lesson and variant ([`subject`]);
//! - the lesson's extra builds from `course.toml` (lesson 7's C library and
//!   its Rust test program), so that no test builds anything ([`extras`]).
//!
//! ```text
//! <target>/heaplab/<course>/checker/            the checker's generated project
//! <target>/heaplab/<course>/lesson4-solution/   the subject's: Cargo.toml, src/main.rs, student/ (submissions)
//! <target>/heaplab/<course>/release-lesson7-solution/library/   one extra build of a lesson and variant
//! <target>/heaplab/target/                      one build folder for them all (debug)
//! <target>/heaplab/<course>/target-lesson8-student/   but a crate that is also a C library's
//! ```
//!
//! `<course>` is the course folder's name and a hash of its path, so that
//! two courses sharing a target folder (the kit's test courses and the
//! real one) never overwrite each other's projects.
//!
//! Files are written only when their content changes, so grading an
//! unchanged crate is a no-op build.

mod cargo;
mod checker;
mod extras;
pub mod local;
mod paths;
mod progress;
mod project;
mod stage;
mod subject;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

pub use cargo::cargo;
pub use paths::Shown;
pub use project::write_if_changed;

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

/// Everything a grade runs, built.
#[derive(Debug)]
pub struct Built {
    /// The checker program (the course's suites).
    pub checker: PathBuf,
    /// The subject program (the crate under test and the server loop).
    pub subject: PathBuf,
    /// The lesson's extra builds, by name.
    pub artifacts: BTreeMap<String, PathBuf>,
    /// How to show paths of the crate under test (todo!() locations).
    pub shown: Shown,
    /// Held while the build is in use: another `grade` of the same lesson
    /// and variant waits instead of rebuilding the subject under our tests.
    _lock: std::fs::File,
}

impl Built {
    /// Copies the subject program to `exe` and returns a build running that
    /// copy, free of the build lock: batch grading builds the next
    /// submission in the same project while this copy's tests run.
    #[cfg(feature = "instructor")]
    pub fn copy_to(&self, exe: &Path) -> Result<Built, Fatal> {
        std::fs::copy(&self.subject, exe).map_err(|e| {
            Fatal::new(format!("cannot copy the subject to {}: {e}", exe.display()))
        })?;
        let handle = std::fs::File::open(exe)
            .map_err(|e| Fatal::new(format!("cannot open {}: {e}", exe.display())))?;
        Ok(Built {
            checker: self.checker.clone(),
            subject: exe.to_path_buf(),
            artifacts: self.artifacts.clone(),
            shown: self.shown.clone(),
            _lock: handle,
        })
    }
}

/// The outcome of a build.
#[derive(Debug)]
pub enum Build {
    Built(Built),
    /// The crate under test does not compile: the compiler's errors,
    /// rendered (may hold ANSI colour), trimmed.
    DidNotCompile(String),
}

pub struct BuildOptions {
    pub offline: bool,
    pub color: bool,
    /// Show a progress bar on stderr while crates compile (on a terminal).
    pub progress: bool,
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

/// `<target>/heaplab/<course>`: this course's generated projects.
pub fn course_dir(target: &Path, course: &Course) -> PathBuf {
    // FNV-1a: a hash that stays the same from one Rust release to the next.
    let hash = course
        .root
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let name = course
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    target
        .join("heaplab")
        .join(format!("{name}-{:08x}", hash as u32))
}

/// The course's key, as [`course_dir`] made it: part of every program name.
fn course_key(heaplab: &Path) -> String {
    heaplab
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `<target>/heaplab/target`: the one build folder of every course's
/// generated projects (their dependencies are built once).
pub(crate) fn build_dir(heaplab: &Path) -> PathBuf {
    heaplab.parent().unwrap_or(heaplab).join("target")
}

/// The build folder of a project that links the crate under test in
/// `crate_dir`: the shared one ([`build_dir`]), unless the crate is also a
/// C library (`crate-type` with `cdylib`, as lessons 7 and 8). cargo names
/// such a crate's files without a hash (`deps/liblesson8.rlib`), so two
/// crates of one name built in one folder (a lesson's stub and a
/// submission, or two courses' stubs) overwrite each other's library, and
/// the next grade of the first would link the second's code. Those build
/// in a folder of their own per course, lesson and variant.
pub(crate) fn crate_build_dir(
    heaplab: &Path,
    crate_dir: &Path,
    lesson: &Lesson,
    variant: &Variant,
) -> PathBuf {
    if has_unhashed_outputs(crate_dir) {
        heaplab.join(format!("target-{}-{}", lesson.id, variant.slug()))
    } else {
        build_dir(heaplab)
    }
}

/// True when the crate's `[lib] crate-type` names anything but an rlib
/// (or its manifest cannot be read: a folder of its own is always safe).
fn has_unhashed_outputs(crate_dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(crate_dir.join("Cargo.toml")) else {
        return true;
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return true;
    };
    let types = table
        .get("lib")
        .and_then(|lib| lib.get("crate-type").or_else(|| lib.get("crate_type")))
        .and_then(|t| t.as_array());
    types.is_some_and(|types| {
        types
            .iter()
            .any(|t| !matches!(t.as_str(), Some("rlib" | "lib")))
    })
}

/// Builds the checker, the subject of `lesson` for `variant`, and the
/// lesson's extra builds.
pub fn build(
    course: &Course,
    lesson: &Lesson,
    variant: &Variant,
    target: &Path,
    opts: &BuildOptions,
) -> Result<Build, Fatal> {
    let heaplab = course_dir(target, course);
    let lock = project::lock(
        &heaplab.join(format!("{}-{}", lesson.id, variant.slug())),
        lesson,
        variant,
    )?;
    let checker = checker::build(course, &heaplab, opts)?;
    let (subject, shown) = match subject::build(course, lesson, variant, &heaplab, opts)? {
        Ok(built) => built,
        Err(errors) => return Ok(Build::DidNotCompile(errors)),
    };
    let artifacts = match extras::build(course, lesson, variant, &heaplab, &shown, opts)? {
        Ok(artifacts) => artifacts,
        Err(errors) => return Ok(Build::DidNotCompile(errors)),
    };
    Ok(Build::Built(Built {
        checker,
        subject,
        artifacts,
        shown,
        _lock: lock,
    }))
}

/// The folder `path`, made absolute, or an error naming `what` is missing.
pub(crate) fn canonical(path: &Path, what: &str) -> Result<PathBuf, Fatal> {
    std::fs::canonicalize(path).map_err(|_| {
        Fatal::new(format!(
            "{what} is missing: {} does not exist",
            path.display()
        ))
    })
}
