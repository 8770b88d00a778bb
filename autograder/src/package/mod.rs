//! `grade package LESSON|all`: what a course hands out and uploads, in `dist/<lesson>/`.
//!
//! ```text
//! heaplab-<id>-starter.tar.gz     the student's workspace: the stub crate, its
//!                                 lesson page, kit, suites, autograder, a
//!                                 course.toml without hidden tests
//! heaplab-<id>-inkfish.tar.gz     test.pl + heaplab-grader.tar (the grader tree)
//! heaplab-<id>-gradescope.zip     setup.sh, run_autograder, heaplab/ (the grader tree)
//! autolab/autograde-Makefile      make: unpack autograde.tar, grade handin.*
//! autolab/autograde.tar           heaplab/ (the grader tree) + autolab-grade.sh
//! heaplab-<id>-prairielearn.tar.gz  Dockerfile, heaplab/ (the grader tree), question/
//! heaplab-<id>-classroom.tar.gz   the starter as a GitHub Classroom template
//!                                 repository, with .github/workflows/classroom.yml
//! ```
//!
//! The grader tree is one workspace (kit, autograder, suites, the lesson's stub
//! crate, course.toml with hidden tests) with every crate it builds with
//! vendored, so a grading server needs a Rust toolchain and nothing else: no
//! network, no registry. Reference solutions are in no bundle.

mod archive;
pub mod classroom;
pub mod prairielearn;
mod tree;
mod vendor;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::course::{Course, Lesson};
use crate::Fatal;

/// The Inkfish grader's inner archive: the grader tree, unpacked afresh by
/// `test.pl` so no file of a submission can stand in for one of the grader's.
pub const INKFISH_INNER: &str = "heaplab-grader.tar";

const TEST_PL: &str = include_str!("platforms/inkfish-test.pl");
const GRADESCOPE_SETUP: &str = include_str!("platforms/gradescope-setup.sh");
const GRADESCOPE_RUN: &str = include_str!("platforms/gradescope-run_autograder");
const AUTOLAB_MAKEFILE: &str = include_str!("platforms/autolab-Makefile");
const AUTOLAB_GRADE: &str = include_str!("platforms/autolab-grade.sh");
const INKFISH_DOCKERFILE: &str = include_str!("platforms/inkfish.Dockerfile");
const PRAIRIELEARN_GRADE: &str = include_str!("platforms/prairielearn-grade.sh");
const PRAIRIELEARN_SETUP: &str = include_str!("platforms/prairielearn-setup.sh");
const PRAIRIELEARN_DOCKERFILE: &str = include_str!("platforms/prairielearn.Dockerfile");

#[derive(clap::Args)]
pub struct Args {
    /// The lesson to package (id, folder or number), or `all`.
    pub lesson: String,

