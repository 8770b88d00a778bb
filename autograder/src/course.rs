//! The course manifest (`course.toml`): lessons, their tests, points, titles,
//! hints and limits. The grader reads scoring from here only; a suite decides
//! pass or fail, never points.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::Fatal;

/// The manifest's file name, looked for in the current folder and its parents.
pub const MANIFEST: &str = "course.toml";
/// Environment variable naming another manifest (same as `--manifest`).
pub const MANIFEST_ENV: &str = "HEAPLAB_MANIFEST";

/// A loaded manifest and the folder it lives in (the course root: `lessons/`,
/// `solutions/` and `autograder/suites` are found from here).
#[derive(Debug)]
pub struct Course {
    pub root: PathBuf,
    pub manifest_path: PathBuf,
    pub manifest: Manifest,
}

#[derive(Debug, Deserialize)]
pub struct Manifest {
    /// The suites crate, relative to the manifest (default `autograder/suites`).
    #[serde(default)]
    pub suites: Option<String>,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default, rename = "lesson")]
    pub lessons: Vec<Lesson>,
}

/// Limits every test gets unless its own table says otherwise.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct Defaults {
    /// Seconds a test may run before SIGTERM (then SIGKILL).
    pub timeout: f64,
    /// Address-space limit of a test process, in MiB.
    pub memory_mib: u64,
    /// Bytes of stdout and of stderr kept per test, in KiB.
    pub output_kib: u64,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            timeout: 10.0,
            memory_mib: 1024,
            output_kib: 64,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Lesson {
    /// `lesson4`: the student's package name; the solution's is `lesson4-solution`.
    pub id: String,
    pub title: String,
    /// Folder name under `lessons/` and `solutions/`.
    pub dir: String,
    #[serde(default)]
    pub page: Option<String>,
    /// Rust expression building the suite; `student` names the crate under test.
    pub harness: String,
    #[serde(default, rename = "test")]
    pub tests: Vec<TestSpec>,
}

#[derive(Debug, Deserialize)]
pub struct TestSpec {
    /// The harness test name.
    pub name: String,
    pub title: String,
    pub points: u32,
    #[serde(default)]
    pub hint: String,
    /// Seconds; the manifest's default when absent.
    #[serde(default)]
    pub timeout: Option<f64>,
    /// Hidden tests keep their failure details out of what students see
    /// on a grading server (TAP diagnostics, Gradescope before publishing).
    #[serde(default)]
    pub hidden: bool,
}

