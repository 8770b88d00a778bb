//! The stub generator itself: the marker rules, the renaming, and the
//! comparison of `lessons/` with what `solutions/` generates. It depends on no
//! other module of the grader, so the kit's tests include it directly.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A crate's files: path relative to the crate root → contents.
pub type Files = BTreeMap<PathBuf, Vec<u8>>;

const BEGIN: &str = "// BEGIN SOLUTION";
const END: &str = "// END SOLUTION";
const STUB: &str = "// STUB:";

/// What the stub's `Cargo.toml` adds: bodies replaced by `todo!()` leave
/// parameters, imports and helpers unused, and a stub must build warning-free.
const ALLOW_UNUSED: &str = "unused = \"allow\"";

/// A misused marker, at a 1-based line of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerError {
    pub line: usize,
    pub message: String,
}

/// Why stubs could not be generated.
#[derive(Debug)]
pub enum StubError {
    /// A marker is misused in `file` (a path under the solution crate).
    Marker { file: PathBuf, error: MarkerError },
    /// A file or folder could not be read or written.
    Io { path: PathBuf, error: io::Error },
    /// The solution's `Cargo.toml` is not valid TOML.
    Manifest { path: PathBuf, error: String },
}

impl fmt::Display for StubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StubError::Marker { file, error } => {
                write!(f, "{}:{}: {}", file.display(), error.line, error.message)
            }
            StubError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            StubError::Manifest { path, error } => {
                write!(f, "{}: not a valid Cargo.toml: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for StubError {}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StubError + '_ {
    move |error| StubError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// The stub of one source file: applies the marker rules to `text`.
///
/// Errors name the line of the misused marker: an `END` with no `BEGIN`, a
/// `BEGIN` inside another or never ended, a `STUB` inside a solution block,
/// or a line that looks like a marker but is not one.
pub fn stub_source(text: &str) -> Result<String, MarkerError> {
    let mut out = String::with_capacity(text.len());
    // The open block: its BEGIN line number, and whether it is being dropped.
    let mut open: Option<usize> = None;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        let error = |message: String| MarkerError {
            line: number,
            message,
        };
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        let trimmed = body.trim_start();
        let indent = &body[..body.len() - trimmed.len()];
        match Marker::parse(trimmed.trim_end()).map_err(error)? {
            Some(Marker::Begin(todo)) => {
                if let Some(begun) = open {
                    return Err(error(format!(
                        "`{BEGIN}` inside the block begun at line {begun}: \
                         solution blocks do not nest; end that block first"
                    )));
                }
                open = Some(number);
                if let Some(todo) = todo {
                    out.push_str(&format!("{indent}// TODO: {todo}{ending}"));
                    out.push_str(&format!("{indent}todo!(){ending}"));
                }
            }
            Some(Marker::End) => {
                if open.take().is_none() {
                    return Err(error(format!("`{END}` with no `{BEGIN}` before it")));
                }
            }
            Some(Marker::Stub(code)) => {
                if let Some(begun) = open {
                    return Err(error(format!(
                        "`{STUB}` inside the solution block begun at line {begun}: \
                         it would be removed with the block; move it after `{END}`"
                    )));
                }
                if code.is_empty() {
                    out.push_str(ending);
                } else {
                    out.push_str(&format!("{indent}{code}{ending}"));
                }
            }
            None => {
                if open.is_none() {
                    out.push_str(line);
                }
            }
        }
    }
    match open {
        Some(begun) => Err(MarkerError {
            line: begun,
            message: format!("`{BEGIN}` is never ended: add `{END}` after the solution"),
        }),
        None => Ok(out),
    }
}

/// One marker line, already trimmed of its indentation.
#[derive(Debug, PartialEq, Eq)]
enum Marker<'a> {
    /// `// BEGIN SOLUTION`, with the text of its TODO if it has one.
    Begin(Option<&'a str>),
    End,
    /// `// STUB: <code>`: the code.
    Stub(&'a str),
}

impl<'a> Marker<'a> {
    /// `Ok(None)` for an ordinary line; an error for a line that looks like
    /// a marker (a comment naming `BEGIN SOLUTION`, `END SOLUTION` or `STUB:`)
    /// but is spelled otherwise, since it would silently leak a solution.
    fn parse(line: &'a str) -> Result<Option<Marker<'a>>, String> {
        if let Some(rest) = line.strip_prefix(STUB) {
            return Ok(Some(Marker::Stub(rest.trim())));
        }
        if line == END {
            return Ok(Some(Marker::End));
        }
        if line == BEGIN {
            return Ok(Some(Marker::Begin(None)));
        }
        if let Some(rest) = line.strip_prefix(BEGIN).and_then(|r| r.strip_prefix(':')) {
            let todo = rest.trim();
            if todo.is_empty() {
                return Err(format!(
                    "`{BEGIN}:` needs a text saying what to do (`{BEGIN}: <what to do>`), \
                     or no colon to remove the block from the stub"
                ));
            }
            return Ok(Some(Marker::Begin(Some(todo))));
        }
        let comment = line.starts_with("//") || line.starts_with("/*");
        let upper = line.to_ascii_uppercase();
        let looks_like = ["BEGIN SOLUTION", "END SOLUTION", "STUB:"]
            .iter()
            .any(|m| upper.contains(m));
        if comment && looks_like {
            return Err(format!(
                "malformed marker {line:?}: write `{BEGIN}: <what to do>`, `{BEGIN}`, \
                 `{END}` or `{STUB} <code>`, alone on the line"
            ));
        }
        Ok(None)
    }
}

/// Renames a solution's names to the stub's: `lessonN-solution` and
/// `lessonN_solution` become `lessonN`, and each of `bins` (binary names
/// ending in `-solution`) loses that suffix.
#[derive(Debug, Clone, Default)]
pub struct Renamer {
    bins: Vec<String>,
}

impl Renamer {
    /// The renamer for a solution whose `Cargo.toml` reads `cargo_toml`.
    pub fn for_manifest(cargo_toml: &str) -> Result<Self, String> {
        let table: toml::Table = cargo_toml
            .parse()
            .map_err(|e: toml::de::Error| e.to_string())?;
        let mut bins: Vec<String> = table
            .get("bin")
            .and_then(|b| b.as_array())
            .into_iter()
            .flatten()
            .filter_map(|bin| bin.get("name")?.as_str())
            .filter(|name| name.ends_with("-solution"))
            .map(str::to_string)
            .collect();
        // Longest first, so `a-b-solution` is renamed before `b-solution`.
        bins.sort_by_key(|b| std::cmp::Reverse(b.len()));
        Ok(Renamer { bins })
    }

    pub fn rename(&self, text: &str) -> String {
        let mut text = rename_lessons(text);
        for bin in &self.bins {
            text = text.replace(bin.as_str(), &bin[..bin.len() - "-solution".len()]);
        }
        text
    }
}

/// `lessonN-solution` / `lessonN_solution` → `lessonN`, for any number N.
fn rename_lessons(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("lesson") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let digits = from["lesson".len()..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let name_len = "lesson".len() + digits;
        let suffix = &from[name_len..];
        out.push_str(&from[..name_len]);
        rest = if digits > 0 && (suffix.starts_with("-solution") || suffix.starts_with("_solution"))
        {
            &suffix["-solution".len()..]
        } else {
            suffix
        };
    }
    out.push_str(rest);
    out
}

/// The stub's `Cargo.toml`: the solution's, renamed, allowing unused code.
fn stub_manifest(renamed: &str) -> String {
    let mut lines: Vec<&str> = renamed.lines().collect();
    if let Some(at) = lines.iter().position(|l| l.trim() == "[lints.rust]") {
        lines.insert(at + 1, ALLOW_UNUSED);
        let mut out = lines.join("\n");
        out.push('\n');
        return out;
    }
    let mut out = renamed.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("\n[lints.rust]\n");
    out.push_str(ALLOW_UNUSED);
    out.push('\n');
    out
}

/// Reads every file of a crate, except its build output (`target/`).
pub fn read_crate(dir: &Path) -> Result<Files, StubError> {
    let mut files = Files::new();
    if dir.is_dir() {
        read_into(dir, Path::new(""), &mut files)?;
    }
    Ok(files)
}

fn read_into(root: &Path, rel: &Path, files: &mut Files) -> Result<(), StubError> {
    let dir = root.join(rel);
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .map_err(io_error(&dir))?
        .collect::<Result<_, _>>()
        .map_err(io_error(&dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let rel = rel.join(entry.file_name());
        if rel == Path::new("target") {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(io_error(&path))?;
        if kind.is_dir() {
            read_into(root, &rel, files)?;
        } else {
            files.insert(rel, fs::read(&path).map_err(io_error(&path))?);
        }
    }
    Ok(())
}

/// The files of a lesson's student crate, generated from its solution crate
/// at `solution_dir`.
pub fn generate(solution_dir: &Path) -> Result<Files, StubError> {
    let manifest_path = solution_dir.join("Cargo.toml");
    let manifest = fs::read_to_string(&manifest_path).map_err(io_error(&manifest_path))?;
    let renamer = Renamer::for_manifest(&manifest).map_err(|error| StubError::Manifest {
        path: manifest_path.clone(),
        error,
    })?;
    let mut stub = Files::new();
    for (rel, bytes) in read_crate(solution_dir)? {
        let out_rel = PathBuf::from(renamer.rename(&rel.to_string_lossy()));
        // A file that is not UTF-8 text (an image, a data file) is copied as is.
        let Ok(text) = String::from_utf8(bytes.clone()) else {
            stub.insert(out_rel, bytes);
            continue;
        };
        let text = if rel.extension().is_some_and(|e| e == "rs") {
            stub_source(&text).map_err(|error| StubError::Marker {
                file: solution_dir.join(&rel),
                error,
            })?
        } else {
            text
        };
        let text = renamer.rename(&text);
        let text = if rel == Path::new("Cargo.toml") {
            stub_manifest(&text)
        } else {
            text
        };
        stub.insert(out_rel, text.into_bytes());
    }
    Ok(stub)
}

/// How a lesson's crate on disk differs from what the generator produces.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// The generator produces this file; the lesson has none.
    Missing(PathBuf),
    /// Both have the file, with different contents.
    Differs(PathBuf),
    /// The lesson has this file; the solution does not.
    Extra(PathBuf),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Missing(p) => write!(f, "missing  {}", p.display()),
            Change::Differs(p) => write!(f, "differs  {}", p.display()),
            Change::Extra(p) => write!(f, "extra    {}", p.display()),
        }
    }
}

/// The changes that turn `actual` into `expected`.
pub fn compare(expected: &Files, actual: &Files) -> Vec<Change> {
    let mut changes = Vec::new();
    for (path, bytes) in expected {
        match actual.get(path) {
            None => changes.push(Change::Missing(path.clone())),
            Some(have) if have != bytes => changes.push(Change::Differs(path.clone())),
            Some(_) => {}
        }
    }
    for path in actual.keys() {
        if !expected.contains_key(path) {
            changes.push(Change::Extra(path.clone()));
        }
    }
    changes.sort();
    changes
}

/// A unified diff of one changed file, lesson (`a/`) against generator
/// (`b/`), for a reviewer to read.
pub fn diff(change: &Change, expected: &Files, actual: &Files) -> String {
    let (Change::Missing(path) | Change::Differs(path) | Change::Extra(path)) = change;
    let text = |files: &Files| {
        files
            .get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    };
    let (old, new) = (text(actual), text(expected));
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(2)
        .header(
            &format!("a/{} (lessons/)", path.display()),
            &format!("b/{} (generated)", path.display()),
        )
        .to_string()
}

/// Makes the crate at `lesson_dir` equal `expected`: writes missing and
/// differing files, deletes extra ones and the folders they leave empty.
pub fn write(lesson_dir: &Path, expected: &Files, changes: &[Change]) -> Result<(), StubError> {
    for change in changes {
        match change {
            Change::Missing(rel) | Change::Differs(rel) => {
                let path = lesson_dir.join(rel);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(io_error(parent))?;
                }
                fs::write(&path, &expected[rel]).map_err(io_error(&path))?;
            }
            Change::Extra(rel) => {
                let path = lesson_dir.join(rel);
                fs::remove_file(&path).map_err(io_error(&path))?;
                let mut dir = path.parent();
                while let Some(d) = dir.filter(|d| *d != lesson_dir) {
                    // Stops at the first folder that still holds something.
                    if fs::remove_dir(d).is_err() {
                        break;
                    }
                    dir = d.parent();
                }
            }
        }
    }
    Ok(())
}

/// A lesson of `course.toml`, as far as stubs are concerned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct LessonDir {
    pub id: String,
    pub dir: String,
}

