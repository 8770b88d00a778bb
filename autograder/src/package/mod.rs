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
    let dir = out.join(&lesson.id);
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(&dir)
        .map_err(|e| io(&dir, e))?;

    // The starter: what a student works in; no hidden test, no vendor folder
    // (a student's machine reaches crates.io).
    let starter_name = format!("heaplab-{}", lesson.id);
    let starter_root = staging.path().join(&starter_name);
    tree::starter(course, lesson)?.write_to(&starter_root)?;
    vendor::prune_lock(&starter_root)?;

    // The grader tree, shared by the three platforms.
    let grader_root = staging.path().join("heaplab");
    let mut grader = tree::grader(course, lesson)?;
    grader.insert("autolab-grade.sh", fill(AUTOLAB_GRADE, lesson));
    grader.insert("prairielearn-grade.sh", fill(PRAIRIELEARN_GRADE, lesson));
    grader.insert("prairielearn-setup.sh", fill(PRAIRIELEARN_SETUP, lesson));
    grader.write_to(&grader_root)?;
    vendor::vendor(&grader_root)?;

    let mut files = Vec::new();
    let mut emit = |name: &str, bytes: Vec<u8>| -> Result<(), Fatal> {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        std::fs::write(&path, &bytes).map_err(|e| io(&path, e))?;
        files.push((name.to_string(), bytes.len() as u64));
        Ok(())
    };

    let starter = archive::Entries::from_dir(&starter_root, &starter_name)?;
    emit(&format!("{starter_name}-starter.tar.gz"), starter.tar_gz()?)?;

    let tree = archive::Entries::from_dir(&grader_root, "heaplab")?;

    // Inkfish: test.pl beside the grader tree as one inner archive.
    let mut inkfish = archive::Entries::default();
    inkfish.file("test.pl", fill(TEST_PL, lesson), true);
    inkfish.file(INKFISH_INNER, tree.tar()?, false);
    emit(
        &format!("heaplab-{}-inkfish.tar.gz", lesson.id),
        inkfish.tar_gz()?,
    )?;

    // Gradescope: the zip becomes /autograder/source.
    let mut gradescope = tree.clone();
    gradescope.file("setup.sh", fill(GRADESCOPE_SETUP, lesson), true);
    gradescope.file("run_autograder", fill(GRADESCOPE_RUN, lesson), true);
    emit(
        &format!("heaplab-{}-gradescope.zip", lesson.id),
        gradescope.zip()?,
    )?;

    // Autolab: the Makefile and the archive it unpacks.
    emit("autolab/autograde-Makefile", fill(AUTOLAB_MAKEFILE, lesson))?;
    emit("autolab/autograde.tar", tree.tar()?)?;

    // PrairieLearn: the image's Dockerfile over the grader tree, and a question.
    let pl = format!("heaplab-{}-prairielearn", lesson.id);
    let mut prairielearn = archive::Entries::from_dir(&grader_root, &format!("{pl}/heaplab"))?;
    prairielearn.file(
        &format!("{pl}/Dockerfile"),
        fill(PRAIRIELEARN_DOCKERFILE, lesson),
        false,
    );
    prairielearn.file(
        &format!("{pl}/question/info.json"),
        prairielearn::info_json(course, lesson).into_bytes(),
        false,
    );
    prairielearn.file(
        &format!("{pl}/question/question.html"),
        prairielearn::question_html(course, lesson)?.into_bytes(),
        false,
    );
    emit(&format!("{pl}.tar.gz"), prairielearn.tar_gz()?)?;

    // GitHub Classroom: the starter as a template repository that grades
    // every push.
    let mut template = starter.clone();
    let starter_readme =
        std::fs::read_to_string(starter_root.join("README.md")).unwrap_or_default();
    template.file(
        &format!("{starter_name}/README.md"),
        classroom::readme(lesson, &starter_readme).into_bytes(),
        false,
    );
    template.file(
        &format!("{starter_name}/.github/workflows/classroom.yml"),
        classroom::workflow(course, lesson).into_bytes(),
        false,
    );
    emit(
        &format!("heaplab-{}-classroom.tar.gz", lesson.id),
        template.tar_gz()?,
    )?;

    // Instructions that depend on the lesson: Autolab's problem names, the image.
    emit("README.txt", readme(lesson).into_bytes())?;
    emit("inkfish.Dockerfile", INKFISH_DOCKERFILE.as_bytes().to_vec())?;

    Ok(Written { dir, files })
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
