//! The attack corpus: submissions that try to get points without the work,
//! or to reach outside their test (autograder/tests/attacks/*.rs, each
//! built as a lesson 4 crate whose heap implements nothing). Each must
//! score 0, its attempts must show in the report (the attack really ran),
//! none may report a breach, and afterwards nothing it started is running,
//! nothing it wrote is left, the course is unchanged and the reference
//! solution still gets full marks.

mod common;

use std::collections::BTreeMap;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{grade, grade_with_env, root};
use serde_json::Value;

/// Each attack and the test it runs under (`None`: the whole lesson).
const ATTACKS: [(&str, Option<&str>); 8] = [
    ("forge", None),
    ("scan_memory", Some(ONE_TEST)),
    ("edit_tree", Some(ONE_TEST)),
    ("background", Some(ONE_TEST)),
    ("fork_bomb", Some(ONE_TEST)),
    ("big_file", Some(ONE_TEST)),
    ("network", Some(ONE_TEST)),
    ("memory", Some(ONE_TEST)),
];

const ONE_TEST: &str = "blocks_are_aligned_and_inside_mapped_pages";

fn attacks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/attacks")
}

/// The submission of attack `name`: the shared crate and the attack.
fn submission(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::copy(attacks_dir().join("lib.rs"), src.join("lib.rs")).unwrap();
    std::fs::copy(
        attacks_dir().join(format!("{name}.rs")),
        src.join("attack.rs"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"attack\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    dir
}

/// The attacks share files in /tmp and the course: one grade at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Grades attack `name` with `env` set.
fn grade_attack(
    name: &str,
    test: Option<&str>,
    output: &Path,
    env: &[(&str, &str)],
) -> common::Graded {
    let dir = submission(name);
    let mut args = vec!["lesson4", "--submission", dir.path().to_str().unwrap()];
    if let Some(t) = test {
        args.extend(["--test", t, "--exact"]);
    }
    args.extend(["--format", "json", "--output", output.to_str().unwrap()]);
    grade_with_env(&args, env)
}

/// Grades attack `name`; its JSON report, whole.
fn graded(name: &str, test: Option<&str>, output: &Path) -> (Value, String) {
    let run = grade_attack(name, test, output, &[]);
    assert_eq!(
        run.code, 1,
        "{name}: grade should finish, points lost:\n{}",
        run.stderr
    );
    let text = std::fs::read_to_string(output).unwrap_or_default();
    let report: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{name}: the output file is not the report ({e}):\n{text}"));
    (report, format!("{text}\n{}\n{}", run.stdout, run.stderr))
}

/// Hashes of the course files an attack could change to raise a grade.
fn course_files() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![
        root().join("autograder/suites/src"),
        root().join("autograder/src"),
    ];
    files.insert(
        root().join("course.toml"),
        std::fs::read(root().join("course.toml")).unwrap(),
    );
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// Processes named by an attack (`/proc/<pid>/comm`).
fn attack_processes() -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            (comm.trim() == "heaplab-attack").then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect()
}

#[test]
fn every_attack_scores_nothing_and_leaves_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let before = course_files();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let ports = format!(
        "{} {}",
        tcp.local_addr().unwrap().port(),
        udp.local_addr().unwrap().port()
    );
    std::fs::write("/tmp/heaplab-attack-ports", ports).unwrap();
    let out = tempfile::tempdir().unwrap();

    for (name, test) in ATTACKS {
        let output = out.path().join(format!("{name}.json"));
        let (report, everything) = graded(name, test, &output);
        assert_eq!(report["score"], 0, "{name} scored:\n{report:#}");
        assert!(
            everything.contains("heaplab-attack: tried"),
            "{name}: the attack did not run:\n{everything}"
        );
        assert!(
            !everything.contains("BREACH"),
            "{name} got through:\n{everything}"
        );
        check_cause(name, &report);
    }

    // Nothing came in over the network.
    assert!(tcp.accept().is_err(), "a TCP connection reached 127.0.0.1");
    assert!(
        udp.recv(&mut [0u8; 64]).is_err(),
        "a UDP datagram reached 127.0.0.1"
    );
    // Nothing is left running, nothing is left written.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        attack_processes(),
        Vec::<String>::new(),
        "attack processes still running"
    );
    assert!(
        !Path::new("/tmp/heaplab-attack-big").exists(),
        "a file was left in /tmp"
    );
    let _ = std::fs::remove_file("/tmp/heaplab-attack-ports");
    // The course is as it was, and the next grade is untouched.
    assert!(
        before == course_files(),
        "an attack changed the course's files"
    );
    let honest = grade(&["lesson4", "--solution", "--format", "json"]);
    let r = honest.json();
    assert_eq!(
        r["score"], r["max_score"],
        "the next grade after the attacks:\n{}",
        honest.stderr
    );
}

/// What the report must say stopped the attacks that a limit stops.
fn check_cause(name: &str, report: &Value) {
    let shown = report.to_string();
    let want: &[&str] = match name {
        "memory" => &["memory together"],
        "big_file" => &["SIGXFSZ"],
        _ => &[],
    };
    for w in want {
        assert!(
            shown.contains(w),
            "{name}: the report does not say {w:?}:\n{report:#}"
        );
    }
}

/// The attacks are real: with every layer the machine allows turned off
/// (the kit's own switch, `HEAPLAB_SANDBOX_OFF`), they get through.
#[test]
fn without_the_confinement_the_attacks_get_through() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = tempfile::tempdir().unwrap();
    let off = [("HEAPLAB_SANDBOX_OFF", "all")];
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let ports = format!(
        "{} {}",
        listener.local_addr().unwrap().port(),
        udp.local_addr().unwrap().port()
    );
    std::fs::write("/tmp/heaplab-attack-ports", ports).unwrap();
    let planted = root().join("autograder/suites/src/heaplab_attack.rs");
    for (name, breach) in [
        ("network", "connected to 127.0.0.1"),
        ("big_file", "wrote to /tmp"),
        ("edit_tree", "opened"),
    ] {
        let run = grade_attack(name, Some(ONE_TEST), &out.path().join("r.json"), &off);
        let report = std::fs::read_to_string(out.path().join("r.json")).unwrap_or_default();
        let _ = std::fs::remove_file("/tmp/heaplab-attack-big");
        let _ = std::fs::remove_file(&planted);
        assert!(
            report.contains(&format!("BREACH {breach}")),
            "{name} without confinement should get through:\n{report}\n{}",
            run.stderr
        );
    }
    let _ = std::fs::remove_file("/tmp/heaplab-attack-ports");
    // Forging: the grader is killed after printing the fake report.
    let run = grade_attack("forge", Some(ONE_TEST), &out.path().join("f.json"), &off);
    let report = std::fs::read_to_string(out.path().join("f.json")).unwrap_or_default();
    assert_ne!(
        run.code, 1,
        "without confinement the forger kills the grader:\n{}\n{}\n{report}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.contains("\"passed\""), "{}", run.stdout);
}
