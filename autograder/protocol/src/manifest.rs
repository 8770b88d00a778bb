//! The course manifest's schema (`course.toml`): lessons, what the grader
//! builds for each, their tests, points, titles, hints and limits. The
//! grader, the checker and the kit's tests read it through these types.
//!
//! ```toml
//! [defaults]
//! timeout = 10        # seconds a whole test may take
//! memory_mib = 1024   # memory of a test's student processes, together
//! output_kib = 64     # stdout and stderr kept per test
//!
//! [[lesson]]
//! id = "lesson4"
//! title = "free list"
//! dir = "lesson4-free-list"          # lessons/<dir>, solutions/<dir>
//! page = "docs/lesson4.md"
//! checker = "heaplab_suites::lesson4::suite(heaplab_suites::remote::heap)"
//! subject = "heaplab_subject::Serve::new().heap(student::FreeListHeap::new)"
//! local = "heaplab_suites::lesson4::suite(student::FreeListHeap::new)"
//!
//! [[lesson.test]]
//! name = "first_fit"
//! title = "malloc takes the first chunk on the list that is big enough"
//! points = 2
//! hint = "..."
//! ```

use serde::Deserialize;

/// The whole manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The suites crate, relative to the manifest (default `autograder/suites`).
    #[serde(default)]
    pub suites: Option<String>,
    #[serde(default)]
    pub defaults: Defaults,
    /// Hints that tests of the same name share across lessons (lessons 5
    /// and 6 repeat lesson 4's free-list tests): a test without a `hint` of
    /// its own takes the one under its name here.
    #[serde(default)]
    pub hints: std::collections::BTreeMap<String, String>,
    /// Hints for the rule that broke, by check name ([`crate::checks`]):
    /// a failure of a named check shows its hint here (or its lesson's,
    /// [`Lesson::checks`]) rather than its test's.
    #[serde(default)]
    pub checks: std::collections::BTreeMap<String, String>,
    #[serde(default, rename = "lesson")]
    pub lessons: Vec<Lesson>,
}

/// Limits every test gets unless its own table says otherwise.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Defaults {
    /// Seconds a whole test may take before it is stopped.
    pub timeout: f64,
    /// Memory of a test's student processes, together, in MiB.
    pub memory_mib: u64,
    /// Bytes of stdout and of stderr kept per test, in KiB.
    pub output_kib: u64,
    /// Seconds one operation of the student's code may take before it
    /// counts as hung (a `malloc` that never returns).
    pub operation_timeout: f64,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            timeout: 10.0,
            memory_mib: 1024,
            output_kib: 64,
            operation_timeout: 1.0,
        }
    }
}

/// One lesson.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// `lesson4`: the student's package name; the solution's is `lesson4-solution`.
    pub id: String,
    pub title: String,
    /// Folder name under `lessons/` and `solutions/`.
    pub dir: String,
    #[serde(default)]
    pub page: Option<String>,
    /// The suite, as the checker builds it (no student code): a Rust
    /// expression of type `heaplab_suites::harness::Suite`.
    #[serde(default)]
    pub checker: String,
    /// The student's process: a Rust expression of type
    /// `heaplab_subject::Serve`, where `student` names the crate under test.
    #[serde(default)]
    pub subject: String,
    /// The suite in one process with the student's crate (`student`), for
    /// Miri and debuggers; never used to grade.
    #[serde(default)]
    pub local: String,
    /// What else the grader builds from the crate before the tests run.
    #[serde(default, rename = "build")]
    pub builds: Vec<Build>,
    /// Whether the starter of this lesson gives the previous lesson's
    /// solved code (true) or leaves it to the student as TODOs (false).
    #[serde(default = "yes")]
    pub gives_previous: bool,
    /// This lesson's hints by check name, before the manifest's `[checks]`.
    #[serde(default)]
    pub checks: std::collections::BTreeMap<String, String>,
    #[serde(default, rename = "test")]
    pub tests: Vec<TestSpec>,
}

fn yes() -> bool {
    true
}

/// Something the grader builds from the crate under test before the tests,
/// so that no test needs to build anything.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// The name the suite asks for it by (`library`).
    pub name: String,
    pub kind: BuildKind,
    /// Cargo features of the crate under test to turn on.
    #[serde(default)]
    pub features: Vec<String>,
    /// For a program: its source file; for files: the file or folder;
    /// relative to the manifest.
    #[serde(default)]
    pub source: Option<String>,
}

