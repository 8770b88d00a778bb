//! The course manifest (`course.toml`): lessons, their tests, points, titles,
//! hints and limits. The grader reads scoring from here only; a suite decides
//! pass or fail, never points.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

pub use heaplab_protocol::manifest::{Defaults, Lesson, Manifest, TestSpec};

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
        let manifest = heaplab_protocol::manifest::parse(&text)
            .map_err(|e| Fatal::new(format!("{}: {e}", path.display())))?;
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
            self.validate_measured(lesson)?;
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
        let positive = |x: f64| x > 0.0 && x.is_finite();
        if !positive(d.timeout)
            || !positive(d.operation_timeout)
            || d.memory_mib == 0
            || d.output_kib == 0
        {
            return Err(Fatal::new(format!(
                "{}: [defaults] timeout, operation_timeout, memory_mib and output_kib must be positive",
                self.manifest_path.display()
            )));
        }
        Ok(())
    }

    /// A lesson's measured tests come after its other tests (they run after
    /// them, once those passed), with two different finite thresholds.
    fn validate_measured(&self, lesson: &Lesson) -> Result<(), Fatal> {
        let at = |test: &TestSpec, what: &str| {
            Fatal::new(format!(
                "{}: test `{}` of `{}` {what}",
                self.manifest_path.display(),
                test.name,
                lesson.id
            ))
        };
        let mut seen_measured = false;
        for test in &lesson.tests {
            match &test.measure {
                Some(m) => {
                    seen_measured = true;
                    if !(m.zero.is_finite() && m.full.is_finite()) || m.zero == m.full {
                        return Err(at(
                            test,
                            "has `measure` thresholds that are not two different numbers (zero and full)",
                        ));
                    }
                }
                None if seen_measured => return Err(at(
                    test,
                    "comes after a measured test; list the measured tests (with `measure`) last",
                )),
                None => {}
            }
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
            operation: Duration::from_secs_f64(d.operation_timeout),
            memory_bytes: d.memory_mib.saturating_mul(1 << 20),
            output_bytes: usize::try_from(d.output_kib.saturating_mul(1 << 10))
                .unwrap_or(usize::MAX),
        }
    }
}

/// What one test may use.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The whole test's time.
    pub timeout: Duration,
    /// One operation of the student's code.
    pub operation: Duration,
    /// The student's processes' memory, together.
    pub memory_bytes: u64,
    /// Bytes of stdout and of stderr kept.
    pub output_bytes: usize,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_without_a_hint_takes_the_shared_one_of_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST);
        let lesson = |id: &str, hint: &str| {
            format!(
                "[[lesson]]\nid = \"{id}\"\ntitle = \"t\"\ndir = \"{id}\"\nchecker = \"h\"\n\n\
                 [[lesson.test]]\nname = \"walks\"\ntitle = \"t\"\npoints = 1\n{hint}\n"
            )
        };
        let text = format!(
            "[hints]\nwalks = \"walk from the head\"\n\n{}{}",
            lesson("lesson4", ""),
            lesson("lesson3", "hint = \"its own\"")
        );
        std::fs::write(&path, text).unwrap();
        let course = Course::load(&path).unwrap();
        let hints: Vec<&str> = course
            .manifest
            .lessons
            .iter()
            .map(|l| l.tests[0].hint.as_str())
            .collect();
        assert_eq!(hints, ["walk from the head", "its own"]);
    }
}
