//! End to end: lesson 1's bundles, unpacked as each platform unpacks them and
//! run by the platform's own entry point with the network cut, scored by the
//! platform's rules. The reference solution earns full marks; the stub,
//! handed in with a forged suite, manifest and cargo config that would pass
//! every test, earns nothing: the grader's own tests run.
//!
//! Cold builds are slow, so one test walks every platform and Gradescope's
//! image build (setup.sh) seeds Autolab's build folder; Inkfish builds cold
//! each time, as it does for real.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use heaplab_autograder::stubs;

const LESSON: &str = "lesson1";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

#[derive(serde::Deserialize)]
struct Manifest {
    lesson: Vec<ManifestLesson>,
}

#[derive(serde::Deserialize)]
struct ManifestLesson {
    id: String,
    dir: String,
    #[serde(default)]
    test: Vec<ManifestTest>,
}

#[derive(serde::Deserialize)]
struct ManifestTest {
    name: String,
    points: u32,
}

/// Lesson 1's folder name and its tests (name → points).
fn lesson() -> (String, BTreeMap<String, u32>) {
    let text = fs::read_to_string(root().join("course.toml")).unwrap();
    let manifest: Manifest = toml::from_str(&text).unwrap();
    let lesson = manifest
        .lesson
        .into_iter()
        .find(|l| l.id == LESSON)
        .unwrap();
    let tests = lesson
        .test
        .into_iter()
        .map(|t| (t.name, t.points))
        .collect();
    (lesson.dir, tests)
}