impl Course {
    /// Loads the manifest named by `--manifest`, `$HEAPLAB_MANIFEST`, or the
    /// first `course.toml` in the current folder or its parents (falling back
    /// to the one this grader was built from).
    pub fn locate(explicit: Option<&Path>) -> Result<Course, Fatal> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match std::env::var_os(MANIFEST_ENV) {
                Some(p) if !p.is_empty() => PathBuf::from(p),
                _ => find_upwards().unwrap_or_else(|| {
                    Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("..")
                        .join(MANIFEST)
                }),
            },
        };
        Course::load(&path)
    }

    pub fn load(path: &Path) -> Result<Course, Fatal> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Fatal::new(format!(
                "cannot read the course manifest {}: {e} (run grade inside the heaplab folder, or pass --manifest PATH)",
                path.display()
            ))
        })?;
        let manifest: Manifest = toml::from_str(&text).map_err(|e| {
            let first = e.to_string();
            let first = first.lines().next().unwrap_or("").to_string();
            let span = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            Fatal::new(format!(
                "{} is not a valid course manifest{span}: {first}",
                path.display()
            ))
        })?;
        let manifest_path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let root = manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let course = Course {
            root,
            manifest_path,
            manifest,
        };
        course.validate()?;
        Ok(course)
    }

    fn validate(&self) -> Result<(), Fatal> {
        let mut ids = HashSet::new();
        for lesson in &self.manifest.lessons {
            if !ids.insert(&lesson.id) {
                return Err(Fatal::new(format!(
                    "{}: lesson `{}` is listed twice",
                    self.manifest_path.display(),
                    lesson.id
                )));
            }
            let mut names = HashSet::new();
            for test in &lesson.tests {
                if !names.insert(&test.name) {
                    return Err(Fatal::new(format!(
                        "{}: lesson `{}` lists test `{}` twice",
                        self.manifest_path.display(),
                        lesson.id,
                        test.name
                    )));
                }
                if let Some(t) = test.timeout {
                    if !(t > 0.0 && t.is_finite()) {
                        return Err(Fatal::new(format!(
                            "{}: test `{}` of `{}` has timeout {t}; it must be a positive number of seconds",
                            self.manifest_path.display(),
                            test.name,
                            lesson.id
                        )));
                    }
                }
            }
        }
        let d = &self.manifest.defaults;
        if !(d.timeout > 0.0 && d.timeout.is_finite()) || d.memory_mib == 0 || d.output_kib == 0 {
            return Err(Fatal::new(format!(
                "{}: [defaults] timeout, memory_mib and output_kib must be positive",
                self.manifest_path.display()
            )));
        }
        Ok(())
    }

    /// Finds a lesson by id (`lesson4`), folder (`lesson4-free-list`) or number (`4`).
    pub fn lesson(&self, name: &str) -> Result<&Lesson, Fatal> {
        let name = name.trim_end_matches('/');
        let name = name.rsplit('/').next().unwrap_or(name);
        self.manifest
            .lessons
            .iter()
            .find(|l| l.id == name || l.dir == name || l.id == format!("lesson{name}"))
            .ok_or_else(|| {
                Fatal::new(format!(
                    "unknown lesson `{name}`; known lessons: {}",
                    self.lesson_ids().join(", ")
                ))
            })
    }

    pub fn lesson_ids(&self) -> Vec<&str> {
        self.manifest
            .lessons
            .iter()
            .map(|l| l.id.as_str())
            .collect()
    }

    /// `lessons/<dir>`: the student's crate.
    pub fn student_dir(&self, lesson: &Lesson) -> PathBuf {
        self.root.join("lessons").join(&lesson.dir)
    }

    /// `solutions/<dir>`: the reference crate.
    pub fn solution_dir(&self, lesson: &Lesson) -> PathBuf {
        self.root.join("solutions").join(&lesson.dir)
    }

    /// The suites crate every harness links.
    pub fn suites_dir(&self) -> PathBuf {
        match &self.manifest.suites {
            Some(dir) => self.root.join(dir),
            None => self.root.join("autograder").join("suites"),
        }
    }

    /// Limits of one test.
    pub fn limits(&self, test: &TestSpec) -> Limits {
        let d = &self.manifest.defaults;
        Limits {
            timeout: Duration::from_secs_f64(test.timeout.unwrap_or(d.timeout)),
            memory_bytes: d.memory_mib.saturating_mul(1 << 20),
            output_bytes: usize::try_from(d.output_kib.saturating_mul(1 << 10))
                .unwrap_or(usize::MAX),
        }
    }
}

/// What one test process may use.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: u64,
    pub output_bytes: usize,
}

impl Lesson {
    /// The student's package name.
    pub fn package(&self) -> String {
        self.id.clone()
    }

    /// The reference solution's package name.
    pub fn solution_package(&self) -> String {
        format!("{}-solution", self.id)
    }

    /// False while the manifest still has a placeholder harness line.
    pub fn has_harness(&self) -> bool {
        let h = self.harness.trim();
        !h.is_empty() && !h.starts_with("TODO")
    }

    pub fn max_points(&self) -> u32 {
        self.tests.iter().map(|t| t.points).sum()
    }
}

fn find_upwards() -> Option<PathBuf> {
    let mut dir = std::env::current_dir().ok()?;
    loop {
        let candidate = dir.join(MANIFEST);
        if candidate.is_file() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}
