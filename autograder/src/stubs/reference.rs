//! The cumulative reference: `reference/crate/` is the one source of the
//! solution crates of the lessons `reference/lessons.toml` lists, each cut
//! from it by the lesson pass.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::error::{io_error, StubError};
use super::files::{read_crate, Files};
use super::lesson_markers::{lesson_lines, syntax_for, Earlier, OutLine};

/// The reference's manifest, relative to the course root.
pub const MANIFEST: &str = "reference/lessons.toml";
/// The reference crate's files, relative to the course root.
pub const CRATE_DIR: &str = "reference/crate";

/// The cumulative reference of a course, as its manifest lists it.
#[derive(Debug)]
pub struct Reference {
    /// `reference/crate/`.
    pub crate_dir: PathBuf,
    pub lessons: Vec<ReferenceLesson>,
}

/// A lesson whose solution crate is cut from the reference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceLesson {
    /// The lesson's id in `course.toml` (`lesson4`); its solution crate is
    /// `solutions/<dir>/`.
    pub id: String,
    /// What the lesson's crate makes of earlier lessons' solutions: from
    /// `course.toml`'s `gives_previous` for the lesson.
    #[serde(skip)]
    pub earlier: Earlier,
    /// The number its markers use: the digits that end `id`.
    #[serde(skip)]
    pub number: u32,
}

/// Every file of a lesson's solution crate as lines, each with the reference
/// line it came from (files that are not text have no lines).
pub type Lines = BTreeMap<PathBuf, Vec<OutLine>>;

impl Reference {
    /// The reference of the course at `root`, or `None` when it has none
    /// (every solution crate is then kept by hand).
    pub fn load(root: &Path) -> Result<Option<Reference>, StubError> {
        let path = root.join(MANIFEST);
        if !path.is_file() {
            return Ok(None);
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Manifest {
            lesson: Vec<ReferenceLesson>,
        }
        let bad = |error: String| StubError::Manifest {
            path: path.clone(),
            error,
        };
        let text = fs::read_to_string(&path).map_err(io_error(&path))?;
        if text.lines().any(|l| l.trim_start().starts_with("earlier")) {
            return Err(bad(
                "`earlier` is course.toml's choice now: write `gives_previous = false` in the \
                 lesson's table there instead"
                    .into(),
            ));
        }
        let manifest: Manifest = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let mut lessons = manifest.lesson;
        let mut last = None;
        for lesson in &mut lessons {
            lesson.number = number_of(&lesson.id).ok_or_else(|| {
                bad(format!(
                    "lesson `{}`: an id that ends in the lesson's number, as markers name it",
                    lesson.id
                ))
            })?;
            if last.is_some_and(|n| n >= lesson.number) {
                return Err(bad(format!(
                    "lesson `{}` is listed after a lesson of the same or a higher number: \
                     list the lessons in order, once each",
                    lesson.id
                )));
            }
            last = Some(lesson.number);
        }
        given_or_todo(root, &mut lessons)?;
        Ok(Some(Reference {
            crate_dir: root.join(CRATE_DIR),
            lessons,
        }))
    }

    /// The lesson of this id, if the reference makes its solution crate.
    pub fn lesson(&self, id: &str) -> Option<&ReferenceLesson> {
        self.lessons.iter().find(|l| l.id == id)
    }

    /// The files of `lesson`'s solution crate.
    pub fn solution(&self, lesson: &ReferenceLesson) -> Result<Files, StubError> {
        let mut files = Files::new();
        for (rel, bytes) in read_crate(&self.crate_dir)? {
            match self.file_lines(lesson, &rel, &bytes)? {
                None => {
                    files.insert(rel, bytes);
                }
                Some(lines) if lines.is_empty() => {}
                Some(lines) => {
                    let text: String = lines.into_iter().map(|l| l.text).collect();
                    files.insert(rel, text.into_bytes());
                }
            }
        }
        Ok(files)
    }

    /// The lines of every text file of `lesson`'s solution crate, with
    /// their origins in the reference.
    pub fn solution_lines(&self, lesson: &ReferenceLesson) -> Result<Lines, StubError> {
        let mut files = Lines::new();
        for (rel, bytes) in read_crate(&self.crate_dir)? {
            if let Some(lines) = self.file_lines(lesson, &rel, &bytes)? {
                if !lines.is_empty() {
                    files.insert(rel, lines);
                }
            }
        }
        Ok(files)
    }

    /// `lesson`'s lines of the reference file `rel`: `None` for a file
    /// copied as it is, empty for a file the lesson does not have.
    fn file_lines(
        &self,
        lesson: &ReferenceLesson,
        rel: &Path,
        bytes: &[u8],
    ) -> Result<Option<Vec<OutLine>>, StubError> {
        let (Some(syntax), Ok(text)) = (syntax_for(rel), std::str::from_utf8(bytes)) else {
            return Ok(None);
        };
        lesson_lines(text, syntax, lesson.number, lesson.earlier)
            .map(Some)
            .map_err(|error| StubError::Marker {
                file: self.crate_dir.join(rel),
                error,
            })
    }
}

/// Sets each lesson's `earlier` from `course.toml`: a lesson with
/// `gives_previous = false` leaves earlier lessons' exercises to do.
fn given_or_todo(root: &Path, lessons: &mut [ReferenceLesson]) -> Result<(), StubError> {
    let path = root.join("course.toml");
    let text = fs::read_to_string(&path).map_err(io_error(&path))?;
    let course: toml::Table = toml::from_str(&text).map_err(|e| StubError::Manifest {
        path: path.clone(),
        error: e.to_string(),
    })?;
    let tables = course.get("lesson").and_then(toml::Value::as_array);
    for lesson in lessons {
        let gives = tables
            .into_iter()
            .flatten()
            .find(|t| t.get("id").and_then(toml::Value::as_str) == Some(&lesson.id))
            .and_then(|t| t.get("gives_previous"))
            .and_then(toml::Value::as_bool)
            .unwrap_or(true);
        lesson.earlier = if gives {
            Earlier::Solved
        } else {
            Earlier::Todo
        };
    }
    Ok(())
}

/// The number that ends a lesson id: `lesson12` → 12.
fn number_of(id: &str) -> Option<u32> {
    let digits = id.len() - id.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    id[id.len() - digits..].parse().ok()
}