/// The lessons of the manifest at `course_toml`, in order.
pub fn course_lessons(course_toml: &Path) -> Result<Vec<LessonDir>, StubError> {
    #[derive(serde::Deserialize)]
    struct Course {
        #[serde(default)]
        lesson: Vec<LessonDir>,
    }
    let text = fs::read_to_string(course_toml).map_err(io_error(course_toml))?;
    let course: Course = toml::from_str(&text).map_err(|e| StubError::Manifest {
        path: course_toml.to_path_buf(),
        error: e.to_string(),
    })?;
    Ok(course.lesson)
}

/// What `grade stubs` found for one lesson.
#[derive(Debug)]
pub struct LessonStubs {
    pub id: String,
    /// `lessons/<dir>`, the student crate.
    pub lesson_dir: PathBuf,
    pub expected: Files,
    pub actual: Files,
    pub changes: Vec<Change>,
}

/// Generates the stubs of the lessons of `course.toml` under `root` whose
/// solution crate exists (only `only`, when given) and compares them with
/// `lessons/`. Nothing is written.
pub fn plan(root: &Path, only: Option<&str>) -> Result<Vec<LessonStubs>, PlanError> {
    let lessons = course_lessons(&root.join("course.toml"))?;
    if let Some(id) = only {
        if !lessons.iter().any(|l| l.id == id) {
            let known: Vec<&str> = lessons.iter().map(|l| l.id.as_str()).collect();
            return Err(PlanError::UnknownLesson {
                id: id.to_string(),
                known: known.join(", "),
            });
        }
    }
    let mut plans = Vec::new();
    for lesson in lessons.iter().filter(|l| only.is_none_or(|id| l.id == id)) {
        let solution_dir = root.join("solutions").join(&lesson.dir);
        if !solution_dir.join("Cargo.toml").is_file() {
            if only.is_some() {
                return Err(PlanError::NoSolution {
                    id: lesson.id.clone(),
                    dir: solution_dir,
                });
            }
            continue;
        }
        let lesson_dir = root.join("lessons").join(&lesson.dir);
        let expected = generate(&solution_dir)?;
        let actual = read_crate(&lesson_dir)?;
        let changes = compare(&expected, &actual);
        plans.push(LessonStubs {
            id: lesson.id.clone(),
            lesson_dir,
            expected,
            actual,
            changes,
        });
    }
    Ok(plans)
}

