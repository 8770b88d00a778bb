//! `save-array`: writes the squares 0, 1, 4, ..., 81 to `./array.mem`.
use std::process::ExitCode;

fn main() -> ExitCode {
    lesson1::save_array()
}
