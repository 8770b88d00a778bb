//! The lesson pass: what one lesson's solution crate keeps of a file of the
//! cumulative reference (`reference/crate/`), by its lesson markers
//! (`// LESSONS`, `// ELSE LESSONS`, `// END LESSONS`) and its lesson-tagged
//! solution markers (`// BEGIN SOLUTION <N>`, `// STUB <N>:`). The rules are
//! in the module documentation (`stubs/mod.rs`).

use std::fmt;
use std::path::Path;

use super::error::MarkerError;
pub use super::tidy::OutLine;
use super::tidy::{is_blank, tidy, Piece};

/// The lessons a region is kept in: `N`, `N..` or `N..=M`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LessonRange {
    pub first: u32,
    /// The last lesson, or `u32::MAX` for a range with no end (`N..`).
    pub last: u32,
}

impl LessonRange {
    /// Every lesson: the range of a line outside every region.
    pub const ALL: LessonRange = LessonRange {
        first: 0,
        last: u32::MAX,
    };

    fn parse(text: &str) -> Result<Self, String> {
        let number = |s: &str| s.parse::<u32>().ok().filter(|&n| n < u32::MAX);
        let range = if let Some((first, last)) = text.split_once("..=") {
            number(first).zip(number(last))
        } else if let Some(first) = text.strip_suffix("..") {
            number(first).map(|first| (first, u32::MAX))
        } else {
            number(text).map(|n| (n, n))
        };
        match range {
            Some((first, last)) if first <= last => Ok(LessonRange { first, last }),
            Some(_) => Err(format!("lessons `{text}` is an empty range")),
            None if text.contains("..") && !text.contains("..=") && !text.ends_with("..") => {
                Err(format!(
                    "lessons `{text}`: write the last lesson with `..=` (`4..=6`), \
                     so the range says which lessons it keeps"
                ))
            }
            None => Err(format!(
                "lessons `{text}` is not a range: write `4` (one lesson), `4..` \
                 (lesson 4 and every later one) or `4..=6`"
            )),
        }
    }

    pub fn contains(self, lesson: u32) -> bool {
        self.first <= lesson && lesson <= self.last
    }

    fn intersect(self, other: LessonRange) -> Option<LessonRange> {
        let first = self.first.max(other.first);
        let last = self.last.min(other.last);
        (first <= last).then_some(LessonRange { first, last })
    }
}

impl fmt::Display for LessonRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.first, self.last) {
            (first, last) if first == last => write!(f, "{first}"),
            (first, u32::MAX) => write!(f, "{first}.."),
            (first, last) => write!(f, "{first}..={last}"),
        }
    }
}

/// What a lesson's crate makes of the solutions of earlier lessons that it
/// keeps (`gives_previous` in `course.toml`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Earlier {
    /// Given, solved: their markers go and their code stays, so the starter
    /// builds on a working earlier lesson.
    #[default]
    Solved,
    /// Left to do again: their markers stay, so the stub has a `TODO` and
    /// `todo!()` for each, as for the lesson's own (for a course where
    /// students carry their own earlier solutions forward).
    Todo,
}

/// How markers are written in a kind of file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Syntax {
    /// The comment that starts a marker line: `//` or `#`.
    pub comment: &'static str,
    /// Whether solution markers are allowed (Rust sources only: the stub
    /// pass reads them).
    pub solutions: bool,
}

/// The marker syntax of the file at `path`: Rust sources and TOML files have
/// markers; any other file is copied to every lesson as it is.
pub fn syntax_for(path: &Path) -> Option<Syntax> {
    match path.extension()?.to_str()? {
        "rs" => Some(Syntax {
            comment: "//",
            solutions: true,
        }),
        "toml" => Some(Syntax {
            comment: "#",
            solutions: false,
        }),
        _ => None,
    }
}

/// The lesson's text of a reference file: [`lesson_lines`] joined.
pub fn lesson_source(
    text: &str,
    syntax: Syntax,
    lesson: u32,
    earlier: Earlier,
) -> Result<String, MarkerError> {
    let lines = lesson_lines(text, syntax, lesson, earlier)?;
    Ok(lines.into_iter().map(|l| l.text).collect())
}

