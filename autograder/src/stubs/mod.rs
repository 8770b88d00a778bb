//! One source for stubs and solutions: `grade stubs` writes every student
//! crate `lessons/<dir>/` from its reference crate `solutions/<dir>/`.
//!
//! Solution files carry markers, each alone on its line:
//!
//! ```text
//! // BEGIN SOLUTION: <what to do>   ┐ the stub gets `// TODO: <what to do>`
//! ...                               │ and `todo!()`, at the BEGIN line's
//! // END SOLUTION                   ┘ indentation
//! // BEGIN SOLUTION                 ┐ removed from the stub (solution-only
//! ...                               │ helpers, fields, imports)
//! // END SOLUTION                   ┘
//! // STUB: <code>                     the line `<code>` only in the stub
//! ```
//!
//! Every other byte is kept. Names are renamed (`lessonN-solution` and
//! `lessonN_solution` become `lessonN`; a binary `X-solution` becomes `X`), and
//! the stub's `Cargo.toml` allows unused code, so a stub builds without
//! warnings although its bodies are gone.

mod generate;

pub use generate::*;

use std::path::Path;
use std::process::ExitCode;

use crate::course::Course;
use crate::Fatal;

#[derive(clap::Args)]
pub struct Args {
    /// Only this lesson (id, folder or number); otherwise every lesson of
    /// course.toml whose solution exists.
    pub lesson: Option<String>,

    /// Write nothing: list the files of lessons/ that differ from what the
    /// generator makes, and exit 1 if any does.
    #[arg(long)]
    pub check: bool,
}

/// `grade stubs [LESSON] [--check]`: exit 0 when lessons/ is (now) generated
/// from solutions/, 1 with `--check` when it is not, 2 for a misused marker.
pub fn run(args: Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    let id = match args.lesson.as_deref() {
        Some(name) => Some(course.lesson(name)?.id.clone()),
        None => None,
    };
    Ok(command(&course.root, id.as_deref(), args.check))
}
