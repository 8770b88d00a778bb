//! The `grade` command itself: pick the crate and the tests, build, run the
//! tests, report.

mod job;
mod select;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;

pub use job::{Job, Observer, Quiet};
pub use select::replay_base;

use crate::build::{self, BuildOptions, Variant};
use crate::course::Course;
use crate::report::{self, human::Human, Graded};
use crate::runner::{self, TestResult};
use crate::{Fatal, EXIT_CANNOT_GRADE, EXIT_FULL_MARKS, EXIT_POINTS_LOST};

/// The seed when `--seed` is not given.
pub const DEFAULT_SEED: u64 = heaplab_protocol::DEFAULT_SEED;

#[derive(clap::Args)]
pub struct Args {
    /// The lesson to grade: its id (lesson4), folder (lesson4-free-list) or number (4).
    pub lesson: Option<String>,

    /// Grade the reference solution (solutions/<dir>) instead of lessons/<dir>.
    #[arg(long, conflicts_with = "submission")]
    pub solution: bool,

    /// Grade a student's lesson crate elsewhere on disk (only its src/ is used).
    #[arg(long, value_name = "DIR")]
    pub submission: Option<PathBuf>,

    /// Run only the tests whose name contains NAME.
    #[arg(long, value_name = "NAME")]
    pub test: Option<String>,

    /// With --test: the name must match exactly.
    #[arg(long, requires = "test")]
    pub exact: bool,

    /// Seed for every random choice of the suite (default: a fixed seed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the tap, gradescope, json or html report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write the HTML report (the heap drawn step by step) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Tests run at once (default: the number of cores).
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Name the lessons and their tests (titles, points) and stop.
    #[arg(long)]
    pub list: bool,

    /// Build without touching the network (as cargo's --offline).
    #[arg(long)]
    pub offline: bool,

    /// Also run the tests course.toml marks `hidden = true`, as the grading
    /// servers do; without it they are skipped (and counted).
    #[arg(long)]
    pub include_hidden: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: each test, the reason for a failure, the hint, the replay command.
    Human,
    /// TAP for Inkfish: one test point per point of the manifest.
    Tap,
    /// Gradescope's results.json.
    Gradescope,
    /// heaplab's own JSON (docs/grading.md).
    Json,
    /// Autolab: a summary, then the last line `{"scores": {TEST: points, ...}}`.
    Autolab,
    /// One self-contained HTML file: the failures, the heap drawn after each step.
    Html,
}

/// `grade list [LESSON]` and `grade --list [LESSON]`.
pub fn list(lesson: Option<&str>, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    let only = lesson.map(|l| course.lesson(l)).transpose()?;
    crate::list::print(&course, only);
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    if args.list {
        return list(args.lesson.as_deref(), manifest);
    }
    if args.output.is_some() && args.format == Format::Human {
        return Err(Fatal::new(
            "--output is for --format tap, gradescope, json or html; the human report goes to the \
             terminal (--html FILE writes the HTML report beside it)",
        ));
    }
    let course = Course::locate(manifest)?;
    let job = job(&course, &args, manifest)?;
    progress(&format!(
        "building {} ({}) …",
        job.lesson.id, job.crate_shown
    ));
    let options = BuildOptions {
        offline: args.offline,
        color: args.format == Format::Human && colour(),
    };
    let build = job.build(&build::target_dir(&course), &options)?;
    let graded = match args.format {
        Format::Human => {
            let mut human = HumanObserver(Human::new());
            let graded = job.run(build, &mut human)?;
            human.0.footer(&graded);
            graded
        }
        _ => job.run(build, &mut Progress)?,
    };
    write_report(&args, &graded)?;
    Ok(ExitCode::from(exit_code(&graded)))
}

/// 0 for full marks, 1 for points lost, 2 when a test could not be run.
fn exit_code(graded: &Graded) -> u8 {
    if graded
        .results
        .iter()
        .any(|r| matches!(r.outcome, heaplab_protocol::Outcome::KitError { .. }))
    {
        EXIT_CANNOT_GRADE
    } else if graded.score() == graded.max_score() {
        EXIT_FULL_MARKS
    } else {
        EXIT_POINTS_LOST
    }
}