/// The lines `lesson`'s crate keeps of the reference file `text`, with the
/// blank lines around every removed region tidied. Empty when the file keeps
/// nothing but blank lines (the lesson's crate has no such file).
pub fn lesson_lines(
    text: &str,
    syntax: Syntax,
    lesson: u32,
    earlier: Earlier,
) -> Result<Vec<OutLine>, MarkerError> {
    let mut pass = Pass {
        syntax,
        lesson,
        earlier,
        open: Vec::new(),
        pieces: Vec::new(),
    };
    for (index, line) in text.split_inclusive('\n').enumerate() {
        pass.line(index + 1, line).map_err(|message| MarkerError {
            line: index + 1,
            message,
        })?;
    }
    pass.finish()?;
    let lines = tidy(pass.pieces);
    if lines.iter().all(|l| is_blank(&l.text)) {
        return Ok(Vec::new());
    }
    Ok(lines)
}

/// One marker line, already trimmed of its indentation.
#[derive(Debug, PartialEq, Eq)]
enum Marker<'a> {
    Lessons(LessonRange),
    ElseLessons(LessonRange),
    EndLessons,
    /// `BEGIN SOLUTION [<N>][: <what to do>]`.
    Begin {
        tag: Option<u32>,
        todo: Option<&'a str>,
    },
    EndSolution,
    /// `STUB [<N>]: <code>`.
    Stub {
        tag: Option<u32>,
        code: &'a str,
    },
}

