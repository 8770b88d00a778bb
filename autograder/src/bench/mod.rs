//! `grade bench LESSON`: replays trace files against the lesson's heap and
//! against the system allocator, and prints utilization, throughput and the
//! performance index per trace. `grade traces --out DIR`: writes heaplab's
//! generated workloads.
//!
//! The heap runs in the student's own program (the subject, built as
//! grading builds it, but with optimizations), as `subject --as replay TRACE
//! --json`, one process per trace: a trace that crashes or hangs the heap scores 0 and the others
//! still run. Exit codes: 0 every trace replayed correctly, 1 a trace failed
//! (a correctness error, a crash, a timeout), 2 could not bench.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::ValueEnum;

use heaplab_protocol::ended::signal_name;

use crate::build::{self, Build, BuildOptions, Variant};
use crate::course::{Course, Lesson};
use crate::runner::child::{self, Exit, RunLimits};
use crate::{Fatal, EXIT_FULL_MARKS, EXIT_POINTS_LOST};

// The trace format, the workload generator and the replay report: the same
// crate the suites use, so the grader reads and writes what the harness
// does without linking the suites (and their test crates).
use heaplab_traces::{generate, rep, report};

use report::{Failure, ReplayReport, TraceResult, STOPPED_TAG};

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

#[derive(clap::Args)]
pub struct TracesArgs {
    /// Folder to write `<workload>.rep` files to (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Seed of the workloads (the committed traces/ use the default).
    #[arg(long, value_name = "N", default_value_t = generate::DEFAULT_SEED)]
    pub seed: u64,
}

