//! End to end: every lesson's bundles, laid out as each platform lays them
//! out, run by the platform's own entry point with the network cut, and
//! scored by the platform's rules, its documented output format checked
//! (`formats`, `classroom`). The reference solution earns full marks; the
//! stub, handed in with files that would pass every test if the grader took
//! them, earns nothing, by the grader's own tests.
//!
//! - Inkfish, every lesson; lesson 7 also cold, on one core, in its home
//!   (the strictest platform: offline, one core, 512 MB).
//! - Gradescope and Autolab, lessons 1, 4 and 7; PrairieLearn and GitHub
//!   Classroom, lessons 1 and 4, plus a crate that does not compile (0,
//!   with the compiler's message) and, on PrairieLearn, the source files
//!   handed in one by one and a grade that cannot be made (not gradable,
//!   not charged).
//! - Every wrapper believes only a grader that finished: one killed after
//!   printing a passing report scores nothing (`killed`).
//!
//! Cost: the course is packaged once; each test builds into a build folder
//! of its own that its runs share (`HEAPLAB_TARGET_DIR`), with its grader
//! trees at one path (archives keep their files' times), so the vendored
//! crates, the grader and the suites compile once per test and each run
//! builds only the lesson and the submission. The tests run two at a time.

mod classroom;
mod course;
mod formats;
mod killed;
mod platforms;
mod run;

use std::fs;
use std::path::Path;
use std::process::Command;

use course::{packaged, Lesson, Packaged};
use platforms::{Gradescope, PrairieLearn};
use run::{fresh, ok, text};

/// The solution's crate (`<dir>/crate`) and the forger's starter folder
/// (`<dir>/forger`) for `lesson`.
fn submissions(lesson: &Lesson, dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (solution, forger) = (dir.join("crate"), dir.join("forger"));
    fresh(dir);
    course::solution(lesson, &solution);
    course::forger(lesson, &forger);
    (solution, forger)
}

/// The grader's own tests ran on the stub: every test named, and the
/// stub's todo!()s found.
fn graded_the_stub(lesson: &Lesson, report: &str) {
    for name in lesson.tests.keys() {
        assert!(report.contains(name.as_str()), "{name} missing:\n{report}");
    }
    assert!(report.contains("not implemented"), "{report}");
}

#[test]
fn every_lesson_on_inkfish() {
    let p = packaged();
    let work = p.work.join("inkfish");
    let shared = work.join("target");
    for lesson in &p.lessons {
        let (solution, forger) = submissions(lesson, &work.join("submissions"));
        let total = lesson.total() as usize;
        let home = work.join("home");
        // The solution handed in as its crate folder, the forger as the
        // whole starter folder.
        let (score, run) = platforms::inkfish(p, lesson, &home, &solution, Some(&shared), false);
        // Measured points (lesson 8's speed) depend on the machine: the
        // reference earns at least every other point.
        let sure = lesson.sure_total() as usize;
        assert!(
            score.is_some_and(|(got, max)| got >= sure && max == total),
            "{}: {score:?}, want at least {sure} of {total}: {}",
            lesson.id,
            text(&run)
        );
        let (score, run) = platforms::inkfish(p, lesson, &home, &forger, Some(&shared), false);
        assert_eq!(score, Some((0, total)), "{}: {}", lesson.id, text(&run));
        graded_the_stub(lesson, &String::from_utf8_lossy(&run.stdout));
    }
}

/// Inkfish as it is: nothing built beforehand, one core, and the home must
/// hold the whole build. Lesson 7 builds the most (a release library and
/// programs besides the grader, the suites and the crate).
#[test]
fn inkfish_cold_on_one_core_fits_its_home() {
    let p = packaged();
    let lesson = p.lesson("lesson7");
    let work = p.work.join("inkfish-cold");
    let (solution, _) = submissions(lesson, &work.join("submissions"));
    let home = work.join("home");
    let (score, run) = platforms::inkfish(p, lesson, &home, &solution, None, true);
    let total = lesson.total() as usize;
    assert_eq!(score, Some((total, total)), "{}", text(&run));
    let used = run::disk_usage(&home);
    assert!(
        used < 512_000_000,
        "the home holds {used} bytes after the grade"
    );
}

