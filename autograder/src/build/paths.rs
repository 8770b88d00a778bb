//! Paths of the crate under test as the student knows them: the compiler
//! and panics name absolute paths (`/abs/lessons/x/src/a.rs:4:9`, or
//! `student/src/a.rs` for a submission); reports show
//! `lessons/lesson4-free-list/src/a.rs:4:9`, or `src/a.rs` for a submission.

use std::path::PathBuf;

/// Where the crate under test is, and how to show it.
#[derive(Clone, Debug)]
pub struct Shown {
    /// Absolute folder of the crate under test as the compiler saw it.
    pub crate_dir: PathBuf,
    /// What to show instead (`lessons/lesson4-free-list`, or empty for a
    /// submission).
    pub shown_dir: String,
    /// Folder of the generated project (a submission is staged under it).
    pub project_dir: PathBuf,
}

impl Shown {
    /// A `file:line:col` location, relative to the course or the submission.
    pub fn relative_location(&self, course_root: &std::path::Path, location: &str) -> String {
        let candidates = [
            (self.crate_dir.clone(), self.shown_dir.clone()),
            (self.project_dir.join("student"), String::new()),
            (PathBuf::from("student"), String::new()),
            (course_root.to_path_buf(), String::new()),
        ];
        for (prefix, shown) in candidates {
            let prefix = prefix.to_string_lossy().into_owned();
            if let Some(rest) = location.strip_prefix(&prefix) {
                if let Some(rest) = rest.strip_prefix('/') {
                    return if shown.is_empty() {
                        rest.to_string()
                    } else {
                        format!("{shown}/{rest}")
                    };
                }
            }
        }
        location.to_string()
    }

    /// Every absolute path of the crate under test in `text`, shortened the
    /// way [`relative_location`](Self::relative_location) does.
    pub fn relative_paths(&self, text: &str) -> String {
        let shown = if self.shown_dir.is_empty() {
            String::new()
        } else {
            format!("{}/", self.shown_dir)
        };
        text.replace(&format!("{}/", self.crate_dir.display()), &shown)
            .replace(
                &format!("{}/", self.project_dir.join("student").display()),
                "",
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn locations_read_as_the_student_knows_them() {
        let shown = Shown {
            crate_dir: PathBuf::from("/c/lessons/l4"),
            shown_dir: "lessons/l4".into(),
            project_dir: PathBuf::from("/t/heaplab/lesson4-student"),
        };
        let root = Path::new("/c");
        assert_eq!(
            shown.relative_location(root, "/c/lessons/l4/src/a.rs:4:9"),
            "lessons/l4/src/a.rs:4:9"
        );
        assert_eq!(
            shown.relative_location(root, "student/src/a.rs:1:1"),
            "src/a.rs:1:1"
        );
        assert_eq!(
            shown.relative_paths("at /c/lessons/l4/src/a.rs:4:9"),
            "at lessons/l4/src/a.rs:4:9"
        );
    }
}