/// What `args` ask to grade.
fn job<'c>(course: &'c Course, args: &Args, manifest: Option<&Path>) -> Result<Job<'c>, Fatal> {
    let Some(name) = args.lesson.as_deref() else {
        return Err(Fatal::new(format!(
            "name a lesson to grade, e.g. `cargo grade lesson1`; known lessons: {} (see `cargo grade --list`)",
            course.lesson_ids().join(", ")
        )));
    };
    let lesson = course.lesson(name)?;
    let variant = select::variant(course, lesson, args)?;
    if !lesson.has_suite() {
        return Err(Fatal::new(format!(
            "{} has no suite yet: course.toml's `checker` line for it is `{}`",
            lesson.id, lesson.checker
        )));
    }
    let tests = select::select(lesson, args)?;
    if !args.include_hidden {
        select::announce_hidden(lesson);
    }
    let crate_shown = match &variant {
        Variant::Student => format!("lessons/{}", lesson.dir),
        Variant::Solution => format!("solutions/{}", lesson.dir),
        Variant::Submission(dir) => dir.display().to_string(),
    };
    let hidden = if args.include_hidden {
        " --include-hidden"
    } else {
        ""
    };
    Ok(Job {
        course,
        lesson,
        replay_base: replay_base(course, lesson, &variant, manifest) + hidden,
        variant,
        tests,
        seed: args.seed.unwrap_or(DEFAULT_SEED),
        jobs: args
            .jobs
            .map(usize::from)
            .unwrap_or_else(runner::default_jobs),
        crate_shown,
    })
}

/// Colour in the build's messages: both stderr and stdout are terminals.
fn colour() -> bool {
    let on = |choice| choice != anstream::ColorChoice::Never;
    on(anstream::AutoStream::choice(&std::io::stderr()))
        && on(anstream::AutoStream::choice(&std::io::stdout()))
}

/// The human report, streamed as the tests finish.
struct HumanObserver(Human);

impl Observer for HumanObserver {
    fn did_not_compile(&mut self, graded: &Graded, errors: &str) {
        self.0.header(graded, graded.lesson.tests.len());
        self.0.compile_errors(&graded.lesson.id, errors);
    }

    fn started(&mut self, graded: &Graded, tests: usize) {
        self.0.header(graded, tests);
    }

    fn test_done(&mut self, graded: &Graded, _index: usize, result: &TestResult) {
        self.0.test(graded, result);
    }
}

/// Progress lines on stderr for the machine-read formats.
struct Progress;

impl Observer for Progress {
    fn did_not_compile(&mut self, graded: &Graded, _errors: &str) {
        progress(&format!(
            "{} did not compile; every test scores 0",
            graded.lesson.id
        ));
    }

    fn started(&mut self, _graded: &Graded, tests: usize) {
        progress(&format!(
            "running {tests} test{}",
            if tests == 1 { "" } else { "s" }
        ));
    }

    fn test_done(&mut self, graded: &Graded, index: usize, r: &TestResult) {
        progress(&format!(
            "[{:>2}/{}] {:<15} {}",
            index + 1,
            graded.all_names.len(),
            r.outcome.label(),
            r.spec.name
        ));
    }
}

/// The report in the asked format, to `--output` or stdout.
fn write_report(args: &Args, graded: &Graded) -> Result<(), Fatal> {
    if let Some(path) = &args.html {
        write_file(path, &report::html::render(graded))?;
        progress(&format!("HTML report in {}", path.display()));
    }
    let text = match args.format {
        Format::Human => return Ok(()),
        Format::Html => report::html::render(graded),
        Format::Tap => report::tap::render(graded),
        Format::Gradescope => report::gradescope::render(graded),
        Format::Json => report::json::render(graded),
        Format::Autolab => report::autolab::render(graded),
    };
    let Some(path) = &args.output else {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Fatal::new(format!("cannot write the report: {e}")));
    };
    write_file(path, &text)?;
    progress(&format!(
        "Score: {}/{} (report in {})",
        graded.score(),
        graded.max_score(),
        path.display()
    ));
    Ok(())
}

/// Writes `text` to `path`, making its folder if needed.
fn write_file(path: &Path, text: &str) -> Result<(), Fatal> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Fatal::new(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| Fatal::new(format!("cannot write {}: {e}", path.display())))
}

/// A progress line on stderr. Never starts with `ok` or `not`, so it cannot
/// be mistaken for a TAP line when stderr and stdout are merged.
pub fn progress(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}