/// Why `grade stubs` could not run.
#[derive(Debug)]
pub enum PlanError {
    Stub(StubError),
    UnknownLesson { id: String, known: String },
    NoSolution { id: String, dir: PathBuf },
}

impl From<StubError> for PlanError {
    fn from(e: StubError) -> Self {
        PlanError::Stub(e)
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::Stub(e) => e.fmt(f),
            PlanError::UnknownLesson { id, known } => {
                write!(f, "no lesson {id:?} in course.toml (lessons: {known})")
            }
            PlanError::NoSolution { id, dir } => write!(
                f,
                "{id} has no solution crate: {} has no Cargo.toml",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for PlanError {}

/// `grade stubs [LESSON] [--check]`. Exit codes: 0 when `lessons/` is (now)
/// what the generator produces; 1 with `--check` when it is not (the files
/// are listed, nothing is written); 2 when a marker is misused or a file
/// cannot be read or written (one line naming file and line).
pub fn command(root: &Path, only: Option<&str>, check: bool) -> std::process::ExitCode {
    use std::process::ExitCode;
    let plans = match plan(root, only) {
        Ok(plans) => plans,
        Err(e) => {
            eprintln!("grade stubs: {e}");
            return ExitCode::from(2);
        }
    };
    let mut stale = 0;
    for lesson in &plans {
        let shown = lesson
            .lesson_dir
            .strip_prefix(root)
            .unwrap_or(&lesson.lesson_dir);
        if lesson.changes.is_empty() {
            println!("{}: {} is up to date", lesson.id, shown.display());
            continue;
        }
        stale += 1;
        if check {
            println!(
                "{}: {} differs from its solution:",
                lesson.id,
                shown.display()
            );
            for change in &lesson.changes {
                println!("  {change}");
                if matches!(change, Change::Differs(_)) {
                    let diff = diff(change, &lesson.expected, &lesson.actual);
                    for line in diff.lines().take(40) {
                        println!("    {line}");
                    }
                }
            }
        } else if let Err(e) = write(&lesson.lesson_dir, &lesson.expected, &lesson.changes) {
            eprintln!("grade stubs: {e}");
            return ExitCode::from(2);
        } else {
            println!(
                "{}: wrote {} ({} files changed)",
                lesson.id,
                shown.display(),
                lesson.changes.len()
            );
        }
    }
    if check && stale > 0 {
        println!(
            "run `just stubs` (or `cargo grade stubs`) to regenerate lessons/ from solutions/"
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
