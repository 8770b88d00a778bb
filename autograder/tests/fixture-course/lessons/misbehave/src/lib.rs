//! The fixture lesson's stub.

/// The answer the fixture suite checks.
pub fn answer() -> u64 {
    // TODO: return the answer
    todo!()
}
