//! Measuring a program on two allocators, fairly on a noisy machine.
//!
//! Every run goes through the `workloads measure` program (a small process
//! of the kit's, in the test's confinement), which starts the program with
//! or without the student's library preloaded and reports what the kernel
//! says of it (`wait4`): CPU time (user + system), wall time, peak resident
//! memory. The checker never runs the student's code itself, and nothing
//! the measured program prints can pose as the measurement (its output
//! travels on pipes of the measuring process).
//!
//! The two allocators take turns, round after round, the one that goes
//! first alternating, so that a slow spell of the machine hits both alike;
//! a round's speed ratio is the system allocator's CPU time (user plus
//! system) over the student's (above 1: faster than the system), and a
//! workload's ratio is the median over the rounds. CPU time, not wall
//! time: on a shared machine the wall time of a run is mostly what the
//! other programs did meanwhile (docs/design.md has the figures).

use std::path::PathBuf;
use std::time::Duration;

use heaplab_protocol::Failure;

use crate::outside::{self, notice_todo, tail};

/// What the kernel said of one run.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// User plus system CPU seconds.
    pub cpu: f64,
    /// Wall seconds.
    pub wall: f64,
    /// Peak resident memory, KiB.
    pub rss_kib: u64,
    /// What the program printed on stdout.
    pub stdout: String,
    /// True when the run was stopped at its time limit (the student's,
    /// far slower than the system's): the times are the limit's.
    pub stopped: bool,
}

/// The two allocators and how to reach them.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The kit's `workloads` program (built by the grader).
    pub workloads: PathBuf,
    /// The student's crate as a C library.
    pub library: PathBuf,
}

impl Setup {
    /// What the grader built for this test.
    pub fn from_artifacts() -> Result<Setup, Failure> {
        Ok(Setup {
            workloads: outside::artifact("workloads")?,
            library: outside::artifact("library")?,
        })
    }
}

/// Why a run gave no sample.
#[derive(Debug)]
pub enum Trouble {
    /// It ran past its time limit and was stopped.
    Stopped,
    /// It failed: how, in words.
    Failed(String),
}

impl std::fmt::Display for Trouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trouble::Stopped => write!(f, "stopped at its time limit"),
            Trouble::Failed(how) => write!(f, "{how}"),
        }
    }
}

/// Runs `workloads ARGS` with the student's library (`student`) or the
/// system's allocator, within `limit`.
pub fn sample(
    setup: &Setup,
    student: bool,
    args: &[String],
    limit: Duration,
) -> Result<Sample, Trouble> {
    let sample = measured_run(setup, student, args, limit);
    match sample {
        Err(e) if e.contains("did not finish") => Err(Trouble::Stopped),
        other => other.map_err(Trouble::Failed),
    }
}

fn measured_run(
    setup: &Setup,
    student: bool,
    args: &[String],
    limit: Duration,
) -> Result<Sample, String> {
    let preload = if student {
        setup.library.to_string_lossy().into_owned()
    } else {
        "-".to_string()
    };
    let mut command = outside::command(&setup.workloads)?;
    command
        .arg("measure")
        .arg(preload)
        .arg(&setup.workloads)
        .args(args);
    let ran = outside::run(command, limit)?;
    if student {
        notice_todo(&ran.stderr);
    }
    let stdout = String::from_utf8_lossy(&ran.stdout);
    let (output, last) = stdout
        .trim_end()
        .rsplit_once('\n')
        .unwrap_or(("", stdout.trim_end()));
    let measured = parse(last).ok_or_else(|| {
        format!(
            "the measuring process gave no measurement ({}):\n{}",
            ran.status,
            tail(&ran.stderr)
        )
    })?;
    let (mut sample, ended) = measured;
    if ended != "exit-0" {
        let how = match ended.strip_prefix("signal-").and_then(|n| n.parse().ok()) {
            Some(signal) => heaplab_protocol::ended::signal_name(signal).to_string(),
            None => ended.replace('-', " "),
        };
        return Err(format!(
            "`workloads {}` ended with {how}; its stderr ended with:\n{}",
            args.join(" "),
            tail(&ran.stderr)
        ));
    }
    sample.stdout = output.trim().to_string();
    Ok(sample)
}

