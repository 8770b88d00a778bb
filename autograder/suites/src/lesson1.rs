//! Lesson 1's suite: the student's array in a shared file mapping (`create`,
//! `open`, slice views, unmapped on drop) and the lecture's two programs,
//! `save-array` and `print-array`.
//!
//! The programs run as separate processes, `harness --as save-array`, each in
//! a fresh temporary folder, so `./array.mem` is theirs alone. A program that
//! reaches a `todo!()` makes the test report "not implemented", as a
//! `todo!()` in the test's own process does.

use std::fmt::Display;
use std::fs;
use std::io;
use std::ops::DerefMut;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitCode, ExitStatus, Output};
use std::time::Duration;

use predicates::prelude::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use tempfile::TempDir;

use crate::harness::{self, Ctx, Program, Suite, Test};

/// The file both programs use, in the folder they run in.
const ARRAY_FILE: &str = "array.mem";
/// What `save-array` stores: element `i` is `i * i`.
const SQUARES: [i32; 10] = [0, 1, 4, 9, 16, 25, 36, 49, 64, 81];
/// The suite's own program: maps a file with the student's `open`, prints
/// what it sees, and writes back every element bit-flipped.
const PEER: &str = "lesson1-peer";
/// How long a program may run before it is killed: well inside the test's
/// own timeout (course.toml), so the message can say what happened.
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(4);
/// Cases the round-trip property tries.
const ROUND_TRIP_CASES: u32 = 64;
/// Shrinking bounds: a vector shrinks one element per step, so a
/// 2000-element counterexample needs about 2000 steps; the time bound keeps
/// the test inside its timeout.
const MAX_SHRINK_ITERS: u32 = 8192;
const MAX_SHRINK_MS: u32 = 4000;

/// The student's array type, as the tests reach it: its two constructors;
/// the elements are reached through `DerefMut<Target = [i32]>`.
struct Student<M, E> {
    create: fn(&Path, usize) -> Result<M, E>,
    open: fn(&Path) -> Result<M, E>,
}

// Written by hand: a derive would require `M: Copy`, but only the function
// pointers are copied.
impl<M, E> Clone for Student<M, E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M, E> Copy for Student<M, E> {}

/// Lesson 1's tests and programs.
///
/// `save_array` and `print_array` are the student's programs; `create` and
/// `open` build the student's array (`MappedArray::create(path, len)`, which
/// creates or empties the file and sizes it for `len` elements, and
/// `MappedArray::open(path)`), whose elements the tests reach as a slice.
pub fn suite<M, E>(
    save_array: fn() -> ExitCode,
    print_array: fn() -> ExitCode,
    create: fn(&Path, usize) -> Result<M, E>,
    open: fn(&Path) -> Result<M, E>,
) -> Suite
where
    M: DerefMut<Target = [i32]> + 'static,
    E: Display + 'static,
{
    let student = Student { create, open };
    Suite {
        tests: vec![
            Test::new("save_array_file_is_40_bytes", |_| {
                save_array_file_is_40_bytes()
            }),
            Test::new("save_array_writes_squares", |_| save_array_writes_squares()),
            Test::new("print_array_prints_each_element", |ctx| {
                print_array_prints_each_element(ctx)
            }),
            Test::new("print_array_reports_missing_file", |_| {
                print_array_reports_missing_file()
            }),
            Test::new("round_trip_through_the_file", move |ctx| {
                round_trip_through_the_file(student, ctx)
            }),
            Test::new("empty_array_maps_nothing", move |_| {
                empty_array_maps_nothing(student)
            }),
            Test::new("writes_are_shared_between_processes", move |ctx| {
                writes_are_shared_between_processes(student, ctx)
            }),
            Test::new("drop_unmaps_the_file", move |_| {
                drop_unmaps_the_file(student)
            }),
            Test::new("no_descriptor_left_open", move |_| {
                no_descriptor_left_open(student)
            }),
        ],
        programs: vec![
            Program::new("save-array", move |_| save_array()),
            Program::new("print-array", move |_| print_array()),
            Program::new(PEER, move |args| peer(open, args)),
        ],
    }
}

