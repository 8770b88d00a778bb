//! Every platform wrapper believes only a grader that finished. A stand-in
//! grader prints a full-marks report in the platform's format, on stdout and
//! into the file the wrapper asked for, and then is killed (SIGKILL), as a
//! grader would be by a submission that forges the report and kills it: the
//! wrapper must give nothing (PrairieLearn: not gradable). The same
//! stand-in left to finish (exit 0) earns full marks through the same
//! wrapper, so the forged reports are ones the platform would take.
//!
//! The stand-in replaces the grader tree's `heaplab-autograder` crate (its
//! manifest, library and `main`), so each wrapper builds and runs it as it
//! builds and runs the real one; it has no dependencies and builds in
//! seconds.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::course::{packaged, Lesson};
use crate::platforms::{self, Gradescope, PrairieLearn};
use crate::run::{copy_dir, fresh, ok, text, unpack, write};

/// Full-marks reports of `lesson` in each platform format.
fn reports(lesson: &Lesson) -> Vec<(&'static str, String)> {
    let total = lesson.total();
    let tap: String = std::iter::once(format!("1..{total}\n"))
        .chain((1..=total).map(|i| format!("ok {i} - forged\n")))
        .collect();
    let gradescope = serde_json::json!({
        "score": total,
        "tests": lesson.tests.iter().map(|(name, (points, _))| serde_json::json!({
            "name": name, "score": points, "max_score": points, "status": "passed",
        })).collect::<Vec<_>>(),
    });
    let scores: serde_json::Map<String, serde_json::Value> = lesson
        .tests
        .iter()
        .map(|(name, (points, _))| (name.clone(), (*points).into()))
        .collect();
    let autolab = format!("{}\n", serde_json::json!({ "scores": scores }));
    let prairielearn = serde_json::json!({ "gradable": true, "score": 1.0 });
    vec![
        ("tap", tap),
        ("gradescope", gradescope.to_string()),
        ("autolab", autolab),
        ("prairielearn", prairielearn.to_string()),
    ]
}

/// The stand-in's `main.rs`: `locate` answers as the grader would (the
/// lesson's folder in a starter, else the folder itself); a grade prints
/// the full-marks report, writes it to `--output`, and, when the file
/// `mode` says `kill`, kills itself.
fn stand_in_main(lesson: &Lesson, mode: &Path) -> String {
    let reports: Vec<String> = reports(lesson)
        .into_iter()
        .map(|(format, report)| format!("({format:?}, {report:?})"))
        .collect();
    format!(
        r#"use std::io::Write;

const REPORTS: &[(&str, &str)] = &[{reports}];

extern "C" {{
    fn kill(pid: i32, signal: i32) -> i32;
}}

fn main() {{
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    if args.get(1).map(String::as_str) == Some("locate") {{
        let dir = std::path::Path::new(&args[3]);
        let krate = dir.join("lessons/{dir}");
        println!("{{}}", if krate.is_dir() {{ krate }} else {{ dir.to_path_buf() }}.display());
        return;
    }}
    let format = value("--format").map(String::as_str).unwrap_or("human");
    let report = REPORTS.iter().find(|(f, _)| *f == format).map_or("", |(_, r)| *r);
    print!("{{report}}");
    std::io::stdout().flush().unwrap();
    if let Some(path) = value("--output") {{
        std::fs::write(path, report).unwrap();
    }}
    if std::fs::read_to_string({mode:?}).unwrap_or_default().trim() == "kill" {{
        unsafe {{ kill(std::process::id() as i32, 9) }};
    }}
}}
"#,
        reports = reports.join(", "),
        dir = lesson.dir,
        mode = mode.to_string_lossy(),
    )
}

/// Puts the stand-in in place of the grader in the tree at `tree`.
fn install_stand_in(tree: &Path, lesson: &Lesson, mode: &Path) {
    write(
        &tree.join("autograder/Cargo.toml"),
        "[package]\nname = \"heaplab-autograder\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [[bin]]\nname = \"grade\"\npath = \"src/main.rs\"\n",
    );
    write(&tree.join("autograder/src/lib.rs"), "");
    write(
        &tree.join("autograder/src/main.rs"),
        &stand_in_main(lesson, mode),
    );
}

/// Appends the stand-in to the tar `archive`, whose grader tree is
/// `prefix`: unpacked, the appended files replace the grader's.
fn append_stand_in(archive: &Path, prefix: &str, lesson: &Lesson, mode: &Path, scratch: &Path) {
    fresh(scratch);
    install_stand_in(&scratch.join(prefix), lesson, mode);
    ok(Command::new("tar")
        .arg("-rf")
        .arg(archive)
        .arg("-C")
        .arg(scratch)
        .arg(format!("{prefix}/autograder")));
}

#[test]
fn wrappers_believe_only_a_grader_that_finished() {
    let p = packaged();
    let lesson = p.lesson("lesson1");
    let total = lesson.total();
    let work = p.work.join("killed");
    fresh(&work);
    let mode = work.join("mode");
    let krate = work.join("crate");
    crate::course::solution(lesson, &krate);

    // Each platform laid out once, the grader replaced by the stand-in.
    let home = work.join("inkfish");
    let inkfish = p
        .bundles(lesson)
        .join(format!("heaplab-{}-inkfish.tar.gz", lesson.id));
    unpack(&inkfish, &home);
    copy_dir(&krate, &home);
    unpack(&inkfish, &home);
    let inner = home.join(heaplab_autograder::package::INKFISH_INNER);
    append_stand_in(&inner, "heaplab", lesson, &mode, &work.join("scratch"));
    let gs = Gradescope::install(p, lesson, &work.join("gradescope"), None);
    install_stand_in(&gs.tree(), lesson, &mode);
    let autolab_tar = work.join("autograde.tar");
    fs::copy(
        p.bundles(lesson).join("autolab/autograde.tar"),
        &autolab_tar,
    )
    .unwrap();
    append_stand_in(
        &autolab_tar,
        "heaplab",
        lesson,
        &mode,
        &work.join("scratch"),
    );
    let pl = PrairieLearn::install(p, lesson, &work.join("pl"), &work.join("image"), None);
    install_stand_in(&pl.tree(), lesson, &mode);

    for (how, full) in [("finish", true), ("kill", false)] {
        write(&mode, how);
        let (score, run) = platforms::inkfish_run(&home, None, false);
        let expected = if full { total as usize } else { 0 };
        assert_eq!(
            score,
            Some((expected, total as usize)),
            "Inkfish, {how}: {}",
            text(&run)
        );

        let (score, json, run) = gs.grade(&krate, None);
        let expected = if full { f64::from(total) } else { 0.0 };
        assert_eq!(
            score,
            Ok(expected),
            "Gradescope, {how}: {json}\n{}",
            text(&run)
        );

        let (scores, out) = platforms::autolab(
            p,
            lesson,
            &work.join("autolab"),
            &krate,
            None,
            Some(&autolab_tar),
        );
        let sum: f64 = scores
            .unwrap_or_else(|e| panic!("{e}\n{out}"))
            .values()
            .sum();
        assert_eq!(sum, expected, "Autolab, {how}: {out}");

        let (score, json, run) = pl.grade(&krate, None);
        let expected = if full { Some(1.0) } else { None };
        assert_eq!(
            score,
            Ok(expected),
            "PrairieLearn, {how}: {json}\n{}",
            text(&run)
        );
    }
}
