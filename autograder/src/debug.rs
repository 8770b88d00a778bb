//! `grade LESSON --debug TEST`: grades that one test as usual, then builds
//! the lesson's *local harness* (suite and crate in one process) and prints
//! the command that runs the failing case under a debugger. It stops just
//! before the step that fails, with the addresses the report shows.

use std::path::Path;
use std::process::ExitCode;

use crate::build::{self, local, BuildOptions};
use crate::course::Course;
use crate::grade::{self, Args, HumanObserver};
use crate::report::{human::Human, shell_quote};
use crate::Fatal;

/// `grade LESSON --local-project`: writes the local harness's project and
/// prints its `Cargo.toml` (what `just miri` runs under Miri).
pub fn local_project(args: &Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    let job = grade::job(&course, args, manifest)?;
    let heaplab = build::course_dir(&build::target_dir(&course), &course);
    let project = local::write(&course, job.lesson, &job.variant, &heaplab)?;
    println!("{}", project.dir.join("Cargo.toml").display());
    Ok(ExitCode::SUCCESS)
}

/// `grade LESSON --debug TEST`.
pub fn run(args: &Args, test: &str, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    let args = Args {
        test: Some(test.to_string()),
        exact: true,
        ..args.clone()
    };
    let job = grade::job(&course, &args, manifest)?;
    let options = BuildOptions {
        offline: args.offline,
        color: grade::screen_columns().is_some(),
        progress: true,
    };
    let mut human = HumanObserver(Human::new());
    let graded = grade::grade(&job, &options, &mut human)?;
    human.0.footer(&graded);
    let Some(result) = graded.results.first().filter(|r| !r.outcome.passed()) else {
        println!("\n{test} passes with seed {}: nothing to debug.", job.seed);
        return Ok(ExitCode::SUCCESS);
    };
    let heaplab = build::course_dir(&build::target_dir(&course), &course);
    let exe = match local::build(&course, job.lesson, &job.variant, &heaplab, &options)? {
        Ok(exe) => exe,
        Err(errors) => return Err(Fatal::new(format!("the crate does not compile:\n{errors}"))),
    };
    let step = result
        .outcome
        .failure()
        .and_then(|f| f.step.as_ref())
        .map(|(n, op)| format!("just before step {n}, {op}"));
    let harness = format!(
        "{} --debug {} --seed {}",
        shell_quote(&exe.to_string_lossy()),
        shell_quote(test),
        job.seed
    );
    println!("\nTo step through this failure in a debugger (the same case, the same addresses):\n");
    println!("  rust-gdb -q -ex run --args {harness}");
    println!("  rust-lldb -o run -- {harness}");
    println!(
        "\nIt stops {} (in raise: `finish` three times to the checker's call, then `step` into \
         your code); `bt` shows the calls, `continue` runs on to the failure.",
        step.as_deref().unwrap_or("where it fails")
    );
    Ok(ExitCode::from(grade::exit_code(&graded)))
}