// ---- the programs -------------------------------------------------------

/// `save-array` leaves a file of exactly ten 4-byte elements.
fn save_array_file_is_40_bytes() -> Result<(), String> {
    let dir = temp_dir()?;
    let output = run_program("save-array", &[], dir.path())?;
    expect_success("save-array", &output)?;
    let size = fs::metadata(dir.path().join(ARRAY_FILE))
        .map_err(|_| "save-array exited with status 0 but left no ./array.mem".to_string())?
        .len();
    if size != 40 {
        return Err(format!(
            "after save-array, ./array.mem is {size} bytes\n\
             expected 40 bytes: 10 elements of 4 bytes (i32), no more"
        ));
    }
    Ok(())
}

/// `save-array` stores `i * i` in element `i`, little-endian, from byte 0.
fn save_array_writes_squares() -> Result<(), String> {
    let dir = temp_dir()?;
    let output = run_program("save-array", &[], dir.path())?;
    expect_success("save-array", &output)?;
    let bytes = fs::read(dir.path().join(ARRAY_FILE)).map_err(|e| {
        format!("save-array exited with status 0 but ./array.mem cannot be read: {e}")
    })?;
    let found = decode(&bytes[..bytes.len().min(SQUARES.len() * 4)]);
    if found != SQUARES {
        return Err(format!(
            "after save-array, ./array.mem does not hold the squares\n{}",
            compare_elements(&SQUARES, &found)
        ));
    }
    Ok(())
}

/// `print-array` prints every element of `./array.mem` as `i: value`: the
/// squares (the lecture's output), then other values, so that output
/// written without reading the file does not pass.
fn print_array_prints_each_element(ctx: &Ctx) -> Result<(), String> {
    let mut runner = runner(ctx.seed, 1);
    let others = vec(any::<i32>(), SQUARES.len())
        .new_tree(&mut runner)
        .map_err(|e| format!("could not draw values: {e}"))?
        .current();
    for values in [SQUARES.to_vec(), others] {
        let dir = temp_dir()?;
        fs::write(dir.path().join(ARRAY_FILE), encode(&values))
            .map_err(|e| format!("could not write ./array.mem for print-array: {e}"))?;
        let output = run_program("print-array", &[], dir.path())?;
        expect_success("print-array", &output)?;
        let expected: String = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{i}: {v}\n"))
            .collect();
        let found = String::from_utf8_lossy(&output.stdout);
        if found != expected {
            return Err(format!(
                "./array.mem holds {values:?}\n\
                 print-array should print (one element a line):\n{}\
                 it printed:\n{}",
                indent(&expected),
                indent(&found),
            ));
        }
    }
    Ok(())
}

/// Without `./array.mem`, `print-array` says which call failed and why, and
/// exits with status 1.
fn print_array_reports_missing_file() -> Result<(), String> {
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
        return Err(format!(
            "print-array ran with no ./array.mem\n\
             expected a line on stderr with `Failed call: open` and the OS error \
             ({reason:?}), e.g.\n    Failed call: open: {enoent}\n\
             stderr was:\n{}",
            indent(&stderr)
        ));
    }
    if output.status.code() != Some(1) {
        return Err(format!(
            "print-array ran with no ./array.mem and {}; expected exit status 1",
            describe(output.status)
        ));
    }
    Ok(())
}

// ---- the array ----------------------------------------------------------

