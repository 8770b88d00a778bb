//! The fixture lesson's solution: the answer.

/// The answer the fixture suite checks.
pub fn answer() -> u64 {
    42
}