/// Gradescope and Autolab for lessons 1, 4 and 7, PrairieLearn for 1 and
/// 4, in one pass: each lays its grader tree at one path,
/// `<work>/source/heaplab` (Gradescope's `/autograder/source/heaplab`,
/// Autolab's folder's `heaplab/`, the image's `/heaplab`), so one build
/// serves them all and each run builds only the lesson and the submission.
#[test]
fn gradescope_autolab_and_prairielearn() {
    let p = packaged();
    let work = p.work.join("servers");
    let shared = work.join("target");
    let source = work.join("source");
    for id in ["lesson1", "lesson4", "lesson7"] {
        let lesson = p.lesson(id);
        let (solution, forger) = submissions(lesson, &work.join("submissions"));
        let total = f64::from(lesson.total());
        let gs = Gradescope::install(p, lesson, &work, Some(&shared));
        for (submission, expected) in [(&solution, total), (&forger, 0.0)] {
            let (score, json, run) = gs.grade(submission, Some(&shared));
            assert_eq!(score, Ok(expected), "{id}: {json}\n{}", text(&run));
            gradescope_entries(lesson, &json, expected == total, &p.hidden);
        }
        for (submission, expected) in [(&solution, total), (&forger, 0.0)] {
            let (scores, out) =
                platforms::autolab(p, lesson, &source, submission, Some(&shared), None);
            let scores = scores.unwrap_or_else(|e| panic!("{id}: {e}\n{out}"));
            let names: Vec<&String> = scores.keys().collect();
            assert_eq!(
                names,
                lesson.tests.keys().collect::<Vec<_>>(),
                "problem names"
            );
            assert_eq!(scores.values().sum::<f64>(), expected, "{id}: {out}");
            if expected == 0.0 {
                graded_the_stub(lesson, &out);
            }
        }
        if id != "lesson7" {
            let pl = PrairieLearn::install(p, lesson, &work.join("pl"), &source, Some(&shared));
            on_prairielearn(lesson, &pl, &work.join("submissions"), &shared);
        }
    }
}

/// Every test of the lesson once, with its points, passed or failed as a
/// whole, hidden ones shown once grades are published.
fn gradescope_entries(lesson: &Lesson, json: &serde_json::Value, passed: bool, hidden: &str) {
    let entries = json["tests"].as_array().unwrap();
    assert_eq!(entries.len(), lesson.tests.len(), "{json}");
    let max: f64 = entries
        .iter()
        .map(|t| t["max_score"].as_f64().unwrap())
        .sum();
    assert_eq!(max, f64::from(lesson.total()), "{json}");
    for t in entries {
        let name = t["name"].as_str().unwrap();
        let is_hidden = lesson.id == "lesson1" && name.contains(&format!("({hidden})"));
        let visibility = if is_hidden {
            "after_published"
        } else {
            "visible"
        };
        assert_eq!(t["visibility"], visibility, "{t}");
        assert_eq!(t["status"], if passed { "passed" } else { "failed" }, "{t}");
    }
}