/// Any array survives a trip through its file: `create` (all zeros, even
/// over an old file), write every element, drop; the file holds exactly
/// those bytes; `open` reads them back.
fn round_trip_through_the_file<M, E>(student: Student<M, E>, ctx: &Ctx) -> Result<(), String>
where
    M: DerefMut<Target = [i32]>,
    E: Display,
{
    let dir = temp_dir()?;
    let path = dir.path().join("round-trip.mem");
    // Short arrays shrink well and include the empty one; long ones span
    // several pages (1024 elements a page).
    let arrays = prop_oneof![vec(any::<i32>(), 0..=16), vec(any::<i32>(), 0..=2100)];
    let mut runner = runner(ctx.seed, ROUND_TRIP_CASES);
    let result = runner.run(&arrays, |values| {
        // After a todo!(), every case fails the same way: skip the rest.
        if harness::reached_todo() {
            return Ok(());
        }
        round_trip_once(student, &path, &values).map_err(TestCaseError::fail)
    });
    if harness::reached_todo() {
        return Err("the array reached a todo!()".to_string());
    }
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(why, values)) => Err(format!(
            "the round trip fails for this array of {} element(s), the smallest \
             failing one found:\n    {}\n{why}",
            values.len(),
            preview(&values)
        )),
        Err(TestError::Abort(why)) => Err(format!("the round-trip property stopped: {why}")),
    }
}

fn round_trip_once<M, E>(student: Student<M, E>, path: &Path, values: &[i32]) -> Result<(), String>
where
    M: DerefMut<Target = [i32]>,
    E: Display,
{
    let n = values.len();
    let mut array =
        (student.create)(path, n).map_err(|e| format!("create(path, {n}) failed: {e}"))?;
    if array.len() != n {
        return Err(format!(
            "create(path, {n}) gave an array of {} elements; expected {n}",
            array.len()
        ));
    }
    // The file is reused from case to case: create must empty it.
    if let Some(i) = array.iter().position(|&x| x != 0) {
        return Err(format!(
            "create(path, {n}) over an existing file gave element {i} = {}; \
             expected all zeros (create empties the file: O_TRUNC)",
            array[i]
        ));
    }
    array.copy_from_slice(values);
    drop(array);

    let bytes = fs::read(path).map_err(|e| format!("the file cannot be read back: {e}"))?;
    if bytes.len() != n * 4 {
        return Err(format!(
            "after create(path, {n}), writing and dropping, the file is {} bytes; \
             expected {} ({n} elements of 4 bytes)",
            bytes.len(),
            n * 4
        ));
    }
    if bytes != encode(values) {
        return Err(format!(
            "after writing the elements and dropping the array, the file does not \
             hold them\n{}",
            compare_elements(values, &decode(&bytes))
        ));
    }

    let array = (student.open)(path).map_err(|e| format!("open(path) failed: {e}"))?;
    if *array != *values {
        return Err(format!(
            "open(path) of the file written gives other elements\n{}",
            compare_elements(values, &array)
        ));
    }
    Ok(())
}

/// An empty array maps nothing (mmap refuses length 0): `create(path, 0)`
/// and `open` of an empty file succeed, with an empty slice.
fn empty_array_maps_nothing<M, E>(student: Student<M, E>) -> Result<(), String>
where
    M: DerefMut<Target = [i32]>,
    E: Display,
{
    let dir = temp_dir()?;
    let path = dir.path().join("empty.mem");
    let array = (student.create)(&path, 0).map_err(|e| {
        format!("create(path, 0) failed: {e}\nexpected an empty array (mmap refuses length 0)")
    })?;
    check_empty("create(path, 0)", &array, &path)?;
    drop(array);
    let size = fs::metadata(&path)
        .map_err(|e| format!("after create(path, 0) the file is missing: {e}"))?
        .len();
    if size != 0 {
        return Err(format!(
            "after create(path, 0) the file is {size} bytes; expected 0"
        ));
    }
    let array = (student.open)(&path)
        .map_err(|e| format!("open(path) of an empty file failed: {e}\nexpected an empty array"))?;
    check_empty("open(path) of an empty file", &array, &path)
}

fn check_empty(what: &str, array: &[i32], path: &Path) -> Result<(), String> {
    if !array.is_empty() {
        return Err(format!(
            "{what} gave {} elements; expected none",
            array.len()
        ));
    }
    if maps_file(path)? {
        return Err(format!(
            "{what} gave an empty array, but /proc/self/maps lists a mapping of the \
             file: an empty array needs no mmap"
        ));
    }
    Ok(())
}

