//! Helpers the grader's integration tests share: run `grade`, read its JSON.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The course's root folder (the workspace).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// The fixture course: one lesson of misbehaving tests.
pub fn fixture_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture-course/course.toml")
}

pub struct Graded {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Graded {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "grade printed no JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs `grade ARGS` from the course root, without colour.
pub fn grade(args: &[&str]) -> Graded {
    grade_with_env(args, &[])
}

/// Runs `grade ARGS` from the course root, without colour, with `env` set.
pub fn grade_with_env(args: &[&str], env: &[(&str, &str)]) -> Graded {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("HEAPLAB_MANIFEST")
        .envs(env.iter().copied())
        .output()
        .expect("grade runs");
    Graded {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `grade --manifest <fixture course> ARGS`.
pub fn grade_fixture(args: &[&str]) -> Graded {
    let manifest = fixture_manifest();
    let mut all = vec!["--manifest", manifest.to_str().unwrap()];
    all.extend_from_slice(args);
    grade(&all)
}

/// The test entry named `name` of a JSON report.
pub fn test<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tests"]
        .as_array()
        .expect("tests is an array")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no test {name} in the report"))
}

/// Copies a lesson crate (its `Cargo.toml` and `src/`, folders included) to
/// `to`, as a student would hand it in.
pub fn copy_crate(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::copy(from.join("Cargo.toml"), to.join("Cargo.toml")).unwrap();
    copy_tree(&from.join("src"), &to.join("src"));
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// In the crate at `dir`, the first `from` of `file` becomes `to`; panics
/// (naming the file) when the reference no longer has `from`.
pub fn plant(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(from),
        "{} moved: no {from:?}; plant the bug anew",
        path.display()
    );
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}