/// `heaplab-measured WALL USER SYS MAXRSS STATUS`.
fn parse(line: &str) -> Option<(Sample, String)> {
    let mut words = line.strip_prefix("heaplab-measured ")?.split(' ');
    let mut number = || words.next()?.parse::<f64>().ok();
    let (wall, user, sys, rss) = (number()?, number()?, number()?, number()?);
    let ended = line.rsplit(' ').next()?.to_string();
    Some((
        Sample {
            cpu: user + sys,
            wall,
            rss_kib: rss as u64,
            stdout: String::new(),
            stopped: false,
        },
        ended,
    ))
}

/// One round: the system's sample and the student's.
#[derive(Clone, Debug, Default)]
pub struct Round {
    pub system: Sample,
    pub student: Sample,
}

/// Rounds of `args` on both allocators, in turns. The student's run may
/// take `slack` times the system's wall time (and at least a second)
/// before it is stopped; a stopped run ends the rounds, the last one
/// marked [`Sample::stopped`] with the system's times `slack` times over:
/// a speed ratio of at most `1 / slack`, which earns nothing anyway.
pub fn rounds(
    setup: &Setup,
    args: &[String],
    rounds: usize,
    slack: f64,
) -> Result<Vec<Round>, Failure> {
    let generous = Duration::from_secs(120);
    let command = format!("`workloads {}`", args.join(" "));
    let mut out: Vec<Round> = Vec::new();
    for round in 0..rounds {
        let mut pair = Round::default();
        let mut stopped = false;
        for student in [round % 2 == 1, round % 2 == 0] {
            if !student {
                pair.system = sample(setup, false, args, generous).map_err(|e| {
                    Failure::text(format!(
                        "{command} on the system allocator (the grading kit's trouble): {e}"
                    ))
                })?;
                continue;
            }
            let system = out
                .iter()
                .map(|r| r.system.wall)
                .fold(pair.system.wall, f64::max);
            let limit = Duration::from_secs_f64((system * slack).max(1.0));
            match sample(setup, true, args, limit) {
                Ok(s) => pair.student = s,
                Err(Trouble::Stopped) => stopped = true,
                Err(e) => return Err(Failure::text(format!("{command} on your library: {e}"))),
            }
        }
        if stopped {
            pair.student = Sample {
                cpu: pair.system.cpu * slack,
                wall: pair.system.wall * slack,
                stopped: true,
                ..Sample::default()
            };
            out.push(pair);
            break;
        }
        out.push(pair);
    }
    Ok(out)
}

/// The median of `xs` (0 for none).
pub fn median(xs: &[f64]) -> f64 {
    let mut xs: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// The geometric mean of `xs` (0 for none, or when one is not positive).
pub fn geometric_mean(xs: &[f64]) -> f64 {
    if xs.is_empty() || xs.iter().any(|x| !(*x > 0.0 && x.is_finite())) {
        return 0.0;
    }
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp()
}

/// A file of the test's scratch folder holding `text` (a trace to replay).
pub fn scratch_file(name: &str, text: &str) -> Result<PathBuf, Failure> {
    let dir = std::env::temp_dir();
    let path = dir.join(name);
    std::fs::write(&path, text)
        .map_err(|e| Failure::text(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_measurement_line_reads() {
        let (s, ended) = parse("heaplab-measured 0.5 0.25 0.125 2048 exit-0").unwrap();
        assert_eq!((s.wall, s.cpu, s.rss_kib), (0.5, 0.375, 2048));
        assert_eq!(ended, "exit-0");
        assert!(parse("0 0 0 0 exit-0").is_none());
    }

    #[test]
    fn medians_and_means() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!((geometric_mean(&[2.0, 0.5]) - 1.0).abs() < 1e-12);
        assert_eq!(geometric_mean(&[1.0, 0.0]), 0.0);
    }
}
