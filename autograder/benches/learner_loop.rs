//! The learner's loop, measured: how long watch mode takes from saving a
//! file to the new score on the screen (lesson 4, warm, the whole lesson),
//! and how many lines the human report of each typical student bug takes
//! (the fixtures of tests/student_bugs.rs), with each cause said once and,
//! as every failure was shown before, with `--verbose`.
//!
//! Run: `cargo bench -p heaplab-autograder --bench learner_loop`
//! (`HEAPLAB_BENCH_SAVES=N` saves, default 8).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One planted bug of tests/student-bugs/bugs.toml (the kit test
/// tests/student_bugs.rs checks what the report says of each).
#[derive(serde::Deserialize)]
struct Bug {
    name: String,
    lesson: String,
    bug: String,
    solution: String,
    file: String,
    from: String,
    to: String,
}

fn bugs() -> Vec<Bug> {
    #[derive(serde::Deserialize)]
    struct Table {
        bug: Vec<Bug>,
    }
    let path = root().join("autograder/tests/student-bugs/bugs.toml");
    let text = std::fs::read_to_string(path).unwrap();
    toml::from_str::<Table>(&text).unwrap().bug
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("the learner's loop ({cores} cores)");
    report_lengths();
    save_to_score();
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// A copy of `solution` in a new folder, with `from` made `to` in `file`.
fn planted(solution: &str, file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let solution = root().join("solutions").join(solution);
    // `cp -r`: a reference's src/ has folders (lessons 4 and 5's free_list/).
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(solution.join("src"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(copied.success(), "cannot copy {}", solution.display());
    std::fs::copy(solution.join("Cargo.toml"), dir.path().join("Cargo.toml")).unwrap();
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} moved: no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    dir
}

/// Lines of the human report of each bug, as shown and with `--verbose`.
fn report_lengths() {
    println!("  report lines (grade LESSON --submission DIR --seed 7, NO_COLOR=1)");
    println!(
        "    {:<8} {:<42} {:>6} {:>9}",
        "lesson", "bug", "lines", "verbose"
    );
    for Bug {
        lesson,
        name: _,
        bug,
        solution,
        file,
        from,
        to,
    } in bugs()
    {
        let dir = planted(&solution, &file, &from, &to);
        let lesson = lesson.as_str();
        let lines = |verbose: bool| {
            let mut args = vec![lesson, "--submission", dir.path().to_str().unwrap()];
            args.extend(["--seed", "7"]);
            if verbose {
                args.push("--verbose");
            }
            let out = Command::new(env!("CARGO_BIN_EXE_grade"))
                .args(&args)
                .current_dir(root())
                .env("NO_COLOR", "1")
                .stderr(Stdio::null())
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).lines().count()
        };
        println!(
            "    {lesson:<8} {bug:<42} {:>6} {:>9}",
            lines(false),
            lines(true)
        );
    }
}

/// Watch mode on a copy of lesson 4's reference: saves alternate the bug
/// and the fix; each is timed from the write to its grade's score line.
fn save_to_score() {
    let saves: usize = std::env::var("HEAPLAB_BENCH_SAVES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);
    let left = bugs().into_iter().find(|b| b.name == "left-on-the-list");
    let left = left.expect("bugs.toml has the chunk left on the list");
    let dir = planted(&left.solution, &left.file, "", "");
    let path = dir.path().join(&left.file);
    let fixed = std::fs::read_to_string(&path).unwrap();
    let buggy = fixed.replacen(&left.from, &left.to, 1);
    let submission = dir.path().to_str().unwrap();
    let mut watch = Watched::start(&["watch", &left.lesson, "--submission", submission]);
    let first = Instant::now();
    watch.wait_for(1);
    println!(
        "  watch lesson4: first grade (builds the crate) {:.0} ms",
        first.elapsed().as_secs_f64() * 1000.0
    );
    // [bug, fix] × [save to screen, the grade's own time]
    let mut ms: [[Vec<f64>; 2]; 2] = Default::default();
    for n in 0..saves {
        std::thread::sleep(Duration::from_millis(300));
        let text = if n % 2 == 0 { &buggy } else { &fixed };
        let saved = Instant::now();
        std::fs::write(&path, text).unwrap();
        let grade = watch.wait_for(n + 2) * 1000.0;
        ms[n % 2][0].push(saved.elapsed().as_secs_f64() * 1000.0);
        ms[n % 2][1].push(grade);
    }
    watch.quit();
    let [[bug, bug_grade], [fix, fix_grade]] = &mut ms;
    spread("saving the bug: save to new score", bug);
    spread("  of which the grade (build + tests)", bug_grade);
    spread("saving the fix: save to new score", fix);
    spread("  of which the grade (build + tests)", fix_grade);
}

fn spread(what: &str, ms: &mut [f64]) {
    ms.sort_by(f64::total_cmp);
    println!(
        "  watch lesson4: {what:<36} median {:>5.0} ms   min {:>5.0} ms   max {:>5.0} ms   ({} saves)",
        ms[ms.len() / 2],
        ms[0],
        ms[ms.len() - 1],
        ms.len()
    );
}

/// `grade` on a pseudo-terminal, its screen read as it comes.
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

    /// Waits until grade number `n`'s score line is on the screen; the
    /// seconds the grade says it took (`(grade #n, 1.2 s)`).
    fn wait_for(&mut self, n: usize) -> f64 {
        let stamp = format!("(grade #{n}, ");
        loop {
            let screen = self.screen.lock().unwrap().clone();
            if let Some(at) = screen.find(&stamp) {
                let rest = &screen[at + stamp.len()..];
                if let Some(end) = rest.find(" s)") {
                    return rest[..end].parse().unwrap();
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("watch mode ended ({status}):\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn quit(mut self) {
        self.keys.write_all(b"q").unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "watch mode ended with {status}");
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
