//! The student's crate as a shared library under a real program, and as the
//! `#[global_allocator]` of a Rust program; both built by the grader before
//! the tests (`course.toml`'s `[[lesson.build]]`: `library` and
//! `global-alloc`).

use std::process::Command;
use std::time::Duration;

use heaplab_protocol::Failure;

use crate::outside::{self, artifact, find_program, notice_todo, tail};

/// The statistics the library prints at exit with `HEAPLAB_STATS=1`:
/// `(chunks allocated, summed over every process that printed them; the
/// stderr without them)`, the count `None` if no process printed any.
pub fn split_stats(stderr: &[u8]) -> (Option<usize>, Vec<u8>) {
    let text = String::from_utf8_lossy(stderr);
    let mut allocated = None;
    let mut rest = String::new();
    let mut in_stats = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "== heap stats ==" {
            in_stats = 5;
            continue;
        }
        if in_stats > 0 {
            in_stats -= 1;
            // Every process of a pipeline prints its own statistics, and
            // they exit in any order: count the allocations of them all.
            if let Some(n) = line.strip_prefix("Chunks allocated:") {
                if let Ok(n) = n.trim().parse::<usize>() {
                    allocated = Some(allocated.unwrap_or(0) + n);
                }
            }
            continue;
        }
        rest.push_str(line);
    }
    (allocated, rest.into_bytes())
}

/// The counters `HEAPLAB_STATS=1` prints, each line's start.
const LABELS: [&str; 6] = [
    "== heap stats ==",
    "Pages mapped:",
    "Pages unmapped:",
    "Chunks allocated:",
    "Chunks freed:",
    "Free list length:",
];

/// `HEAPLAB_STATS=1` prints the five counters at exit; without it, nothing.
pub fn stats_at_exit() -> Result<(), Failure> {
    let lib = artifact("library")?;
    let ls = find_program("ls")
        .ok_or_else(|| Failure::text("ls is not installed: this test needs it (coreutils)"))?;
    let run = |stats: bool| -> Result<outside::Ran, Failure> {
        let mut c: Command = outside::command(&ls)?;
        c.arg("/").env("LD_PRELOAD", &lib);
        if stats {
            c.env("HEAPLAB_STATS", "1");
        }
        Ok(outside::run(c, Duration::from_secs(30))?)
    };
    let ran = run(true)?;
    notice_todo(&ran.stderr);
    let text = String::from_utf8_lossy(&ran.stderr);
    if let Some(label) = LABELS
        .iter()
        .find(|label| !text.lines().any(|l| l.starts_with(*label)))
    {
        return Err(Failure::text(format!(
            "LD_PRELOAD=<your library> HEAPLAB_STATS=1 ls /: stderr has no line starting \
             {label:?}\nexpected the five counters after \"== heap stats ==\" at exit (even \
             though ls closes stderr on its way out)\nfound:\n{}",
            tail(&ran.stderr)
        )));
    }
    match split_stats(&ran.stderr).0 {
        Some(n) if n > 0 => {}
        other => {
            return Err(Failure::text(format!(
                "HEAPLAB_STATS=1 ls /: \"Chunks allocated:\" reads {other:?}; ls allocates, so \
                 the library's malloc was not used?"
            )))
        }
    }
    let quiet = run(false)?;
    if !quiet.stderr.is_empty() {
        return Err(Failure::text(format!(
            "LD_PRELOAD=... ls / without HEAPLAB_STATS printed to stderr:\n{}\nexpected nothing",
            tail(&quiet.stderr)
        )));
    }
    Ok(())
}

/// The Rust program (collections, strings, threads, fork) with the crate as
/// its `#[global_allocator]` (`autograder/suites/programs/lesson7/global-alloc.rs`),
/// built by the grader: judged by its exit status and last line.
pub fn global_allocator_program() -> Result<(), Failure> {
    let program = artifact("global-alloc")?;
    let ran = outside::run(outside::command(&program)?, Duration::from_secs(60))?;
    notice_todo(&ran.stderr);
    let stdout = String::from_utf8_lossy(&ran.stdout);
    if !ran.status.success() || !stdout.lines().any(|l| l.starts_with("all checks passed")) {
        return Err(Failure::text(format!(
            "the Rust program with #[global_allocator] = student::Malloc failed: {}\nstdout:\n{}\n\
             stderr:\n{}",
            ran.status,
            tail(&ran.stdout),
            tail(&ran.stderr)
        )));
    }
    Ok(())
}