/// `grade traces --out DIR [--seed N]`.
pub fn traces(args: TracesArgs) -> Result<ExitCode, Fatal> {
    let written = generate::write_all(&args.out, args.seed).map_err(|e| {
        Fatal::new(format!(
            "cannot write the traces to {}: {e} (pick a folder you can write to)",
            args.out.display()
        ))
    })?;
    for (path, w) in written.iter().zip(generate::WORKLOADS) {
        println!("{:<40} {}", path.display(), w.about);
    }
    Ok(ExitCode::from(EXIT_FULL_MARKS))
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
    let variant = variant(&course, lesson, &args)?;
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
    progress(&format!(
        "building {} ({shown}) with optimizations …",
        lesson.id
    ));
    optimize_builds();
    let target = build::target_dir(&course).join("bench");
    let color = anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    let built = match build::build(
        &course,
        lesson,
        &variant,
        &target,
        &BuildOptions {
            offline: args.offline,
            color,
        },
    )? {
        Build::Built(h) => h,
        Build::DidNotCompile(errors) => {
            let mut err = anstream::stderr();
            let _ = writeln!(err, "{errors}");
            return Err(Fatal::new(format!(
                "{shown} does not compile, so it cannot be benchmarked (the errors are above)"
            )));
        }
    };

    let limits = RunLimits {
        timeout: Duration::from_secs(args.timeout),
        output_bytes: 8 << 20,
        cpu: None,
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
            &args,
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

    let report = ReplayReport { traces: results };
    match args.format {
        BenchFormat::Human => print!("{}", human(lesson, &shown, &report)),
        BenchFormat::Json => println!("{}", json(lesson, &shown, &report)),
    }
    if let Some(plot) = &args.plot {
        std::fs::write(plot, svg(lesson, &shown, &report))
            .map_err(|e| Fatal::new(format!("cannot write the plot to {}: {e}", plot.display())))?;
        progress(&format!("plot written to {}", plot.display()));
    }
    Ok(ExitCode::from(
        if report.traces.iter().all(|t| t.error.is_none()) {
            EXIT_FULL_MARKS
        } else {
            EXIT_POINTS_LOST
        },
    ))
}

fn variant(course: &Course, lesson: &Lesson, args: &Args) -> Result<Variant, Fatal> {
    if let Some(dir) = &args.submission {
        if !dir.join("Cargo.toml").is_file() || !dir.join("src").is_dir() {
            return Err(Fatal::new(format!(
                "--submission {}: not a lesson crate (give the folder that holds its Cargo.toml and src/)",
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
            dir.display()
        )));
    }
    Ok(variant)
}

/// Every `.rep` file of `dir`, parsed: heaplab's workloads first in their
/// order, then any others by name.
fn read_traces(dir: &Path) -> Result<Vec<(PathBuf, rep::Trace)>, Fatal> {
    let regenerate = format!(
        "write heaplab's workloads there with `cargo grade traces --out {}`",
        dir.display()
    );
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Fatal::new(format!(
            "cannot read the trace folder {}: {e}; {regenerate}",
            dir.display()
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("rep"))
        .collect();
    if files.is_empty() {
        return Err(Fatal::new(format!(
            "no .rep files in {}; {regenerate}",
            dir.display()
        )));
    }
    let rank = |p: &PathBuf| {
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let known = generate::WORKLOADS.iter().position(|w| w.name == stem);
        (known.unwrap_or(usize::MAX), stem)
    };
    files.sort_by_key(rank);
    files
        .into_iter()
        .map(|path| {
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            rep::read(&path)
                .map(|t| (path, t))
                .map_err(|e| Fatal::new(format!("{e} (fix the file, or {regenerate})")))
        })
        .collect()
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

/// Runs `subject --as replay TRACE --json` and makes one result of however
/// it ended.
fn replay_in_child(
    exe: &Path,
    cwd: &Path,
    path: &Path,
    trace: &rep::Trace,
    args: &Args,
    limits: &RunLimits,
    lesson: &Lesson,
) -> Result<TraceResult, Fatal> {
    let argv: Vec<String> = vec![
        "--as".into(),
        "replay".into(),
        path.to_string_lossy().into_owned(),
        "--json".into(),
        "--min-time-ms".into(),
        args.min_time_ms.to_string(),
    ];
    let run = child::run(exe, &argv, limits, cwd)
        .map_err(|e| Fatal::new(format!("cannot run {}: {e}", exe.display())))?;
    let stdout = run.stdout.text();
    let stderr = run.stderr.text();
    if let Exit::Code(0 | 1) = run.exit {
        if let Some(mut report) = stdout
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<ReplayReport>(l).ok())
        {
            if let Some(mut result) = report.traces.pop() {
                result.file = path.display().to_string();
                return Ok(result);
            }
        }
    }
    if run.exit == Exit::Code(2) && stderr.contains("no program named") {
        return Err(Fatal::new(format!(
            "{}'s subject has no trace replay program (the allocator lessons 2 to 8 do)",
            lesson.id
        )));
    }
    if run.exit == Exit::Code(2) && stderr.starts_with("replay:") {
        return Err(Fatal::new(
            stderr.lines().next().unwrap_or_default().to_string(),
        ));
    }
    // No report: the heap crashed the process, hung, or exited on its own.
    let stopped = stderr.lines().find_map(|l| {
        let mut words = l.strip_prefix(STOPPED_TAG)?.split_whitespace();
        let phase: u8 = words.next()?.parse().ok()?;
        let line: usize = words.next()?.parse().ok()?;
        Some((phase, line))
    });
    let (phase, line) = stopped.unwrap_or((0, 0));
    let during = match phase {
        1 => " during the checked replay",
        2 => " during the timed replay of the heap",
        3 => " during the timed replay of the system allocator",
        _ => "",
    };
    let how = match run.exit {
        Exit::Signal(sig) => format!("the replay died of {}{during}", signal_name(sig)),
        Exit::TimedOut(after) => format!(
            "the replay did not finish within {} s{during} (an endless loop in the heap? \
             or raise --timeout)",
            after.as_secs()
        ),
        Exit::Code(code) => format!("the replay exited with code {code}{during} and no report"),
    };
    let tail = run.stderr.tail_lines(3);
    let tail = tail
        .lines()
        .filter(|l| !l.starts_with(STOPPED_TAG))
        .collect::<Vec<_>>()
        .join("\n");
    let message = if tail.trim().is_empty() {
        how
    } else {
        format!("{how}; its last words:\n{tail}")
    };
    Ok(TraceResult {
        file: path.display().to_string(),
        name: trace.name.clone(),
        ops: trace.ops.len(),
        error: Some(Failure {
            line,
            op: op_text(trace, line),
            message,
        }),
        peak_live: 0,
        peak_mapped: 0,
        utilization: 0.0,
        ops_per_sec: 0.0,
        system_ops_per_sec: 0.0,
        index: 0.0,
        timeline: Vec::new(),
    })
}

fn op_text(trace: &rep::Trace, line: usize) -> String {
    trace
        .ops
        .iter()
        .find(|o| o.line == line)
        .map(|o| match o.kind {
            rep::OpKind::Alloc { id, size } => format!("a {id} {size}"),
            rep::OpKind::Free { id } => format!("f {id}"),
            rep::OpKind::Realloc { id, size } => format!("r {id} {size}"),
        })
        .unwrap_or_default()
}

fn progress(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

fn summary(t: &TraceResult) -> String {
    match &t.error {
        Some(e) => format!("FAILED: {e}"),
        None => format!(
            "utilization {:.1}%, {} ops/s (system {} ops/s)",
            100.0 * t.utilization,
            si(t.ops_per_sec),
            si(t.system_ops_per_sec)
        ),
    }
}

/// `12.3 M`, `456 k`.
fn si(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.2} G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// `1.5 MiB`.
fn bytes(n: usize) -> String {
    let x = n as f64;
    if x >= (1u64 << 30) as f64 {
        format!("{:.2} GiB", x / (1u64 << 30) as f64)
    } else if x >= (1 << 20) as f64 {
        format!("{:.2} MiB", x / (1 << 20) as f64)
    } else if x >= 1024.0 {
        format!("{:.1} KiB", x / 1024.0)
    } else {
        format!("{n} B")
    }
}

fn ratio(t: &TraceResult) -> f64 {
    if t.system_ops_per_sec > 0.0 {
        t.ops_per_sec / t.system_ops_per_sec
    } else {
        0.0
    }
}

/// Averages over the traces, a failed trace counting 0.
struct Averages {
    utilization: f64,
    ratio: f64,
    index: f64,
}

fn averages(report: &ReplayReport) -> Averages {
    let n = report.traces.len().max(1) as f64;
    let sum = |f: &dyn Fn(&TraceResult) -> f64| report.traces.iter().map(f).sum::<f64>() / n;
    Averages {
        utilization: sum(&|t| t.utilization),
        ratio: sum(&|t| if t.error.is_some() { 0.0 } else { ratio(t) }),
        index: sum(&|t| t.index),
    }
}

fn human(lesson: &Lesson, shown: &str, report: &ReplayReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} ({shown}) against the system allocator\n",
        lesson.id
    );
    let _ = writeln!(
        out,
        "{:<16} {:>6} {:>10} {:>10} {:>6}  {:>10} {:>10} {:>7} {:>6}",
        "trace", "ops", "peak live", "peak map", "util", "ops/s", "system", "ratio", "P"
    );
    for t in &report.traces {
        let _ = writeln!(
            out,
            "{:<16} {:>6} {:>10} {:>10} {:>5.1}%  {:>10} {:>10} {:>7.3} {:>5.1}%",
            t.name,
            t.ops,
            bytes(t.peak_live),
            bytes(t.peak_mapped),
            100.0 * t.utilization,
            si(t.ops_per_sec),
            si(t.system_ops_per_sec),
            ratio(t),
            100.0 * t.index
        );
        if let Some(e) = &t.error {
            let _ = writeln!(out, "  FAILED (scores 0): {e}");
        }
    }
    let avg = averages(report);
    let _ = writeln!(
        out,
        "{:<16} {:>6} {:>10} {:>10} {:>5.1}%  {:>10} {:>10} {:>7.3} {:>5.1}%",
        "average",
        "",
        "",
        "",
        100.0 * avg.utilization,
        "",
        "",
        avg.ratio,
        100.0 * avg.index
    );
    let _ = writeln!(
        out,
        "\nutil = peak live payload / peak mapped bytes; ratio = heap ops/s / system ops/s \
         (same process); P = 0.6 util + 0.4 min(1, ratio). See docs/traces.md."
    );
    out
}

fn json(lesson: &Lesson, shown: &str, report: &ReplayReport) -> String {
    let avg = averages(report);
    let value = serde_json::json!({
        "lesson": lesson.id,
        "crate": shown,
        "traces": report.traces,
        "average": {
            "utilization": avg.utilization,
            "ratio": avg.ratio,
            "index": avg.index,
        },
    });
    serde_json::to_string_pretty(&value).expect("a report always serializes")
}

/// One panel per trace: footprint (mapped bytes) and live payload over the
/// operations, on the same byte scale.
fn svg(lesson: &Lesson, shown: &str, report: &ReplayReport) -> String {
    const W: f64 = 720.0;
    const PANEL: f64 = 170.0;
    const LEFT: f64 = 80.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 50.0;
    const PLOT_H: f64 = 110.0;
    let height = TOP + PANEL * report.traces.len() as f64 + 10.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{} ({}): footprint and live payload per trace</text>"#,
        escape(&lesson.id),
        escape(shown)
    );
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="34" x2="{}" y2="34" stroke="#d62728" stroke-width="2"/><text x="{}" y="38">mapped bytes</text><line x1="{}" y1="34" x2="{}" y2="34" stroke="#1f77b4" stroke-width="2"/><text x="{}" y="38">live payload</text>"##,
        LEFT + 20.0,
        LEFT + 25.0,
        LEFT + 130.0,
        LEFT + 150.0,
        LEFT + 155.0
    );
    for (i, t) in report.traces.iter().enumerate() {
        let y0 = TOP + PANEL * i as f64 + 25.0;
        let x1 = W - RIGHT;
        let title = match &t.error {
            Some(e) => format!("{}: FAILED at line {}", t.name, e.line),
            None => format!("{}: utilization {:.1}%", t.name, 100.0 * t.utilization),
        };
        let _ = writeln!(
            s,
            r#"<text x="{LEFT}" y="{}" font-weight="bold">{}</text>"#,
            y0 - 8.0,
            escape(&title)
        );
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT}" y="{y0}" width="{}" height="{PLOT_H}" fill="none" stroke="#999"/>"##,
            x1 - LEFT
        );
        let max_y = t
            .timeline
            .iter()
            .map(|p| p.mapped.max(p.live))
            .max()
            .unwrap_or(0)
            .max(1);
        let max_x = t.timeline.iter().map(|p| p.op).max().unwrap_or(0).max(1);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text>"#,
            LEFT - 5.0,
            y0 + 10.0,
            bytes(max_y),
            LEFT - 5.0,
            y0 + PLOT_H
        );
        let _ = writeln!(
            s,
            r#"<text x="{x1}" y="{}" text-anchor="end">{max_x} operations</text>"#,
            y0 + PLOT_H + 15.0
        );
        for (color, pick) in [
            (
                "#d62728",
                (|p: &report::Sample| p.mapped) as fn(&report::Sample) -> usize,
            ),
            ("#1f77b4", |p: &report::Sample| p.live),
        ] {
            let points: Vec<String> = t
                .timeline
                .iter()
                .map(|p| {
                    let x = LEFT + (x1 - LEFT) * p.op as f64 / max_x as f64;
                    let y = y0 + PLOT_H - PLOT_H * pick(p) as f64 / max_y as f64;
                    format!("{x:.1},{y:.1}")
                })
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#,
                points.join(" ")
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grader_reads_what_the_suites_write() {
        // generate.rs and rep.rs are compiled here from the suites' files.
        for trace in generate::generate(3) {
            let text = trace.to_rep();
            assert_eq!(rep::parse("x.rep", &text).unwrap().ops, trace.ops);
        }
    }
}
