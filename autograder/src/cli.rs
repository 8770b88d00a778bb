//! The `grade` command line: parses the arguments and runs the subcommand,
//! turning every failure into one line and exit code 2.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[cfg(feature = "instructor")]
use crate::{batch, mutants, package, stubs};
use crate::{bench, carry, course, grade, local, locate, status, traces, Fatal, EXIT_CANNOT_GRADE};

#[derive(Parser)]
#[command(
    name = "grade",
    version,
    about = "Grade a heaplab lesson: cargo grade lesson4",
    long_about = "Grades a heaplab lesson: the checks run in a process of their own, the student's crate in a confined one, one pair per test.\n\
                  Exit codes: 0 full marks, 1 graded with points lost, 2 could not grade.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Use this course manifest instead of the course.toml found from the current folder.
    #[arg(long, global = true, value_name = "PATH", env = course::MANIFEST_ENV)]
    manifest: Option<PathBuf>,

    #[command(flatten)]
    grade: grade::Args,
}

#[derive(Subcommand)]
pub enum Command {
    /// Names the lessons and their tests (same as `grade --list`).
    List {
        /// Only this lesson.
        lesson: Option<String>,
    },
    /// Every lesson: its last score and when, and what to do next.
    Status(status::Args),
    /// Grades a lesson, then again on every save (same as `grade LESSON --watch`).
    Watch(grade::Args),
    /// Brings your own code for earlier lessons' TODOs into a lesson's crate.
    Carry(carry::Args),
    /// Replays trace files against a lesson's heap and the system allocator: utilization, throughput.
    Bench(bench::Args),
    /// Writes heaplab's generated workloads as malloc-lab trace files (.rep).
    Traces(traces::Args),
    /// Prints the folder of a lesson's crate inside a handed-in folder.
    Locate(locate::Args),
    /// Runs a lesson's suite and crate in one process (a debugger, Miri); does not grade.
    Local(local::Args),
    /// Regenerates solutions/ from reference/ and lessons/ from solutions/, by their markers.
    #[cfg(feature = "instructor")]
    Stubs(stubs::Args),
    /// Writes a lesson's bundles to dist/: starter, Inkfish, Gradescope, Autolab, PrairieLearn, GitHub Classroom.
    #[cfg(feature = "instructor")]
    Package(package::Args),
    /// Grades every submission in a folder: a CSV gradebook and a report each.
    #[cfg(feature = "instructor")]
    Batch(batch::Args),
    /// Grades every cargo-mutants mutant of a lesson's solution: how many the suite catches.
    #[cfg(feature = "instructor")]
    Mutants(mutants::Args),
}

fn dispatch(cli: Cli) -> Result<ExitCode, Fatal> {
    let manifest = cli.manifest.as_deref();
    match cli.command {
        None => grade::run(cli.grade, manifest),
        Some(Command::List { lesson }) => grade::list(lesson.as_deref(), manifest),
        Some(Command::Status(args)) => status::run(args, manifest),
        Some(Command::Carry(args)) => carry::run(args, manifest),
        Some(Command::Watch(mut args)) => {
            args.watch = true;
            grade::run(args, manifest)
        }
        Some(Command::Bench(args)) => bench::run(args, manifest),
        Some(Command::Traces(args)) => traces::run(args),
        Some(Command::Locate(args)) => locate::run(args, manifest),
        Some(Command::Local(args)) => local::run(args, manifest),
        #[cfg(feature = "instructor")]
        Some(Command::Stubs(args)) => stubs::run(args, manifest),
        #[cfg(feature = "instructor")]
        Some(Command::Package(args)) => package::run(args, manifest),
        #[cfg(feature = "instructor")]
        Some(Command::Batch(args)) => batch::run(args, manifest),
        #[cfg(feature = "instructor")]
        Some(Command::Mutants(args)) => mutants::run(args, manifest),
    }
}

/// The arguments with `--manifest PATH` moved to the end: clap takes any
/// argument before a subcommand's name as the grade command's own, so
/// `grade --manifest M status` would grade a lesson called `status`. The
/// option is global, so after the subcommand it means the same.
fn manifest_last(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args = args.into_iter();
    let mut kept: Vec<OsString> = args.next().into_iter().collect();
    let mut moved = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--" {
            kept.append(&mut moved);
            kept.push(arg);
            kept.extend(args.by_ref());
        } else if arg == "--manifest" {
            moved.push(arg);
            moved.extend(args.next());
        } else if arg.to_string_lossy().starts_with("--manifest=") {
            moved.push(arg);
        } else {
            kept.push(arg);
        }
    }
    kept.extend(moved);
    kept
}

/// The `main` of `grade`: parse, run, and map every outcome to an exit code.
pub fn main() -> ExitCode {
    // No process of a student's may read this one's memory or descriptors
    // (/proc/<pid>/mem, /proc/<pid>/fd), even one running as the same user.
    // SAFETY: prctl sets a flag of this process.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0) };
    let cli = Cli::parse_from(manifest_last(std::env::args_os()));
    // A panic is a bug of the grader; it still ends as "could not grade"
    // with one line, never as a lost result with a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("grade: internal error{location}: {payload} (a bug in heaplab's grader; please report it)");
    }));
    match std::panic::catch_unwind(|| dispatch(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(fatal)) => {
            eprintln!("grade: {}", fatal.message);
            ExitCode::from(EXIT_CANNOT_GRADE)
        }
        Err(_) => ExitCode::from(EXIT_CANNOT_GRADE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Cli {
        let args = line.split(' ').map(OsString::from);
        Cli::try_parse_from(manifest_last(args)).expect("parses")
    }

    #[test]
    fn the_manifest_goes_before_or_after_a_subcommand() {
        for line in [
            "grade --manifest m.toml status",
            "grade status --manifest m.toml",
            "grade --manifest=m.toml status",
        ] {
            let cli = parse(line);
            assert!(matches!(cli.command, Some(Command::Status(_))), "{line}");
            assert_eq!(cli.manifest, Some(PathBuf::from("m.toml")), "{line}");
        }
    }

    #[test]
    fn the_manifest_goes_before_or_after_a_lesson() {
        for line in [
            "grade --manifest m.toml lesson4",
            "grade lesson4 --manifest m.toml",
        ] {
            let cli = parse(line);
            assert!(cli.command.is_none(), "{line}");
            assert_eq!(cli.grade.lesson.as_deref(), Some("lesson4"), "{line}");
            assert_eq!(cli.manifest, Some(PathBuf::from("m.toml")), "{line}");
        }
    }
}
