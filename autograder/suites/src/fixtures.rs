//! The grader's own test suite: a lesson whose student code misbehaves on
//! purpose (crashes, loops, exits, prints fake results, exhausts memory,
//! overflows the stack, leaves a program running), so the grader's tests
//! can show that each is graded as a failure with the right reason while the
//! other tests of the same run still pass.
//!
//! The misbehaving functions are the fixture crate's (the student's side,
//! `autograder/tests/fixture-course/`); each test here calls one by name in
//! the student's process and checks its answer. Used only by that course.

use heaplab_protocol::{Failure, Measured};

use crate::harness::{Suite, Test};
use crate::remote;

/// A test that calls the student's function `name` and wants 42.
fn wants_42(name: &'static str) -> Test {
    Test::new(name, move |_| match remote::call(name)? {
        42 => Ok(()),
        n => Err(Failure::new(
            format!("{name}() did not return the answer"),
            "42",
            n.to_string(),
        )
        .check("answer")),
    })
}

/// The fixture suite.
pub fn suite() -> Suite {
    let mut tests = vec![
        Test::new("passes", |_| Ok::<(), Failure>(())),
        Test::new("fails", |_| {
            Err(Failure::new(
                "expected 1 block, found 2",
                "1 block",
                "2 blocks",
            ))
        }),
        Test::new("seeded", |ctx| {
            // Fails with a message that depends only on the seed.
            Err(format!(
                "counterexample for seed {}: malloc({})",
                ctx.seed,
                ctx.seed % 4096
            ))
        }),
    ];
    for name in [
        "answer",
        "panics",
        "segfault",
        "aborts",
        "endless_loop",
        "ignores_sigterm",
        "exit_zero",
        "fake_tap",
        "fake_report",
        "out_of_memory",
        "stack_overflow",
        "chatty",
        "leaves_a_child",
        "runs_a_program",
    ] {
        tests.push(wants_42(name));
    }
    Suite {
        tests,
        programs: Vec::new(),
    }
}

/// A measured test that finds `value`.
fn finds(name: &'static str, value: f64) -> Test {
    Test::measured(name, move |_| {
        Ok(Measured {
            value,
            summary: format!("{value}× the fixture's yardstick"),
            table: "round  value\n    1  as found\n".to_string(),
        })
    })
}

/// The fixture suite of measured tests (`fixture-course/measured.toml`):
/// a gate test that passes, one that fails, and measured tests that find
/// fixed values.
pub fn measured_suite() -> Suite {
    Suite {
        tests: vec![
            Test::new("passes", |_| Ok::<(), Failure>(())),
            Test::new("fails", |_| {
                Err(Failure::new("the gate's check", "yes", "no"))
            }),
            finds("finds_three_quarters", 0.75),
            finds("finds_double", 2.0),
            finds("finds_half_as_much", 0.5),
            Test::measured("measure_fails", |_| {
                Err(Failure::text("the measured program printed something else"))
            }),
        ],
        programs: Vec::new(),
    }
}
