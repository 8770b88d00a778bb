//! `grade local LESSON`: the lesson's suite and the crate under test in one
//! process (course.toml's `local`), for a debugger or Miri. It does not
//! grade: no confinement, no points; a crash ends the whole run.
//!
//! ```text
//! grade local lesson4 [--solution | --submission DIR] [-- ARGS]   runs the harness (ARGS default: --all)
//! grade local lesson4 --solution --project                        prints its project's Cargo.toml
//! ```
//!
//! The harness takes `--list`, `--run NAME`, `--all [--test NAME] [--skip
//! NAME]` and `--as PROGRAM` (heaplab_suites::harness).

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use crate::build::{self, local, BuildOptions, Variant};
use crate::course::Course;
use crate::Fatal;

#[derive(clap::Args)]
pub struct Args {
    /// The lesson: `lesson4`, `lesson4-free-list` or `4`.
    lesson: String,
    /// The reference solution instead of lessons/<dir>.
    #[arg(long, conflicts_with = "submission")]
    solution: bool,
    /// A lesson crate anywhere on disk (only its src/ is taken).
    #[arg(long, value_name = "DIR")]
    submission: Option<PathBuf>,
    /// Print the harness project's Cargo.toml without building it (for
    /// `cargo miri run`; the same as `grade LESSON --local-project`).
    #[arg(long)]
    project: bool,
    /// Arguments for the harness.
    #[arg(last = true)]
    args: Vec<String>,
}

pub fn run(args: Args, manifest: Option<&std::path::Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    let lesson = course.lesson(&args.lesson)?;
    let variant = match (&args.submission, args.solution) {
        (Some(dir), _) => Variant::Submission(
            std::fs::canonicalize(dir)
                .map_err(|e| Fatal::new(format!("--submission {}: {e}", dir.display())))?,
        ),
        (None, true) => Variant::Solution,
        (None, false) => Variant::Student,
    };
    let heaplab = build::course_dir(&build::target_dir(&course), &course);
    if args.project {
        let project = local::write(&course, lesson, &variant, &heaplab)?;
        println!("{}", project.dir.join("Cargo.toml").display());
        return Ok(ExitCode::SUCCESS);
    }
    let options = BuildOptions {
        offline: false,
        color: false,
        progress: true,
    };
    let exe = match local::build(&course, lesson, &variant, &heaplab, &options)? {
        Ok(exe) => exe,
        Err(errors) => {
            eprintln!("{} did not compile:\n\n{errors}", lesson.id);
            return Ok(ExitCode::from(1));
        }
    };
    let harness_args = if args.args.is_empty() {
        vec!["--all".to_string()]
    } else {
        args.args
    };
    let status = Command::new(&exe)
        .args(&harness_args)
        .status()
        .map_err(|e| Fatal::new(format!("cannot run {}: {e}", exe.display())))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}
