//! `grade batch DIR`: grades a class's submissions, one folder (or archive)
//! each under DIR, into a CSV gradebook and one report per submission.
//!
//! Every submission is built into the same generated project and target
//! folder, so the checker and the crates the student's program links are
//! compiled once and only the student's crate and its program are rebuilt
//! per submission. Builds take turns (cargo locks the target folder
//! anyway); a built program is copied out, and its tests run while the next
//! submission builds, `--jobs` submissions at a time. Nothing a submission
//! does (no crate, a compile error, a crash, a hang) stops the batch: it gets
//! a row saying so. The submissions are `submissions.rs`'s, the CSV
//! `gradebook.rs`'s.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use crate::build::{self, Build, BuildOptions, Variant};
use crate::course::{Course, Lesson};
use crate::grade::{Job, Quiet, DEFAULT_SEED};
use crate::locate::find_crate;
use crate::report::{self, Graded};
use crate::runner;
use crate::Fatal;

mod gradebook;
mod submissions;

use gradebook::{first_line, write_csv};
use submissions::{collect, infer_lesson, Submission};

#[derive(clap::Args)]
pub struct Args {
    /// A folder with one submission per entry: a folder, or a .zip, .tar,
    /// .tar.gz or .tgz archive, named after its student.
    pub dir: PathBuf,

    /// The lesson graded (id, folder or number); by default the one whose
    /// crate the submissions hold.
    #[arg(long, value_name = "LESSON")]
    pub lesson: Option<String>,

    /// Submissions graded at once (default: the number of cores).
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Where the gradebook (grades.csv) and the reports go (default: DIR-grades).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Seed for every random choice of the suite: the same for every submission.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Build without touching the network (as cargo's --offline).
    #[arg(long)]
    pub offline: bool,
}

/// How one submission ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Graded,
    DidNotCompile,
    /// Could not be graded at all (no crate, an unreadable archive, a kit bug).
    Error,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Graded => "graded",
            Status::DidNotCompile => "did_not_compile",
            Status::Error => "error",
        }
    }
}

/// One line of the gradebook.
struct Row {
    submission: String,
    status: Status,
    score: u32,
    /// Points earned per test name (absent: not graded).
    earned: BTreeMap<String, u32>,
    message: String,
    elapsed: Duration,
}

/// `grade batch DIR [--lesson L] [--jobs N] [--out DIR]`: exit 0 when every
/// submission was graded (whatever its score), 1 when some could not be,
/// 2 when the batch itself could not run.
pub fn run(args: Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    if !args.dir.is_dir() {
        return Err(Fatal::new(format!(
            "{}: no such folder (give the folder holding one folder or archive per submission)",
            args.dir.display()
        )));
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let name = args
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        args.dir
            .with_file_name(format!("{}-grades", name.unwrap_or_else(|| "batch".into())))
    });
    let reports = out.join("reports");
    let work = out.join(".work");
    for d in [&reports, &work] {
        std::fs::create_dir_all(d)
            .map_err(|e| Fatal::new(format!("cannot create {}: {e}", d.display())))?;
    }
    let submissions = collect(&args.dir, &work)?;
    if submissions.is_empty() {
        return Err(Fatal::new(format!(
            "{} holds no submission",
            args.dir.display()
        )));
    }
    let lesson = match &args.lesson {
        Some(name) => course.lesson(name)?,
        None => infer_lesson(&course, &submissions)?,
    };
    if !lesson.has_suite() {
        return Err(Fatal::new(format!("{} has no suite yet", lesson.id)));
    }
    let jobs = args
        .jobs
        .map(usize::from)
        .unwrap_or_else(runner::default_jobs);
    let ctx = Ctx {
        course: &course,
        lesson,
        target: build::target_dir(&course),
        reports: &reports,
        work: &work,
        seed: args.seed.unwrap_or(DEFAULT_SEED),
        offline: args.offline,
        build_lock: Mutex::new(()),
    };

    let started = Instant::now();
    eprintln!(
        "grading {} submissions of {} ({}), {} at a time",
        submissions.len(),
        lesson.id,
        lesson.title,
        jobs.min(submissions.len())
    );
    let rows = grade_all(&ctx, &submissions, jobs);
    let gradebook = out.join("grades.csv");
    write_csv(&gradebook, lesson, &rows)?;
    let _ = std::fs::remove_dir_all(&work);

    let errors = rows.iter().filter(|r| r.status == Status::Error).count();
    eprintln!(
        "{} submissions in {:.1} s: {} graded, {} did not compile, {errors} could not be graded; gradebook {}",
        rows.len(),
        started.elapsed().as_secs_f64(),
        rows.iter().filter(|r| r.status == Status::Graded).count(),
        rows.iter().filter(|r| r.status == Status::DidNotCompile).count(),
        gradebook.display()
    );
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What every worker shares.
struct Ctx<'a> {
    course: &'a Course,
    lesson: &'a Lesson,
    target: PathBuf,
    reports: &'a Path,
    work: &'a Path,
    seed: u64,
    offline: bool,
    /// Held while a harness is generated, built and copied out: every
    /// submission is built in the same project.
    build_lock: Mutex<()>,
}

