//! The local harness's `--debug NAME`: run one test so that a debugger
//! stops just before the step that fails, in the very case the report
//! shows (the shortest failing sequence proptest found), at the same
//! addresses (the local harness maps its pages from the same window).
//!
//! The test runs once to find the failing step; then that case runs again
//! and, just before the step's call into the student's heap, the process
//! raises `SIGTRAP`: under `gdb` or `lldb` it stops there (`step` goes into
//! the student's `malloc` or `free`); without a debugger it ends.

use std::cell::Cell;

thread_local! {
    /// Set by `--debug`: a failing case is run again with a trap.
    static DEBUGGING: Cell<bool> = const { Cell::new(false) };
    /// The step to stop before, while a failing case runs again.
    static TRAP_AT: Cell<Option<usize>> = const { Cell::new(None) };
    /// True once the trap was raised.
    static TRAPPED: Cell<bool> = const { Cell::new(false) };
}

/// Turns debugging on for this thread's tests.
pub fn start() {
    DEBUGGING.with(|d| d.set(true));
}

/// True under `--debug`.
pub fn debugging() -> bool {
    DEBUGGING.with(Cell::get)
}

/// True once a trap was raised.
pub fn trapped() -> bool {
    TRAPPED.with(Cell::get)
}

/// Runs `again` (the failing case, once more) with a trap before `step`.
pub fn replay_with_trap<T>(step: usize, again: impl FnOnce() -> T) -> T {
    TRAP_AT.with(|t| t.set(Some(step)));
    let result = again();
    TRAP_AT.with(|t| t.set(None));
    result
}

/// Called before step `n`'s call into the heap: stops in the debugger when
/// that is the step to stop before.
pub fn before_step(n: usize, op: impl FnOnce() -> String) {
    if TRAP_AT.with(Cell::get) != Some(n) || trapped() {
        return;
    }
    TRAPPED.with(|t| t.set(true));
    let op = op();
    eprintln!(
        "heaplab: stopped just before step {n}, {op}. In the debugger: `finish` (three times) \
         back to the checker's call, then `step` into the heap's code; `continue` runs on to \
         the failure"
    );
    // SAFETY: raise only sends this process a signal; a debugger stops on
    // it, and without one the default action ends the process.
    unsafe { libc::raise(libc::SIGTRAP) };
}
