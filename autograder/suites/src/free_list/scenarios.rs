//! The named scenarios every free-list lesson runs (reuse, splitting, first
//! fit, fault injection, misuse free must stop), as a table ([`common`]), and what lessons 4 to 6
//! build their own scenarios with: [`scenario`], [`tests`] and
//! [`neighbours`].

use std::rc::Rc;

use heaplab_kit::{Block, Heap};

use super::{
    chunk_bytes_for, config, free_chunk_holding, free_chunk_sizes, live_chunk, position, show,
    Rules, BASE,
};
use crate::alloc::{self, fault, junk, misuse, Failure, InstrumentedPages, ScenarioFn, Session};
use crate::harness::Test;

/// A row of a free-list scenario table: the test's name and the scenario.
pub type Row<H> = (&'static str, ScenarioFn<H>);

/// The scenarios every free-list lesson runs (first fit, splitting, reuse)
/// and the fault injection of lessons 2-3, here around splitting.
pub fn common<H: Heap>() -> Vec<Row<H>> {
    vec![
        ("freed_block_is_reused", freed_block_is_reused),
        (
            "free_fills_the_payload_with_junk",
            junk::freed_payload_is_junk,
        ),
        (
            "new_run_rest_goes_on_the_list",
            new_run_rest_goes_on_the_list,
        ),
        (
            "split_leaves_the_remainder_on_the_list",
            split_leaves_the_remainder_on_the_list,
        ),
        ("rest_too_small_is_not_split", rest_too_small_is_not_split),
        (
            "first_fit_takes_the_first_chunk_that_fits",
            first_fit_takes_the_first_chunk_that_fits,
        ),
        (
            "refused_map_leaves_the_free_list_intact",
            refused_map_leaves_the_free_list_intact,
        ),
        ("survives_map_failure", survives_map_failure),
        ("first_map_fails", first_map_fails),
        ("hopeless_requests_return_none", fault::hopeless_requests),
        // Misuse free must stop loudly.
        ("double_free_is_stopped", misuse::double_free_is_stopped),
        (
            "foreign_pointer_is_stopped",
            misuse::foreign_pointer_is_stopped,
        ),
    ]
}

/// The tests of a scenario table, under `rules`.
pub fn tests<H, F>(make: &Rc<F>, rules: Rules, rows: &[Row<H>]) -> Vec<Test>
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    rows.iter()
        .map(|&(name, body)| scenario(name, make, rules, body))
        .collect()
}

