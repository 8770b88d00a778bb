//! Hidden tests: a test-only course on the grader's fixture suite, graded
//! as a student runs it (hidden tests skipped, and counted) and as a
//! grading server does (`--include-hidden`: run, shown on Gradescope once
//! grades are published, their details withheld in TAP).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Copies every file under `from` to `to` (skipping build output).
fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            fs::create_dir_all(to).unwrap();
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Inkfish's score of `tap` (passed, planned): the plan line and the test
/// lines marked ok (tests/bundles/formats.rs reads TAP with all of
/// Inkfish's rules; the TAP here is the grader's own, checked there).
fn inkfish_score(tap: &str) -> Option<(usize, usize)> {
    let total = tap
        .lines()
        .find_map(|l| l.strip_prefix("1.."))?
        .parse()
        .ok()?;
    let passed = tap.lines().filter(|l| l.starts_with("ok ")).count();
    Some((passed, total))
}

/// Runs `grade ARGS` on the course whose manifest is `manifest`, building in
/// this build's target folder (the harness crates are already compiled there).
fn grade_with(manifest: &Path, args: &[&str]) -> Output {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(args)
        .arg("--manifest")
        .arg(manifest)
        .current_dir(manifest.parent().unwrap())
        .env("CARGO_TARGET_DIR", target)
        .env("NO_COLOR", "1")
        .env_remove("HEAPLAB_MANIFEST")
        .output()
        .unwrap()
}

/// A test-only course on the grader's fixture suite in `course`: `passes`
/// (2 points) and `fails` (1 point) hidden, `answer` (3 points) not. Its
/// manifest.
fn course_with_hidden_tests(course: &Path) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture-course");
    let fixture_manifest: toml::Table = fs::read_to_string(fixture.join("course.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let lesson = &fixture_manifest["lesson"][0];
    let checker = lesson["checker"].as_str().unwrap().to_string();
    let subject = lesson["subject"].as_str().unwrap().to_string();
    copy_dir(&fixture.join("lessons"), &course.join("lessons"));
    copy_dir(&fixture.join("solutions"), &course.join("solutions"));
    fs::copy(root().join("Cargo.lock"), course.join("Cargo.lock")).unwrap();
    // The fixture crates find the kit by a path relative to where they live.
    for krate in ["lessons/misbehave", "solutions/misbehave"] {
        let path = course.join(krate).join("Cargo.toml");
        let mut doc: toml::Table = fs::read_to_string(&path).unwrap().parse().unwrap();
        let kit = root().join("kit").to_string_lossy().into_owned();
        doc["dependencies"]["heaplab-kit"]["path"] = toml::Value::String(kit);
        fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
    }
    let suites = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let manifest = course.join("course.toml");
    let mut course_toml = format!(
        "suites = {:?}\n\n[[lesson]]\nid = \"misbehave\"\ntitle = \"hidden tests\"\ndir = \"misbehave\"\nchecker = {checker:?}\nsubject = {subject:?}\n",
        suites.to_str().unwrap()
    );
    for (name, points, hidden) in [
        ("passes", 2, true),
        ("answer", 3, false),
        ("fails", 1, true),
    ] {
        course_toml.push_str(&format!(
            "\n[[lesson.test]]\nname = \"{name}\"\ntitle = \"the {name} test\"\npoints = {points}\nhint = \"a hint\"\nhidden = {hidden}\n"
        ));
    }
    fs::write(&manifest, course_toml).unwrap();
    manifest
}

#[test]
fn hidden_tests_run_only_when_asked_and_keep_their_details() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = course_with_hidden_tests(tmp.path());

    // Without --include-hidden: only `answer` runs, and the run says what it left out.
    let local = grade_with(&manifest, &["misbehave", "--solution", "--format", "json"]);
    let json: serde_json::Value =
        serde_json::from_slice(&local.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&local)));
    let names: Vec<&str> = json["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["answer"], "{}", text(&local));
    assert_eq!(
        (json["score"].as_u64(), json["max_score"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(local.status.code(), Some(0), "full marks on what ran");
    let stderr = String::from_utf8_lossy(&local.stderr);
    assert!(stderr.contains("2 hidden tests worth 3 points"), "{stderr}");

    // With it (what every grading server passes): all three, the hidden ones
    // shown only once grades are published.
    let server = grade_with(
        &manifest,
        &[
            "misbehave",
            "--solution",
            "--include-hidden",
            "--format",
            "gradescope",
        ],
    );
    let json: serde_json::Value =
        serde_json::from_slice(&server.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&server)));
    let tests = json["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 3, "{json}");
    for t in tests {
        let name = t["name"].as_str().unwrap();
        let visibility = if name.contains("(answer)") {
            "visible"
        } else {
            "after_published"
        };
        assert_eq!(t["visibility"], visibility, "{t}");
    }
    assert_eq!(
        json["score"].as_u64(),
        Some(5),
        "passes and answer pass, fails fails: {json}"
    );

    // A failed hidden test says only that it failed.
    let tap = grade_with(
        &manifest,
        &[
            "misbehave",
            "--solution",
            "--include-hidden",
            "--format",
            "tap",
        ],
    );
    let tap = String::from_utf8_lossy(&tap.stdout);
    assert!(tap.contains("details withheld"), "{tap}");
    assert!(
        !tap.contains("a hint"),
        "a hidden test's hint leaked: {tap}"
    );
    assert_eq!(inkfish_score(&tap), Some((5, 6)), "{tap}");
}