/// What a [`Build`] makes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BuildKind {
    /// The crate under test as a C shared library (its `cdylib`), release.
    Cdylib,
    /// A Rust program (one source file) that depends on the crate under
    /// test as `student` (and on `libc` and the kit's `heaplab-traces`),
    /// release.
    Program,
    /// A file or folder of the course, handed to the tests as it is
    /// (nothing is built): lesson 8's malloc-lab traces.
    Files,
}

/// One test of a lesson.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    /// The suite's test name.
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
    /// A measured test (speed, space): points linear in what it measures.
    #[serde(default)]
    pub measure: Option<Measure>,
}

/// How a measured test's value becomes points: none at `zero`, all at
/// `full`, linear between (whole points, rounded down). `full` may be below
/// `zero` for a figure where less is better. A measured test earns points
/// only when every test of its lesson that is not measured passed (the
/// correctness gate); the grader runs measured tests after the others, one
/// at a time.
///
/// ```toml
/// measure = { zero = 0.5, full = 1.0, leaderboard = "speed" }
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// The value worth no points.
    pub zero: f64,
    /// The value worth every point.
    pub full: f64,
    /// The leaderboard column this value goes to; tests sharing a column
    /// give it their geometric mean.
    #[serde(default)]
    pub leaderboard: Option<String>,
}

impl Measure {
    /// The share of the points `value` earns, 0 to 1.
    pub fn fraction(&self, value: f64) -> f64 {
        if !value.is_finite() || self.full == self.zero {
            return if value.is_finite() && value >= self.full {
                1.0
            } else {
                0.0
            };
        }
        ((value - self.zero) / (self.full - self.zero)).clamp(0.0, 1.0)
    }

    /// The whole points of `points` that `value` earns (rounded down, with
    /// a little slack for the rounding of the value itself).
    pub fn points(&self, points: u32, value: f64) -> u32 {
        ((self.fraction(value) * f64::from(points)) + 1e-9).floor() as u32
    }

    /// True when a larger value is better (the leaderboard's order).
    pub fn higher_is_better(&self) -> bool {
        self.full >= self.zero
    }
}

impl TestSpec {
    /// True for a measured test: its points come from a value.
    pub fn is_measured(&self) -> bool {
        self.measure.is_some()
    }
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

    /// False while the manifest has no suite for the lesson yet.
    pub fn has_suite(&self) -> bool {
        let h = self.checker.trim();
        !h.is_empty() && !h.starts_with("TODO")
    }

    pub fn max_points(&self) -> u32 {
        self.tests.iter().map(|t| t.points).sum()
    }

    /// A test by name.
    pub fn test(&self, name: &str) -> Option<&TestSpec> {
        self.tests.iter().find(|t| t.name == name)
    }
}

/// Where the hint a report shows came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HintFor {
    /// The rule that broke, by its check name.
    Check,
    /// The test itself: no hint of the rule applies.
    Test,
}

impl Manifest {
    /// The hint for a failure of check `check` in `test` of `lesson`: the
    /// lesson's hint for the check, else the course's, else the test's own.
    pub fn hint<'m>(
        &'m self,
        lesson: &'m Lesson,
        test: &'m TestSpec,
        check: &str,
    ) -> Option<(&'m str, HintFor)> {
        let by_check = (!check.is_empty())
            .then(|| lesson.checks.get(check).or_else(|| self.checks.get(check)))
            .flatten()
            .map(|h| (h.trim(), HintFor::Check));
        by_check
            .or_else(|| Some((test.hint.trim(), HintFor::Test)))
            .filter(|(h, _)| !h.is_empty())
    }

    /// Gives every test without a hint of its own the shared one of its name.
    fn share_hints(&mut self) {
        for test in self.lessons.iter_mut().flat_map(|l| l.tests.iter_mut()) {
            if test.hint.trim().is_empty() {
                if let Some(hint) = self.hints.get(&test.name) {
                    test.hint.clone_from(hint);
                }
            }
        }
    }
}

/// Parses a manifest (shared hints handed to their tests); the error is one
/// line with the line number.
pub fn parse(text: &str) -> Result<Manifest, String> {
    let mut manifest: Manifest = toml::from_str(text).map_err(|e| {
        let first = e.message().lines().next().unwrap_or("").to_string();
        let span = e
            .span()
            .map(|s| {
                let line = text[..s.start].matches('\n').count() + 1;
                format!(" (line {line})")
            })
            .unwrap_or_default();
        format!("not a valid course manifest{span}: {first}")
    })?;
    manifest.share_hints();
    manifest.check_names()?;
    Ok(manifest)
}