/// A PrairieLearn job for each way of handing in, on an installed image.
fn on_prairielearn(lesson: &Lesson, pl: &PrairieLearn, subs: &Path, shared: &Path) {
    let id = &lesson.id;
    let info = pl.info();
    let timeout = info["externalGradingOptions"]["timeout"].as_u64().unwrap();
    assert!((30..=600).contains(&timeout), "{info}");
    let (solution, forger) = (subs.join("crate"), subs.join("forger"));
    // The crate folder; the forger's whole starter folder.
    for (student, expected) in [(&solution, 1.0), (&forger, 0.0)] {
        let (score, json, run) = pl.grade(student, Some(shared));
        assert_eq!(score, Ok(Some(expected)), "{id}: {json}\n{}", text(&run));
        let tests = json["tests"].as_array().unwrap();
        assert_eq!(tests.len(), lesson.tests.len(), "{json}");
    }
    // The source files one by one, as pl-file-upload names them.
    let loose = subs.join("loose");
    fresh(&loose);
    for file in walk(&solution.join("src")) {
        fs::copy(&file, loose.join(file.file_name().unwrap())).unwrap();
    }
    let (score, json, run) = pl.grade(&loose, Some(shared));
    assert_eq!(score, Ok(Some(1.0)), "{id}: {json}\n{}", text(&run));
    // A crate that does not compile: graded, 0, the compiler's message.
    let broken = subs.join("broken");
    let named = course::broken(lesson, &broken);
    let (score, json, run) = pl.grade(&broken, Some(shared));
    assert_eq!(score, Ok(Some(0.0)), "{id}: {json}\n{}", text(&run));
    assert!(json["output"].as_str().unwrap().contains(named), "{json}");
    // Nothing to grade: not gradable, so the attempt is not charged.
    let empty = subs.join("empty");
    fresh(&empty);
    crate::run::write(&empty.join("notes.txt"), "no code here\n");
    let (score, json, run) = pl.grade(&empty, Some(shared));
    assert_eq!(score, Ok(None), "{id}: {json}\n{}", text(&run));
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn lessons_1_and_4_on_github_classroom() {
    let p = packaged();
    let work = p.work.join("classroom");
    let home = work.join("home");
    fresh(&home);
    let shared = work.join("target");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dirs_home().join(".cargo"));
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dirs_home().join(".rustup"));
    // HOME is the runner's; the build folder is this test's (on GitHub, the
    // kit's own, which the workflow caches).
    let env = [
        ("HOME", home.as_path()),
        ("CARGO_HOME", cargo_home.as_path()),
        ("RUSTUP_HOME", rustup_home.as_path()),
        ("CARGO_TARGET_DIR", shared.as_path()),
    ];
    for id in ["lesson1", "lesson4"] {
        let lesson = p.lesson(id);
        let repo = template_repo(p, lesson, &work.join(id));
        let workflow = fs::read_to_string(repo.join(".github/workflows/classroom.yml")).unwrap();
        let steps =
            classroom::read_workflow(&workflow).unwrap_or_else(|e| panic!("{e}\n{workflow}"));
        let max: i64 = steps.iter().map(|s| s.max_score).sum();
        assert_eq!(max, i64::from(lesson.visible_total()));
        assert_eq!(
            steps.len(),
            lesson.tests.values().filter(|(_, h)| !h).count()
        );

        let subs = work.join("submissions");
        let (solution, _) = submissions(lesson, &subs);
        let krate = Path::new("lessons").join(&lesson.dir);
        for (name, expected) in [("solution", max), ("forger", 0), ("broken", 0)] {
            push(&repo, name, |r: &Path| match name {
                "solution" => replace_dir(&solution, &r.join(&krate)),
                "forger" => course::forger(lesson, r),
                _ => {
                    course::broken(lesson, &r.join(&krate));
                }
            });
            let (points, log) = classroom::run_steps(&steps, &repo, &env);
            assert_eq!(points, expected, "{id} {name}:\n{log}");
            if name == "broken" {
                assert!(log.contains("heaplab_broken_on_purpose"), "{log}");
            }
        }
    }
}

fn dirs_home() -> std::path::PathBuf {
    std::path::PathBuf::from(std::env::var_os("HOME").unwrap())
}

/// The template repository as GitHub Classroom makes a student's: its files
/// as the first commit.
fn template_repo(p: &Packaged, lesson: &Lesson, dir: &Path) -> std::path::PathBuf {
    fresh(dir);
    let archive = p
        .bundles(lesson)
        .join(format!("heaplab-{}-classroom.tar.gz", lesson.id));
    run::unpack(&archive, dir);
    let repo = dir.join(format!("heaplab-{}", lesson.id));
    ok(git(&repo).args(["init", "-q", "-b", "main"]));
    ok(git(&repo).args(["add", "-A"]));
    ok(git(&repo).args(["commit", "-q", "-m", "Initial commit"]));
    repo
}