    /// Folder the bundles are written to (default: dist/ of the course).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `grade package LESSON|all [--out DIR]`.
pub fn run(args: Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    let lessons: Vec<&Lesson> = if args.lesson == "all" {
        course
            .manifest
            .lessons
            .iter()
            .filter(|l| course.student_dir(l).join("Cargo.toml").is_file() && l.has_suite())
            .collect()
    } else {
        vec![course.lesson(&args.lesson)?]
    };
    if lessons.is_empty() {
        return Err(Fatal::new(
            "no lesson is ready to package: none has both a crate under lessons/ and a checker line in course.toml",
        ));
    }
    let out = args.out.unwrap_or_else(|| course.root.join("dist"));
    for lesson in lessons {
        let written = package(&course, lesson, &out)?;
        eprintln!("{}: {}", lesson.id, written.dir.display());
        for (name, bytes) in &written.files {
            eprintln!("  {name:<34} {:>6.1} MB", *bytes as f64 / 1e6);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What [`package`] wrote: the lesson's folder and each bundle's size.
pub struct Written {
    pub dir: PathBuf,
    pub files: Vec<(String, u64)>,
}

/// Writes every bundle of `lesson` to `<out>/<lesson id>/`.
pub fn package(course: &Course, lesson: &Lesson, out: &Path) -> Result<Written, Fatal> {
    ready_to_package(course, lesson)?;
    let dir = out.join(&lesson.id);
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(&dir)
        .map_err(|e| io(&dir, e))?;
    let trees = Trees::write(course, lesson, staging.path())?;
    let mut bundles = Bundles {
        dir: dir.clone(),
        files: Vec::new(),
    };
    bundles.starter(&trees)?;
    bundles.servers(course, lesson, &trees)?;
    bundles.classroom(course, lesson, &trees)?;
    // Instructions that depend on the lesson: Autolab's problem names, the image.
    bundles.emit("README.txt", readme(lesson).into_bytes())?;
    bundles.emit("inkfish.Dockerfile", INKFISH_DOCKERFILE.as_bytes().to_vec())?;
    Ok(Written {
        dir,
        files: bundles.files,
    })
}

/// A lesson can be packaged once it has a suite and a student crate.
fn ready_to_package(course: &Course, lesson: &Lesson) -> Result<(), Fatal> {
    if !lesson.has_suite() {
        return Err(Fatal::new(format!(
            "{} has no suite yet (course.toml's checker line is `{}`); nothing to package",
            lesson.id, lesson.checker
        )));
    }
    if !course.student_dir(lesson).join("Cargo.toml").is_file() {
        return Err(Fatal::new(format!(
            "{} has no student crate at lessons/{}; run `just stubs` first",
            lesson.id, lesson.dir
        )));
    }
    Ok(())
}

/// The two trees every bundle is made of, written in the staging folder.
struct Trees {
    /// The starter's folder name (`heaplab-lessonN`).
    starter_name: String,
    /// The starter: what a student works in; no hidden test, no vendor
    /// folder (a student's machine reaches crates.io).
    starter_root: PathBuf,
    /// The grader tree, shared by the grading servers.
    grader_root: PathBuf,
    /// The grader tree as archive entries under `heaplab/`.
    grader: archive::Entries,
}

impl Trees {
    fn write(course: &Course, lesson: &Lesson, staging: &Path) -> Result<Trees, Fatal> {
        let starter_name = format!("heaplab-{}", lesson.id);
        let starter_root = staging.join(&starter_name);
        tree::starter(course, lesson)?.write_to(&starter_root)?;
        vendor::prune_lock(&starter_root)?;
        let grader_root = staging.join("heaplab");
        let mut grader = tree::grader(course, lesson)?;
        grader.insert("autolab-grade.sh", fill(AUTOLAB_GRADE, lesson));
        grader.insert("prairielearn-grade.sh", fill(PRAIRIELEARN_GRADE, lesson));
        grader.insert("prairielearn-setup.sh", fill(PRAIRIELEARN_SETUP, lesson));
        grader.write_to(&grader_root)?;
        vendor::vendor(&grader_root)?;
        let grader = archive::Entries::from_dir(&grader_root, "heaplab")?;
        Ok(Trees {
            starter_name,
            starter_root,
            grader_root,
            grader,
        })
    }
}

/// The bundles written so far, in the lesson's folder.
struct Bundles {
    dir: PathBuf,
    files: Vec<(String, u64)>,
}

impl Bundles {
    fn emit(&mut self, name: &str, bytes: Vec<u8>) -> Result<(), Fatal> {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        std::fs::write(&path, &bytes).map_err(|e| io(&path, e))?;
        self.files.push((name.to_string(), bytes.len() as u64));
        Ok(())
    }

    fn starter(&mut self, trees: &Trees) -> Result<(), Fatal> {
        let name = &trees.starter_name;
        let starter = archive::Entries::from_dir(&trees.starter_root, name)?;
        self.emit(&format!("{name}-starter.tar.gz"), starter.tar_gz()?)
    }

    /// Inkfish, Gradescope, Autolab and PrairieLearn: each lays the grader
    /// tree out its own way.
    fn servers(&mut self, course: &Course, lesson: &Lesson, trees: &Trees) -> Result<(), Fatal> {
        let id = &lesson.id;
        // Inkfish: test.pl beside the grader tree as one inner archive.
        let mut inkfish = archive::Entries::default();
        inkfish.file("test.pl", fill(TEST_PL, lesson), true);
        inkfish.file(INKFISH_INNER, trees.grader.tar()?, false);
        self.emit(&format!("heaplab-{id}-inkfish.tar.gz"), inkfish.tar_gz()?)?;
        // Gradescope: the zip becomes /autograder/source.
        let mut gradescope = trees.grader.clone();
        gradescope.file("setup.sh", fill(GRADESCOPE_SETUP, lesson), true);
        gradescope.file("run_autograder", fill(GRADESCOPE_RUN, lesson), true);
        self.emit(&format!("heaplab-{id}-gradescope.zip"), gradescope.zip()?)?;
        // Autolab: the Makefile and the archive it unpacks.
        self.emit("autolab/autograde-Makefile", fill(AUTOLAB_MAKEFILE, lesson))?;
        self.emit("autolab/autograde.tar", trees.grader.tar()?)?;
        self.prairielearn(course, lesson, trees)
    }

    /// PrairieLearn: the image's Dockerfile over the grader tree, and a question.
    fn prairielearn(
        &mut self,
        course: &Course,
        lesson: &Lesson,
        trees: &Trees,
    ) -> Result<(), Fatal> {
        let pl = format!("heaplab-{}-prairielearn", lesson.id);
        let mut bundle = archive::Entries::from_dir(&trees.grader_root, &format!("{pl}/heaplab"))?;
        bundle.file(
            &format!("{pl}/Dockerfile"),
            fill(PRAIRIELEARN_DOCKERFILE, lesson),
            false,
        );
        bundle.file(
            &format!("{pl}/question/info.json"),
            prairielearn::info_json(course, lesson).into_bytes(),
            false,
        );
        bundle.file(
            &format!("{pl}/question/question.html"),
            prairielearn::question_html(course, lesson)?.into_bytes(),
            false,
        );
        self.emit(&format!("{pl}.tar.gz"), bundle.tar_gz()?)
    }

    /// GitHub Classroom: the starter as a template repository that grades
    /// every push.
    fn classroom(&mut self, course: &Course, lesson: &Lesson, trees: &Trees) -> Result<(), Fatal> {
        let name = &trees.starter_name;
        let mut template = archive::Entries::from_dir(&trees.starter_root, name)?;
        let readme =
            std::fs::read_to_string(trees.starter_root.join("README.md")).unwrap_or_default();
        template.file(
            &format!("{name}/README.md"),
            classroom::readme(lesson, &readme).into_bytes(),
            false,
        );
        template.file(
            &format!("{name}/.github/workflows/classroom.yml"),
            classroom::workflow(course, lesson).into_bytes(),
            false,
        );
        self.emit(
            &format!("heaplab-{}-classroom.tar.gz", lesson.id),
            template.tar_gz()?,
        )
    }
}

/// A platform script with the lesson filled in.
fn fill(template: &str, lesson: &Lesson) -> Vec<u8> {
    let all: Vec<&str> = lesson.tests.iter().map(|t| t.name.as_str()).collect();
    template
        .replace("@LESSON@", &lesson.id)
        .replace("@DIR@", &lesson.dir)
        .replace("@POINTS@", &lesson.max_points().to_string())
        .replace("@TESTS@", &all.join(" "))
        .into_bytes()
}

fn readme(lesson: &Lesson) -> String {
    let mut text = format!(
        "heaplab {id} ({title}): bundles written by `grade package {id}`.\n\
         See docs/instructors.md for the steps on each platform.\n\n\
         heaplab-{id}-starter.tar.gz     hand out to students\n\
         heaplab-{id}-inkfish.tar.gz     Inkfish: the grading archive of a script column\n\
         heaplab-{id}-gradescope.zip     Gradescope: the autograder zip\n\
         autolab/                        Autolab: autograde-Makefile and autograde.tar\n\
         heaplab-{id}-prairielearn.tar.gz  PrairieLearn: the grader image's Dockerfile and tree, a question\n\
         heaplab-{id}-classroom.tar.gz   GitHub Classroom: the template repository\n\
         inkfish.Dockerfile              the Inkfish image with a Rust toolchain\n\n\
         Autolab problems (name, max score), one per test:\n",
        id = lesson.id,
        title = lesson.title
    );
    for t in &lesson.tests {
        text.push_str(&format!(
            "  {:<40} {}{}\n",
            t.name,
            t.points,
            if t.hidden { "   (hidden)" } else { "" }
        ));
    }
    text.push_str(&format!("  total {}\n", lesson.max_points()));
    text
}

fn io(path: &Path, e: std::io::Error) -> Fatal {
    Fatal::new(format!("{}: {e}", path.display()))
}
