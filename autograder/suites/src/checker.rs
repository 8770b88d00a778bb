//! The checker's `main`: runs one test of one lesson, with the student's
//! code in processes of its own, and prints the outcome as one JSON line
//! (`heaplab_protocol::outcome::CheckerReport`) for the grader.
//!
//! ```text
//! checker --list LESSON
//! checker --lesson LESSON --run NAME --subject EXE --scratch DIR [--seed N] [--slot N]
//!         [--op-timeout SECS] [--time-limit SECS] [--memory-mib N] [--output-kib N]
//!         [--artifact NAME=PATH]...
//! ```
//!
//! The grader builds the checker once per course, from the suites alone: no
//! code of the student's is linked into it, and nothing the student's
//! processes say is taken as a verdict.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use heaplab_protocol::exit::{CHECKER_DONE, CHECKER_FAILED};
use heaplab_protocol::outcome::CheckerReport;

use crate::alloc::window;
use crate::harness::{run_one, seed_arg, Suite};
use crate::{cases, remote};

/// A lesson's suite, by lesson id, as the generated `main` lists them.
pub type Lessons<'a> = &'a [(&'a str, fn() -> Suite)];

/// The checker's `main`.
pub fn main(lessons: Lessons<'_>) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(lessons, &args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("checker: {message}");
            ExitCode::from(CHECKER_FAILED)
        }
    }
}

fn run(lessons: Lessons<'_>, args: &[String]) -> Result<ExitCode, String> {
    let value = |flag: &str| -> Option<&String> {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    if let Some(lesson) = value("--list") {
        for test in suite(lessons, lesson)?.tests {
            println!("{}", test.name);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let lesson = value("--lesson").ok_or("--lesson LESSON is missing")?;
    let name = value("--run").ok_or("--run NAME is missing")?;
    let seed = seed_arg(args).ok_or("--seed needs a whole number")?;
    let suite = suite(lessons, lesson)?;
    let test = suite
        .test(name)
        .ok_or_else(|| format!("lesson {lesson} has no test named {name:?}"))?;
    let mut config = config(args, &value)?;
    // Files the tests make go to the test's scratch folder, the one folder
    // the student's processes may write to.
    std::env::set_var("TMPDIR", &config.scratch);
    protect_self();
    let spec = config.spec();
    heaplab_sandbox::give_scratch(&spec).map_err(|e| {
        format!(
            "cannot give {} to the student's user: {e}",
            spec.scratch.display()
        )
    })?;
    let window = window::install(config.memory_bytes as usize)
        .map_err(|e| format!("cannot set up the heap's pages: {e}"))?;
    config.window_file = window.file();
    if let Some(limit) = value("--time-limit") {
        let secs: f64 = limit.parse().map_err(|_| "--time-limit needs seconds")?;
        // Shrinking may take half the test's time; the rest is for the cases.
        cases::limit_shrinking((secs * 500.0) as u32);
    }
    // Probe the confinement now: a test that cannot be confined does not run.
    heaplab_sandbox::allowed(&spec)?;
    let watchdog = heaplab_sandbox::Watchdog::start(
        config.memory_bytes,
        config.scratch.clone(),
        heaplab_sandbox::FILE_BYTES,
    );
    remote::install(config);
    let outcome = run_one(test, seed);
    drop(watchdog);
    let (stdout, stderr) = remote::shut_down();
    remote::reap_orphans();
    report(CheckerReport {
        outcome,
        stdout,
        stderr,
    })
}

fn suite(lessons: Lessons<'_>, id: &str) -> Result<Suite, String> {
    lessons
        .iter()
        .find(|(l, _)| *l == id)
        .map(|(_, make)| make())
        .ok_or_else(|| format!("no lesson {id:?} in this checker"))
}

/// The student's side of the test, from the arguments.
fn config<'a>(
    args: &'a [String],
    value: &dyn Fn(&str) -> Option<&'a String>,
) -> Result<remote::Config, String> {
    let number = |flag: &str, default: f64| -> Result<f64, String> {
        match value(flag) {
            None => Ok(default),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| format!("{flag} needs a positive number, not {v:?}")),
        }
    };
    let mut artifacts = BTreeMap::new();
    for (i, a) in args.iter().enumerate() {
        if a == "--artifact" {
            let spec = args.get(i + 1).ok_or("--artifact needs NAME=PATH")?;
            let (k, v) = spec.split_once('=').ok_or("--artifact needs NAME=PATH")?;
            artifacts.insert(k.to_string(), PathBuf::from(v));
        }
    }
    Ok(remote::Config {
        subject: PathBuf::from(value("--subject").ok_or("--subject EXE is missing")?),
        scratch: PathBuf::from(value("--scratch").ok_or("--scratch DIR is missing")?),
        op_limit: Duration::from_secs_f64(number("--op-timeout", 1.0)?),
        memory_bytes: (number("--memory-mib", 1024.0)? * 1048576.0) as u64,
        output_bytes: (number("--output-kib", 64.0)? * 1024.0) as usize,
        window_file: -1,
        artifacts,
        slot: match value("--slot") {
            None => 0,
            Some(v) => v
                .parse()
                .map_err(|_| format!("--slot needs a number, not {v:?}"))?,
        },
    })
}

/// The student's processes must not read or steer this one: no core dumps
/// or `/proc/<pid>/mem` of it (not dumpable), and whatever they leave
/// running comes back to it to be stopped (a child subreaper).
fn protect_self() {
    // SAFETY: prctl sets flags of this process only.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0);
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
    }
}

/// Prints the report for the grader.
fn report(report: CheckerReport) -> Result<ExitCode, String> {
    let json =
        serde_json::to_string(&report).map_err(|e| format!("cannot write the report: {e}"))?;
    println!("{json}");
    Ok(ExitCode::from(CHECKER_DONE))
}
