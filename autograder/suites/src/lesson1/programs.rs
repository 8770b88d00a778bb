//! Lesson 1's programs, `save-array` and `print-array`, each run as a
//! process of its own in a fresh folder, so `./array.mem` is theirs alone.

use std::fs;
use std::io;
use std::path::Path;
use std::process::Output;

use heaplab_protocol::Failure;
use predicates::prelude::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

use super::text::{compare_elements, decode, describe, encode, indent};
use super::{hand_over, runner, temp_dir, ARRAY_FILE, PROGRAM_TIMEOUT, SQUARES};
use crate::harness::{self, Ctx};

/// `save-array` leaves a file of exactly ten 4-byte elements.
pub fn save_array_file_is_40_bytes() -> Result<(), Failure> {
    let dir = temp_dir()?;
    let output = run_program("save-array", &[], dir.path())?;
    expect_success("save-array", &output)?;
    let size = fs::metadata(dir.path().join(ARRAY_FILE))
        .map_err(|_| "save-array exited with status 0 but left no ./array.mem".to_string())?
        .len();
    if size != 40 {
        return Err(Failure::text(format!(
            "after save-array, ./array.mem is {size} bytes\n\
             expected 40 bytes: 10 elements of 4 bytes (i32), no more"
        )));
    }
    Ok(())
}

/// `save-array` stores `i * i` in element `i`, little-endian, from byte 0.
pub fn save_array_writes_squares() -> Result<(), Failure> {
    let dir = temp_dir()?;
    let output = run_program("save-array", &[], dir.path())?;
    expect_success("save-array", &output)?;
    let bytes = fs::read(dir.path().join(ARRAY_FILE)).map_err(|e| {
        format!("save-array exited with status 0 but ./array.mem cannot be read: {e}")
    })?;
    let found = decode(&bytes[..bytes.len().min(SQUARES.len() * 4)]);
    if found != SQUARES {
        return Err(Failure::text(format!(
            "after save-array, ./array.mem does not hold the squares\n{}",
            compare_elements(&SQUARES, &found)
        )));
    }
    Ok(())
}

/// `print-array` prints every element of `./array.mem` as `i: value`: the
/// squares (the lecture's output), then other values, so that output
/// written without reading the file does not pass.
pub fn print_array_prints_each_element(ctx: &Ctx) -> Result<(), Failure> {
    let mut runner = runner(ctx.seed, 1);
    let others = vec(any::<i32>(), SQUARES.len())
        .new_tree(&mut runner)
        .map_err(|e| format!("could not draw values: {e}"))?
        .current();
    for values in [SQUARES.to_vec(), others] {
        let dir = temp_dir()?;
        let file = dir.path().join(ARRAY_FILE);
        fs::write(&file, encode(&values))
            .map_err(|e| format!("could not write ./array.mem for print-array: {e}"))?;
        hand_over(&file)?;
        let output = run_program("print-array", &[], dir.path())?;
        expect_success("print-array", &output)?;
        let expected: String = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{i}: {v}\n"))
            .collect();
        let found = String::from_utf8_lossy(&output.stdout);
        if found != expected {
            return Err(Failure::text(format!(
                "./array.mem holds {values:?}\n\
                 print-array should print (one element a line):\n{}\
                 it printed:\n{}",
                indent(&expected),
                indent(&found),
            )));
        }
    }
    Ok(())
}

/// Without `./array.mem`, `print-array` says which call failed and why, and
/// exits with status 1.
pub fn print_array_reports_missing_file() -> Result<(), Failure> {
    let dir = temp_dir()?;
    let output = run_program("print-array", &[], dir.path())?;
    // The OS's text for ENOENT, without Rust's " (os error 2)" suffix, so a
    // message printed like C's perror passes too.
    let enoent = io::Error::from_raw_os_error(libc::ENOENT).to_string();
    let reason = enoent.split(" (os error").next().unwrap_or(&enoent);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let error_line =
        predicate::str::contains("Failed call: open").and(predicate::str::contains(reason));
    let reported = stderr.lines().any(|line| error_line.eval(line));
    if !reported {
        return Err(Failure::text(format!(
            "print-array ran with no ./array.mem\n\
             expected a line on stderr with `Failed call: open` and the OS error \
             ({reason:?}), e.g.\n    Failed call: open: {enoent}\n\
             stderr was:\n{}",
            indent(&stderr)
        )));
    }
    if output.status.code() != Some(1) {
        return Err(Failure::text(format!(
            "print-array ran with no ./array.mem and {}; expected exit status 1",
            describe(output.status, PROGRAM_TIMEOUT.as_secs())
        )));
    }
    Ok(())
}

/// Runs the lesson's program `name` in `dir`.
fn run_program(name: &str, args: &[&str], dir: &Path) -> Result<Output, Failure> {
    harness::run_program(name, args, dir, PROGRAM_TIMEOUT)
}

fn expect_success(what: &str, output: &Output) -> Result<(), Failure> {
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(Failure::text(format!(
        "{what} {}; expected status 0\nstderr was:\n{}",
        describe(output.status, PROGRAM_TIMEOUT.as_secs()),
        indent(&stderr)
    )))
}