/// A named scenario: the guards only, so that it fails for its own idea
/// (the properties check everything else after every operation).
pub fn scenario<H, F, B>(name: &'static str, make: &Rc<F>, rules: Rules, body: B) -> Test
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
    B: Fn(&mut Session<'_, H>) -> Result<(), Failure> + 'static,
{
    alloc::scenario(name, make.clone(), config::<H>(&BASE, rules), body)
}

/// `n` blocks of `size`, side by side in one run, sorted by address: mallocs
/// `n + 2` blocks from a fresh heap and keeps the middle `n` (the outer two
/// are fences, so the run's rest never touches the blocks).
pub fn neighbours<H: Heap>(
    s: &mut Session<'_, H>,
    n: usize,
    size: usize,
) -> Result<Vec<usize>, Failure> {
    let mut ids = Vec::new();
    for _ in 0..n + 2 {
        ids.push(s.malloc(size)?);
    }
    ids.sort_by_key(|&id| s.block(id).addr);
    let chunks: Vec<Block> = ids
        .iter()
        .map(|&id| live_chunk(s.heap(), s.block(id)))
        .collect();
    let apart = chunks.windows(2).find(|w| w[0].end() != w[1].addr);
    s.ensure(apart.is_none(), || {
        let w = apart.expect("checked");
        Failure::new(
            format!(
                "{} mallocs of {size} bytes on a fresh heap are not side by side",
                n + 2
            ),
            "one run carved chunk after chunk, each starting where the one before ends \
             (the run's rest stays on the free list and serves the next malloc)",
            format!("a chunk {} then one at {:#x}", show(&w[0]), w[1].addr),
        )
    })?;
    Ok(ids[1..=n].to_vec())
}

/// `malloc` right after `free` hands out the freed chunk again.
fn freed_block_is_reused<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let a = s.malloc(100)?;
    let _b = s.malloc(100)?;
    let a_addr = s.block(a).addr;
    s.free(a)?;
    let pages = s.log().pages_mapped();
    let c = s.malloc(100)?;
    let c_addr = s.block(c).addr;
    s.ensure(c_addr == a_addr && s.log().pages_mapped() == pages, || {
        Failure::new(
            "malloc(100) right after free(a0) did not reuse a0's chunk",
            format!("a2 at {a_addr:#x}, where a0 was, with no new pages"),
            format!(
                "a2 at {c_addr:#x}, {} pages mapped (were {pages})",
                s.log().pages_mapped()
            ),
        )
        .at(c_addr)
    })
}

/// The first `malloc` maps a run; the rest of the run is one free chunk.
fn new_run_rest_goes_on_the_list<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let a = s.malloc(100)?;
    let b = s.block(a).clone();
    let chunk = live_chunk(s.heap(), &b);
    let Some(m) = s.log().mapping_holding(chunk.addr, chunk.size) else {
        return Err(s.fail_now(Failure::new(
            "a0 is in no mapping",
            "a0 in the run just mapped",
            "nowhere",
        )));
    };
    let walk = s.heap().free_blocks();
    let rest = m.len - chunk.size;
    let ok = walk.len() == 1 && walk[0].size == rest && m.holds(walk[0].addr, walk[0].size);
    s.ensure(ok, || {
        Failure::new(
            "after the first malloc, the rest of the new run is not one free chunk on the list",
            format!(
                "one free chunk of {rest} bytes (map #{}'s {} bytes less a0's {}-byte chunk)",
                m.serial, m.len, chunk.size
            ),
            free_chunk_sizes(&walk),
        )
        .at(m.addr)
    })
}

/// Splitting a free chunk leaves the rest on the list.
fn split_leaves_the_remainder_on_the_list<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let ids = neighbours(s, 1, 1000)?;
    let big = live_chunk(s.heap(), s.block(ids[0]));
    s.free(ids[0])?;
    let small = s.malloc(100)?;
    let taken = live_chunk(s.heap(), s.block(small));
    let inside = taken.addr >= big.addr && taken.end() <= big.end();
    let walk = s.heap().free_blocks();
    let rest = big.size.saturating_sub(taken.size);
    let rest_listed = walk
        .iter()
        .any(|f| f.size == rest && f.addr >= big.addr && f.end() <= big.end());
    s.ensure(inside && rest_listed, || {
        Failure::new(
            "malloc(100) from a free 1024-byte chunk did not leave the rest on the free list",
            format!(
                "a2's {}-byte chunk inside {}, and a free chunk of the other {rest} bytes",
                taken.size,
                show(&big)
            ),
            format!(
                "a2's chunk is {}; the list is {}",
                show(&taken),
                free_chunk_sizes(&walk)
            ),
        )
        .at(big.addr)
    })
}

/// A rest too small to be a chunk is not split off: the whole chunk is
/// handed out and leaves the list.
fn rest_too_small_is_not_split<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let ids = neighbours(s, 1, 48)?;
    let chunk = live_chunk(s.heap(), s.block(ids[0]));
    s.free(ids[0])?;
    let length = s.stats().free_length;
    let b = s.malloc(32)?;
    let got = live_chunk(s.heap(), s.block(b));
    s.ensure(got == chunk, || {
        Failure::new(
            "malloc(32) from a free 64-byte chunk (48 needed, 16 left: too small to be a chunk) \
             did not take the whole chunk",
            format!("the whole chunk {}", show(&chunk)),
            format!("a chunk {}", show(&got)),
        )
        .at(chunk.addr)
    })?;
    // Handed out whole, it must also leave the list, whole.
    let walk = s.heap().free_blocks();
    let listed = walk
        .iter()
        .any(|f| f.addr < chunk.end() && chunk.addr < f.end());
    let after = s.stats().free_length;
    s.ensure(!listed && after + 1 == length, || {
        Failure::new(
            "the whole 64-byte chunk was handed out but did not leave the free list",
            format!(
                "no free chunk over {}, and free_length {} (one less than before)",
                show(&chunk),
                length.saturating_sub(1)
            ),
            format!(
                "the list is {}; free_length {after}",
                free_chunk_sizes(&walk)
            ),
        )
        .at(chunk.addr)
    })
}