/// Grades every submission, `jobs` at a time, printing one progress line
/// per finished submission; rows come back sorted by submission.
fn grade_all(ctx: &Ctx, submissions: &[Submission], jobs: usize) -> Vec<Row> {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Row>();
    let mut rows = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, submissions.len()) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(sub) = submissions.get(i) else { break };
                if tx.send(grade_guarded(ctx, sub)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for row in rx {
            rows.push(row);
            let row = rows.last().expect("just pushed");
            let what = match row.status {
                Status::Graded => String::new(),
                Status::DidNotCompile => "  did not compile".to_string(),
                Status::Error => format!("  could not grade: {}", first_line(&row.message)),
            };
            eprintln!(
                "[{:>3}/{}] {:<24} {:>3}/{} {:>6.1} s{what}",
                rows.len(),
                submissions.len(),
                row.submission,
                row.score,
                ctx.lesson.max_points(),
                row.elapsed.as_secs_f64()
            );
        }
    });
    rows.sort_by(|a, b| a.submission.cmp(&b.submission));
    rows
}

/// Grades one submission; a grader bug (a panic) becomes an error row.
fn grade_guarded(ctx: &Ctx, sub: &Submission) -> Row {
    let started = Instant::now();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| grade_one(ctx, sub)));
    let error = |message: String| GradedRow {
        status: Status::Error,
        score: 0,
        earned: BTreeMap::new(),
        message,
    };
    let GradedRow {
        status,
        score,
        earned,
        message,
    } = match outcome {
        Ok(Ok(graded)) => graded,
        Ok(Err(fatal)) => error(fatal.message),
        Err(_) => error(
            "the grader panicked on this submission (a grader bug; see the message above)".into(),
        ),
    };
    if status == Status::Error {
        let path = ctx.reports.join(format!("{}.txt", sub.name));
        let _ = std::fs::write(
            path,
            format!("{}: could not be graded: {message}\n", sub.name),
        );
    }
    Row {
        submission: sub.name.clone(),
        status,
        score,
        earned,
        message,
        elapsed: started.elapsed(),
    }
}

/// What grading one submission gave: how it went, its score, the points of
/// each test, and a message for a row that could not be graded.
struct GradedRow {
    status: Status,
    score: u32,
    earned: BTreeMap<String, u32>,
    message: String,
}

fn grade_one(ctx: &Ctx, sub: &Submission) -> Result<GradedRow, Fatal> {
    let lesson = ctx.lesson;
    let crate_dir = find_crate(&sub.path, lesson).map_err(Fatal::new)?;
    let crate_dir = std::fs::canonicalize(&crate_dir).unwrap_or(crate_dir);
    let job = Job {
        columns: None,
        course: ctx.course,
        lesson,
        variant: Variant::Submission(crate_dir.clone()),
        tests: lesson.tests.iter().collect(),
        seed: ctx.seed,
        // One test at a time: --jobs bounds the test processes of the batch.
        jobs: 1,
        crate_shown: sub.name.clone(),
        replay_base: format!(
            "cargo grade {} --include-hidden --submission {}",
            lesson.id,
            report::shell_quote(&crate_dir.to_string_lossy())
        ),
    };
    let copy = ctx.work.join(format!("{}.subject", sub.name));
    let build = {
        let _turn = ctx.build_lock.lock().unwrap_or_else(|p| p.into_inner());
        let options = BuildOptions {
            offline: ctx.offline,
            color: false,
            progress: false,
        };
        match job.build(&ctx.target, &options)? {
            // The next build overwrites the program: run a copy of it.
            Build::Built(built) => Build::Built(built.copy_to(&copy)?),
            not_built => not_built,
        }
    };
    let graded = job.run(build, &mut Quiet);
    let _ = std::fs::remove_file(&copy);
    let graded = graded?;
    write_reports(ctx, sub, &graded)?;
    Ok(GradedRow {
        status: if graded.compile_errors.is_some() {
            Status::DidNotCompile
        } else {
            Status::Graded
        },
        score: graded.score(),
        earned: graded
            .results
            .iter()
            .map(|r| (r.spec.name.clone(), r.earned))
            .collect(),
        message: String::new(),
    })
}

/// The submission's reports: heaplab's JSON, and the text summary.
fn write_reports(ctx: &Ctx, sub: &Submission, graded: &Graded) -> Result<(), Fatal> {
    let write = |ext: &str, text: String| {
        let path = ctx.reports.join(format!("{}.{ext}", sub.name));
        std::fs::write(&path, text)
            .map_err(|e| Fatal::new(format!("cannot write {}: {e}", path.display())))
    };
    write("json", report::json::render(graded))?;
    write("txt", report::autolab::summary(graded))
}