/// Writes through one process's mapping are seen at once by another process
/// mapping the same file, and the other way round: MAP_SHARED.
fn writes_are_shared_between_processes<M, E>(
    student: Student<M, E>,
    ctx: &Ctx,
) -> Result<(), String>
where
    M: DerefMut<Target = [i32]>,
    E: Display,
{
    // More than one page, so every page must be shared, not just the first.
    let mut runner = runner(ctx.seed, 1);
    let values = vec(any::<i32>(), 1500)
        .new_tree(&mut runner)
        .map_err(|e| format!("could not draw values: {e}"))?
        .current();
    let dir = temp_dir()?;
    let name = "shared.mem";
    let path = dir.path().join(name);
    let mut array = (student.create)(&path, values.len())
        .map_err(|e| format!("create(path, {}) failed: {e}", values.len()))?;
    if array.len() != values.len() {
        return Err(format!(
            "create(path, {}) gave an array of {} elements",
            values.len(),
            array.len()
        ));
    }
    array.copy_from_slice(&values);

    // The array stays mapped (not dropped) while the other process runs.
    let output = run_program(PEER, &[name], dir.path())?;
    expect_success("the second process (open, read, write)", &output)?;
    let seen: Result<Vec<i32>, _> = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::parse)
        .collect();
    let seen = seen.map_err(|e| format!("the second process printed something odd: {e}"))?;
    if seen != values {
        return Err(format!(
            "this process wrote {} elements through its array and kept it mapped; \
             a second process that opened the file saw other elements\n{}\n\
             (writes through a MAP_SHARED mapping reach the file at once; \
             MAP_PRIVATE keeps them in the writing process)",
            values.len(),
            compare_elements(&values, &seen)
        ));
    }
    let flipped: Vec<i32> = values.iter().map(|v| !v).collect();
    if *array != flipped[..] {
        return Err(format!(
            "a second process opened the file and wrote !x into every element; \
             this process's array, still mapped, does not show it\n{}",
            compare_elements(&flipped, &array)
        ));
    }
    Ok(())
}

/// The suite's second process: `harness --as lesson1-peer FILE` opens FILE
/// with the student's `open`, prints the elements, and flips every bit of
/// each through its own mapping.
fn peer<M, E>(open: fn(&Path) -> Result<M, E>, args: &[String]) -> ExitCode
where
    M: DerefMut<Target = [i32]>,
    E: Display,
{
    let Some(file) = args.first() else {
        eprintln!("{PEER}: usage: harness --as {PEER} FILE");
        return ExitCode::from(2);
    };
    let mut array = match open(Path::new(file)) {
        Ok(array) => array,
        Err(e) => {
            eprintln!("open({file}) failed: {e}");
            return ExitCode::from(1);
        }
    };
    let line: Vec<String> = array.iter().map(i32::to_string).collect();
    println!("{}", line.join(" "));
    for element in array.iter_mut() {
        *element = !*element;
    }
    ExitCode::SUCCESS
}

/// Dropping an array unmaps the file, whether `create` or `open` made it.
fn drop_unmaps_the_file<M, E>(student: Student<M, E>) -> Result<(), String>
where
    M: DerefMut<Target = [i32]> + 'static,
    E: Display + 'static,
{
    let dir = temp_dir()?;
    let path = dir.path().join("dropped.mem");
    for (made_by, make) in makers(student) {
        let array = make(&path).map_err(|e| format!("{made_by} failed: {e}"))?;
        if !maps_file(&path)? {
            return Err(format!(
                "while the array from {made_by} is alive, /proc/self/maps shows no \
                 mapping of the file: is the file mmap-ed?"
            ));
        }
        drop(array);
        if maps_file(&path)? {
            return Err(format!(
                "the array from {made_by} was dropped, but /proc/self/maps still \
                 lists a mapping of the file:\n{}",
                indent(&maps_lines(&path)?.join("\n"))
            ));
        }
    }
    Ok(())
}

