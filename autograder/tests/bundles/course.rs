//! The course as the tests package it (once per test run, every lesson),
//! and the submissions they hand in.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use heaplab_autograder::stubs;

use crate::run::{copy_dir, fresh, text, write};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

#[derive(serde::Deserialize)]
struct Manifest {
    lesson: Vec<ManifestLesson>,
}

#[derive(serde::Deserialize)]
struct ManifestLesson {
    id: String,
    dir: String,
    #[serde(default)]
    test: Vec<ManifestTest>,
}

#[derive(serde::Deserialize)]
struct ManifestTest {
    name: String,
    points: u32,
    #[serde(default)]
    hidden: bool,
    /// A measured test (speed, space): its points depend on the machine.
    #[serde(default)]
    measure: Option<toml::Value>,
}

/// One lesson as the packaged course has it.
#[derive(Clone, Debug)]
pub struct Lesson {
    pub id: String,
    pub dir: String,
    /// Test name → (points, hidden).
    pub tests: BTreeMap<String, (u32, bool)>,
    /// The points of its measured tests (speed and space, lesson 8).
    pub measured: u32,
}

impl Lesson {
    /// Every test's points, hidden ones included (what a grading server grades).
    pub fn total(&self) -> u32 {
        self.tests.values().map(|(p, _)| p).sum()
    }

    /// The points that do not depend on the machine's speed: all but the
    /// measured tests'. The reference earns at least these anywhere.
    pub fn sure_total(&self) -> u32 {
        self.total() - self.measured
    }

    /// The points a student's own repository can grade (no hidden test).
    pub fn visible_total(&self) -> u32 {
        self.tests
            .values()
            .filter(|(_, h)| !h)
            .map(|(p, _)| p)
            .sum()
    }
}

/// The packaged course: every lesson's bundles.
pub struct Packaged {
    pub dist: PathBuf,
    pub lessons: Vec<Lesson>,
    /// Lesson 1's test that the packaged course marks hidden.
    pub hidden: String,
    /// Where each test lays out its platforms.
    pub work: PathBuf,
}

impl Packaged {
    pub fn lesson(&self, id: &str) -> &Lesson {
        self.lessons.iter().find(|l| l.id == id).unwrap()
    }

    pub fn bundles(&self, lesson: &Lesson) -> PathBuf {
        self.dist.join(&lesson.id)
    }
}

/// The course packaged once for all the tests of this binary, under the
/// build's own temporary folder (wiped at the start of each run).
pub fn packaged() -> &'static Packaged {
    static PACKAGED: OnceLock<Packaged> = OnceLock::new();
    PACKAGED.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bundles");
        fresh(&base);
        let course = base.join("course");
        let hidden = course_with_hidden_test(&course);
        let dist = base.join("dist");
        let lessons = read_lessons(&course.join("course.toml"));
        // Two lessons at a time: packaging is vendoring and compressing.
        for pair in lessons.chunks(2) {
            let children: Vec<_> = pair
                .iter()
                .map(|l| {
                    Command::new(env!("CARGO_BIN_EXE_grade"))
                        .args(["package", &l.id, "--out"])
                        .arg(&dist)
                        .current_dir(&course)
                        .env_remove("HEAPLAB_MANIFEST")
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for (child, lesson) in children.into_iter().zip(pair) {
                let out = child.wait_with_output().unwrap();
                assert!(
                    out.status.success(),
                    "package {}: {}",
                    lesson.id,
                    text(&out)
                );
            }
        }
        Packaged {
            dist,
            lessons,
            hidden,
            work: base.join("work"),
        }
    })
}

fn read_lessons(manifest: &Path) -> Vec<Lesson> {
    let manifest: Manifest = toml::from_str(&fs::read_to_string(manifest).unwrap()).unwrap();
    manifest
        .lesson
        .into_iter()
        .filter(|l| {
            root()
                .join("lessons")
                .join(&l.dir)
                .join("Cargo.toml")
                .is_file()
        })
        .map(|l| Lesson {
            id: l.id,
            dir: l.dir,
            measured: l
                .test
                .iter()
                .filter(|t| t.measure.is_some())
                .map(|t| t.points)
                .sum(),
            tests: l
                .test
                .into_iter()
                .map(|t| (t.name, (t.points, t.hidden)))
                .collect(),
        })
        .collect()
}

