//! `grade bench LESSON`: replays trace files against the lesson's heap and
//! against the system allocator, and prints utilization, throughput and the
//! performance index per trace (`table.rs`), and draws them if asked
//! (`svg.rs`).
//!
//! The heap runs in the student's own program (the subject, built as
//! grading builds it, but with optimizations), as `subject --as replay TRACE
//! --json`, one process per trace: a trace that crashes or hangs the heap scores 0 and the others
//! still run. Exit codes: 0 every trace replayed correctly, 1 a trace failed
//! (a correctness error, a crash, a timeout), 2 could not bench.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::ValueEnum;
// The trace format and the replay report: the same crate the suites use, so
// the grader reads what the subject's replay writes without linking the
// suites (and their test crates).
use heaplab_traces::rep;
use heaplab_traces::report::ReplayReport;

use crate::build::{self, Build, BuildOptions, Built, Variant};
use crate::course::{Course, Lesson};
use crate::grade::crate_to_build;
use crate::runner::child::RunLimits;
use crate::{Fatal, EXIT_FULL_MARKS, EXIT_POINTS_LOST};

mod replay;
pub mod svg;
mod table;
mod trace_files;

use replay::replay_in_child;
use svg::svg;
use table::{human, json, summary};
use trace_files::read_traces;

#[derive(clap::Args)]
pub struct Args {
    /// The lesson whose heap to bench: lesson2 to lesson6 (id, folder or number).
    pub lesson: String,

    /// Folder of `.rep` trace files (default: the course's traces/).
    #[arg(long, value_name = "DIR")]
    pub traces: Option<PathBuf>,

    /// Bench the reference solution (solutions/<dir>) instead of lessons/<dir>.
    #[arg(long, conflicts_with = "submission")]
    pub solution: bool,

    /// Bench a student's lesson crate elsewhere on disk (only its src/ is used).
    #[arg(long, value_name = "DIR")]
    pub submission: Option<PathBuf>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = BenchFormat::Human)]
    pub format: BenchFormat,

    /// Also draw each trace's footprint (mapped bytes) and live payload over
    /// its operations, as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,

    /// Time each allocator on each trace for at least this long (best run counts).
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pub min_time_ms: u64,

    /// Seconds one trace may take (all its replays) before it is stopped and scores 0.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub timeout: u64,

    /// Build without touching the network (as cargo's --offline).
    #[arg(long)]
    pub offline: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchFormat {
    /// A table for people.
    Human,
    /// The same table as JSON (docs/traces.md).
    Json,
}

/// `grade bench LESSON ...`.
pub fn run(args: Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    let lesson = course.lesson(&args.lesson)?;
    if !lesson.has_suite() {
        return Err(Fatal::new(format!(
            "{} has no suite yet: course.toml's `checker` line for it is `{}`",
            lesson.id, lesson.checker
        )));
    }
    let variant = crate_to_build(&course, lesson, args.submission.as_deref(), args.solution)?;
    let dir = args
        .traces
        .clone()
        .unwrap_or_else(|| course.root.join("traces"));
    let traces = read_traces(&dir)?;
    if let Some(plot) = &args.plot {
        if plot.extension().and_then(|e| e.to_str()) != Some("svg") {
            return Err(Fatal::new(format!(
                "--plot {}: the plot is an SVG file; name it something.svg",
                plot.display()
            )));
        }
    }
    let shown = match &variant {
        Variant::Student => format!("lessons/{}", lesson.dir),
        Variant::Solution => format!("solutions/{}", lesson.dir),
        Variant::Submission(dir) => dir.display().to_string(),
    };
    let built = build_optimized(&course, lesson, &variant, &shown, &args)?;
    let report = replay_all(&course, lesson, &built, &traces, &args)?;
    write_report(lesson, &shown, &report, &args)?;
    Ok(ExitCode::from(
        if report.traces.iter().all(|t| t.error.is_none()) {
            EXIT_FULL_MARKS
        } else {
            EXIT_POINTS_LOST
        },
    ))
}

/// The lesson's subject, built with optimizations in the bench's own
/// target folder.
fn build_optimized(
    course: &Course,
    lesson: &Lesson,
    variant: &Variant,
    shown: &str,
    args: &Args,
) -> Result<Built, Fatal> {
    progress(&format!(
        "building {} ({shown}) with optimizations …",
        lesson.id
    ));
    optimize_builds();
    let target = build::target_dir(course).join("bench");
    let color = anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    let options = BuildOptions {
        offline: args.offline,
        color,
        progress: color,
    };
    match build::build(course, lesson, variant, &target, &options)? {
        Build::Built(h) => Ok(h),
        Build::DidNotCompile(errors) => {
            let mut err = anstream::stderr();
            let _ = writeln!(err, "{errors}");
            Err(Fatal::new(format!(
                "{shown} does not compile, so it cannot be benchmarked (the errors are above)"
            )))
        }
    }
}

/// Every trace replayed, one child process each, with progress on stderr.
fn replay_all(
    course: &Course,
    lesson: &Lesson,
    built: &Built,
    traces: &[(PathBuf, rep::Trace)],
    args: &Args,
) -> Result<ReplayReport, Fatal> {
    let limits = RunLimits {
        timeout: Duration::from_secs(args.timeout),
        output_bytes: 8 << 20,
        cpu: None,
        env: Vec::new(),
    };
    let mut results = Vec::new();
    for (i, (path, trace)) in traces.iter().enumerate() {
        progress(&format!(
            "[{}/{}] {} ({} operations) …",
            i + 1,
            traces.len(),
            trace.name,
            trace.ops.len()
        ));
        let mut result = replay_in_child(
            &built.subject,
            &course.root,
            path,
            trace,
            args,
            &limits,
            lesson,
        )?;
        if let Some(error) = result.error.as_mut() {
            // `todo!()` and panic locations relative to the course, as grading shows them.
            error.message = built.shown.relative_paths(&error.message);
        }
        progress(&format!("      {}", summary(&result)));
        results.push(result);
    }
    Ok(ReplayReport { traces: results })
}

/// The report on stdout, as `--format` says, and the plot if asked for.
fn write_report(
    lesson: &Lesson,
    shown: &str,
    report: &ReplayReport,
    args: &Args,
) -> Result<(), Fatal> {
    match args.format {
        BenchFormat::Human => print!("{}", human(lesson, shown, report)),
        BenchFormat::Json => println!("{}", json(lesson, shown, report)),
    }
    if let Some(plot) = &args.plot {
        std::fs::write(plot, svg(lesson, shown, report))
            .map_err(|e| Fatal::new(format!("cannot write the plot to {}: {e}", plot.display())))?;
        progress(&format!("plot written to {}", plot.display()));
    }
    Ok(())
}

/// Makes the builds that follow optimized, as a release build is:
/// throughput measured on unoptimized code says little. Cargo reads these
/// variables in the `cargo build`s that `build::build` runs; the bench uses
/// its own target folder, so grading's debug builds are not disturbed.
fn optimize_builds() {
    for (key, value) in [
        ("CARGO_PROFILE_DEV_OPT_LEVEL", "3"),
        ("CARGO_PROFILE_DEV_DEBUG_ASSERTIONS", "false"),
        ("CARGO_PROFILE_DEV_OVERFLOW_CHECKS", "false"),
        ("CARGO_PROFILE_DEV_DEBUG", "0"),
        ("CARGO_PROFILE_DEV_INCREMENTAL", "false"),
    ] {
        std::env::set_var(key, value);
    }
}

/// A line of progress on stderr, at once.
fn progress(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}