/// No file descriptor on the array's file is left open once the array is
/// dropped (whether it is closed right after mmap or on drop).
fn no_descriptor_left_open<M, E>(student: Student<M, E>) -> Result<(), String>
where
    M: DerefMut<Target = [i32]> + 'static,
    E: Display + 'static,
{
    let dir = temp_dir()?;
    let path = dir.path().join("closed.mem");
    for (made_by, make) in makers(student) {
        let array = make(&path).map_err(|e| format!("{made_by} failed: {e}"))?;
        drop(array);
        let open = descriptors_on(&path)?;
        if !open.is_empty() {
            return Err(format!(
                "the array from {made_by} was dropped, but this process still has \
                 file descriptor(s) {open:?} open on the file: every open needs a close"
            ));
        }
    }
    Ok(())
}

// ---- helpers ------------------------------------------------------------

/// A way to get an array of a file at the given path.
type Maker<M, E> = Box<dyn Fn(&Path) -> Result<M, E>>;

/// The two ways to get an array of a file, named for messages: `create`
/// (3000 elements: three pages, so that unmapping only the first page, or
/// `len` bytes instead of `len * 4`, shows), then `open` of the file
/// `create` made.
fn makers<M: 'static, E: 'static>(student: Student<M, E>) -> [(&'static str, Maker<M, E>); 2] {
    let create = move |path: &Path| (student.create)(path, 3000);
    [
        ("create(path, 3000)", Box::new(create)),
        ("open(path)", Box::new(student.open)),
    ]
}

/// A fresh temporary folder, removed when dropped. Its path is canonical
/// (no symbolic links), as `/proc/self/maps` and `/proc/self/fd` show paths.
fn temp_dir() -> Result<TempDir, String> {
    let base = std::env::temp_dir()
        .canonicalize()
        .map_err(|e| format!("cannot resolve the temporary folder: {e}"))?;
    tempfile::Builder::new()
        .prefix("heaplab-lesson1-")
        .tempdir_in(base)
        .map_err(|e| format!("cannot make a temporary folder: {e}"))
}

/// A proptest runner drawing from `seed`, with no failure files written.
fn runner(seed: u64, cases: u32) -> TestRunner {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: MAX_SHRINK_ITERS,
        max_shrink_time: MAX_SHRINK_MS,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key))
}

/// Runs `harness --as NAME ARGS...` in `dir`. A program that reached a
/// `todo!()` makes this test "not implemented".
fn run_program(name: &str, args: &[&str], dir: &Path) -> Result<Output, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find the harness binary to run {name}: {e}"))?;
    let output = assert_cmd::Command::new(exe)
        .arg("--as")
        .arg(name)
        .args(args)
        .current_dir(dir)
        .timeout(PROGRAM_TIMEOUT)
        .output()
        .map_err(|e| format!("cannot run {name}: {e}"))?;
    if let Some(location) = todo_location(&String::from_utf8_lossy(&output.stderr)) {
        harness::note_todo(location.clone());
        return Err(format!("{name} reached a todo!() at {location}"));
    }
    Ok(output)
}

/// Where a program's `todo!()` panicked, from Rust's panic message on stderr:
/// `thread 'main' (123) panicked at src/lib.rs:10:5:` then
/// `not yet implemented`.
fn todo_location(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    while let Some(line) = lines.next() {
        if let Some((_, at)) = line.split_once(" panicked at ") {
            let message = lines.next().unwrap_or_default();
            if message.starts_with("not yet implemented") || message.starts_with("not implemented")
            {
                return Some(at.trim_end_matches(':').to_string());
            }
        }
    }
    None
}

fn expect_success(what: &str, output: &Output) -> Result<(), String> {
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!(
        "{what} {}; expected status 0\nstderr was:\n{}",
        describe(output.status),
        indent(&stderr)
    ))
}

