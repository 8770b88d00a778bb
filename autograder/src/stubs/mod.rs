//! One source for solutions and stubs. `grade stubs` (`just stubs`) writes
//! two kinds of crate:
//!
//! 1. **Solution crates from the cumulative reference.** `reference/crate/`
//!    holds the reference code of every lesson `reference/lessons.toml`
//!    lists, once; the lesson pass cuts each lesson's `solutions/<dir>/`
//!    from it. A solution crate the manifest does not list (lesson 1) is
//!    kept by hand.
//! 2. **Student crates from solution crates.** The stub pass writes each
//!    lesson's `lessons/<dir>/` from its `solutions/<dir>/`.
//!
//! Both passes keep every other byte. Markers stand alone on their line,
//! indented like the code around them.
//!
//! # The lesson pass (`reference/crate/`)
//!
//! In `.rs` files markers are `//` comments; in `.toml` files, `#` comments
//! (lesson markers only). Other files go to every lesson as they are.
//!
//! ```text
//! // LESSONS <lessons>            ┐ the lines between are kept only in the crates of
//! ...                             │ <lessons>: `4` (lesson 4), `4..` (4 and every
//! // ELSE LESSONS <lessons>       │ later lesson) or `4..=6`; `ELSE LESSONS` ends one
//! ...                             │ branch and starts another, for other lessons
//! // END LESSONS                  ┘ (branches may not overlap); regions nest
//! // BEGIN SOLUTION <N>: <task>   ┐ lesson N's exercise: in lesson N's crate, written
//! ...                             │ `// BEGIN SOLUTION: <task>` for the stub pass (a
//! // END SOLUTION                 ┘ TODO in the stub); in later lessons, given
//! // BEGIN SOLUTION <N>           ┐ code lesson N's solution needs (a helper): in
//! ...                             │ lesson N's crate, removed from the stub; in later
//! // END SOLUTION                 ┘ lessons, given
//! // BEGIN SOLUTION               ┐ untagged: solution-only in every lesson (unit
//! ...                             │ tests), written as it is
//! // END SOLUTION                 ┘
//! // STUB <N>: <code>               `// STUB: <code>` in lesson N's crate only
//! // STUB: <code>                   untagged: in every lesson's crate
//! ```
//!
//! "Given" is the default: a later lesson's crate drops the markers of an
//! earlier lesson's solution and keeps its code, so its starter builds on
//! that lesson solved. A lesson with `gives_previous = false` in
//! `course.toml` keeps those markers instead, so its stub leaves every
//! earlier lesson's exercises as TODOs too, each ending `(lesson N)`: the
//! mark `grade carry` finds them by.
//!
//! Where a region or a marker line is removed, the blank lines on both sides
//! become at most one, and none is kept at the start or end of a file, after
//! a line that opens a block (`{`, `(`, `[`) or before one that closes it. A
//! file that keeps nothing but blank lines is left out of that lesson's
//! crate, so a whole-file region (`// LESSONS 7` on the first line, `// END
//! LESSONS` on the last) makes a file of lesson 7 only.
//!
//! Errors name the reference file and line (`reference/crate/src/heap.rs:12:
//! …`): a region or block never ended, an `END` or `ELSE` with nothing to end
//! (or ending across a solution block), overlapping branches, a region inside
//! another that keeps none of its lessons (it would never be kept), a
//! solution block inside another, a `STUB` inside a solution block, a TODO
//! with no lesson number, a solution of lesson N kept in a lesson before N,
//! a range that is not `N`, `N..` or `N..=M`, and a comment that looks like a
//! marker but is spelled otherwise.
//!
//! # The stub pass (`solutions/<dir>/` → `lessons/<dir>/`)
//!
//! ```text
//! // BEGIN SOLUTION: <what to do>   ┐ the stub gets `// TODO: <what to do>`
//! ...                               │ and `todo!()`, at the BEGIN line's
//! // END SOLUTION                   ┘ indentation
//! // BEGIN SOLUTION                 ┐ removed from the stub (solution-only
//! ...                               │ helpers, fields, imports, tests)
//! // END SOLUTION                   ┘
//! // STUB: <code>                     the line `<code>` only in the stub
//! ```
//!
//! Names are renamed (`lessonN-solution` and `lessonN_solution` become
//! `lessonN`; a binary `X-solution` becomes `X`), and the stub's `Cargo.toml`
//! allows unused code, so a stub builds without warnings although its bodies
//! are gone. A file of solution-only code (nothing but blank lines left once
//! its blocks are removed, as lessons 4 and 5's `free_list/fit.rs`) is left
//! out of the stub. Errors name the solution file and line: an `END` with no
//! `BEGIN`, a `BEGIN` inside another or never ended, a `STUB` inside a
//! solution block, a `BEGIN SOLUTION:` with no text, or a comment that looks
//! like a marker but is spelled otherwise.
//!
//! # Checking
//!
//! `grade stubs --check` writes nothing and exits 1 when a crate on disk
//! differs from what the generator makes (so does the kit test
//! `autograder/tests/stubs.rs`). `grade stubs --measure` counts the lines
//! adjacent lessons' solution crates share, and how many of them the source
//! holds twice (docs/design.md quotes it).

mod error;
mod files;
mod lesson_markers;
mod measure;
mod plan;
mod reference;
mod rename;
mod stub;
mod tidy;

pub use error::{MarkerError, StubError};
pub use files::{compare, diff, read_crate, write, Change, Files};
pub use lesson_markers::{lesson_source, syntax_for, Earlier, LessonRange, Syntax};
pub use measure::{measure, Repetition};
pub use plan::{command, course_lessons, plan, CrateCheck, LessonDir, LessonStubs, PlanError};
pub use reference::{Reference, ReferenceLesson};
pub use rename::Renamer;
pub use stub::{generate, stub_crate, stub_source};

use std::path::Path;
use std::process::ExitCode;

use crate::course::Course;
use crate::Fatal;

#[derive(clap::Args)]
pub struct Args {
    /// Only this lesson (id, folder or number); otherwise every lesson of
    /// course.toml whose solution exists or reference/ makes.
    pub lesson: Option<String>,

    /// Write nothing: list the files of solutions/ and lessons/ that differ
    /// from what the generator makes, and exit 1 if any does.
    #[arg(long)]
    pub check: bool,

    /// Write nothing: count the lines adjacent lessons' solution crates
    /// share, and how many of those the source holds twice.
    #[arg(long, conflicts_with_all = ["check", "lesson"])]
    pub measure: bool,
}

/// `grade stubs [LESSON] [--check | --measure]`: exit 0 when solutions/ and
/// lessons/ are (now) generated, 1 with `--check` when they are not, 2 for a
/// misused marker.
pub fn run(args: Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    if args.measure {
        let repetition =
            measure(&course.root).map_err(|e| Fatal::new(format!("grade stubs: {e}")))?;
        print!("{repetition}");
        return Ok(ExitCode::SUCCESS);
    }
    let id = match args.lesson.as_deref() {
        Some(name) => Some(course.lesson(name)?.id.clone()),
        None => None,
    };
    Ok(command(&course.root, id.as_deref(), args.check))
}
