//! How long a grading server takes to grade each lesson's reference
//! solution from its bundle: `cargo bench -p heaplab-autograder --bench bundle_time`.
//!
//! For each lesson (`HEAPLAB_BENCH_LESSONS=lesson1,lesson7` for fewer):
//!
//! - **cold**: the Inkfish bundle laid out as Inkfish lays it out and
//!   `perl test.pl` run pinned to one core with the network cut, nothing
//!   built beforehand: what Inkfish and Autolab pay for every submission;
//!   wall time, CPU time and the home's size afterwards;
//! - **prebuilt**: then, in the same tree, the grader run again on the
//!   solution changed by a line (so its crate and the subject rebuild):
//!   what a submission costs where the image holds the build (Gradescope
//!   after setup.sh, PrairieLearn's image, a cached GitHub Classroom run).
//!
//! The machine is shared: CPU time is the steadier figure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use heaplab_autograder::course::Course;
use heaplab_autograder::{package, stubs};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// CPU time (user + system) of every child waited for so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage writes one rusage into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Runs `cmd` to completion: (wall, CPU, what it printed on stdout).
fn timed(cmd: &mut Command) -> (Duration, Duration, String) {
    let (wall, cpu) = (Instant::now(), children_cpu());
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (wall.elapsed(), children_cpu() - cpu, stdout)
}

fn tar_x(archive: &Path, into: &Path) {
    fs::create_dir_all(into).unwrap();
    let ok = Command::new("tar")
        .arg("-xf")
        .arg(archive)
        .arg("-C")
        .arg(into)
        .status();
    assert!(ok.unwrap().success());
}

/// The reference solution as a student's crate, in `into`.
fn solution(dir: &str, into: &Path) {
    let solution = root().join("solutions").join(dir);
    let manifest = fs::read_to_string(solution.join("Cargo.toml")).unwrap();
    let renamer = stubs::Renamer::for_manifest(&manifest).unwrap();
    for (rel, bytes) in stubs::read_crate(&solution).unwrap() {
        let path = into.join(renamer.rename(&rel.to_string_lossy()));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        match String::from_utf8(bytes) {
            Ok(t) => fs::write(path, renamer.rename(&t)).unwrap(),
            Err(e) => fs::write(path, e.into_bytes()).unwrap(),
        }
    }
}

fn du(dir: &Path) -> f64 {
    let out = Command::new("du").arg("-sb").arg(dir).output().unwrap();
    let bytes: f64 = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    bytes / 1e6
}

fn main() {
    let course = Course::locate(Some(&root().join("course.toml"))).unwrap();
    let only = std::env::var("HEAPLAB_BENCH_LESSONS").unwrap_or_default();
    let tmp = tempfile::tempdir().unwrap();
    println!("lesson   cold wall  cold CPU  home MB  prebuilt wall  prebuilt CPU  score");
    for lesson in course.manifest.lessons.iter().filter(|l| l.has_suite()) {
        if !only.is_empty() && !only.split(',').any(|o| o == lesson.id) {
            continue;
        }
        let dist = tmp.path().join("dist");
        package::package(&course, lesson, &dist).unwrap();
        let home = tmp.path().join(&lesson.id);
        let archive = dist
            .join(&lesson.id)
            .join(format!("heaplab-{}-inkfish.tar.gz", lesson.id));
        tar_x(&archive, &home);
        solution(&lesson.dir, &home);
        tar_x(&archive, &home);

        let mut cold = Command::new("unshare");
        cold.args(["-n", "taskset", "-c", "0", "perl", "test.pl"])
            .current_dir(&home)
            .env_remove("CARGO_TARGET_DIR");
        let (cold_wall, cold_cpu, tap) = timed(&mut cold);
        let score = tap
            .lines()
            .find(|l| l.starts_with("# Score"))
            .unwrap_or("# ?")
            .to_string();
        let used = du(&home);

        // The tree is built now: grade the solution changed by one line,
        // as a new submission is, so its crate and the subject rebuild.
        let again = tmp.path().join(format!("{}-again", lesson.id));
        solution(&lesson.dir, &again);
        let lib = again.join("src/lib.rs");
        let text = fs::read_to_string(&lib).unwrap();
        fs::write(&lib, text + "\n// a new submission\n").unwrap();
        let mut prebuilt = Command::new("unshare");
        prebuilt
            .args(["-n", "taskset", "-c", "0"])
            .arg(home.join(".heaplab/grade"))
            .args([
                &lesson.id,
                "--include-hidden",
                "--offline",
                "--format",
                "json",
            ])
            .arg("--submission")
            .arg(&again)
            .current_dir(home.join(".heaplab/heaplab"))
            // test.pl's build settings, so its build is the one reused.
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .env("CARGO_HOME", home.join(".heaplab/cargo-home"))
            .env_remove("CARGO_TARGET_DIR");
        let (warm_wall, warm_cpu, json) = timed(&mut prebuilt);
        let warm_score: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        println!(
            "{:<8} {:>8.1} s {:>7.1} s {:>8.0} {:>12.1} s {:>11.1} s  {} (prebuilt {}/{})",
            lesson.id,
            cold_wall.as_secs_f64(),
            cold_cpu.as_secs_f64(),
            used,
            warm_wall.as_secs_f64(),
            warm_cpu.as_secs_f64(),
            score.trim_start_matches("# "),
            warm_score["score"],
            warm_score["max_score"]
        );
        let _ = fs::remove_dir_all(&home);
        let _ = fs::remove_dir_all(&again);
        let _ = fs::remove_dir_all(&dist);
    }
}
