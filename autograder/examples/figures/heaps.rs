//! The heap drawings of the lesson pages: each a short sequence of
//! operations run on a lesson's reference heap (over the grader's own page
//! source, with the session recording as it does for a failing case), and
//! the heap as it was left, drawn by the report's own function.

use heaplab_autograder::report::html::svg;
use heaplab_kit::Heap;
use heaplab_protocol::heap_state::HeapState;
use heaplab_suites::alloc::{record, Check, Config, Failure, InstrumentedPages, Session};
use heaplab_suites::free_list::{self, Rules};

/// One operation of a figure's sequence.
#[derive(Clone, Copy)]
pub enum Op {
    /// `aN = malloc(size)`, N counting the mallocs from 0.
    Malloc(usize),
    /// `free(aN)`.
    Free(usize),
}

use Op::{Free, Malloc};

/// A figure: its file in docs/figures/, whose reference heap runs the
/// operations, and the operations.
pub struct Figure {
    pub file: &'static str,
    pub lesson: u8,
    pub ops: &'static [Op],
}

/// Every heap figure, in the order of the pages that show them.
pub const FIGURES: &[Figure] = &[
    Figure {
        file: "lesson2-one-run.svg",
        lesson: 2,
        ops: &[Malloc(40), Malloc(24), Malloc(56)],
    },
    Figure {
        file: "lesson2-new-run.svg",
        lesson: 2,
        ops: &[Malloc(24), Malloc(0), Malloc(5000)],
    },
    Figure {
        file: "lesson3-headers.svg",
        lesson: 3,
        ops: &[Malloc(40), Malloc(24), Malloc(56)],
    },
    Figure {
        file: "lesson4-free-list.svg",
        lesson: 4,
        ops: &[Malloc(24), Malloc(40), Malloc(70000), Free(1)],
    },
    Figure {
        file: "lesson4-split-before.svg",
        lesson: 4,
        ops: &[Malloc(1000), Malloc(24), Free(0)],
    },
    Figure {
        file: "lesson4-split-after.svg",
        lesson: 4,
        ops: &[Malloc(1000), Malloc(24), Free(0), Malloc(100)],
    },
    Figure {
        file: "lesson5-ten-pieces.svg",
        lesson: 4,
        ops: TEN_FREED,
    },
    Figure {
        file: "lesson5-merged.svg",
        lesson: 5,
        ops: TEN_FREED,
    },
    Figure {
        file: "lesson6-big-block.svg",
        lesson: 6,
        ops: &[Malloc(24), Malloc(10000), Malloc(40)],
    },
];

/// Twelve blocks of 800 bytes side by side, the ten in the middle freed:
/// lesson 5's lecture case, small.
const TEN_FREED: &[Op] = &[
    Malloc(800),
    Malloc(800),
    Malloc(800),
    Malloc(800),
    Malloc(800),
    Malloc(800),
    Malloc(800),
    Malloc(800),
    Malloc(800),
    Malloc(800),
    Malloc(800),
    Malloc(800),
    Free(1),
    Free(2),
    Free(3),
    Free(4),
    Free(5),
    Free(6),
    Free(7),
    Free(8),
    Free(9),
    Free(10),
];

/// The operations as the report writes them: `a0 = malloc(40); free(a0)`.
pub fn written(ops: &[Op]) -> String {
    let mut mallocs = 0;
    let words: Vec<String> = ops
        .iter()
        .map(|op| match *op {
            Malloc(size) => {
                mallocs += 1;
                format!("a{} = malloc({size})", mallocs - 1)
            }
            Free(n) => format!("free(a{n})"),
        })
        .collect();
    words.join("; ")
}

/// The figure drawn: an SVG file's text.
pub fn draw(figure: &Figure) -> String {
    let state = match figure.lesson {
        2 => state_after(lesson2_solution::BumpHeap::new, &Config::new(&[]), figure),
        3 => state_after(
            lesson3_solution::HeaderHeap::new,
            &Config::new(&[]).with_headers(),
            figure,
        ),
        4 => state_after(
            lesson4_solution::FreeListHeap::new,
            &free_list::config(&[Check::Aligned], Rules::LESSON4),
            figure,
        ),
        5 => state_after(
            lesson5_solution::CoalescingHeap::new,
            &free_list::config(&[Check::Aligned], Rules::LESSON5),
            figure,
        ),
        6 => state_after(
            lesson6_solution::BigHeap::new,
            &free_list::config(&[Check::Aligned], Rules::LESSON6),
            figure,
        ),
        n => panic!("{}: no reference heap for lesson {n}", figure.file),
    };
    let label = format!("the heap after {}", written(figure.ops));
    svg::standalone(&svg::draw(&state, &label))
}

/// The heap `make` builds after `figure`'s operations, as the session
/// recorded it after the last one.
fn state_after<H: Heap>(
    make: impl Fn(InstrumentedPages) -> H,
    config: &Config<H>,
    figure: &Figure,
) -> HeapState {
    let (ran, steps) = record::recorded(|| run(&make, config, figure.ops));
    if let Err(failure) = ran {
        panic!("{}: the reference heap failed: {failure:?}", figure.file);
    }
    let last = steps.into_iter().last();
    last.unwrap_or_else(|| panic!("{}: no step recorded", figure.file))
        .heap
}

fn run<H: Heap>(
    make: &dyn Fn(InstrumentedPages) -> H,
    config: &Config<H>,
    ops: &[Op],
) -> Result<(), Failure> {
    let mut s = Session::new(make, config)?;
    let mut ids = Vec::new();
    for op in ops {
        match *op {
            Malloc(size) => ids.push(s.malloc(size)?),
            Free(n) => s.free(ids[n])?,
        }
    }
    Ok(())
}
