//! `realloc`, `calloc` and aligned blocks, checked against a model.
//!
//! A random sequence of C-style calls runs on the student's heap over the
//! grader's instrumented pages. After every call: each live block is aligned
//! as asked, inside mapped pages, apart from the others and still holding
//! the bytes the model says it holds; every free chunk is inside mapped pages
//! and touches no live block; the free-list length matches the walk; the
//! page-source contract holds. On failure proptest shrinks the sequence and
//! the message shows it, with a picture of the heap.
//!
//! The properties are the table [`PROPERTIES`]; the model and its calls are
//! [`run`]'s (`realloc`'s in [`realloc`]), the checks [`check`]'s, the random
//! calls [`strategy`]'s.

use std::rc::Rc;

use heaplab_kit::FullHeap;

use crate::alloc::{Failure, InstrumentedPages};
use crate::cases;
use crate::harness::{Ctx, Test};

mod check;
mod out_of_memory;
mod realloc;
mod run;
mod strategy;

use run::Run;

/// One call of a sequence. Indexes pick a live block modulo their number.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Malloc(usize),
    /// `calloc(n, size)`.
    Calloc(usize, usize),
    /// A block of `size` bytes aligned to `1 << shift`.
    Aligned(u32, usize),
    /// `realloc(block, size)`.
    Realloc(usize, usize),
    Free(usize),
    /// Fill the block with its pattern.
    Write(usize),
}

/// What a property draws and expects.
#[derive(Clone, Copy)]
pub(super) struct Rules {
    /// Weights of malloc, calloc, aligned, realloc, free, write.
    weights: [u32; 6],
    /// Expect `realloc` to stay in place when shrinking, or when the chunk
    /// right after the block is free, in the same mapping, and big enough.
    in_place: bool,
    /// Largest alignment shift drawn (12: a 4 KiB page).
    max_shift: u32,
}

/// Lesson 7's properties: the test's name and what it draws and expects.
const PROPERTIES: [(&str, Rules); 4] = [
    (
        "realloc_keeps_contents",
        Rules {
            weights: [4, 0, 0, 5, 2, 3],
            in_place: false,
            max_shift: 4,
        },
    ),
    (
        "realloc_grows_and_shrinks_in_place",
        Rules {
            weights: [4, 0, 0, 5, 3, 2],
            in_place: true,
            max_shift: 4,
        },
    ),
    (
        "calloc_zeroes_and_refuses_overflow",
        Rules {
            weights: [3, 4, 0, 0, 3, 3],
            in_place: false,
            max_shift: 4,
        },
    ),
    (
        "aligned_blocks_from_16_bytes_to_a_page",
        Rules {
            weights: [2, 0, 5, 2, 3, 3],
            in_place: false,
            max_shift: 12,
        },
    ),
];

/// Lesson 7's single-threaded tests on the instrumented pages.
pub fn tests<H: FullHeap + 'static, F: Fn(InstrumentedPages) -> H + 'static>(
    make: &Rc<F>,
) -> Vec<Test> {
    let mut tests: Vec<Test> = PROPERTIES
        .into_iter()
        .map(|(test, rules)| {
            let make = make.clone();
            Test::new(test, move |ctx| property(ctx, test, &*make, rules))
        })
        .collect();
    let make = make.clone();
    tests.push(Test::new("out_of_memory_returns_none", move |_| {
        out_of_memory::out_of_memory(&*make)
    }));
    tests
}

/// Runs `rules` over random sequences drawn from the seed.
fn property<H: FullHeap>(
    ctx: &Ctx,
    test: &str,
    make: &dyn Fn(InstrumentedPages) -> H,
    rules: Rules,
) -> Result<(), Failure> {
    let cases = if cfg!(miri) { 4 } else { 96 };
    let mut runner = cases::runner(ctx.seed, test, cases, 2048, *b"heaplab lesson 7");
    let strategy = proptest::collection::vec(strategy::op(rules), 1..=40);
    let found = |ops: &Vec<Op>| {
        format!(
            "(shortest failing sequence found: {} operations)",
            ops.len()
        )
    };
    cases::run(&mut runner, &strategy, found, |ops| {
        let mut run = Run::new(make, rules)?;
        for op in ops {
            run.apply_guarded(op)?;
        }
        run.free_all()
    })
}
