//! What `grade stubs` would write: every lesson's solution crate (when the
//! reference makes it) and student crate, compared with the ones on disk.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::error::{io_error, StubError};
use super::files::{compare, diff, read_crate, write, Change, Files};
use super::reference::{self, Reference};
use super::stub::stub_crate;

/// A lesson of `course.toml`, as far as stubs are concerned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct LessonDir {
    pub id: String,
    pub dir: String,
}

/// The lessons of the manifest at `course_toml`, in order.
pub fn course_lessons(course_toml: &Path) -> Result<Vec<LessonDir>, StubError> {
    #[derive(serde::Deserialize)]
    struct Course {
        #[serde(default)]
        lesson: Vec<LessonDir>,
    }
    let text = fs::read_to_string(course_toml).map_err(io_error(course_toml))?;
    let course: Course = toml::from_str(&text).map_err(|e| StubError::Manifest {
        path: course_toml.to_path_buf(),
        error: e.to_string(),
    })?;
    Ok(course.lesson)
}

/// One generated crate next to the crate on disk.
#[derive(Debug)]
pub struct CrateCheck {
    /// `solutions/<dir>` or `lessons/<dir>`.
    pub dir: PathBuf,
    pub expected: Files,
    pub actual: Files,
    pub changes: Vec<Change>,
}

impl CrateCheck {
    fn new(dir: PathBuf, expected: Files) -> Result<Self, StubError> {
        let actual = read_crate(&dir)?;
        let changes = compare(&expected, &actual);
        Ok(CrateCheck {
            dir,
            expected,
            actual,
            changes,
        })
    }
}

/// What `grade stubs` found for one lesson.
#[derive(Debug)]
pub struct LessonStubs {
    pub id: String,
    /// The solution crate, when the reference makes it; `None` when it is
    /// kept by hand (then it is the stub's source, as it is).
    pub solution: Option<CrateCheck>,
    /// The student crate, made from the solution crate.
    pub stub: CrateCheck,
}

impl LessonStubs {
    /// The generated crates, the solution (if generated) first.
    pub fn crates(&self) -> impl Iterator<Item = &CrateCheck> {
        self.solution.iter().chain([&self.stub])
    }
}

/// Generates the crates of the lessons of `course.toml` under `root` (only
/// `only`, when given): the solution crate of each lesson the reference
/// lists, and the stub of each lesson that has a solution. Compares them
/// with `solutions/` and `lessons/`; nothing is written.
pub fn plan(root: &Path, only: Option<&str>) -> Result<Vec<LessonStubs>, PlanError> {
    let lessons = course_lessons(&root.join("course.toml"))?;
    if let Some(id) = only {
        if !lessons.iter().any(|l| l.id == id) {
            return Err(PlanError::UnknownLesson {
                id: id.to_string(),
                known: known(&lessons),
            });
        }
    }
    let reference = Reference::load(root)?;
    if let Some(reference) = &reference {
        if let Some(stray) = reference
            .lessons
            .iter()
            .find(|r| !lessons.iter().any(|l| l.id == r.id))
        {
            return Err(PlanError::UnknownReferenceLesson {
                id: stray.id.clone(),
                known: known(&lessons),
            });
        }
    }
    let mut plans = Vec::new();
    for lesson in lessons.iter().filter(|l| only.is_none_or(|id| l.id == id)) {
        if let Some(plan) = plan_lesson(root, lesson, reference.as_ref(), only.is_some())? {
            plans.push(plan);
        }
    }
    Ok(plans)
}

fn known(lessons: &[LessonDir]) -> String {
    let ids: Vec<&str> = lessons.iter().map(|l| l.id.as_str()).collect();
    ids.join(", ")
}

