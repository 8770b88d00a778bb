//! Random cases, the one way every suite draws them: proptest's ChaCha RNG
//! seeded from the test's seed and name (no failure files), and a failure
//! that keeps its parts (what broke, the operations, the pictures) through
//! proptest's shrinking.

use std::cell::{Cell, RefCell};
use std::fmt::Debug;

use heaplab_protocol::Failure;
use proptest::strategy::Strategy;
use proptest::test_runner::{
    Config as RunnerConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};

use crate::alloc::record;
use crate::debug;
use crate::harness::reached_todo;

thread_local! {
    /// Milliseconds proptest may spend shrinking one failure (0: no limit).
    /// The checker sets it from the test's time limit, so a slow failure
    /// still reports the shortest case found in time.
    static SHRINK_MS: Cell<u32> = const { Cell::new(0) };
}

/// Caps the time each failure's shrinking may take from now on.
pub fn limit_shrinking(ms: u32) {
    SHRINK_MS.with(|s| s.set(ms));
}

/// A runner of `cases` cases for test `name`, its RNG seeded from `seed`,
/// the name (so tests sharing a seed still differ) and `tail`, the 16 bytes
/// that keep each family of tests' streams apart.
pub fn runner(seed: u64, name: &str, cases: u32, shrink_iters: u32, tail: [u8; 16]) -> TestRunner {
    // FNV-1a of the test name.
    let salt = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&salt.to_le_bytes());
    bytes[16..].copy_from_slice(&tail);
    let config = RunnerConfig {
        cases: if cfg!(miri) { cases.min(3) } else { cases },
        failure_persistence: None,
        max_shrink_iters: if cfg!(miri) { 16 } else { shrink_iters },
        max_shrink_time: SHRINK_MS.with(Cell::get),
        ..RunnerConfig::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Runs `case` on the strategy's values until one fails, then shrinks it.
/// The error is the failure of the shortest failing case found, with
/// `found(&case)` as its last note; when the cases drive a heap session,
/// that case is run once more to record the heap after each step
/// ([`record::with_steps`]). A `todo!()` reached stops the run (the test
/// then reports "not implemented").
pub fn run<T: Debug>(
    runner: &mut TestRunner,
    strategy: &impl Strategy<Value = T>,
    found: impl Fn(&T) -> String,
    case: impl Fn(T) -> Result<(), Failure>,
) -> Result<(), Failure> {
    // Every failing case proptest tries becomes its current shortest, so
    // the last failure kept is the one of the case it reports.
    let last: RefCell<Option<Failure>> = RefCell::new(None);
    let sessions = record::sessions_made();
    let result = runner.run(strategy, |value| {
        if reached_todo() {
            return Ok(());
        }
        case(value).map_err(|failure| {
            let reason = failure.what.clone();
            *last.borrow_mut() = Some(failure);
            TestCaseError::fail(reason)
        })
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, value)) => {
            let failure = last
                .take()
                .unwrap_or_else(|| Failure::text(reason.message()));
            let note = found(&value);
            let failure =
                if let Some((step, _)) = failure.step.clone().filter(|_| debug::debugging()) {
                    // Under --debug: the failing case once more, stopping in
                    // the debugger before the step that fails.
                    let _ = debug::replay_with_trap(step, || case(value));
                    failure
                } else if record::sessions_made() > sessions {
                    record::with_steps(failure, || case(value))
                } else {
                    failure
                };
            Err(failure.note(note))
        }
        Err(TestError::Abort(reason)) => Err(Failure::text(format!(
            "the property run was aborted: {}",
            reason.message()
        ))),
    }
}
