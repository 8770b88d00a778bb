//! The last grade of each lesson of the student's own crates, kept so that
//! `grade status` can show every lesson without building anything: per
//! test, its latest result (a `--test` run updates only the tests it ran),
//! and when.
//!
//! ```text
//! <target>/heaplab/<course>/status/lesson4.json
//! { "graded_at": 1714000000, "tests": { "first_fit": { "earned": 0, "points": 2,
//!   "status": "failed", "check": "free-chunk-live" }, ... } }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::course::{Course, Lesson};
use crate::report::{check_of, Graded};

/// A lesson's last grade.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// When the lesson was last graded, in seconds since 1970.
    pub graded_at: u64,
    /// Each test's latest result, by name.
    pub tests: BTreeMap<String, TestRecord>,
}

/// One test's latest result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    pub earned: u32,
    pub points: u32,
    /// The outcome's label (`passed`, `failed`, `not implemented`...).
    pub status: String,
    /// The rule it broke, when it names one.
    #[serde(default)]
    pub check: String,
}

impl Record {
    /// Points earned by the lesson's tests as last graded (tests never
    /// graded earn nothing).
    pub fn score(&self, lesson: &Lesson) -> u32 {
        lesson
            .tests
            .iter()
            .filter_map(|t| self.tests.get(&t.name))
            .map(|r| r.earned)
            .sum()
    }

    /// The first test of the manifest that did not earn its points as last
    /// graded (or was never graded).
    pub fn first_lost<'l>(&self, lesson: &'l Lesson) -> Option<&'l crate::course::TestSpec> {
        lesson
            .tests
            .iter()
            .filter(|t| !t.hidden)
            .find(|t| self.tests.get(&t.name).is_none_or(|r| r.earned < t.points))
    }
}

/// The folder holding the records of `course`.
pub fn folder(target: &Path, course: &Course) -> PathBuf {
    crate::build::course_dir(target, course).join("status")
}

/// The record of `lesson`, if it was ever graded.
pub fn load(folder: &Path, lesson: &Lesson) -> Option<Record> {
    let text = std::fs::read_to_string(folder.join(format!("{}.json", lesson.id))).ok()?;
    serde_json::from_str(&text).ok()
}

/// Keeps what `graded` found, over the lesson's previous record. A record
/// that cannot be written is only a missing line on the board: the grade
/// itself stands.
pub fn save(folder: &Path, graded: &Graded) {
    let mut record = load(folder, graded.lesson).unwrap_or_default();
    record.graded_at = now();
    for r in &graded.results {
        record.tests.insert(
            r.spec.name.clone(),
            TestRecord {
                earned: r.earned,
                points: r.spec.points,
                status: r.outcome.label().to_string(),
                check: check_of(&r.outcome).to_string(),
            },
        );
    }
    let Ok(text) = serde_json::to_string_pretty(&record) else {
        return;
    };
    let path = folder.join(format!("{}.json", graded.lesson.id));
    let _ = crate::build::write_if_changed(&path, text.as_bytes());
}

/// Seconds since 1970, now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The newest change to a file under `dir` (seconds since 1970).
pub fn last_edit(dir: &Path) -> Option<u64> {
    let mut newest = None;
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let path = entry.path();
        let when = if path.is_dir() {
            last_edit(&path)
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs())
        };
        newest = newest.max(when);
    }
    newest
}
