//! The `grade` command itself: pick the crate, build its harness, run the
//! tests, report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::ValueEnum;

use crate::compile::{self, Build, BuildOptions, Variant};
use crate::course::{Course, Lesson, TestSpec};
use crate::report::{self, shell_quote, Graded};
use crate::runner::{self, outcome::Outcome, TestResult};
use crate::{Fatal, EXIT_FULL_MARKS, EXIT_POINTS_LOST};

/// The seed when `--seed` is not given (the harness's own default).
pub const DEFAULT_SEED: u64 = 0x4EA9_1AB5;

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

    /// Write the tap, gradescope or json report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

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
    let course = Course::locate(manifest)?;
    let Some(name) = args.lesson.as_deref() else {
        return Err(Fatal::new(format!(
            "name a lesson to grade, e.g. `cargo grade lesson1`; known lessons: {} (see `cargo grade --list`)",
            course.lesson_ids().join(", ")
        )));
    };
    let lesson = course.lesson(name)?;
    if args.output.is_some() && args.format == Format::Human {
        return Err(Fatal::new(
            "--output is for --format tap, gradescope or json; the human report goes to the terminal",
        ));
    }
    let variant = variant(&course, lesson, &args)?;
    if !lesson.has_harness() {
        return Err(Fatal::new(format!(
            "{} has no suite yet: course.toml's `harness` line for it is `{}`",
            lesson.id, lesson.harness
        )));
    }
    let tests = select(lesson, &args)?;
    if !args.include_hidden {
        announce_hidden(lesson);
    }
    let seed = args.seed.unwrap_or(DEFAULT_SEED);
    let jobs = args
        .jobs
        .map(usize::from)
        .unwrap_or_else(runner::default_jobs);
    let color_err =
        anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    let crate_shown = match &variant {
        Variant::Student => format!("lessons/{}", lesson.dir),
        Variant::Solution => format!("solutions/{}", lesson.dir),
        Variant::Submission(dir) => dir.display().to_string(),
    };

    let started = Instant::now();
    progress(&format!("building {} ({}) …", lesson.id, crate_shown));
    let target = compile::target_dir(&course);
    let build = compile::build(
        &course,
        lesson,
        &variant,
        &target,
        &BuildOptions {
            offline: args.offline,
            color: args.format == Format::Human && color_err_or_out(color_err),
        },
    )?;

    let mut graded = Graded {
        lesson,
        variant: variant.clone(),
        crate_shown: crate_shown.clone(),
        seed,
        results: Vec::new(),
        compile_errors: None,
        replay_base: replay_base(&course, lesson, &variant, manifest)
            + if args.include_hidden {
                " --include-hidden"
            } else {
                ""
            },
        all_names: lesson.tests.iter().map(|t| t.name.clone()).collect(),
        elapsed: Default::default(),
    };
    let mut human = (args.format == Format::Human).then(report::human::Human::new);

    match build {
        Build::DidNotCompile(errors) => {
            let plain = anstream::adapter::strip_str(&errors).to_string();
            graded.compile_errors = Some(errors.clone());
            if let Some(h) = human.as_mut() {
                h.header(&lesson.id, &lesson.title, &crate_shown, tests.len(), seed);
                h.compile_errors(&lesson.id, &errors);
            } else {
                progress(&format!(
                    "{} did not compile; every test scores 0",
                    lesson.id
                ));
            }
            for spec in &tests {
                let r = TestResult::without_run(
                    spec,
                    Outcome::DidNotCompile {
                        errors: plain.clone(),
                    },
                );
                if let Some(h) = human.as_mut() {
                    h.test(&graded, &r);
                }
                graded.results.push(r);
            }
        }
        Build::Built(harness) => {
            let listed = runner::list(&harness, &course.limits(tests[0]))?;
            check_listed(lesson, &listed)?;
            if let Some(h) = human.as_mut() {
                h.header(&lesson.id, &lesson.title, &crate_shown, tests.len(), seed);
            } else {
                progress(&format!(
                    "running {} test{}, {} at a time",
                    tests.len(),
                    if tests.len() == 1 { "" } else { "s" },
                    jobs.min(tests.len())
                ));
            }
            let total = tests.len();
            let mut results = Vec::new();
            runner::run_all(&course, &harness, &tests, seed, jobs, |i, r| {
                match human.as_mut() {
                    Some(h) => h.test(&graded, &r),
                    None => progress(&format!(
                        "[{:>2}/{total}] {:<15} {}",
                        i + 1,
                        r.outcome.label(),
                        r.spec.name
                    )),
                }
                results.push(r);
            })?;
            graded.results = results;
        }
    }
    graded.elapsed = started.elapsed();

    let rendered = match args.format {
        Format::Human => None,
        Format::Tap => Some(report::tap::render(&graded)),
        Format::Gradescope => Some(report::gradescope::render(&graded)),
        Format::Json => Some(report::json::render(&graded)),
        Format::Autolab => Some(report::autolab::render(&graded)),
    };
    if let Some(h) = human.as_mut() {
        h.footer(&graded);
    }
    if let Some(text) = rendered {
        match &args.output {
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Fatal::new(format!("cannot create {}: {e}", dir.display())))?;
                }
                std::fs::write(path, text)
                    .map_err(|e| Fatal::new(format!("cannot write {}: {e}", path.display())))?;
                progress(&format!(
                    "Score: {}/{} (report in {})",
                    graded.score(),
                    graded.max_score(),
                    path.display()
                ));
            }
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|e| Fatal::new(format!("cannot write the report: {e}")))?;
            }
        }
    }
    Ok(ExitCode::from(if graded.score() == graded.max_score() {
        EXIT_FULL_MARKS
    } else {
        EXIT_POINTS_LOST
    }))
}

