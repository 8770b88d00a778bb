//! What a grade grades: which crate (the student's, the solution, a
//! submission), which tests (`--test`, hidden ones), checked before anything
//! is built; and the check that the suite has every test the manifest grades.

use std::path::Path;

use super::{progress, Args};
use crate::build::Variant;
use crate::course::{Course, Lesson, TestSpec};
use crate::report::shell_quote;
use crate::Fatal;

/// Which crate to grade, checked before any build starts.
pub fn variant(course: &Course, lesson: &Lesson, args: &Args) -> Result<Variant, Fatal> {
    crate_to_build(course, lesson, args.submission.as_deref(), args.solution)
}

/// The crate `--submission DIR` or `--solution` name (the student's crate,
/// `lessons/<dir>`, when neither does), checked before any build starts:
/// `grade` and `grade bench` take the same options.
pub fn crate_to_build(
    course: &Course,
    lesson: &Lesson,
    submission: Option<&Path>,
    solution: bool,
) -> Result<Variant, Fatal> {
    if let Some(dir) = submission {
        if !dir.is_dir() {
            return Err(Fatal::new(format!(
                "--submission {}: no such folder (give the folder that holds the lesson's Cargo.toml and src/)",
                dir.display()
            )));
        }
        if !dir.join("Cargo.toml").is_file() {
            return Err(Fatal::new(format!(
                "--submission {}: no Cargo.toml there; give the lesson crate's folder (the one with Cargo.toml and src/)",
                dir.display()
            )));
        }
        if !dir.join("src").is_dir() {
            return Err(Fatal::new(format!(
                "--submission {}: no src/ folder there; the grader takes the lesson's code from src/",
                dir.display()
            )));
        }
        let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        return Ok(Variant::Submission(abs));
    }
    let (variant, dir) = if solution {
        (Variant::Solution, course.solution_dir(lesson))
    } else {
        (Variant::Student, course.student_dir(lesson))
    };
    if !dir.join("Cargo.toml").is_file() {
        return Err(Fatal::new(format!(
            "{} has no crate at {} yet",
            lesson.id,
            dir.strip_prefix(&course.root).unwrap_or(&dir).display()
        )));
    }
    Ok(variant)
}

/// The manifest's tests, filtered by `--test`.
pub fn select<'a>(lesson: &'a Lesson, args: &Args) -> Result<Vec<&'a TestSpec>, Fatal> {
    if lesson.tests.is_empty() {
        return Err(Fatal::new(format!(
            "{} lists no tests in course.toml",
            lesson.id
        )));
    }
    let tests: Vec<&TestSpec> = lesson
        .tests
        .iter()
        .filter(|t| args.include_hidden || !t.hidden)
        .filter(|t| match &args.test {
            None => true,
            Some(n) if args.exact => &t.name == n,
            Some(n) => t.name.contains(n.as_str()),
        })
        .collect();
    if tests.is_empty() {
        let names: Vec<&str> = lesson.tests.iter().map(|t| t.name.as_str()).collect();
        return Err(Fatal::new(format!(
            "no test of {} is named like `{}`; its tests: {}",
            lesson.id,
            args.test.as_deref().unwrap_or(""),
            names.join(", ")
        )));
    }
    Ok(tests)
}

/// Says how many hidden tests a run without `--include-hidden` leaves out,
/// and what they are worth: the score shown here is out of the rest.
pub fn announce_hidden(lesson: &Lesson) {
    let hidden: Vec<&TestSpec> = lesson.tests.iter().filter(|t| t.hidden).collect();
    if hidden.is_empty() {
        return;
    }
    let points: u32 = hidden.iter().map(|t| t.points).sum();
    progress(&format!(
        "{} also has {} hidden test{} worth {points} point{}, not run here: the grading server runs them \
         (--include-hidden runs them here)",
        lesson.id,
        hidden.len(),
        if hidden.len() == 1 { "" } else { "s" },
        if points == 1 { "" } else { "s" },
    ));
}

/// A test the manifest grades but the suite lacks is a kit bug.
pub fn check_listed(lesson: &Lesson, listed: &[String]) -> Result<(), Fatal> {
    let missing: Vec<&str> = lesson
        .tests
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| !listed.iter().any(|l| l == n))
        .collect();
    if !missing.is_empty() {
        return Err(Fatal::new(format!(
            "kit bug: course.toml grades {} test(s) of {} that its suite does not have: {} (the suite has: {})",
            missing.len(),
            lesson.id,
            missing.join(", "),
            listed.join(", ")
        )));
    }
    for extra in listed
        .iter()
        .filter(|l| !lesson.tests.iter().any(|t| &t.name == *l))
    {
        progress(&format!(
            "warning: the {} suite has a test `{extra}` that course.toml does not list; it is not graded",
            lesson.id
        ));
    }
    Ok(())
}

/// `cargo grade lesson4 [--solution | --submission DIR] [--manifest PATH]`.
pub fn replay_base(
    course: &Course,
    lesson: &Lesson,
    variant: &Variant,
    manifest: Option<&Path>,
) -> String {
    let mut cmd = format!("cargo grade {}", lesson.id);
    match variant {
        Variant::Student => {}
        Variant::Solution => cmd.push_str(" --solution"),
        Variant::Submission(dir) => {
            cmd.push_str(&format!(
                " --submission {}",
                shell_quote(&dir.to_string_lossy())
            ));
        }
    }
    if manifest.is_some() {
        cmd.push_str(&format!(
            " --manifest {}",
            shell_quote(&course.manifest_path.to_string_lossy())
        ));
    }
    cmd
}
