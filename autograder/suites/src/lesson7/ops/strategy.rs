//! The random calls a property draws, weighted by its [`Rules`].

use proptest::prelude::*;

use super::{Op, Rules};

/// Sizes: mostly small, some medium, a few of a page or more (lesson 6's
/// big path).
fn size() -> BoxedStrategy<usize> {
    prop_oneof![
        4 => 0usize..=64,
        3 => 65usize..=1024,
        1 => 1025usize..=4000,
        1 => 4000usize..=20_000,
    ]
    .boxed()
}

pub(super) fn op(rules: Rules) -> BoxedStrategy<Op> {
    let [malloc, calloc, aligned, realloc, free, write, refuse] = rules.weights;
    let max_shift = rules.max_shift;
    // Overflowing products that wrap around to a small number, the
    // dangerous kind: (usize::MAX / k + 1 + j) * k is a little over 2^64.
    let wrapping = (2usize..=64, 0usize..16).prop_map(|(k, j)| (usize::MAX / k + 1 + j, k));
    let calloc_args = prop_oneof![
        8 => (0usize..=16, 0usize..=300),
        1 => wrapping,
    ];
    let ops: Vec<(u32, BoxedStrategy<Op>)> = vec![
        (malloc, size().prop_map(Op::Malloc).boxed()),
        (
            calloc,
            calloc_args.prop_map(|(n, s)| Op::Calloc(n, s)).boxed(),
        ),
        (
            aligned,
            (4u32..=max_shift, size())
                .prop_map(|(a, s)| Op::Aligned(a, s))
                .boxed(),
        ),
        (
            realloc,
            (0usize..64, size())
                .prop_map(|(i, s)| Op::Realloc(i, s))
                .boxed(),
        ),
        (free, (0usize..64).prop_map(Op::Free).boxed()),
        (write, (0usize..64).prop_map(Op::Write).boxed()),
        (refuse, Just(Op::RefuseNextMap).boxed()),
    ];
    let ops: Vec<_> = ops.into_iter().filter(|(w, _)| *w > 0).collect();
    proptest::strategy::Union::new_weighted(ops).boxed()
}
