//! The `grade` command itself: pick the crate and the tests, build, run the
//! tests, report.

mod job;
mod observers;
mod select;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;

pub use job::{Job, Observer, Quiet};
pub use observers::{HumanObserver, Progress};
pub use select::{crate_to_build, replay_base};

use crate::build::{self, BuildOptions, Variant};
use crate::course::Course;
use crate::report::{self, human::Human, Graded};
use crate::runner;
use crate::status::record;
use crate::{Fatal, EXIT_CANNOT_GRADE, EXIT_FULL_MARKS, EXIT_POINTS_LOST};

/// The seed when `--seed` is not given.
pub const DEFAULT_SEED: u64 = heaplab_protocol::DEFAULT_SEED;

#[derive(clap::Args, Clone, Default)]
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

    /// Write the report (any format but human) to FILE instead of stdout:
    /// the file appears, whole, only once the grade is done.
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

    /// Show every failure in full (by default a cause shared by several
    /// tests is shown once, and the others name it in one line).
    #[arg(long, short)]
    pub verbose: bool,

    /// Grade again on every save of the crate's files (keys: h hint, l list,
    /// r regrade, q quit).
    #[arg(long)]
    pub watch: bool,

    /// Grade test TEST, then print the debugger command that stops just
    /// before its failing step (the report's case and addresses).
    #[arg(long, value_name = "TEST", conflicts_with_all = ["watch", "test"])]
    pub debug: Option<String>,

    /// Write the lesson's local harness project (suite and crate in one
    /// program, for Miri and debuggers) and print its Cargo.toml's path.
    #[arg(long, conflicts_with_all = ["watch", "debug"])]
    pub local_project: bool,

    /// With --watch: look for saves every half second instead of waiting for
    /// file events (for folders whose events do not arrive, e.g. WSL's /mnt).
    #[arg(long)]
    pub poll: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: each test, the reason for a failure, the hint, the replay command.
    #[default]
    Human,
    /// TAP for Inkfish: one test point per point of the manifest.
    Tap,
    /// Gradescope's results.json.
    Gradescope,
    /// heaplab's own JSON (docs/grading.md).
    Json,
    /// Autolab: a summary, then the last line `{"scores": {TEST: points, ...}}`.
    Autolab,
    /// PrairieLearn's results.json for an external grader.
    Prairielearn,
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
            "--output is for the machine formats (tap, gradescope, prairielearn, autolab, json, \
             html); the human report goes to the terminal (--html FILE writes the HTML report \
             beside it)",
        ));
    }
    if args.watch {
        return crate::watch::run(&args, manifest);
    }
    if let Some(test) = &args.debug {
        return crate::debug::run(&args, test, manifest);
    }
    if args.local_project {
        return crate::debug::local_project(&args, manifest);
    }
    if args.poll {
        return Err(Fatal::new(
            "--poll goes with --watch: `cargo grade LESSON --watch --poll`",
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
        progress: args.format == Format::Human,
    };
    let graded = match args.format {
        Format::Human => {
            let mut human = HumanObserver(Human::new());
            human.0.verbose = args.verbose;
            let graded = grade(&job, &options, &mut human)?;
            human.0.footer(&graded);
            graded
        }
        _ => grade(&job, &options, &mut Progress)?,
    };
    write_report(&args, &graded)?;
    Ok(ExitCode::from(exit_code(&graded)))
}

/// Builds and runs `job`, telling `observer` as it goes; the grade of the
/// student's own crate is kept for `grade status`.
pub fn grade<'c>(
    job: &Job<'c>,
    options: &BuildOptions,
    observer: &mut dyn Observer,
) -> Result<Graded<'c>, Fatal> {
    let target = build::target_dir(job.course);
    let build = job.build(&target, options)?;
    let graded = job.run(build, observer)?;
    if job.variant == Variant::Student {
        record::save(&record::folder(&target, job.course), &graded);
    }
    Ok(graded)
}

/// 0 for full marks, 1 for points lost, 2 when a test could not be run.
pub fn exit_code(graded: &Graded) -> u8 {
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
pub fn job<'c>(course: &'c Course, args: &Args, manifest: Option<&Path>) -> Result<Job<'c>, Fatal> {
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
        columns: (args.format == Format::Human)
            .then(screen_columns)
            .flatten(),
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

/// The width of the terminal the human report goes to, if it goes to one.
pub fn screen_columns() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    crossterm::terminal::size()
        .ok()
        .map(|(columns, _)| usize::from(columns))
}

/// Colour in the build's messages: both stderr and stdout are terminals.
fn colour() -> bool {
    let on = |choice| choice != anstream::ColorChoice::Never;
    on(anstream::AutoStream::choice(&std::io::stderr()))
        && on(anstream::AutoStream::choice(&std::io::stdout()))
}

/// The report in the asked format, to `--output` or stdout.
fn write_report(args: &Args, graded: &Graded) -> Result<(), Fatal> {
    if let Some(path) = &args.html {
        write_whole(path, &report::html::render(graded))?;
        progress(&format!("HTML report in {}", path.display()));
    }
    let text = match args.format {
        Format::Human => return Ok(()),
        Format::Html => report::html::render(graded),
        Format::Tap => report::tap::render(graded),
        Format::Gradescope => report::gradescope::render(graded),
        Format::Json => report::json::render(graded),
        Format::Autolab => report::autolab::render(graded),
        Format::Prairielearn => report::prairielearn::render(graded),
    };
    let Some(path) = &args.output else {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Fatal::new(format!("cannot write the report: {e}")));
    };
    write_whole(path, &text)?;
    progress(&format!(
        "Score: {}/{} (report in {})",
        graded.score(),
        graded.max_score(),
        path.display()
    ));
    Ok(())
}

/// Writes `text` to `path` so that `path` holds either nothing new or the
/// whole report: a temporary file in the same folder, renamed into place once
/// written. A grader stopped half-way (killed, out of time) leaves no report
/// behind, and the platform wrappers read only this file. A path that is not
/// a regular file (`/dev/null`, a pipe) is written as it is.
fn write_whole(path: &Path, text: &str) -> Result<(), Fatal> {
    use std::os::unix::fs::PermissionsExt;
    if path.metadata().is_ok_and(|m| !m.is_file()) {
        return std::fs::write(path, text)
            .map_err(|e| Fatal::new(format!("cannot write {}: {e}", path.display())));
    }
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir,
        None => Path::new("."),
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| Fatal::new(format!("cannot create {}: {e}", dir.display())))?;
    let cannot =
        |e: &dyn std::fmt::Display| Fatal::new(format!("cannot write {}: {e}", path.display()));
    let mut file = tempfile::Builder::new()
        .prefix(".heaplab-report-")
        .tempfile_in(dir)
        .map_err(|e| cannot(&e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| {
            let file = file.as_file();
            file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
            file.sync_all()
        })
        .map_err(|e| cannot(&e))?;
    file.persist(path).map_err(|e| cannot(&e.error))?;
    Ok(())
}

/// A progress line on stderr. Never starts with `ok` or `not`, so it cannot
/// be mistaken for a TAP line when stderr and stdout are merged.
pub fn progress(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}
