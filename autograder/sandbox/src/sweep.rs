//! Nothing of the student's outlives its test, and together its processes
//! stay within the test's memory: the checker is a child subreaper, so every
//! process the student's code starts (a double fork, `setsid`) stays one of
//! its descendants; they are found through `/proc/<pid>/task/*/children`,
//! killed at the end ([`reap_orphans`]), and watched while the test runs
//! ([`Watchdog`]): when their resident memory together passes the limit,
//! or the scratch folder grows past its quota, all of them are killed and
//! the reason is kept for the report.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the watchdog looks.
const EVERY: Duration = Duration::from_millis(40);

/// The children of process `pid`, from `/proc/<pid>/task/*/children`.
fn children_of(pid: &str) -> Vec<libc::pid_t> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            pids.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<libc::pid_t>().ok()),
            );
        }
    }
    pids
}

/// Every descendant of this process (children, their children, …).
pub fn descendants() -> Vec<libc::pid_t> {
    let mut all = children_of("self");
    let mut i = 0;
    while i < all.len() {
        for pid in children_of(&all[i].to_string()) {
            if !all.contains(&pid) {
                all.push(pid);
            }
        }
        i += 1;
    }
    all
}

/// Kills every descendant.
pub fn kill_all() {
    for pid in descendants() {
        // SAFETY: kill sends a signal; a descendant not reaped yet (only
        // this process reaps its children) keeps its id.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// Kills (and reaps) every child of this process but those in `keep`: what
/// one case of a test left running does not live on into the next.
/// Their children come back to this process as they die, and go next.
pub fn kill_children_but(keep: &[libc::pid_t]) {
    for _ in 0..100 {
        let strays: Vec<libc::pid_t> = children_of("self")
            .into_iter()
            .filter(|p| !keep.contains(p))
            .collect();
        if strays.is_empty() {
            return;
        }
        for pid in &strays {
            // SAFETY: a child of this process, not reaped yet: its id is its own.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        for pid in strays {
            // SAFETY: waits for our own child, just killed.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        }
    }
}

/// Stops every process this one adopted or started and has not reaped: the
/// programs the student's processes left running after their parents ended
/// come back to the checker, and are killed here until none is left.
pub fn reap_orphans() {
    for _ in 0..1000 {
        if descendants().is_empty() {
            return;
        }
        kill_all();
        // SAFETY: waitpid with WNOHANG only collects exited children.
        while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Kills every process whose real user is `uid` (a root grader's sweep of
/// one test's user, for processes a killed checker left behind), until
/// none is left.
pub fn kill_user(uid: libc::uid_t) {
    for _ in 0..100 {
        let pids = processes_of(uid);
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            // SAFETY: kill sends a signal; a process of this user, which the
            // grader never is, so no reused id of the grader's can be hit.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The processes whose real user is `uid`, from `/proc/*/status`.
fn processes_of(uid: libc::uid_t) -> Vec<libc::pid_t> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let wanted = format!("Uid:\t{uid}\t");
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .is_ok_and(|s| s.lines().any(|l| l.starts_with(&wanted)))
        })
        .collect()
}

/// Resident bytes of process `pid` (0 once it is gone).
fn resident_bytes(pid: libc::pid_t) -> u64 {
    let Ok(statm) = std::fs::read_to_string(format!("/proc/{pid}/statm")) else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    pages * page
}

/// Bytes of the files under `dir` (not following links).
fn folder_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => folder_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Watches the student's processes while a test runs.
pub struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Why the watchdog killed the student's processes, once it has.
static FIRED: Mutex<Option<String>> = Mutex::new(None);

/// The watchdog's reason, if it killed the student's processes.
pub fn watchdog_fired() -> Option<String> {
    FIRED.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

impl Watchdog {
    /// Starts watching: `memory` bytes resident across the descendants,
    /// `disk` bytes in `scratch`.
    pub fn start(memory: u64, scratch: PathBuf, disk: u64) -> Watchdog {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut round = 0u32;
            while !s.load(Ordering::Relaxed) {
                // Parked, not asleep: the end of the test wakes it at once.
                std::thread::park_timeout(EVERY);
                if s.load(Ordering::Relaxed) {
                    break;
                }
                round += 1;
                let check_disk = round.is_multiple_of(10);
                if let Some(why) = over(memory, &scratch, check_disk.then_some(disk)) {
                    // The reason first: the report reads it when it sees the kill.
                    *FIRED.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
                    kill_all();
                }
            }
        });
        Watchdog {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// Why the descendants are over a limit now, if they are.
fn over(memory: u64, scratch: &Path, disk: Option<u64>) -> Option<String> {
    let pids = descendants();
    let resident: u64 = pids.iter().map(|&p| resident_bytes(p)).sum();
    if resident > memory {
        return Some(format!(
            "the student's {} processes held {} MiB of memory together, over the test's {} MiB",
            pids.len(),
            resident >> 20,
            memory >> 20
        ));
    }
    let disk = disk?;
    let used = folder_bytes(scratch);
    (used > disk).then(|| {
        format!(
            "the student's processes wrote {} MiB of files, over the test's {} MiB",
            used >> 20,
            disk >> 20
        )
    })
}
