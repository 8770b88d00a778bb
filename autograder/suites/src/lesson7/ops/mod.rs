//! `realloc`, `calloc` and aligned blocks, checked against a model.
//!
//! A random sequence of C-style calls runs on the student's heap over the
//! grader's instrumented pages. After every call: each live block is aligned
//! as asked, inside mapped pages, apart from the others and still holding
//! the bytes the model says it holds; the page-source contract holds. With
//! the course's layout ([`Layout::Headers`], lesson 7) also: every block has
//! its 16-byte header inside the same pages, every free chunk is inside
//! mapped pages and touches no live block, and the free-list length matches
//! the walk. Any allocator's layout ([`Layout::Any`], lesson 8) is checked
//! from the outside only. A sequence may make the page source refuse its
//! next map: a call may then return `None`, and must leave every block as
//! it was. On failure proptest shrinks the sequence and the message shows
//! it, with a picture of the heap.
//!
//! The properties are the table [`PROPERTIES`]; the model and its calls are
//! [`run`]'s (`realloc`'s in [`realloc`]), the checks [`check`]'s, the random
//! calls [`strategy`]'s.

use std::rc::Rc;

use heaplab_kit::layout::HEADER_BYTES;
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

/// What the checks may assume of the heap's blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The course's layout (lessons 3 to 7): a 16-byte header in front of
    /// every block, free chunks walked by `free_blocks()`.
    Headers,
    /// Any layout (lesson 8): only what a caller of `malloc` can see.
    Any,
}

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
    /// Make the page source refuse its next map.
    RefuseNextMap,
}

/// What a property draws and expects.
#[derive(Clone, Copy)]
pub struct Rules {
    /// Weights of malloc, calloc, aligned, realloc, free, write, and of
    /// refusing the next map.
    pub weights: [u32; 7],
    /// Expect `realloc` to stay in place when shrinking, or when the chunk
    /// right after the block is free, in the same mapping, and big enough
    /// (the course's layout only).
    pub in_place: bool,
    /// Largest alignment shift drawn (12: a 4 KiB page).
    pub max_shift: u32,
    /// What the checks may assume.
    pub layout: Layout,
}

impl Rules {
    /// Header bytes in front of a block.
    pub(super) fn header(&self) -> usize {
        match self.layout {
            Layout::Headers => HEADER_BYTES,
            Layout::Any => 0,
        }
    }
}

/// Lesson 7's properties: the test's name and what it draws and expects.
const PROPERTIES: [(&str, Rules); 4] = [
    (
        "realloc_keeps_contents",
        Rules {
            weights: [4, 0, 0, 5, 2, 3, 0],
            in_place: false,
            max_shift: 4,
            layout: Layout::Headers,
        },
    ),
    (
        "realloc_grows_and_shrinks_in_place",
        Rules {
            weights: [4, 0, 0, 5, 3, 2, 0],
            in_place: true,
            max_shift: 4,
            layout: Layout::Headers,
        },
    ),
    (
        "calloc_zeroes_and_refuses_overflow",
        Rules {
            weights: [3, 4, 0, 0, 3, 3, 0],
            in_place: false,
            max_shift: 4,
            layout: Layout::Headers,
        },
    ),
    (
        "aligned_blocks_from_16_bytes_to_a_page",
        Rules {
            weights: [2, 0, 5, 2, 3, 3, 0],
            in_place: false,
            max_shift: 12,
            layout: Layout::Headers,
        },
    ),
];

/// Lesson 7's single-threaded tests on the instrumented pages.
pub fn tests<H: FullHeap + 'static, F: Fn(InstrumentedPages) -> H + 'static>(
    make: &Rc<F>,
) -> Vec<Test> {
    let mut tests = properties(make, PROPERTIES);
    tests.push(out_of_memory_test(make, Layout::Headers));
    tests
}

/// A property test per `(name, rules)`.
pub fn properties<H: FullHeap + 'static, F: Fn(InstrumentedPages) -> H + 'static>(
    make: &Rc<F>,
    props: impl IntoIterator<Item = (&'static str, Rules)>,
) -> Vec<Test> {
    props
        .into_iter()
        .map(|(test, rules)| {
            let make = make.clone();
            Test::new(test, move |ctx| property(ctx, test, &*make, rules))
        })
        .collect()
}

/// `out_of_memory_returns_none`, for a heap of `layout`.
pub fn out_of_memory_test<H: FullHeap + 'static, F: Fn(InstrumentedPages) -> H + 'static>(
    make: &Rc<F>,
    layout: Layout,
) -> Test {
    let make = make.clone();
    Test::new("out_of_memory_returns_none", move |_| {
        out_of_memory::out_of_memory(&*make, layout)
    })
}

/// Runs `rules` over random sequences drawn from the seed.
pub fn property<H: FullHeap>(
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
