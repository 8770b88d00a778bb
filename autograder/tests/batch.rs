//! `grade batch`: a small class of lesson-1 submissions (solved, the stub,
//! one with no crate, one that does not compile, one that crashes, one
//! handed in as an archive) is graded into one gradebook row each, and no
//! broken submission stops the batch.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use heaplab_autograder::stubs;

const DIR: &str = "lesson1-mmap-io";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// Writes a crate's files under `into`, renamed as a student's crate.
fn write_crate(into: &Path, files: &stubs::Files, renamer: &stubs::Renamer) {
    for (rel, bytes) in files {
        let path = into.join(renamer.rename(&rel.to_string_lossy()));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        match String::from_utf8(bytes.clone()) {
            Ok(text) => fs::write(path, renamer.rename(&text)).unwrap(),
            Err(_) => fs::write(path, bytes).unwrap(),
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The class under `subs`: ada (solved, the whole starter folder), bo (the
/// stub), cy (no crate), di (does not compile), ed (aborts in save-array),
/// fay (solved, as a .tar.gz); `tmp` is scratch room.
fn write_class(subs: &Path, tmp: &Path) {
    let solution = root().join("solutions").join(DIR);
    let renamer =
        stubs::Renamer::for_manifest(&fs::read_to_string(solution.join("Cargo.toml")).unwrap())
            .unwrap();
    let solved = stubs::read_crate(&solution).unwrap();
    let stub = stubs::read_crate(&root().join("lessons").join(DIR)).unwrap();
    // ada hands in the whole starter folder; the others just the crate.
    write_crate(
        &subs.join("ada/heaplab-lesson1/lessons").join(DIR),
        &solved,
        &renamer,
    );
    write_crate(&subs.join("bo"), &stub, &renamer);
    fs::create_dir_all(subs.join("cy")).unwrap();
    fs::write(subs.join("cy/answers.txt"), "no crate here\n").unwrap();
    write_crate(&subs.join("di"), &solved, &renamer);
    edit(
        &subs.join("di/src/lib.rs"),
        "pub fn save_array() -> ExitCode {",
        "pub fn save_array() -> ExitCode { let x: u8 = \"no\";",
    );
    write_crate(&subs.join("ed"), &solved, &renamer);
    edit(
        &subs.join("ed/src/lib.rs"),
        "pub fn save_array() -> ExitCode {",
        "pub fn save_array() -> ExitCode {\n    std::process::abort();",
    );
    let fay = tmp.join("fay");
    write_crate(&fay, &solved, &renamer);
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(subs.join("fay.tar.gz"))
        .arg("-C")
        .arg(&fay)
        .arg(".")
        .status()
        .unwrap();
    assert!(tar.success());
}

/// The gradebook's rows by submission, after checking its header.
fn gradebook(path: &Path) -> BTreeMap<String, Vec<String>> {
    let mut csv = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header[..5],
        ["submission", "lesson", "status", "score", "max"]
    );
    assert_eq!(header.last().unwrap(), "message");
    csv.records()
        .map(|r| {
            let r: Vec<String> = r.unwrap().iter().map(String::from).collect();
            (r[0].clone(), r)
        })
        .collect()
}

#[test]
fn a_class_is_graded_whatever_its_submissions_do() {
    let tmp = tempfile::tempdir().unwrap();
    let subs = tmp.path().join("submissions");
    write_class(&subs, tmp.path());
    let out = tmp.path().join("grades");
    let run = Command::new(env!("CARGO_BIN_EXE_grade"))
        .arg("batch")
        .arg(&subs)
        .args(["--jobs", "2", "--out"])
        .arg(&out)
        .current_dir(root())
        .env_remove("HEAPLAB_MANIFEST")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    // cy could not be graded: exit 1, not 2, and every other row is there.
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("grading lesson1"),
        "the lesson is inferred: {stderr}"
    );
    assert!(
        stderr.contains("[  6/6]"),
        "progress per submission: {stderr}"
    );
    let rows = gradebook(&out.join("grades.csv"));
    let names: Vec<&str> = rows.keys().map(String::as_str).collect();
    assert_eq!(names, ["ada", "bo", "cy", "di", "ed", "fay"]);
    each_row_says_what_happened(&rows);
    a_report_each(&out.join("reports"));
}

/// Every submission's row: its status, its score, its points per test.
fn each_row_says_what_happened(rows: &BTreeMap<String, Vec<String>>) {
    let max: u32 = rows["ada"][4].parse().unwrap();
    let score = |name: &str| -> u32 { rows[name][3].parse().unwrap() };
    let status = |name: &str| rows[name][2].as_str();
    assert_eq!((status("ada"), score("ada")), ("graded", max));
    assert_eq!((status("fay"), score("fay")), ("graded", max));
    assert_eq!((status("bo"), score("bo")), ("graded", 0));
    assert_eq!(status("cy"), "error");
    assert!(
        rows["cy"].last().unwrap().contains("no lesson1 crate"),
        "{:?}",
        rows["cy"]
    );
    assert_eq!((status("di"), score("di")), ("did_not_compile", 0));
    // ed's save-array aborts: its tests lose their points, the rest pass.
    assert_eq!(status("ed"), "graded");
    assert!(0 < score("ed") && score("ed") < max, "{:?}", rows["ed"]);
    // Per-test points add up to the score.
    for (name, row) in rows {
        let per_test: u32 = row[5..row.len() - 1]
            .iter()
            .filter_map(|p| p.parse::<u32>().ok())
            .sum();
        assert_eq!(per_test, score(name), "{row:?}");
    }
}

/// A report each: the text a student reads, and the JSON.
fn a_report_each(reports: &Path) {
    let ed = fs::read_to_string(reports.join("ed.txt")).unwrap();
    assert!(ed.contains("SIGABRT"), "{ed}");
    let di: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(reports.join("di.json")).unwrap()).unwrap();
    assert_eq!(di["compiled"], false);
    assert!(fs::read_to_string(reports.join("cy.txt"))
        .unwrap()
        .contains("could not be graded"));
}

#[test]
fn batch_of_a_missing_folder_is_a_usage_error() {
    let run = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(["batch", "/nonexistent/submissions"])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no such folder"), "{stderr}");
}