/// How a process ended, in words: a signal by name.
fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    match status.signal() {
        Some(libc::SIGBUS) => {
            "was killed by SIGBUS: it touched a mapped page past the end of the file \
             (was the file made big enough with ftruncate?)"
                .to_string()
        }
        Some(libc::SIGSEGV) => "was killed by SIGSEGV: a bad memory access".to_string(),
        Some(libc::SIGABRT) => "was killed by SIGABRT (abort)".to_string(),
        Some(libc::SIGKILL) => format!(
            "was killed by SIGKILL (still running after {} s?)",
            PROGRAM_TIMEOUT.as_secs()
        ),
        Some(signal) => format!("was killed by signal {signal}"),
        None => format!("ended ({status})"),
    }
}

/// The elements of a file's bytes, 4 little-endian bytes each; a partial
/// element at the end is left out.
fn decode(bytes: &[u8]) -> Vec<i32> {
    bytes
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn encode(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Expected against found elements: the first difference, and the lengths
/// when they differ.
fn compare_elements(expected: &[i32], found: &[i32]) -> String {
    let mut lines = Vec::new();
    if expected.len() != found.len() {
        lines.push(format!(
            "expected {} elements, found {}",
            expected.len(),
            found.len()
        ));
    }
    if let Some(i) = (0..expected.len().min(found.len())).find(|&i| expected[i] != found[i]) {
        let differ = (i..expected.len().min(found.len()))
            .filter(|&j| expected[j] != found[j])
            .count();
        lines.push(format!(
            "element {i}: expected {}, found {} ({differ} element(s) differ)",
            expected[i], found[i]
        ));
    }
    lines.push(format!("expected: {}", preview(expected)));
    lines.push(format!("found:    {}", preview(found)));
    lines.join("\n")
}

/// The first elements of an array, enough to recognise it.
fn preview(values: &[i32]) -> String {
    const SHOWN: usize = 12;
    if values.len() <= SHOWN {
        format!("{values:?}")
    } else {
        let head: Vec<String> = values[..SHOWN].iter().map(i32::to_string).collect();
        format!("[{}, ... ({} more)]", head.join(", "), values.len() - SHOWN)
    }
}

/// `text` indented for a message, at most 24 lines of it.
fn indent(text: &str) -> String {
    const SHOWN: usize = 24;
    if text.trim().is_empty() {
        return "    (nothing)\n".to_string();
    }
    let mut out: String = text
        .lines()
        .take(SHOWN)
        .map(|l| format!("    {l}\n"))
        .collect();
    let more = text.lines().count().saturating_sub(SHOWN);
    if more > 0 {
        out.push_str(&format!("    ... ({more} more lines)\n"));
    }
    out
}

/// The lines of `/proc/self/maps` that map the file at `path`.
fn maps_lines(path: &Path) -> Result<Vec<String>, String> {
    let maps = fs::read_to_string("/proc/self/maps")
        .map_err(|e| format!("cannot read /proc/self/maps: {e}"))?;
    let path = path.to_string_lossy();
    Ok(maps
        .lines()
        .filter(|line| line.ends_with(&*path))
        .map(str::to_string)
        .collect())
}

fn maps_file(path: &Path) -> Result<bool, String> {
    Ok(!maps_lines(path)?.is_empty())
}

/// This process's file descriptors open on the file at `path`.
fn descriptors_on(path: &Path) -> Result<Vec<u32>, String> {
    let entries =
        fs::read_dir("/proc/self/fd").map_err(|e| format!("cannot list /proc/self/fd: {e}"))?;
    Ok(entries
        .flatten()
        .filter(|entry| fs::read_link(entry.path()).ok().as_deref() == Some(path))
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect::<Vec<u32>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todo_location_reads_rusts_panic_message() {
        let stderr =
            "\nthread 'main' (4242) panicked at lessons/lesson1-mmap-io/src/lib.rs:120:9:\n\
                      not yet implemented\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            todo_location(stderr).as_deref(),
            Some("lessons/lesson1-mmap-io/src/lib.rs:120:9")
        );
        let other = "thread 'main' panicked at src/lib.rs:3:5:\nindex out of bounds\n";
        assert_eq!(todo_location(other), None);
    }

    #[test]
    fn files_hold_little_endian_elements() {
        assert_eq!(encode(&[1, -1]), [1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(decode(&encode(&SQUARES)), SQUARES);
    }
}
