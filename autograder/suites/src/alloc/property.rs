//! Random operation sequences with proptest, and the `Test` builders the
//! lesson suites use.

use std::rc::Rc;

use heaplab_kit::Heap;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

use super::check::{Config, Failure, OpMix};
use super::pages::InstrumentedPages;
use super::record;
use super::session::{Op, Session};
use crate::cases;
use crate::harness::{Ctx, Test};

/// The strategy for one operation of `mix`.
pub fn op_strategy(mix: &OpMix) -> BoxedStrategy<Op> {
    let sizes: Vec<(u32, BoxedStrategy<usize>)> = mix
        .sizes
        .0
        .iter()
        .map(|(w, r)| (*w, r.clone().boxed()))
        .collect();
    let size = proptest::strategy::Union::new_weighted(sizes);
    let mut ops: Vec<(u32, BoxedStrategy<Op>)> = vec![
        (mix.malloc, size.prop_map(Op::Malloc).boxed()),
        (mix.free, (0..64usize).prop_map(Op::Free).boxed()),
        (mix.write, (0..64usize).prop_map(Op::Write).boxed()),
    ];
    if mix.refuse_next_map > 0 {
        ops.push((mix.refuse_next_map, Just(Op::RefuseNextMap).boxed()));
    }
    ops.retain(|(w, _)| *w > 0);
    proptest::strategy::Union::new_weighted(ops).boxed()
}

/// Runs one sequence on a fresh heap: the operations, then freeing every
/// live block, then dropping the heap.
pub fn run_sequence<H: Heap>(
    make: &dyn Fn(InstrumentedPages) -> H,
    config: &Config<H>,
    ops: &[Op],
) -> Result<(), Failure> {
    let mut session = Session::new(make, config)?;
    for &op in ops {
        session.apply(op)?;
    }
    session.free_all()?;
    session.finish()
}

/// The 16 bytes that keep the properties' random streams their own.
fn tail(seed: u64, name: &str) -> [u8; 16] {
    let salt = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(seed ^ salt).rotate_left(17).to_le_bytes());
    bytes[8..].copy_from_slice(b"heaplab!");
    bytes
}

/// Checks `config` over `config.cases` random sequences drawn from `ctx.seed`;
/// on failure, the failure of the shortest failing sequence proptest found.
pub fn check_property<H: Heap>(
    ctx: &Ctx,
    name: &str,
    make: &dyn Fn(InstrumentedPages) -> H,
    config: &Config<H>,
) -> Result<(), Failure> {
    let mut runner = cases::runner(ctx.seed, name, config.cases, 2048, tail(ctx.seed, name));
    let strategy = proptest::collection::vec(op_strategy(&config.ops), 1..=config.ops.max_ops);
    let found = |_: &Vec<Op>| {
        format!(
            "(the shortest failing sequence found among {} random ones; after the \
             operations, the test frees every live block and drops the heap)",
            config.cases
        )
    };
    cases::run(&mut runner, &strategy, found, |ops| {
        run_sequence(make, config, &ops)
    })
}

/// A named property test: random sequences checked by `config`.
pub fn property<H, F>(name: &'static str, make: Rc<F>, config: Config<H>) -> Test
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    Test::new(name, move |ctx| check_property(ctx, name, &*make, &config))
}

/// A scenario's body, as a suite's table names it: it drives a fresh
/// [`Session`] and fails with the first expectation that does not hold.
pub type ScenarioFn<H> = fn(&mut Session<'_, H>) -> Result<(), Failure>;

/// A named scenario: `body` drives a fresh [`Session`] checked by `config`;
/// afterwards every live block is freed and the heap dropped. A failing
/// scenario runs once more, recording the heap after each step.
pub fn scenario<H, F, B>(name: &'static str, make: Rc<F>, config: Config<H>, body: B) -> Test
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
    B: Fn(&mut Session<'_, H>) -> Result<(), Failure> + 'static,
{
    Test::new(name, move |_ctx| {
        let run = || {
            let mut session = Session::new(&*make, &config)?;
            body(&mut session)?;
            session.free_all()?;
            session.finish()
        };
        // Once more on failure, to record the heap after each step.
        run().map_err(|failure| record::with_steps(failure, run))
    })
}