/// Runs `cmd` as a grading server would: no network (a fresh network
/// namespace when this machine allows one, and cargo told to stay offline),
/// none of this build's cargo settings.
fn run_offline(cmd: &mut Command) -> Output {
    let cut = Command::new("unshare")
        .args(["-n", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut outer = if cut {
        let mut c = Command::new("unshare");
        c.arg("-n").arg(cmd.get_program()).args(cmd.get_args());
        if let Some(dir) = cmd.get_current_dir() {
            c.current_dir(dir);
        }
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    } else {
        std::mem::replace(cmd, Command::new("true"))
    };
    for var in [
        "CARGO_TARGET_DIR",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET_DIR",
        "HEAPLAB_MANIFEST",
        "CARGO_MANIFEST_DIR",
    ] {
        outer.env_remove(var);
    }
    outer.env("CARGO_NET_OFFLINE", "true").env("NO_COLOR", "1");
    outer.output().unwrap()
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

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// The reference solution as a student would hand it in: package `lesson1`.
fn solved_crate(into: &Path, dir: &str) {
    let solution = root().join("solutions").join(dir);
    let files = stubs::read_crate(&solution).unwrap();
    let renamer =
        stubs::Renamer::for_manifest(&fs::read_to_string(solution.join("Cargo.toml")).unwrap())
            .unwrap();
    for (rel, bytes) in files {
        let path = into.join(renamer.rename(&rel.to_string_lossy()));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        match String::from_utf8(bytes) {
            Ok(t) => fs::write(path, renamer.rename(&t)).unwrap(),
            Err(e) => fs::write(path, e.into_bytes()).unwrap(),
        }
    }
}

/// A suite in which every test of lesson 1 passes, whatever the student wrote.
fn forged_suite(tests: &BTreeMap<String, u32>) -> String {
    let names: Vec<String> = tests.keys().map(|n| format!("{n:?}")).collect();
    format!(
        "use crate::harness::{{Suite, Test}};\n\
         pub fn suite<A, B, C, D>(_: A, _: B, _: C, _: D) -> Suite {{\n\
         \x20   let tests = [{}].into_iter().map(|n| Test::new(n, |_| Ok(()))).collect();\n\
         \x20   Suite {{ tests, programs: Vec::new() }}\n\
         }}\n",
        names.join(", ")
    )
}

/// The stub, plus files that would make every test pass if the grader took
/// them: a forged suite where the grader's trees live on each platform, a
/// manifest giving each test 0 points, a cargo config, a toolchain file.
fn forging_stub(into: &Path, dir: &str, tests: &BTreeMap<String, u32>) {
    copy_dir(
        &root().join("lessons").join(dir),
        &into.join("lessons").join(dir),
    );
    let suite = forged_suite(tests);
    for tree in [".heaplab/heaplab", "heaplab", "source/heaplab", ""] {
        let base = into.join(tree);
        write(&base.join("autograder/suites/src/lesson1.rs"), &suite);
        write(&base.join("course.toml"), "[[lesson]]\nid = \"lesson1\"\n");
    }
    write(
        &into.join(".cargo/config.toml"),
        "[build]\nrustflags = [\"--cfg\", \"forged\"]\n",
    );
    write(
        &into.join(".cargo/config"),
        "[build]\nrustflags = [\"--cfg\", \"forged\"]\n",
    );
    write(
        &into.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"forged\"\n",
    );
    write(&into.join("tests/all_pass.rs"), "#[test]\nfn passes() {}\n");
}

/// Inkfish's score of `tap`: one plan line `1..N`; every line starting `ok`
/// or `not` must be a test line; passed counts tests 1..=N marked ok.
/// None where Inkfish would fail to parse (it then scores 0).
fn inkfish_score(tap: &str) -> Option<(usize, usize)> {
    let plans: Vec<&str> = tap
        .lines()
        .filter(|l| {
            let (a, b) = l.split_once("..").unwrap_or(("", ""));
            !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
        })
        .collect();
    let [plan] = plans.as_slice() else {
        return None;
    };
    let total: usize = plan.strip_prefix("1..")?.parse().ok()?;
    let mut ok = BTreeMap::new();
    for line in tap
        .lines()
        .filter(|l| l.starts_with("ok") || l.starts_with("not"))
    {
        let (passed, rest) = if let Some(r) = line.strip_prefix("not ok") {
            (false, r)
        } else {
            (true, line.strip_prefix("ok")?)
        };
        // (ok|not ok)\s+(\d+)\s+(?:-\s+)?(.*)
        let rest = rest.strip_prefix(char::is_whitespace)?.trim_start();
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let after = &rest[digits.len()..];
        if digits.is_empty() || !after.starts_with(char::is_whitespace) {
            return None;
        }
        ok.insert(digits.parse::<usize>().ok()?, passed);
    }
    let passed = (1..=total).filter(|i| ok.get(i) == Some(&true)).count();
    Some((passed, total))
}

fn unpack(archive: &Path, into: &Path) {
    fs::create_dir_all(into).unwrap();
    let ok = Command::new("tar")
        .arg("-xf")
        .arg(archive)
        .arg("-C")
        .arg(into)
        .status()
        .unwrap();
    assert!(ok.success(), "tar -xf {}", archive.display());
}

/// A copy of the course in which lesson 1's last test is hidden: what a
/// course with a hidden test packages. Returns the hidden test.
fn course_with_hidden_test(into: &Path, dir: &str, tests: &BTreeMap<String, u32>) -> String {
    let root = root();
    for sub in ["kit", "autograder", &format!("lessons/{dir}"), ".cargo"] {
        copy_dir(&root.join(sub), &into.join(sub));
    }
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "autograder/Cargo.toml",
        "docs/lesson1.md",
    ] {
        if root.join(file).is_file() {
            fs::create_dir_all(into.join(file).parent().unwrap()).unwrap();
            fs::copy(root.join(file), into.join(file)).unwrap();
        }
    }
    // autograder/Cargo.toml names benches and tests the copy leaves out.
    let manifest = fs::read_to_string(into.join("autograder/Cargo.toml")).unwrap();
    let mut doc: toml::Table = manifest.parse().unwrap();
    doc.remove("bench");
    doc.remove("test");
    fs::write(
        into.join("autograder/Cargo.toml"),
        toml::to_string(&doc).unwrap(),
    )
    .unwrap();

    let hidden = tests.keys().last().unwrap().clone();
    let course = fs::read_to_string(root.join("course.toml")).unwrap();
    let line = format!("name = \"{hidden}\"\n");
    assert_eq!(course.matches(&line).count(), 1, "{hidden} named once");
    fs::write(
        into.join("course.toml"),
        course.replace(&line, &format!("{line}hidden = true\n")),
    )
    .unwrap();
    hidden
}

#[test]
fn bundles_grade_as_each_platform_does() {
    let (dir, tests) = lesson();
    let total: u32 = tests.values().sum();
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();

    let course = tmp.join("course");
    let hidden = course_with_hidden_test(&course, &dir, &tests);
    let dist = tmp.join("dist");
    let out = Command::new(env!("CARGO_BIN_EXE_grade"))
        .args(["package", LESSON, "--out"])
        .arg(&dist)
        .current_dir(&course)
        .env_remove("HEAPLAB_MANIFEST")
        .output()
        .unwrap();
    assert!(out.status.success(), "grade package: {}", text(&out));
    let bundles = dist.join(LESSON);

    // The student's starter holds no solution, no vendored crates, and no
    // hidden test in its manifest.
    let starter = tmp.join("starter");
    unpack(
        &bundles.join(format!("heaplab-{LESSON}-starter.tar.gz")),
        &starter,
    );
    let listing =
        String::from_utf8(Command::new("find").arg(&starter).output().unwrap().stdout).unwrap();
    assert!(
        !listing.contains("solution"),
        "a solution in the starter:\n{listing}"
    );
    assert!(
        !listing.contains("/vendor/"),
        "vendored crates in the starter"
    );
    assert!(
        listing.contains(&format!("lessons/{dir}/src/lib.rs")),
        "{listing}"
    );
    let starter_manifest =
        fs::read_to_string(starter.join(format!("heaplab-{LESSON}/course.toml"))).unwrap();
    assert!(
        !starter_manifest.contains(&hidden),
        "hidden test in the starter:\n{starter_manifest}"
    );
    for name in tests.keys().filter(|n| **n != hidden) {
        assert!(
            starter_manifest.contains(name.as_str()),
            "{name} missing from the starter"
        );
    }

    // The solution handed in as the whole starter folder (Gradescope gets
    // just the crate's files, as an upload of them).
    let solution = tmp.join("solution");
    solved_crate(&solution.join(format!("lessons/{dir}")), &dir);
    let forger = tmp.join("forger");
    forging_stub(&forger, &dir, &tests);

    // ---- Gradescope: the zip is /autograder/source; setup.sh builds the
    // image once, run_autograder grades each submission.
    let gs = tmp.join("gradescope");
    let source = gs.join("source");
    fs::create_dir_all(&source).unwrap();
    let zip = Command::new("unzip")
        .arg("-q")
        .arg(bundles.join(format!("heaplab-{LESSON}-gradescope.zip")))
        .arg("-d")
        .arg(&source)
        .status()
        .unwrap();
    assert!(zip.success());
    let setup = run_offline(
        Command::new("bash")
            .arg(source.join("setup.sh"))
            .current_dir(&source),
    );
    assert!(setup.status.success(), "setup.sh: {}", text(&setup));
    for (submission, expected) in [
        (solution.join(format!("lessons/{dir}")), total),
        (forger.clone(), 0),
    ] {
        let _ = fs::remove_dir_all(gs.join("submission"));
        let _ = fs::remove_dir_all(gs.join("results"));
        copy_dir(&submission, &gs.join("submission"));
        let run = run_offline(
            Command::new("bash")
                .arg(source.join("run_autograder"))
                .env("HEAPLAB_GRADESCOPE_ROOT", &gs)
                .current_dir(&gs),
        );
        let results = fs::read_to_string(gs.join("results/results.json"))
            .unwrap_or_else(|e| panic!("no results.json ({e}): {}", text(&run)));
        let json: serde_json::Value = serde_json::from_str(&results).unwrap();
        let entries = json["tests"]
            .as_array()
            .unwrap_or_else(|| panic!("no tests: {results}"));
        let max: u64 = entries
            .iter()
            .map(|t| t["max_score"].as_u64().unwrap())
            .sum();
        let score: u64 = entries.iter().map(|t| t["score"].as_u64().unwrap()).sum();
        assert_eq!(max, u64::from(total), "{results}");
        assert_eq!(
            json["score"].as_u64(),
            Some(u64::from(expected)),
            "{results}"
        );
        assert_eq!(score, u64::from(expected), "{results}");
        for t in entries {
            let is_hidden = t["name"].as_str().unwrap().contains(&format!("({hidden})"));
            let visibility = if is_hidden {
                "after_published"
            } else {
                "visible"
            };
            assert_eq!(t["visibility"], visibility, "{t}");
            let status = if expected == total {
                "passed"
            } else {
                "failed"
            };
            assert_eq!(t["status"], status, "{t}");
        }
    }

    // ---- Autolab: autograde-Makefile (as Makefile), autograde.tar and the
    // handin in one folder; `make`; the last line is the score. The build
    // folder starts from Gradescope's, so only the path crates rebuild.
    for (name, submission, expected) in [("solution", &solution, total), ("forger", &forger, 0)] {
        let al = tmp.join("autolab").join(name);
        fs::create_dir_all(&al).unwrap();
        fs::copy(
            bundles.join("autolab/autograde-Makefile"),
            al.join("Makefile"),
        )
        .unwrap();
        fs::copy(
            bundles.join("autolab/autograde.tar"),
            al.join("autograde.tar"),
        )
        .unwrap();
        fs::create_dir_all(al.join("heaplab")).unwrap();
        let seeded = Command::new("cp")
            .arg("-a")
            .arg(source.join("heaplab/target"))
            .arg(al.join("heaplab/target"))
            .status()
            .unwrap();
        assert!(seeded.success());
        let tar = Command::new("tar")
            .arg("-cf")
            .arg(al.join("handin.tar"))
            .arg("-C")
            .arg(submission)
            .arg(".")
            .status()
            .unwrap();
        assert!(tar.success());
        let make = run_offline(Command::new("make").arg("-s").current_dir(&al));
        let stdout = String::from_utf8_lossy(&make.stdout).into_owned();
        let last = stdout.lines().last().unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("last line is not JSON ({e}): {}", text(&make)));
        let scores = json["scores"].as_object().unwrap();
        let keys: Vec<&String> = scores.keys().collect();
        assert_eq!(keys, tests.keys().collect::<Vec<_>>(), "problem names");
        let sum: u64 = scores.values().map(|v| v.as_u64().unwrap()).sum();
        assert_eq!(sum, u64::from(expected), "{}", text(&make));
    }

    // ---- Inkfish: the grader archive, the submission, the grader archive
    // again, then `perl test.pl` in that folder; the output is TAP.
    let inkfish = bundles.join(format!("heaplab-{LESSON}-inkfish.tar.gz"));
    for (name, submission, expected) in [("solution", &solution, total), ("forger", &forger, 0)] {
        let home = tmp.join("inkfish").join(name);
        unpack(&inkfish, &home);
        copy_dir(submission, &home);
        unpack(&inkfish, &home);
        let run = run_offline(Command::new("perl").arg("test.pl").current_dir(&home));
        let tap = String::from_utf8_lossy(&run.stdout).into_owned();
        let (passed, points) =
            inkfish_score(&tap).unwrap_or_else(|| panic!("Inkfish cannot parse: {}", text(&run)));
        assert_eq!(points, total as usize, "{tap}");
        assert_eq!(passed, expected as usize, "{tap}");
        if expected == 0 {
            // The grader's tests ran (and found the stub's todo!()s).
            for name in tests.keys() {
                assert!(tap.contains(&format!("({name})")), "{name} missing:\n{tap}");
            }
            assert!(tap.contains("not implemented"), "{tap}");
        }
    }
}

#[test]
fn inkfish_rules_as_this_test_reads_them() {
    assert_eq!(
        inkfish_score("1..2\nok 1 - a\nnot ok 2 - b\n"),
        Some((1, 2))
    );
    assert_eq!(inkfish_score("# x\n1..2\nok 1 a\nok 2 b\n"), Some((2, 2)));
    // Two plans, a bare `ok 3`, or a diagnostic starting `not` break it.
    assert_eq!(inkfish_score("1..1\n1..1\nok 1 - a\n"), None);
    assert_eq!(inkfish_score("1..1\nok 1\n"), None);
    assert_eq!(inkfish_score("1..1\nok 1 - a\nnote: hi\n"), None);
    // Missing test lines count as failed.
    assert_eq!(inkfish_score("1..3\nok 1 - a\n"), Some((1, 3)));
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

/// A test-only course on the grader's fixture suite: `passes` (2 points) and
/// `fails` (1 point) hidden, `answer` (3 points) not.
#[test]
fn hidden_tests_run_only_when_asked_and_keep_their_details() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture-course");
    let fixture_manifest: toml::Table = fs::read_to_string(fixture.join("course.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let lesson = &fixture_manifest["lesson"][0];
    let checker = lesson["checker"].as_str().unwrap().to_string();
    let subject = lesson["subject"].as_str().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let course = tmp.path();
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