impl Manifest {
    /// Every key of a `[checks]` table names a rule of [`crate::checks`].
    fn check_names(&self) -> Result<(), String> {
        let tables = std::iter::once(("[checks]".to_string(), &self.checks)).chain(
            self.lessons
                .iter()
                .map(|l| (format!("lesson {}'s [lesson.checks]", l.id), &l.checks)),
        );
        for (table, hints) in tables {
            if let Some(bad) = hints.keys().find(|k| crate::checks::find(k).is_none()) {
                let known: Vec<&str> = crate::checks::ALL.iter().map(|r| r.name).collect();
                return Err(format!(
                    "not a valid course manifest: {table} has a hint for `{bad}`, which is no \
                     check's name; the checks are: {}",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lesson_reads_with_defaults() {
        let m = parse(
            "[[lesson]]\nid = \"lesson4\"\ntitle = \"t\"\ndir = \"d\"\n\
             checker = \"x\"\n[[lesson.test]]\nname = \"a\"\ntitle = \"A\"\npoints = 2\n",
        )
        .unwrap();
        assert_eq!(m.defaults.timeout, 10.0);
        assert_eq!(m.defaults.operation_timeout, 1.0);
        let l = &m.lessons[0];
        assert!(l.gives_previous && l.has_suite());
        assert_eq!(l.max_points(), 2);
        assert_eq!(l.test("a").unwrap().title, "A");
    }

    #[test]
    fn measured_points_are_linear_between_the_thresholds() {
        let speed = Measure {
            zero: 0.5,
            full: 1.0,
            leaderboard: None,
        };
        assert_eq!(speed.points(4, 0.4), 0);
        assert_eq!(speed.points(4, 0.5), 0);
        assert_eq!(speed.points(4, 0.75), 2);
        assert_eq!(speed.points(4, 0.87), 2);
        assert_eq!(speed.points(4, 1.0), 4);
        assert_eq!(speed.points(4, 3.0), 4);
        assert_eq!(speed.points(4, f64::NAN), 0);
        // Less is better: a memory ratio.
        let memory = Measure {
            zero: 2.0,
            full: 1.25,
            leaderboard: None,
        };
        assert!(!memory.higher_is_better());
        assert_eq!(memory.points(3, 1.0), 3);
        assert_eq!(memory.points(3, 1.5), 2);
        assert_eq!(memory.points(3, 2.5), 0);
        let m = parse(
            "[[lesson]]\nid = \"l\"\ntitle = \"t\"\ndir = \"d\"\n[[lesson.test]]\nname = \"a\"\n\
             title = \"A\"\npoints = 2\nmeasure = { zero = 0.5, full = 1.0, leaderboard = \"speed\" }\n",
        )
        .unwrap();
        let measure = m.lessons[0].tests[0].measure.as_ref().unwrap();
        assert_eq!(measure.leaderboard.as_deref(), Some("speed"));
    }

    #[test]
    fn a_check_hint_comes_before_the_tests_own() {
        let m = parse(
            "[checks]\naligned = \"round to 16\"\ncrash = \"course crash\"\n\
             [[lesson]]\nid = \"l\"\ntitle = \"t\"\ndir = \"d\"\n\
             [lesson.checks]\ncrash = \"lesson crash\"\n\
             [[lesson.test]]\nname = \"a\"\ntitle = \"A\"\npoints = 1\nhint = \"own\"\n",
        )
        .unwrap();
        let (l, t) = (&m.lessons[0], &m.lessons[0].tests[0]);
        assert_eq!(
            m.hint(l, t, "aligned"),
            Some(("round to 16", HintFor::Check))
        );
        assert_eq!(
            m.hint(l, t, "crash"),
            Some(("lesson crash", HintFor::Check))
        );
        assert_eq!(m.hint(l, t, "no-overlap"), Some(("own", HintFor::Test)));
        assert_eq!(m.hint(l, t, ""), Some(("own", HintFor::Test)));
        let e = parse("[checks]\nalignd = \"x\"\n").unwrap_err();
        assert!(e.contains("`alignd`") && e.contains("aligned"), "{e}");
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("[[lesson]]\nid = 4\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = parse("[[lesson]]\nid = \"a\"\ntitle = \"t\"\ndir = \"d\"\nharnes = \"x\"\n")
            .unwrap_err();
        assert!(e.contains("harnes"), "{e}");
    }
}
