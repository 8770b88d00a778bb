//! The PrairieLearn external grader of a lesson: an image (a Dockerfile over
//! the grader tree, built with the lesson's dependencies), and a question
//! that names the image, its entry point and the files a student uploads.
//!
//! ```text
//! heaplab-<id>-prairielearn/Dockerfile          the image: Rust, /heaplab built
//! heaplab-<id>-prairielearn/heaplab/            the grader tree (prairielearn-grade.sh, -setup.sh)
//! heaplab-<id>-prairielearn/question/info.json  externalGradingOptions: image, entrypoint, timeout
//! heaplab-<id>-prairielearn/question/question.html  the upload and the results
//! ```

use std::path::Path;

use super::io;
use crate::course::{Course, Lesson};
use crate::Fatal;

/// Where the image holds the grader tree, and the entry point in it.
pub const TREE_IN_IMAGE: &str = "/heaplab";
pub const ENTRYPOINT: &str = "/heaplab/prairielearn-grade.sh";

/// Seconds a job may take: a minute for the submission's build, and every
/// test's own time limit as if each ran to it (PrairieLearn allows 600 at
/// most; docs/instructors.md has the measured times).
fn timeout(course: &Course, lesson: &Lesson) -> u32 {
    let tests: f64 = lesson
        .tests
        .iter()
        .map(|t| t.timeout.unwrap_or(course.manifest.defaults.timeout))
        .sum();
    (60.0 + tests.ceil()).min(600.0) as u32
}

/// The question's `info.json`.
pub fn info_json(course: &Course, lesson: &Lesson) -> String {
    let info = serde_json::json!({
        "uuid": uuid(&lesson.id),
        "title": format!("heaplab {}: {}", lesson.id, lesson.title),
        "topic": "heaplab",
        "tags": ["heaplab", lesson.id],
        "type": "v3",
        "singleVariant": true,
        "gradingMethod": "External",
        "externalGradingOptions": {
            "enabled": true,
            "image": format!("heaplab-{}", lesson.id),
            "entrypoint": ENTRYPOINT,
            "timeout": timeout(course, lesson),
        },
    });
    serde_json::to_string_pretty(&info).expect("info.json serializes") + "\n"
}

/// The question's `question.html`: one upload of the crate's source files
/// (by file name, as `pl-file-upload` takes them) and the grader's results.
pub fn question_html(course: &Course, lesson: &Lesson) -> Result<String, Fatal> {
    let names = source_files(&course.student_dir(lesson).join("src"))?;
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    Ok(format!(
        "<pl-question-panel>\n\
         \x20 <p>heaplab {id}: {title}. Upload the source files of your crate\n\
         \x20 (<code>lessons/{dir}/src/</code>); a file you leave out is the starter's.\n\
         \x20 The grader builds them with its own copy of everything else and runs\n\
         \x20 every test of the lesson, hidden ones included.</p>\n\
         \x20 <pl-file-upload file-names=\"{files}\"></pl-file-upload>\n\
         </pl-question-panel>\n\n\
         <pl-submission-panel>\n\
         \x20 <pl-external-grader-results></pl-external-grader-results>\n\
         \x20 <pl-file-preview></pl-file-preview>\n\
         </pl-submission-panel>\n",
        id = lesson.id,
        title = escape(&lesson.title),
        dir = lesson.dir,
        files = escape(&names.join(", ")),
    ))
}

/// The `.rs` files under `src`, by file name, sorted (`lib.rs` first).
fn source_files(src: &Path) -> Result<Vec<String>, Fatal> {
    let mut names = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let path = entry.map_err(|e| io(&dir, e))?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                names.extend(path.file_name().map(|n| n.to_string_lossy().into_owned()));
            }
        }
    }
    names.sort_by_key(|n| (n != "lib.rs", n.clone()));
    Ok(names)
}

/// A stable UUID for the lesson's question (PrairieLearn needs one per
/// question; the same lesson packaged twice keeps it).
fn uuid(id: &str) -> String {
    let hash = |seed: u64| {
        format!("heaplab-question-{id}").bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let (a, b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4));
    let hex = format!("{a:016x}{b:016x}");
    // Version 4 and variant 10 bits, so it reads as an ordinary UUID.
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let a = uuid("lesson1");
        assert_eq!(a, uuid("lesson1"));
        assert_ne!(a, uuid("lesson4"));
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "{a}");
    }
}
