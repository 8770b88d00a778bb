//! The learner's loop end to end: `grade watch` run on a pseudo-terminal
//! (score on screen, a save regrades, `q` quits with 0), and `grade status`
//! showing the last score kept by a grade of the student's own crate.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{grade_with_env, root};

/// Lesson 4's two split tests: enough to see a bug, cheap to run.
const TESTS: &str = "split";
/// The bug: a chunk handed out whole stays on the free list.
const CORRECT: &str = "self.relink(prev, next);\n            self.len -= 1;\n";
const FREE_LIST: &str = "src/free_list.rs";

/// One grade at a time: a grader running as root gives each worker slot a
/// user of its own and, after each test, kills every process of that user,
/// so two graders at once kill each other's student processes.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The lesson 4 reference, copied to `dir`.
fn lesson4_copy(dir: &Path) {
    let solution = root().join("solutions/lesson4-free-list");
    common::copy_crate(&solution, dir);
    let text = std::fs::read_to_string(dir.join(FREE_LIST)).unwrap();
    assert!(text.contains(CORRECT), "the reference's free_list.rs moved");
}

/// Saves `src/free_list.rs` with the chunk left on the list, or as the
/// reference has it.
fn save(dir: &Path, buggy: bool) {
    let reference = root().join("solutions/lesson4-free-list").join(FREE_LIST);
    let text = std::fs::read_to_string(reference).unwrap();
    let text = if buggy {
        text.replacen(CORRECT, "", 1)
    } else {
        text
    };
    std::fs::write(dir.join(FREE_LIST), text).unwrap();
}

/// Points of lesson 4's tests whose name has `TESTS`, and of the lesson.
fn points() -> (u32, u32) {
    let text = std::fs::read_to_string(root().join("course.toml")).unwrap();
    let course = heaplab_protocol::manifest::parse(&text).unwrap();
    let lesson = course.lessons.iter().find(|l| l.id == "lesson4").unwrap();
    let some = lesson.tests.iter().filter(|t| t.name.contains(TESTS));
    (some.map(|t| t.points).sum(), lesson.max_points())
}

/// A pseudo-terminal of 40 rows: (master, slave).
fn pty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: the out-pointers are valid ints; name and termios may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two fresh descriptors that nothing else owns.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// `grade watch` running on a pseudo-terminal, its screen read as it comes.
struct Watched {
    child: Child,
    keys: File,
    screen: Arc<Mutex<String>>,
}

