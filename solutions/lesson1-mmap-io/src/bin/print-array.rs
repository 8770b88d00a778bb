//! `print-array`: prints the elements of `./array.mem`, `i: value` one a line.
use std::process::ExitCode;

fn main() -> ExitCode {
    lesson1_solution::print_array()
}