/// `malloc` takes the first chunk on the list that is big enough.
fn first_fit_takes_the_first_chunk_that_fits<H: Heap>(
    s: &mut Session<'_, H>,
) -> Result<(), Failure> {
    // Free chunks of 640, 320 and 128 bytes, apart; freed 320 first,
    // then 640, then 128. Whatever the list's order, the first chunk
    // that fits 200 bytes is not the best fit (320) in both lessons.
    let mut ids = Vec::new();
    for size in [620, 300, 100] {
        ids.extend(neighbours(s, 1, size)?);
    }
    for i in [1, 0, 2] {
        s.free(ids[i])?;
    }
    let walk = s.heap().free_blocks();
    let need = chunk_bytes_for(200).expect("small");
    let fits: Vec<Block> = walk.iter().copied().filter(|f| f.size >= need).collect();
    let Some(first) = fits.first().copied() else {
        return Err(s.fail_now(Failure::new(
            "no free chunk fits 200 bytes",
            "two freed 320-byte chunks on the list",
            free_chunk_sizes(&walk),
        )));
    };
    let b = s.malloc(200)?;
    let got = live_chunk(s.heap(), s.block(b));
    s.ensure(
        free_chunk_holding(&[first], got.addr, got.size).is_some(),
        || {
            Failure::new(
                "malloc(200) was not served from the first chunk on the list that fits",
                format!(
                    "a chunk inside free chunk #{} {}, the first with {need} bytes or more",
                    position(&walk, first),
                    show(&first)
                ),
                format!(
                    "a chunk {} (the list was {})",
                    show(&got),
                    free_chunk_sizes(&walk)
                ),
            )
            .at(got.addr)
        },
    )
}

/// A refused map in the middle of splitting leaves the list as it was.
fn refused_map_leaves_the_free_list_intact<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    // A free chunk, split once; then a request that needs new pages is refused.
    let ids = neighbours(s, 1, 2000)?;
    s.write(ids[0])?;
    let keep = s.malloc(300)?;
    s.write(keep)?;
    s.free(ids[0])?;
    let a = s.malloc(100)?;
    s.write(a)?;
    let walk_before = s.heap().free_blocks();
    s.refuse_next_map()?;
    let got = s.try_malloc(200_000)?;
    s.ensure(got.is_none(), || {
        Failure::new(
            "malloc(200000) returned a block after the map was refused",
            "None",
            "a block",
        )
    })?;
    let walk_after = s.heap().free_blocks();
    s.ensure(walk_after == walk_before, || {
        Failure::new(
            "a refused map changed the free list",
            free_chunk_sizes(&walk_before),
            free_chunk_sizes(&walk_after),
        )
    })?;
    let pages = s.log().pages_mapped();
    let b = s.malloc(500)?;
    s.write(b)?;
    let mapped = s.log().pages_mapped();
    s.ensure(mapped == pages, || {
        Failure::new(
            "after the refusal, malloc(500) mapped pages although the split chunk's rest fits it",
            format!("{pages} pages"),
            format!("{mapped} pages"),
        )
    })
}

/// A refused map returns `None`; earlier blocks keep their bytes.
fn survives_map_failure<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    fault::survives_map_failure(s, &[24, 1000, 5000], 300_000, &[24, 2000, 100_000])
}

/// The very first map refused: `None`, then blocks once maps work.
fn first_map_fails<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    fault::first_map_fails(s, 100)
}
