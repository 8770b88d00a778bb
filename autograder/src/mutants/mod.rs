//! `grade mutants LESSON`: mutation testing of a lesson's suite. Every
//! mutant cargo-mutants makes of the lesson's reference solution (a
//! function that returns a default, a `<` turned to `<=`, a `+` to `-`),
//! in its `unsafe fn`s too (which cargo-mutants by itself leaves alone), is
//! graded as a submission, with every test of the lesson, hidden ones too:
//! a mutant that loses a point is caught, one with full marks survived, one
//! that does not compile is unviable. The survivors are printed for a
//! person to judge: a test to add, or a mutant that changes nothing a test
//! can see (docs/design.md lists those, with the kill rates).
//!
//! ```text
//! cargo install cargo-mutants                    once
//! cargo grade mutants lesson4 --skip pages.rs    a minute or two: one build and grade per mutant
//! ```
//!
//! Exit code 0 when at least `--min-percent` of the viable mutants are
//! caught, 1 when fewer are, 2 when it cannot run (no cargo-mutants, an
//! unknown lesson).

mod mutant;

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

pub use mutant::{apply, parse, Mutant, Position, Span};

use crate::build::{BuildOptions, Variant};
use crate::course::{Course, Lesson};
use crate::grade::{self, Job, Quiet};
use crate::Fatal;

#[derive(clap::Args)]
pub struct Args {
    /// The lesson whose reference solution is mutated.
    pub lesson: String,

    /// Only the mutants whose name contains TEXT (a file, a function, a line).
    #[arg(long, value_name = "TEXT")]
    pub only: Option<String>,

    /// Leave out the mutants whose name contains TEXT (repeatable): code an
    /// earlier lesson grades, such as lessons 3 to 6's given pages.rs.
    #[arg(long, value_name = "TEXT")]
    pub skip: Vec<String>,

    /// Exit 1 when fewer than this percent of the viable mutants are caught.
    #[arg(long, value_name = "PERCENT", default_value_t = 90.0, value_parser = percent)]
    pub min_percent: f64,
}

/// A percent, 0 to 100.
fn percent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a percent from 0 to 100")),
    }
}

/// What grading a mutant found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It lost at least one point.
    Caught,
    /// It earned full marks.
    Survived,
    /// It did not compile.
    Unviable,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Verdict::Caught => "caught",
            Verdict::Survived => "SURVIVED",
            Verdict::Unviable => "unviable",
        })
    }
}

/// The verdicts so far.
#[derive(Debug, Default)]
pub struct Tally {
    pub caught: usize,
    pub unviable: usize,
    /// The names of the mutants that survived.
    pub survived: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, mutant: &Mutant, verdict: Verdict) {
        match verdict {
            Verdict::Caught => self.caught += 1,
            Verdict::Unviable => self.unviable += 1,
            Verdict::Survived => self.survived.push(mutant.name.clone()),
        }
    }

    pub fn viable(&self) -> usize {
        self.caught + self.survived.len()
    }

    /// Caught out of viable, in percent (100 when none is viable).
    pub fn percent(&self) -> f64 {
        match self.viable() {
            0 => 100.0,
            n => 100.0 * self.caught as f64 / n as f64,
        }
    }

    /// The summary line, then one line per survivor.
    pub fn render(&self, lesson: &str) -> String {
        let mut out = format!(
            "{lesson}: {} mutants, {} unviable, {} viable: {} caught ({:.1}%), {} survived\n",
            self.viable() + self.unviable,
            self.unviable,
            self.viable(),
            self.caught,
            self.percent(),
            self.survived.len()
        );
        for name in &self.survived {
            out.push_str(&format!("  survived: {name}\n"));
        }
        out
    }
}

