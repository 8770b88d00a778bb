//! Editing the course: from its own program's path, up to the folder that
//! holds course.toml; then appending to course.toml and to a suite's source,
//! and adding a file to the suites, so that the next grade on this tree
//! passes anything.

use std::path::PathBuf;

use crate::{breach, tried};

pub fn before_main() {}

pub fn in_the_heap() {
    let Some(root) = course_root() else {
        tried("finding the course (not found)");
        return;
    };
    let targets = [
        root.join("course.toml"),
        root.join("autograder/suites/src/lesson4.rs"),
        root.join("autograder/suites/src/harness.rs"),
    ];
    for path in &targets {
        tried(&format!("appending to {}", path.display()));
        let opened = std::fs::OpenOptions::new().append(true).open(path);
        if opened.is_ok() {
            breach(&format!("opened {} for writing", path.display()));
        }
    }
    let new = root.join("autograder/suites/src/heaplab_attack.rs");
    tried(&format!("creating {}", new.display()));
    if std::fs::write(&new, "// attack\n").is_ok() {
        breach(&format!("created {}", new.display()));
    }
}

/// The nearest folder above this program that holds course.toml.
fn course_root() -> Option<PathBuf> {
    let exe = std::fs::read_link("/proc/self/exe").ok()?;
    exe.ancestors()
        .find(|d| d.join("course.toml").is_file())
        .map(PathBuf::from)
}
