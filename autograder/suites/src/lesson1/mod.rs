//! Lesson 1's suite: the student's array in a shared file mapping
//! (`create`, `open`, slice views, unmapped on drop) and the lecture's two
//! programs, `save-array` and `print-array`.
//!
//! The programs run as processes of their own, each in a fresh folder, so
//! `./array.mem` is theirs alone; a program that reaches a `todo!()` makes
//! the test report "not implemented". The arrays live in the student's
//! process (in a local harness, in this one), and the tests look at that
//! process from the outside: its mappings, its open files, the file itself.

pub mod api;
mod array;
mod programs;
mod text;

use std::ops::DerefMut;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use heaplab_protocol::Failure;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tempfile::TempDir;

pub use api::{local, ArrayApi, LocalArrays, Made};

use crate::harness::{Program, Suite, Test};

/// The file both programs use, in the folder they run in.
const ARRAY_FILE: &str = "array.mem";
/// What `save-array` stores: element `i` is `i * i`.
const SQUARES: [i32; 10] = [0, 1, 4, 9, 16, 25, 36, 49, 64, 81];
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

/// Lesson 1's tests; `arrays` makes the student's arrays where the tests can
/// reach them: `heaplab_suites::remote::arrays` in the checker.
pub fn suite<A: ArrayApi + 'static>(arrays: impl Fn() -> A + 'static) -> Suite {
    let arrays = std::rc::Rc::new(arrays);
    let a = || arrays.clone();
    Suite {
        tests: vec![
            Test::new("save_array_file_is_40_bytes", |_| {
                programs::save_array_file_is_40_bytes()
            }),
            Test::new("save_array_writes_squares", |_| {
                programs::save_array_writes_squares()
            }),
            Test::new("print_array_prints_each_element", |ctx| {
                programs::print_array_prints_each_element(ctx)
            }),
            Test::new("print_array_reports_missing_file", |_| {
                programs::print_array_reports_missing_file()
            }),
            Test::new("round_trip_through_the_file", {
                let arrays = a();
                move |ctx| array::round_trip_through_the_file(&*arrays, ctx)
            }),
            with_arrays("empty_array_maps_nothing", a(), |arrays, _| {
                array::empty_array_maps_nothing(arrays)
            }),
            with_arrays("writes_are_shared_between_processes", a(), |arrays, ctx| {
                array::writes_are_shared_between_processes(arrays, ctx)
            }),
            with_arrays("drop_unmaps_the_file", a(), |arrays, _| {
                array::drop_unmaps_the_file(arrays)
            }),
            with_arrays("no_descriptor_left_open", a(), |arrays, _| {
                array::no_descriptor_left_open(arrays)
            }),
        ],
        programs: Vec::new(),
    }
}

/// A test that gets one fresh set of the student's arrays.
fn with_arrays<A: ArrayApi + 'static, G: Fn() -> A + 'static>(
    name: &'static str,
    arrays: std::rc::Rc<G>,
    body: impl Fn(&mut A, &crate::harness::Ctx) -> Result<(), Failure> + 'static,
) -> Test {
    Test::new(name, move |ctx| body(&mut arrays(), ctx))
}

/// Lesson 1's suite with the student's crate in this process (a local
/// harness): the arrays made here, and the two programs run as
/// `harness --as save-array`.
pub fn local_suite<M, E>(
    save_array: fn() -> ExitCode,
    print_array: fn() -> ExitCode,
    create: fn(&Path, usize) -> Result<M, E>,
    open: fn(&Path) -> Result<M, E>,
) -> Suite
where
    M: DerefMut<Target = [i32]> + 'static,
    E: std::fmt::Display + 'static,
{
    let mut suite = suite(local(create, open));
    suite.programs = vec![
        Program::new("save-array", move |_| save_array()),
        Program::new("print-array", move |_| print_array()),
    ];
    suite
}

/// A fresh temporary folder, removed when dropped. Its path is canonical
/// (no symbolic links), as `/proc/<pid>/maps` and `/proc/<pid>/fd` show paths.
fn temp_dir() -> Result<TempDir, Failure> {
    let base = std::env::temp_dir()
        .canonicalize()
        .map_err(|e| format!("cannot resolve the temporary folder: {e}"))?;
    let dir = tempfile::Builder::new()
        .prefix("heaplab-lesson1-")
        .tempdir_in(base)
        .map_err(|e| Failure::text(format!("cannot make a temporary folder: {e}")))?;
    // The student's process, maybe running as a user of its own, writes here.
    hand_over(dir.path())?;
    Ok(dir)
}

/// Gives `path` to the user the student's code runs as (in the checker).
fn hand_over(path: &std::path::Path) -> Result<(), Failure> {
    match crate::remote::config() {
        Some(config) => crate::remote::hand_over(path, &config)
            .map_err(|e| Failure::text(format!("cannot hand {} over: {e}", path.display()))),
        None => Ok(()),
    }
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