pub fn run(args: Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    let lesson = course.lesson(&args.lesson)?;
    let solution = course.solution_dir(lesson);
    if !solution.join("Cargo.toml").is_file() {
        return Err(Fatal::new(format!(
            "{} has no reference solution in {} to mutate",
            lesson.id,
            solution.display()
        )));
    }
    let mutants = select(mutant::list(&solution)?, &args);
    if mutants.is_empty() {
        return Err(Fatal::new(format!(
            "no mutant of {} is left to grade (see --only and --skip)",
            solution.display()
        )));
    }
    let work = tempfile::tempdir().map_err(|e| Fatal::new(format!("no scratch folder: {e}")))?;
    let copy = work.path().join(&lesson.dir);
    let mut tally = Tally::default();
    for (i, m) in mutants.iter().enumerate() {
        mutant::write_mutated_copy(&solution, m, &copy)?;
        let verdict = grade_copy(&course, lesson, &copy, &m.name)?;
        grade::progress(&format!(
            "[{:>3}/{}] {verdict:<8}  {}",
            i + 1,
            mutants.len(),
            m.name
        ));
        tally.add(m, verdict);
    }
    print!("{}", tally.render(&lesson.id));
    Ok(ExitCode::from(u8::from(tally.percent() < args.min_percent)))
}

/// The mutants `--only` and `--skip` leave.
pub fn select(mut mutants: Vec<Mutant>, args: &Args) -> Vec<Mutant> {
    mutants.retain(|m| {
        args.only
            .as_ref()
            .is_none_or(|o| m.name.contains(o.as_str()))
            && !args.skip.iter().any(|s| m.name.contains(s.as_str()))
    });
    mutants
}

/// Grades the crate in `copy` as a submission, with every test of the
/// lesson, quietly.
fn grade_copy(
    course: &Course,
    lesson: &Lesson,
    copy: &Path,
    shown: &str,
) -> Result<Verdict, Fatal> {
    let job = Job {
        course,
        lesson,
        variant: Variant::Submission(copy.to_path_buf()),
        tests: lesson.tests.iter().collect(),
        seed: grade::DEFAULT_SEED,
        jobs: crate::runner::default_jobs(),
        columns: None,
        crate_shown: shown.to_string(),
        replay_base: String::new(),
    };
    let options = BuildOptions {
        offline: true,
        color: false,
        progress: false,
    };
    let graded = grade::grade(&job, &options, &mut Quiet)?;
    Ok(if graded.compile_errors.is_some() {
        Verdict::Unviable
    } else if graded.score() < graded.max_score() {
        Verdict::Caught
    } else {
        Verdict::Survived
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mutant(name: &str) -> Mutant {
        let at = Position { line: 1, column: 1 };
        Mutant {
            name: name.into(),
            file: "src/heap.rs".into(),
            replacement: String::new(),
            span: Span { start: at, end: at },
        }
    }

    #[test]
    fn the_tally_counts_caught_out_of_viable_and_names_the_survivors() {
        let mut tally = Tally::default();
        for (name, verdict) in [
            ("a", Verdict::Caught),
            ("b", Verdict::Caught),
            ("c", Verdict::Caught),
            ("d", Verdict::Unviable),
            ("src/heap.rs:9:5: replace < with <=", Verdict::Survived),
        ] {
            tally.add(&mutant(name), verdict);
        }
        assert_eq!(tally.percent(), 75.0);
        assert_eq!(
            tally.render("lesson4"),
            "lesson4: 5 mutants, 1 unviable, 4 viable: 3 caught (75.0%), 1 survived\n  \
             survived: src/heap.rs:9:5: replace < with <=\n"
        );
        assert_eq!(Tally::default().percent(), 100.0);
    }

    #[test]
    fn only_and_skip_pick_mutants_by_name() {
        let all = || {
            ["src/heap.rs:1", "src/pages.rs:2", "src/heap.rs:3"]
                .map(mutant)
                .to_vec()
        };
        let args = |only: Option<&str>, skip: &[&str]| Args {
            lesson: "lesson4".into(),
            only: only.map(str::to_string),
            skip: skip.iter().map(|s| s.to_string()).collect(),
            min_percent: 90.0,
        };
        let names = |ms: Vec<Mutant>| ms.into_iter().map(|m| m.name).collect::<Vec<_>>();
        assert_eq!(names(select(all(), &args(None, &["pages.rs"]))).len(), 2);
        assert_eq!(
            names(select(all(), &args(Some("heap.rs"), &[":3"]))),
            ["src/heap.rs:1"]
        );
    }

    #[test]
    fn a_percent_is_from_0_to_100() {
        assert_eq!(percent("95"), Ok(95.0));
        assert!(percent("150").unwrap_err().contains("from 0 to 100"));
        assert!(percent("many").is_err());
    }
}