/// A copy of the course in which lesson 1's last test is hidden: what a
/// course with a hidden test packages. Returns the hidden test.
fn course_with_hidden_test(into: &Path) -> String {
    let root = root();
    for sub in [
        "kit",
        "autograder",
        "lessons",
        ".cargo",
        ".devcontainer",
        "docs",
        "traces",
    ] {
        copy_dir(&root.join(sub), &into.join(sub));
    }
    for file in ["Cargo.toml", "Cargo.lock"] {
        fs::copy(root.join(file), into.join(file)).unwrap();
    }
    let lesson1 = read_lessons(&root.join("course.toml")).remove(0);
    let hidden = lesson1.tests.keys().last().unwrap().clone();
    let course = fs::read_to_string(root.join("course.toml")).unwrap();
    let line = format!("name = \"{hidden}\"\n");
    assert_eq!(course.matches(&line).count(), 1, "{hidden} named once");
    write(
        &into.join("course.toml"),
        &course.replace(&line, &format!("{line}hidden = true\n")),
    );
    hidden
}

/// The reference solution as a student would hand it in: package `lessonN`,
/// in `into` (a crate folder).
pub fn solution(lesson: &Lesson, into: &Path) {
    let solution = root().join("solutions").join(&lesson.dir);
    let files = stubs::read_crate(&solution).unwrap();
    let manifest = fs::read_to_string(solution.join("Cargo.toml")).unwrap();
    let renamer = stubs::Renamer::for_manifest(&manifest).unwrap();
    for (rel, bytes) in files {
        let path = into.join(renamer.rename(&rel.to_string_lossy()));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        match String::from_utf8(bytes) {
            Ok(t) => fs::write(path, renamer.rename(&t)).unwrap(),
            Err(e) => fs::write(path, e.into_bytes()).unwrap(),
        }
    }
}

/// The stub, handed in as the whole starter folder (`into/lessons/<dir>`),
/// with files that would change the grade if the grader took them: a suite,
/// a manifest and a crate manifest with a build script where the grader's
/// trees live on each platform, cargo configuration, a toolchain file, a
/// test of its own. The grade must be the stub's, by the grader's own tests.
pub fn forger(lesson: &Lesson, into: &Path) {
    let krate = into.join("lessons").join(&lesson.dir);
    copy_dir(&root().join("lessons").join(&lesson.dir), &krate);
    let suite = "compile_error!(\"a suite from the submission was built\");\n";
    let manifest = format!("[[lesson]]\nid = \"{}\"\ntitle = \"forged\"\n", lesson.id);
    for tree in [".heaplab/heaplab", "heaplab", "source/heaplab", ""] {
        let base = into.join(tree);
        let suites = base.join("autograder/suites/src");
        write(&suites.join(format!("{}.rs", lesson.id)), suite);
        write(&suites.join(&lesson.id).join("mod.rs"), suite);
        write(&base.join("course.toml"), &manifest);
    }
    let cargo_toml = fs::read_to_string(krate.join("Cargo.toml")).unwrap();
    write(
        &krate.join("Cargo.toml"),
        &cargo_toml.replace("[package]\n", "[package]\nbuild = \"build.rs\"\n"),
    );
    write(
        &krate.join("build.rs"),
        "fn main() { panic!(\"a build script from the submission ran\"); }\n",
    );
    let rustflags = "[build]\nrustflags = [\"--cfg\", \"forged\"]\n";
    write(&into.join(".cargo/config.toml"), rustflags);
    write(&into.join(".cargo/config"), rustflags);
    write(
        &into.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"forged\"\n",
    );
    write(
        &krate.join("tests/all_pass.rs"),
        "#[test]\nfn passes() {}\n",
    );
}

/// The stub with a syntax error in `src/lib.rs`: a crate that does not
/// compile, handed in as a crate folder. Returns what the compiler must name.
pub fn broken(lesson: &Lesson, into: &Path) -> &'static str {
    copy_dir(&root().join("lessons").join(&lesson.dir), into);
    let lib = into.join("src/lib.rs");
    let mut text = fs::read_to_string(&lib).unwrap();
    text.push_str("\npub fn heaplab_broken_on_purpose( {\n");
    fs::write(lib, text).unwrap();
    "heaplab_broken_on_purpose"
}