impl Watched {
    fn start(args: &[&str]) -> Watched {
        let (master, slave) = pty();
        let child = Command::new(env!("CARGO_BIN_EXE_grade"))
            .args(args)
            .current_dir(root())
            .env("NO_COLOR", "1")
            .env_remove("HEAPLAB_MANIFEST")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .unwrap();
        let screen = Arc::new(Mutex::new(String::new()));
        let mut from = File::from(master.try_clone().unwrap());
        let to = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = from.read(&mut buf) {
                to.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Watched {
            child,
            keys: File::from(master),
            screen,
        }
    }

    /// The score of grade number `n` once it is on the screen.
    fn score(&mut self, n: usize, within: Duration) -> (u32, u32) {
        let stamp = format!("(grade #{n},");
        let started = Instant::now();
        loop {
            let screen = self.screen.lock().unwrap().clone();
            if let Some(at) = screen.find(&stamp) {
                let line = screen[..at].rsplit(['\n', 'H']).next().unwrap();
                let score = line.split_whitespace().last().unwrap();
                let (s, m) = score.split_once('/').unwrap();
                return (s.parse().unwrap(), m.parse().unwrap());
            }
            let exited = self.child.try_wait().unwrap();
            if exited.is_some() || started.elapsed() > within {
                let _ = self.child.kill();
                panic!("no {stamp} on the screen ({exited:?}):\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Presses `q`; the exit code.
    fn quit(mut self) -> i32 {
        self.keys.write_all(b"q").unwrap();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("q did not end watch mode:\n{}", self.screen.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A failed check leaves no watch mode running behind it.
impl Drop for Watched {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn watch_regrades_on_save_and_quits_on_q() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    lesson4_copy(dir.path());
    let (some, _) = points();
    let submission = dir.path().to_str().unwrap();
    let mut watch = Watched::start(&[
        "watch",
        "lesson4",
        "--submission",
        submission,
        "--test",
        TESTS,
    ]);
    // The first grade may build the checker: a cold build takes minutes.
    assert_eq!(watch.score(1, Duration::from_secs(900)), (some, some));
    save(dir.path(), true);
    let (buggy, max) = watch.score(2, Duration::from_secs(300));
    assert!(buggy < max, "the chunk left on the list lost nothing");
    save(dir.path(), false);
    assert_eq!(watch.score(3, Duration::from_secs(300)), (some, some));
    assert_eq!(watch.quit(), 0);
}

/// A course of its own in `dir`: heaplab's manifest, its suites, and the
/// lesson 4 reference as the student's lesson 4 crate.
fn own_course(dir: &Path) -> PathBuf {
    let suites = root().join("autograder/suites");
    let manifest = std::fs::read_to_string(root().join("course.toml")).unwrap();
    let manifest = format!("suites = {:?}\n{manifest}", suites.to_str().unwrap());
    std::fs::write(dir.join("course.toml"), manifest).unwrap();
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let krate = dir.join("lessons/lesson4-free-list");
    lesson4_copy(&krate);
    // The crate finds the kit by a path relative to where it lives.
    let cargo_toml = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap();
    let kit = format!("path = {:?}", root().join("kit").to_str().unwrap());
    assert!(cargo_toml.contains("path = \"../../kit\""), "{cargo_toml}");
    let cargo_toml = cargo_toml.replace("path = \"../../kit\"", &kit);
    std::fs::write(krate.join("Cargo.toml"), cargo_toml).unwrap();
    dir.join("course.toml")
}

/// The build folder this test's `grade` was built in: the course's
/// generated projects reuse its compiled crates.
fn target() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_grade"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// The status test's course folder: always the same, so that its build
/// is reused from one run to the next; the last run's records go first.
fn status_course() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-course");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let generated = target().join("heaplab");
    for entry in std::fs::read_dir(generated).into_iter().flatten().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("status-course-")
        {
            let _ = std::fs::remove_dir_all(entry.path().join("status"));
        }
    }
    dir
}

#[test]
fn status_shows_the_last_score_of_each_lesson() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = status_course();
    let manifest = own_course(&dir);
    let manifest = manifest.to_str().unwrap();
    let target = target();
    let env = [("CARGO_TARGET_DIR", target.to_str().unwrap())];
    let run = |args: &[&str]| {
        // After the subcommand: `grade --manifest M status` takes `status`
        // for a lesson (clap's args_conflicts_with_subcommands).
        let all = [args, &["--manifest", manifest][..]].concat();
        grade_with_env(&all, &env)
    };
    let status = || {
        let board = run(&["status"]);
        assert_eq!(board.code, 0, "{}", board.stderr);
        let line = board
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("lesson4 "));
        (
            line.unwrap_or_else(|| panic!("{}", board.stdout))
                .to_string(),
            board.stdout,
        )
    };
    let (some, max) = points();
    let (before, _) = status();
    assert!(before.contains("not graded yet"), "{before}");

    let graded = run(&["lesson4", "--test", TESTS]);
    assert_eq!(graded.code, 0, "{}{}", graded.stdout, graded.stderr);
    let (after, board) = status();
    assert!(after.contains(&format!(" {some}/{max} ")), "{board}");
    assert!(!after.contains("not graded yet"), "{board}");
    let lesson3 = board
        .lines()
        .find(|l| l.trim_start().starts_with("lesson3 "));
    assert!(
        lesson3.is_some_and(|l| l.contains("not graded yet")),
        "{board}"
    );

    save(&dir.join("lessons/lesson4-free-list"), true);
    let graded = run(&["lesson4", "--test", TESTS]);
    assert_eq!(graded.code, 1, "{}{}", graded.stdout, graded.stderr);
    let (buggy, board) = status();
    let lost = buggy
        .split_whitespace()
        .find_map(|w| w.strip_suffix(&format!("/{max}")))
        .and_then(|s| s.parse::<u32>().ok());
    assert!(lost.is_some_and(|s| s < some), "{board}");
}