/// One lesson's plan; `None` for a lesson with no solution yet (an error
/// when it was asked for by name).
fn plan_lesson(
    root: &Path,
    lesson: &LessonDir,
    reference: Option<&Reference>,
    named: bool,
) -> Result<Option<LessonStubs>, PlanError> {
    let solution_dir = root.join("solutions").join(&lesson.dir);
    let generated = reference.and_then(|r| Some((r, r.lesson(&lesson.id)?)));
    let (solution, solution_files) = match generated {
        Some((reference, of)) => {
            let check = CrateCheck::new(solution_dir.clone(), reference.solution(of)?)?;
            let files = check.expected.clone();
            (Some(check), files)
        }
        None if solution_dir.join("Cargo.toml").is_file() => (None, read_crate(&solution_dir)?),
        None if named => {
            return Err(PlanError::NoSolution {
                id: lesson.id.clone(),
                dir: solution_dir,
            })
        }
        None => return Ok(None),
    };
    let stub = stub_crate(&solution_dir, &solution_files)?;
    Ok(Some(LessonStubs {
        id: lesson.id.clone(),
        solution,
        stub: CrateCheck::new(root.join("lessons").join(&lesson.dir), stub)?,
    }))
}

/// Why `grade stubs` could not run.
#[derive(Debug)]
pub enum PlanError {
    Stub(StubError),
    UnknownLesson { id: String, known: String },
    UnknownReferenceLesson { id: String, known: String },
    NoSolution { id: String, dir: PathBuf },
}

impl From<StubError> for PlanError {
    fn from(e: StubError) -> Self {
        PlanError::Stub(e)
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::Stub(e) => e.fmt(f),
            PlanError::UnknownLesson { id, known } => {
                write!(f, "no lesson {id:?} in course.toml (lessons: {known})")
            }
            PlanError::UnknownReferenceLesson { id, known } => write!(
                f,
                "{} lists lesson {id:?}, which course.toml does not (lessons: {known})",
                reference::MANIFEST
            ),
            PlanError::NoSolution { id, dir } => write!(
                f,
                "{id} has no solution crate: {} has no Cargo.toml, and {} does not list it",
                dir.display(),
                reference::MANIFEST
            ),
        }
    }
}

impl std::error::Error for PlanError {}

/// `grade stubs [LESSON] [--check]`. Exit codes: 0 when `solutions/` and
/// `lessons/` are (now) what the generator produces; 1 with `--check` when
/// they are not (the files are listed, nothing is written); 2 when a marker
/// is misused or a file cannot be read or written (one line naming file and
/// line).
pub fn command(root: &Path, only: Option<&str>, check: bool) -> ExitCode {
    let plans = match plan(root, only) {
        Ok(plans) => plans,
        Err(e) => {
            eprintln!("grade stubs: {e}");
            return ExitCode::from(2);
        }
    };
    let mut stale = 0;
    for lesson in &plans {
        for generated in lesson.crates() {
            let shown = generated.dir.strip_prefix(root).unwrap_or(&generated.dir);
            if generated.changes.is_empty() {
                println!("{}: {} is up to date", lesson.id, shown.display());
                continue;
            }
            stale += 1;
            if check {
                report_stale(&lesson.id, shown, generated);
            } else if let Err(e) = write(&generated.dir, &generated.expected, &generated.changes) {
                eprintln!("grade stubs: {e}");
                return ExitCode::from(2);
            } else {
                println!(
                    "{}: wrote {} ({} files changed)",
                    lesson.id,
                    shown.display(),
                    generated.changes.len()
                );
            }
        }
    }
    if check && stale > 0 {
        println!("{}", how_to_regenerate(&plans));
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What to do about stale crates: where their source is, and the command.
fn how_to_regenerate(plans: &[LessonStubs]) -> String {
    let cut: Vec<&str> = plans
        .iter()
        .filter(|p| p.solution.is_some())
        .map(|p| p.id.as_str())
        .collect();
    let command = "`just stubs` (or `cargo grade stubs`)";
    if cut.is_empty() {
        return format!("run {command} to regenerate lessons/ from solutions/");
    }
    format!(
        "the solutions of {} are cut from {}: change them there (an edit of a generated \
         crate is undone), then {command} rewrites solutions/ and lessons/",
        cut.join(", "),
        reference::CRATE_DIR
    )
}

/// Lists what differs in one crate, with the start of each file's diff.
fn report_stale(id: &str, shown: &Path, generated: &CrateCheck) {
    println!(
        "{id}: {} differs from what the generator makes:",
        shown.display()
    );
    for change in &generated.changes {
        println!("  {change}");
        if matches!(change, Change::Differs(_)) {
            let diff = diff(change, &generated.expected, &generated.actual);
            for line in diff.lines().take(40) {
                println!("    {line}");
            }
        }
    }
}
