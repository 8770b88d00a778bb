//! One trace replayed in the subject (`subject --as replay TRACE --json`),
//! in a child process of its own: its report, or a result saying how it
//! ended.

use std::path::Path;

use heaplab_protocol::ended::signal_name;
use heaplab_traces::rep;
use heaplab_traces::report::{Failure, ReplayReport, TraceResult, STOPPED_TAG};

use super::Args;
use crate::course::Lesson;
use crate::runner::child::{self, Exit, Run, RunLimits};
use crate::Fatal;

/// Runs `subject --as replay TRACE --json` and makes one result of however
/// it ended.
pub(super) fn replay_in_child(
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
    if let Some(mut result) = reported(&run) {
        result.file = path.display().to_string();
        return Ok(result);
    }
    let stderr = run.stderr.text();
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
    Ok(stopped(&run, path, trace))
}

/// The replay's own report, when it finished and printed one.
fn reported(run: &Run) -> Option<TraceResult> {
    if !matches!(run.exit, Exit::Code(0 | 1)) {
        return None;
    }
    let mut report = run
        .stdout
        .text()
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<ReplayReport>(l).ok())?;
    report.traces.pop()
}

/// No report: the heap crashed the process, hung, or exited on its own.
/// The result says how, at which line of the trace, with the replay's last
/// words.
fn stopped(run: &Run, path: &Path, trace: &rep::Trace) -> TraceResult {
    let stderr = run.stderr.text();
    let stopped = stderr.lines().find_map(|l| {
        let mut words = l.strip_prefix(STOPPED_TAG)?.split_whitespace();
        let phase: u8 = words.next()?.parse().ok()?;
        let line: usize = words.next()?.parse().ok()?;
        Some((phase, line))
    });
    let (phase, line) = stopped.unwrap_or((0, 0));
    let how = how_it_ended(run.exit, phase);
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
    TraceResult {
        file: path.display().to_string(),
        name: trace.name.clone(),
        ops: trace.ops.len(),
        error: Some(Failure {
            line,
            op: trace.line_text(line),
            message,
        }),
        peak_live: 0,
        peak_mapped: 0,
        utilization: 0.0,
        ops_per_sec: 0.0,
        system_ops_per_sec: 0.0,
        index: 0.0,
        timeline: Vec::new(),
    }
}

/// How the replay ended, in `phase` (1 checked, 2 timed heap, 3 timed
/// system allocator, 0 unknown).
fn how_it_ended(exit: Exit, phase: u8) -> String {
    let during = match phase {
        1 => " during the checked replay",
        2 => " during the timed replay of the heap",
        3 => " during the timed replay of the system allocator",
        _ => "",
    };
    match exit {
        Exit::Signal(sig) => format!("the replay died of {}{during}", signal_name(sig)),
        Exit::TimedOut(after) => format!(
            "the replay did not finish within {} s{during} (an endless loop in the heap? \
             or raise --timeout)",
            after.as_secs()
        ),
        Exit::Code(code) => format!("the replay exited with code {code}{during} and no report"),
    }
}