impl<'a> Marker<'a> {
    /// `Ok(None)` for an ordinary line; an error for a comment that looks like
    /// a marker but is spelled otherwise, since it would silently keep a
    /// region in the wrong lessons.
    fn parse(line: &'a str, syntax: Syntax) -> Result<Option<Marker<'a>>, String> {
        let Some(rest) = line.strip_prefix(syntax.comment) else {
            return Ok(None);
        };
        if let Some(marker) = rest.strip_prefix(' ').and_then(|m| Self::words(m, syntax)) {
            return marker.map(Some);
        }
        let words = rest.trim_start();
        let lesson_like = ["LESSON", "ELSE LESSON", "END LESSON"]
            .iter()
            .any(|m| words.starts_with(m));
        let upper = words.to_ascii_uppercase();
        let solution_like = ["BEGIN SOLUTION", "END SOLUTION", "STUB:", "STUB "]
            .iter()
            .any(|m| upper.starts_with(m));
        if lesson_like || solution_like {
            let c = syntax.comment;
            let allowed = if syntax.solutions {
                format!(
                    "`{c} LESSONS <lessons>`, `{c} ELSE LESSONS <lessons>`, `{c} END LESSONS`, \
                     `{c} BEGIN SOLUTION <N>[: <what to do>]`, `{c} END SOLUTION` or \
                     `{c} STUB [<N>]: <code>`"
                )
            } else {
                format!(
                    "`{c} LESSONS <lessons>`, `{c} ELSE LESSONS <lessons>` or `{c} END LESSONS` \
                     (solution markers belong in .rs files)"
                )
            };
            return Err(format!(
                "malformed marker {line:?}: write {allowed}, alone on the line"
            ));
        }
        Ok(None)
    }

    /// The marker spelled by `words` (the comment's text), if it is one.
    fn words(words: &'a str, syntax: Syntax) -> Option<Result<Marker<'a>, String>> {
        if let Some(range) = words.strip_prefix("LESSONS ") {
            return Some(LessonRange::parse(range).map(Marker::Lessons));
        }
        if let Some(range) = words.strip_prefix("ELSE LESSONS ") {
            return Some(LessonRange::parse(range).map(Marker::ElseLessons));
        }
        if words == "END LESSONS" {
            return Some(Ok(Marker::EndLessons));
        }
        if !syntax.solutions {
            return None;
        }
        if words == "END SOLUTION" {
            return Some(Ok(Marker::EndSolution));
        }
        if let Some(rest) = words.strip_prefix("BEGIN SOLUTION") {
            return tagged(rest).map(|(tag, todo)| match todo {
                Some("") => Err("`BEGIN SOLUTION <N>:` needs a text saying what to do, \
                     or no colon to remove the block from the stub"
                    .to_string()),
                todo => Ok(Marker::Begin { tag, todo }),
            });
        }
        if let Some(rest) = words.strip_prefix("STUB") {
            return tagged(rest).map(|(tag, code)| match code {
                Some(code) => Ok(Marker::Stub { tag, code }),
                None => Err("`STUB` needs a colon and the stub's code: `STUB <N>: <code>`".into()),
            });
        }
        None
    }
}

/// What ends the TODO of lesson `n`'s exercise in a later lesson's starter
/// that leaves it to do: `(lesson 4)`.
pub fn earlier_task(n: u32) -> String {
    format!("(lesson {n})")
}

/// The lesson number and the text after the colon of a solution marker's
/// rest: ` 4: text`, ` 4`, `: text` or nothing. `None` when `rest` is
/// anything else (`SOLUTIONS`, ` 4 text`): not a marker, so a malformed one.
fn tagged(rest: &str) -> Option<(Option<u32>, Option<&str>)> {
    let (tag, text) = match rest.split_once(':') {
        Some((tag, text)) => (tag, Some(text.trim())),
        None => (rest, None),
    };
    if tag.is_empty() {
        return Some((None, text));
    }
    let number = tag.strip_prefix(' ')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((Some(number.parse().ok()?), text))
}

/// A region or solution block not ended yet.
enum Open {
    Lessons {
        /// The line of its `LESSONS` marker.
        line: usize,
        /// The branch being read (after `ELSE LESSONS`, that one's).
        branch: LessonRange,
        /// The branches before it, which it may not overlap.
        before: Vec<LessonRange>,
    },
    Solution {
        line: usize,
        /// Whether its marker lines are written for the stub pass (or
        /// dropped, the code given solved).
        written: bool,
    },
}

/// The lesson pass over one file.
struct Pass {
    syntax: Syntax,
    lesson: u32,
    earlier: Earlier,
    open: Vec<Open>,
    pieces: Vec<Piece>,
}

impl Pass {
    fn line(&mut self, number: usize, line: &str) -> Result<(), String> {
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        let indent = &body[..body.len() - trimmed.len()];
        let ending = &line[body.len()..];
        let Some(marker) = Marker::parse(trimmed.trim_end(), self.syntax)? else {
            self.keep_if(self.kept(), number, line.to_string());
            return Ok(());
        };
        let comment = self.syntax.comment;
        match marker {
            Marker::Lessons(range) => self.open_lessons(number, range)?,
            Marker::ElseLessons(range) => self.else_lessons(range)?,
            Marker::EndLessons => match self.open.pop() {
                Some(Open::Lessons { .. }) => {}
                Some(Open::Solution { line, .. }) => {
                    return Err(format!(
                        "`END LESSONS` inside the solution block begun at line {line}: \
                         end the block first"
                    ))
                }
                None => return Err("`END LESSONS` with no `LESSONS` before it".into()),
            },
            Marker::Begin { tag, todo } => {
                let written = self.begin_solution(number, tag, todo)?;
                // An earlier lesson's exercise left to do says whose it is:
                // `grade carry` brings the student's own code for it.
                let origin = match tag {
                    Some(t) if t < self.lesson => format!(" {}", earlier_task(t)),
                    _ => String::new(),
                };
                let todo = todo.map(|t| format!(": {t}{origin}")).unwrap_or_default();
                let text = format!("{indent}{comment} BEGIN SOLUTION{todo}{ending}");
                self.keep_if(self.kept() && written, number, text);
            }
            Marker::EndSolution => {
                let written = self.end_solution()?;
                let text = format!("{indent}{comment} END SOLUTION{ending}");
                self.keep_if(self.kept() && written, number, text);
            }
            Marker::Stub { tag, code } => {
                let written = self.stub(tag)?;
                let code = if code.is_empty() {
                    String::new()
                } else {
                    format!(" {code}")
                };
                let text = format!("{indent}{comment} STUB:{code}{ending}");
                self.keep_if(self.kept() && written, number, text);
            }
        }
        Ok(())
    }

    /// True when every region around the current line keeps this lesson.
    fn kept(&self) -> bool {
        self.open.iter().all(|o| match o {
            Open::Lessons { branch, .. } => branch.contains(self.lesson),
            Open::Solution { .. } => true,
        })
    }

    fn keep_if(&mut self, kept: bool, origin: usize, text: String) {
        if kept {
            self.pieces.push(Piece::Line(OutLine { origin, text }));
        } else {
            self.pieces.push(Piece::Cut);
        }
    }

    /// The lessons every open region keeps, and the innermost region's line.
    fn enclosing(&self) -> (Option<LessonRange>, Option<usize>) {
        let mut range = Some(LessonRange::ALL);
        let mut innermost = None;
        for open in &self.open {
            if let Open::Lessons { line, branch, .. } = open {
                range = range.and_then(|r| r.intersect(*branch));
                innermost = Some(*line);
            }
        }
        (range, innermost)
    }

    fn open_lessons(&mut self, number: usize, range: LessonRange) -> Result<(), String> {
        let (enclosing, innermost) = self.enclosing();
        if let (Some(outer), Some(at)) = (enclosing, innermost) {
            if outer.intersect(range).is_none() {
                return Err(format!(
                    "`LESSONS {range}` inside the region begun at line {at}, which keeps \
                     lessons {outer} only: this region would never be kept"
                ));
            }
        }
        self.open.push(Open::Lessons {
            line: number,
            branch: range,
            before: Vec::new(),
        });
        Ok(())
    }

    fn else_lessons(&mut self, range: LessonRange) -> Result<(), String> {
        let Some(Open::Lessons {
            line,
            branch,
            before,
        }) = self.open.pop()
        else {
            return Err(match self.open.last() {
                Some(Open::Solution { line, .. }) => format!(
                    "`ELSE LESSONS` inside the solution block begun at line {line}: \
                     end the block first"
                ),
                _ => "`ELSE LESSONS` with no `LESSONS` before it".to_string(),
            });
        };
        let mut before = before;
        before.push(branch);
        if let Some(other) = before.iter().find(|b| b.intersect(range).is_some()) {
            return Err(format!(
                "`ELSE LESSONS {range}` overlaps lessons {other} of the region begun at \
                 line {line}: each lesson takes one branch"
            ));
        }
        self.open_lessons(line, range)?;
        if let Some(Open::Lessons { before: b, .. }) = self.open.last_mut() {
            *b = before;
        }
        Ok(())
    }

    /// Opens a solution block; returns whether its markers are written.
    fn begin_solution(
        &mut self,
        number: usize,
        tag: Option<u32>,
        todo: Option<&str>,
    ) -> Result<bool, String> {
        if let Some(line) = self.open_solution() {
            return Err(format!(
                "`BEGIN SOLUTION` inside the block begun at line {line}: solution blocks \
                 do not nest; end that block first"
            ));
        }
        if tag.is_none() && todo.is_some() {
            return Err("a solution with a TODO names the lesson that sets it: \
                 `BEGIN SOLUTION <N>: <what to do>`"
                .into());
        }
        let written = self.written(tag, "BEGIN SOLUTION")?;
        self.open.push(Open::Solution {
            line: number,
            written,
        });
        Ok(written)
    }

    /// Ends the innermost solution block; returns whether its markers are written.
    fn end_solution(&mut self) -> Result<bool, String> {
        match self.open.pop() {
            Some(Open::Solution { written, .. }) => Ok(written),
            Some(Open::Lessons { line, .. }) => Err(format!(
                "`END SOLUTION` inside the region begun at line {line}: end the region \
                 (`END LESSONS`) first, or move the solution's start into it"
            )),
            None => Err("`END SOLUTION` with no `BEGIN SOLUTION` before it".into()),
        }
    }

    /// Checks a `STUB` line; returns whether it is written.
    fn stub(&mut self, tag: Option<u32>) -> Result<bool, String> {
        if let Some(line) = self.open_solution() {
            return Err(format!(
                "`STUB` inside the solution block begun at line {line}: it would be removed \
                 with the block; move it after `END SOLUTION`"
            ));
        }
        self.written(tag, "STUB")
    }

    /// Whether a solution marker of lesson `tag` is written for this lesson:
    /// always when untagged, and for the lesson that sets it; for later
    /// lessons, as `earlier` says. A marker of a later lesson kept here is an
    /// error: the region is kept before its lesson sets it.
    fn written(&self, tag: Option<u32>, what: &str) -> Result<bool, String> {
        let Some(tag) = tag else { return Ok(true) };
        if tag > self.lesson && self.kept() {
            return Err(format!(
                "`{what} {tag}` is kept in lesson {}, before lesson {tag} sets it: put it \
                 inside `LESSONS {tag}..`",
                self.lesson
            ));
        }
        Ok(tag == self.lesson || self.earlier == Earlier::Todo)
    }

    fn open_solution(&self) -> Option<usize> {
        self.open.iter().find_map(|o| match o {
            Open::Solution { line, .. } => Some(*line),
            Open::Lessons { .. } => None,
        })
    }

    fn finish(&self) -> Result<(), MarkerError> {
        let Some(open) = self.open.last() else {
            return Ok(());
        };
        let (line, message) = match open {
            Open::Lessons { line, branch, .. } => (
                *line,
                format!("`LESSONS {branch}` is never ended: add `END LESSONS` after the region"),
            ),
            Open::Solution { line, .. } => (
                *line,
                "`BEGIN SOLUTION` is never ended: add `END SOLUTION` after the solution"
                    .to_string(),
            ),
        };
        Err(MarkerError { line, message })
    }
}