/// A student's push: the template as it started, changed by `hand_in`.
fn push(repo: &Path, name: &str, hand_in: impl FnOnce(&Path)) {
    let out = git(repo)
        .args(["rev-list", "--max-parents=0", "HEAD"])
        .output()
        .unwrap();
    let root = String::from_utf8_lossy(&out.stdout).trim().to_string();
    ok(git(repo).args(["reset", "-q", "--hard", &root]));
    ok(git(repo).args(["clean", "-q", "-fdx"]));
    hand_in(repo);
    ok(git(repo).args(["add", "-A"]));
    ok(git(repo).args(["commit", "-q", "--allow-empty", "-m", name]));
}

fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(repo)
        .env("GIT_AUTHOR_NAME", "student")
        .env("GIT_AUTHOR_EMAIL", "student@example.com")
        .env("GIT_COMMITTER_NAME", "student")
        .env("GIT_COMMITTER_EMAIL", "student@example.com")
        // One date for every commit: `git archive` gives the kit's files
        // the commit's time, and the same times keep its build fresh.
        .env("GIT_AUTHOR_DATE", "2020-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2020-01-01T00:00:00Z");
    c
}

fn replace_dir(from: &Path, to: &Path) {
    let _ = fs::remove_dir_all(to);
    run::copy_dir(from, to);
}

/// What students and the Classroom template get: no solution, no vendored
/// crates, no hidden test; the dev container and the lesson's stub.
#[test]
fn starter_and_template_hold_no_solution_or_hidden_test() {
    let p = packaged();
    let lesson = p.lesson("lesson1");
    let work = p.work.join("starter");
    fresh(&work);
    for kind in ["starter", "classroom"] {
        let archive = p
            .bundles(lesson)
            .join(format!("heaplab-{}-{kind}.tar.gz", lesson.id));
        let into = work.join(kind);
        run::unpack(&archive, &into);
        let listing =
            String::from_utf8(Command::new("find").arg(&into).output().unwrap().stdout).unwrap();
        assert!(
            !listing.contains("solution"),
            "a solution in the {kind}:\n{listing}"
        );
        assert!(
            !listing.contains("/vendor/"),
            "vendored crates in the {kind}"
        );
        for file in [
            format!("lessons/{}/src/lib.rs", lesson.dir),
            ".devcontainer/devcontainer.json".into(),
            ".devcontainer/Dockerfile".into(),
        ] {
            assert!(
                listing.contains(&file),
                "{file} missing from the {kind}:\n{listing}"
            );
        }
        let top = into.join(format!("heaplab-{}", lesson.id));
        let manifest = fs::read_to_string(top.join("course.toml")).unwrap();
        assert!(!manifest.contains(&p.hidden), "hidden test in the {kind}");
        dev_container(&top.join(".devcontainer"));
    }
    // A page's pictures come with it.
    let lesson = p.lesson("lesson4");
    let archive = p
        .bundles(lesson)
        .join(format!("heaplab-{}-starter.tar.gz", lesson.id));
    let into = work.join("lesson4-starter");
    run::unpack(&archive, &into);
    let docs = into.join(format!("heaplab-{}/docs", lesson.id));
    let page = fs::read_to_string(docs.join("lesson4.md")).unwrap();
    assert!(page.contains("](figures/lesson4-free-list.svg)"));
    let figure = fs::read_to_string(docs.join("figures/lesson4-free-list.svg")).unwrap();
    assert!(
        figure.starts_with("<svg"),
        "lesson 4's figure: {figure:.80}"
    );
}

/// The dev container builds from its Dockerfile, with the tools the README
/// promises, and lets debuggers trace.
fn dev_container(dir: &Path) {
    let text = fs::read_to_string(dir.join("devcontainer.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    let dockerfile = config["build"]["dockerfile"].as_str().unwrap();
    let image = fs::read_to_string(dir.join(dockerfile)).unwrap();
    for tool in ["gdb", "valgrind", "cargo install just", "miri"] {
        assert!(
            image.contains(tool),
            "{tool} missing from the dev container:\n{image}"
        );
    }
    assert!(
        image.starts_with("#") && image.contains("\nFROM "),
        "{image}"
    );
    assert_eq!(
        config["capAdd"],
        serde_json::json!(["SYS_PTRACE"]),
        "{config}"
    );
}