fn color_err_or_out(color_err: bool) -> bool {
    color_err && anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

/// Which crate to grade, checked before any build starts.
fn variant(course: &Course, lesson: &Lesson, args: &Args) -> Result<Variant, Fatal> {
    if let Some(dir) = &args.submission {
        if !dir.is_dir() {
            return Err(Fatal::new(format!(
                "--submission {}: no such folder (give the folder that holds the lesson's Cargo.toml and src/)",
                dir.display()
            )));
        }
        if !dir.join("Cargo.toml").is_file() {
            return Err(Fatal::new(format!(
                "--submission {}: no Cargo.toml there; give the lesson crate's folder (the one with Cargo.toml and src/)",
                dir.display()
            )));
        }
        if !dir.join("src").is_dir() {
            return Err(Fatal::new(format!(
                "--submission {}: no src/ folder there; the grader takes the lesson's code from src/",
                dir.display()
            )));
        }
        let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        return Ok(Variant::Submission(abs));
    }
    let (variant, dir) = if args.solution {
        (Variant::Solution, course.solution_dir(lesson))
    } else {
        (Variant::Student, course.student_dir(lesson))
    };
    if !dir.join("Cargo.toml").is_file() {
        return Err(Fatal::new(format!(
            "{} has no crate at {} yet",
            lesson.id,
            dir.strip_prefix(&course.root).unwrap_or(&dir).display()
        )));
    }
    Ok(variant)
}

/// The manifest's tests, filtered by `--test`.
fn select<'a>(lesson: &'a Lesson, args: &Args) -> Result<Vec<&'a TestSpec>, Fatal> {
    if lesson.tests.is_empty() {
        return Err(Fatal::new(format!(
            "{} lists no tests in course.toml",
            lesson.id
        )));
    }
    let tests: Vec<&TestSpec> = lesson
        .tests
        .iter()
        .filter(|t| args.include_hidden || !t.hidden)
        .filter(|t| match &args.test {
            None => true,
            Some(n) if args.exact => &t.name == n,
            Some(n) => t.name.contains(n.as_str()),
        })
        .collect();
    if tests.is_empty() {
        let names: Vec<&str> = lesson.tests.iter().map(|t| t.name.as_str()).collect();
        return Err(Fatal::new(format!(
            "no test of {} is named like `{}`; its tests: {}",
            lesson.id,
            args.test.as_deref().unwrap_or(""),
            names.join(", ")
        )));
    }
    Ok(tests)
}

/// Says how many hidden tests a run without `--include-hidden` leaves out,
/// and what they are worth: the score shown here is out of the rest.
fn announce_hidden(lesson: &Lesson) {
    let hidden: Vec<&TestSpec> = lesson.tests.iter().filter(|t| t.hidden).collect();
    if hidden.is_empty() {
        return;
    }
    let points: u32 = hidden.iter().map(|t| t.points).sum();
    progress(&format!(
        "{} also has {} hidden test{} worth {points} point{}, not run here: the grading server runs them \
         (--include-hidden runs them here)",
        lesson.id,
        hidden.len(),
        if hidden.len() == 1 { "" } else { "s" },
        if points == 1 { "" } else { "s" },
    ));
}

/// A test the manifest grades but the suite lacks is a kit bug.
fn check_listed(lesson: &Lesson, listed: &[String]) -> Result<(), Fatal> {
    let missing: Vec<&str> = lesson
        .tests
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| !listed.iter().any(|l| l == n))
        .collect();
    if !missing.is_empty() {
        return Err(Fatal::new(format!(
            "kit bug: course.toml grades {} test(s) of {} that its suite does not have: {} (the suite has: {})",
            missing.len(),
            lesson.id,
            missing.join(", "),
            listed.join(", ")
        )));
    }
    for extra in listed
        .iter()
        .filter(|l| !lesson.tests.iter().any(|t| &t.name == *l))
    {
        progress(&format!(
            "warning: the {} suite has a test `{extra}` that course.toml does not list; it is not graded",
            lesson.id
        ));
    }
    Ok(())
}

/// `cargo grade lesson4 [--solution | --submission DIR] [--manifest PATH]`.
fn replay_base(
    course: &Course,
    lesson: &Lesson,
    variant: &Variant,
    manifest: Option<&Path>,
) -> String {
    let mut cmd = format!("cargo grade {}", lesson.id);
    match variant {
        Variant::Student => {}
        Variant::Solution => cmd.push_str(" --solution"),
        Variant::Submission(dir) => {
            cmd.push_str(&format!(
                " --submission {}",
                shell_quote(&dir.to_string_lossy())
            ));
        }
    }
    if manifest.is_some() {
        cmd.push_str(&format!(
            " --manifest {}",
            shell_quote(&course.manifest_path.to_string_lossy())
        ));
    }
    cmd
}

/// A progress line on stderr. Never starts with `ok` or `not`, so it cannot
/// be mistaken for a TAP line when stderr and stdout are merged.
fn progress(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}
