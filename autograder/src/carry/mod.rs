//! `grade carry LESSON`: brings the student's own code for earlier lessons'
//! exercises into LESSON's crate. A course whose lesson sets
//! `gives_previous = false` in `course.toml` starts that lesson with the
//! earlier exercises as TODOs again, each ending `(lesson N)`; this command
//! fills each of those function bodies with the same function's body from
//! the student's previous lesson crate, copies the helper functions those
//! bodies call, and says what it copied. Only bodies that are still a
//! `todo!()` are replaced: nothing the student wrote is overwritten.
//!
//! - [`items`]: the functions of a file, keyed across lessons.

pub mod items;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::course::{Course, Lesson};
use crate::Fatal;
use items::{is_todo, items, todo_of_lesson, FnItem};

#[derive(clap::Args)]
pub struct Args {
    /// The lesson to bring your earlier code into: lesson5, 5 or lesson5-coalescing.
    pub lesson: String,

    /// Say what would be copied, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// What carrying found in one file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FileCarry {
    /// The file's new text, when something was copied.
    pub text: Option<String>,
    /// One line per function copied.
    pub copied: Vec<String>,
    /// One line per TODO left, and why.
    pub left: Vec<String>,
}

pub fn run(args: Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    let lesson = course.lesson(&args.lesson)?;
    let previous = previous_lesson(&course, lesson)?;
    let (into, from) = (course.student_dir(lesson), course.student_dir(previous));
    let mut files = Vec::new();
    rust_files(&into.join("src"), &mut files)?;
    let mut copied = 0;
    for file in &files {
        let rel = file.strip_prefix(&into).unwrap_or(file);
        let text = read(file)?;
        let source = std::fs::read_to_string(from.join(rel)).unwrap_or_default();
        let found = carry_file(&text, &source)
            .map_err(|e| Fatal::new(format!("{}: {e}", file.display())))?;
        for line in &found.copied {
            println!("{}: {line}", shown(&course, file));
        }
        for line in &found.left {
            println!("{}: left to do: {line}", shown(&course, file));
        }
        copied += found.copied.len();
        if let (Some(new), false) = (found.text, args.dry_run) {
            std::fs::write(file, new)
                .map_err(|e| Fatal::new(format!("cannot write {}: {e}", file.display())))?;
        }
    }
    summary(lesson, previous, copied, args.dry_run);
    Ok(ExitCode::SUCCESS)
}

/// The lesson before `lesson` in the manifest.
fn previous_lesson<'c>(course: &'c Course, lesson: &Lesson) -> Result<&'c Lesson, Fatal> {
    let lessons = &course.manifest.lessons;
    let at = lessons.iter().position(|l| l.id == lesson.id).unwrap_or(0);
    at.checked_sub(1).map(|i| &lessons[i]).ok_or_else(|| {
        Fatal::new(format!(
            "{} is the first lesson: there is no earlier lesson to carry code from",
            lesson.id
        ))
    })
}

fn summary(lesson: &Lesson, previous: &Lesson, copied: usize, dry_run: bool) {
    let from = format!("lessons/{}", previous.dir);
    if copied == 0 && lesson.gives_previous {
        println!(
            "Nothing to carry: {}'s starter gives {}'s solution (course.toml: gives_previous), \
             so it has no earlier TODOs to fill with your code.",
            lesson.id, previous.id
        );
    } else if copied == 0 {
        println!("Nothing to carry from {from}: no `(lesson N)` TODO has code there to take.");
    } else if dry_run {
        println!("{copied} function(s) would be copied from {from} (--dry-run: nothing changed).");
    } else {
        println!(
            "Copied {copied} function(s) from {from}. Next: `cargo grade {}`.",
            lesson.id
        );
    }
}

/// Fills `text`'s earlier-lesson TODOs with the functions of `source` (the
/// same file of the previous lesson), with the helpers they call.
pub fn carry_file(text: &str, source: &str) -> Result<FileCarry, String> {
    let into = items(text)?;
    let todos: Vec<&FnItem> = into
        .iter()
        .filter(|f| todo_of_lesson(&text[f.body.clone()]).is_some())
        .collect();
    let mut found = FileCarry::default();
    if todos.is_empty() {
        return Ok(found);
    }
    let from = if source.is_empty() {
        Vec::new()
    } else {
        items(source).map_err(|e| format!("the previous lesson's file: {e}"))?
    };
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut carried = String::new();
    for todo in todos {
        match from.iter().find(|f| f.key == todo.key) {
            None => found.left.push(format!(
                "{} (the previous lesson's file has no such function)",
                todo.key
            )),
            Some(f) if is_todo(&source[f.body.clone()]) => found.left.push(format!(
                "{} (still a todo!() in the previous lesson too)",
                todo.key
            )),
            Some(f) => {
                let body = &source[f.body.clone()];
                found.copied.push(format!(
                    "{} ← your code ({} lines)",
                    todo.key,
                    body.lines().count()
                ));
                carried.push_str(body);
                edits.push((todo.body.clone(), body.to_string()));
            }
        }
    }
    let end = text.len();
    edits.extend(helpers(&into, &from, source, end, &mut carried, &mut found));
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut new = text.to_string();
    for (range, with) in edits {
        new.replace_range(range, &with);
    }
    found.text = (!found.copied.is_empty()).then_some(new);
    Ok(found)
}

/// The functions of `from` that `into` lacks and the carried code calls
/// (and those they call), as insertions: a method at the end of its
/// `impl`, a free function at the end of the file.
fn helpers(
    into: &[FnItem],
    from: &[FnItem],
    source: &str,
    end: usize,
    carried: &mut String,
    found: &mut FileCarry,
) -> Vec<(std::ops::Range<usize>, String)> {
    let mut edits = Vec::new();
    let mut taken: Vec<&str> = Vec::new();
    loop {
        let next = from.iter().find(|f| {
            !into.iter().any(|i| i.key == f.key)
                && !taken.contains(&f.key.as_str())
                && calls(carried, &f.name)
        });
        let Some(f) = next else { return edits };
        taken.push(&f.key);
        let whole = &source[f.whole.clone()];
        carried.push_str(whole);
        let owner = f.key.rsplit_once("::").map(|(o, _)| o);
        let at = match (f.impl_close, owner) {
            (Some(_), Some(owner)) => into
                .iter()
                .find(|i| i.key.rsplit_once("::").map(|(o, _)| o) == Some(owner))
                .and_then(|i| i.impl_close),
            _ => None,
        };
        match (f.impl_close, at) {
            (Some(_), Some(close)) => edits.push((close..close, format!("\n    {whole}\n"))),
            (None, _) => edits.push((end..end, format!("\n{whole}\n"))),
            (Some(_), None) => {
                found
                    .left
                    .push(format!("{} (a helper with no impl block to go in)", f.key));
                continue;
            }
        }
        found.copied.push(format!("{} ← your helper", f.key));
    }
}

/// True when `code` calls a function named `name`.
fn calls(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + name.len()..].trim_start();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && after.starts_with('(')
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Fatal> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Fatal::new(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

fn read(path: &Path) -> Result<String, Fatal> {
    std::fs::read_to_string(path)
        .map_err(|e| Fatal::new(format!("cannot read {}: {e}", path.display())))
}

fn shown(course: &Course, path: &Path) -> String {
    path.strip_prefix(&course.root)
        .unwrap_or(path)
        .display()
        .to_string()
}
