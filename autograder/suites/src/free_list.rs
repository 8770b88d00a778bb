//! What the free-list lessons (4, 5 and 6) share: the heap checker that walks
//! `free_blocks()` after every operation, the picture layer that numbers free
//! chunks in list order, and the tests every free-list lesson runs.
//!
//! The checker relies on the chunk layout all three lessons use: a 16-byte
//! header whose first word is the chunk size (header included, a multiple of
//! 16); a free chunk is at least [`MIN_CHUNK`] bytes (a header and a list
//! cell); `free_blocks()` reports `Block { addr: chunk start, size }`.

use std::rc::Rc;

use heaplab_kit::{align_up, Block, Heap};
use proptest::prelude::*;
use proptest::test_runner::{
    Config as RunnerConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};

use crate::alloc::{
    self, header_word, Check, CheckResult, Config, Done, Failure, InstrumentedPages, LiveBlock,
    Mapping, Model, OpMix, PageEvent, PageLog, Picture, Session, SizeMix, State, HEADER,
};
use crate::harness::{reached_todo, Ctx, Test};

/// The smallest chunk: a 16-byte header plus a list cell, rounded to 16.
pub const MIN_CHUNK: usize = 32;

/// Which lesson's rules the checker applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Lesson 5 on: the list is in address order and no two free chunks of a
    /// run touch (they would have been merged).
    pub coalescing: bool,
    /// Lesson 6: chunks of a page or more get a mapping of their own.
    pub big_blocks: bool,
}

impl Rules {
    pub const LESSON4: Rules = Rules {
        coalescing: false,
        big_blocks: false,
    };
    pub const LESSON5: Rules = Rules {
        coalescing: true,
        big_blocks: false,
    };
    pub const LESSON6: Rules = Rules {
        coalescing: true,
        big_blocks: true,
    };
}

/// The chunk size that serves `size` bytes: header plus payload, rounded up
/// to 16, at least [`MIN_CHUNK`]; `None` on overflow.
pub fn chunk_bytes_for(size: usize) -> Option<usize> {
    let n = align_up(size.checked_add(HEADER)?, 16)?;
    Some(n.max(MIN_CHUNK))
}

/// True when lesson 6 serves `size` on the big path: its chunk, header
/// included, is at least a page.
pub fn is_big(size: usize, page: usize) -> bool {
    chunk_bytes_for(size).is_none_or(|n| n >= page)
}

/// A live block's chunk: `[p - 16, p - 16 + 16 + usable_size(p))`, from the
/// heap's `usable_size` (or the header word when the heap reports none).
pub fn live_chunk<H: Heap>(heap: &H, b: &LiveBlock) -> Block {
    // SAFETY: b came from this heap's malloc and has not been freed.
    let usable = unsafe { heap.usable_size(b.ptr) };
    let size = match usable {
        Some(u) => u.saturating_add(HEADER),
        None => header_word(b),
    };
    Block {
        addr: b.addr - HEADER,
        size,
    }
}

fn show(b: &Block) -> String {
    format!(
        "[{:#x}, {:#x}) ({} bytes)",
        b.addr,
        b.addr.wrapping_add(b.size),
        b.size
    )
}

fn show_walk(walk: &[Block]) -> String {
    if walk.is_empty() {
        return "an empty list".to_string();
    }
    let shown: Vec<String> = walk
        .iter()
        .take(8)
        .enumerate()
        .map(|(i, b)| format!("#{} {:#x}+{}", i + 1, b.addr, b.size))
        .collect();
    let more = if walk.len() > 8 { ", ..." } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// The free list checker: every free chunk is a plausible chunk inside one
/// mapped run, overlapping no live chunk and no other free chunk, and the
/// walk is as long as `stats().free_length` says.
pub fn free_list_consistent<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let walk = state.heap.free_blocks();
    for (i, f) in walk.iter().enumerate() {
        let n = i + 1;
        if f.addr % 16 != 0 || f.size % 16 != 0 || f.size < MIN_CHUNK {
            return Err(Failure::new(
                format!("free chunk #{n} on the list is not a valid chunk"),
                format!(
                    "a 16-aligned address and a size that is a multiple of 16, at least {MIN_CHUNK} \
                     (a header and a list cell)"
                ),
                format!("chunk #{n} at {:#x} of {} bytes", f.addr, f.size),
            )
            .at(f.addr));
        }
        if state.log.mapping_holding(f.addr, f.size).is_none() {
            return Err(Failure::new(
                format!("free chunk #{n} is not inside one mapped run"),
                "every free chunk inside the pages of one map call",
                format!("chunk #{n} is {}", show(f)),
            )
            .at(f.addr));
        }
        for b in &state.model.live {
            let c = live_chunk(state.heap, b);
            if f.addr < c.end() && c.addr < f.end() {
                return Err(Failure::new(
                    format!(
                        "free chunk #{n} overlaps {}, which is live: a block handed out is still \
                         on the free list (or a split gave out its rest twice)",
                        b.name()
                    ),
                    format!(
                        "free chunks apart from live chunks; {}'s chunk is {}",
                        b.name(),
                        show(&c)
                    ),
                    format!("free chunk #{n} is {}", show(f)),
                )
                .at(b.addr));
            }
        }
    }
    let mut sorted: Vec<(usize, Block)> = walk.iter().copied().enumerate().collect();
    sorted.sort_by_key(|(_, b)| b.addr);
    for pair in sorted.windows(2) {
        let ((i, a), (j, b)) = (pair[0], pair[1]);
        if b.addr < a.end() {
            return Err(Failure::new(
                format!(
                    "free chunks #{} and #{} overlap: the same memory is on the list twice",
                    i + 1,
                    j + 1
                ),
                "each free chunk on the list once, apart from the others",
                format!("#{} is {}, #{} is {}", i + 1, show(&a), j + 1, show(&b)),
            )
            .at(b.addr));
        }
    }
    let length = state.heap.stats().free_length;
    if length != walk.len() {
        return Err(Failure::new(
            "stats().free_length is not the length of the free list",
            format!(
                "{} (the chunks free_blocks() walks: {})",
                walk.len(),
                show_walk(&walk)
            ),
            format!("free_length {length}"),
        ));
    }
    Ok(())
}

/// Lesson 5 on: the list is in address order, and no two free chunks of
/// one run touch.
pub fn address_ordered<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let walk = state.heap.free_blocks();
    for (i, pair) in walk.windows(2).enumerate() {
        let (a, b) = (pair[0], pair[1]);
        if b.addr <= a.addr {
            return Err(Failure::new(
                format!(
                    "the free list is not in address order: chunk #{} comes after #{} but lies below it",
                    i + 2,
                    i + 1
                ),
                "each free chunk at a higher address than the one before it on the list",
                format!("#{} at {:#x}, then #{} at {:#x}", i + 1, a.addr, i + 2, b.addr),
            )
            .at(b.addr));
        }
    }
    let mut sorted = walk.clone();
    sorted.sort();
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let same_run = state
            .log
            .mapping_holding(a.addr, 1)
            .is_some_and(|m| m.holds(b.addr, b.size));
        if a.end() == b.addr && same_run {
            let (na, nb) = (position(&walk, a), position(&walk, b));
            return Err(Failure::new(
                format!("free chunks #{na} and #{nb} touch: free should have merged them into one"),
                format!(
                    "one free chunk {}",
                    show(&Block {
                        addr: a.addr,
                        size: a.size + b.size
                    })
                ),
                format!("#{na} is {} and #{nb} is {}", show(&a), show(&b)),
            )
            .at(b.addr));
        }
    }
    Ok(())
}

fn position(walk: &[Block], b: Block) -> usize {
    walk.iter().position(|x| *x == b).map_or(0, |i| i + 1)
}

/// The chunks (live and free) that start inside mapping `m`, by address,
/// with the live block they belong to, if any.
fn chunks_in<'m, H: Heap>(
    heap: &H,
    model: &'m Model,
    walk: &[Block],
    m: &Mapping,
) -> Vec<(Block, Option<&'m LiveBlock>)> {
    let mut chunks: Vec<(Block, Option<&LiveBlock>)> = model
        .live
        .iter()
        .map(|b| (live_chunk(heap, b), Some(b)))
        .chain(walk.iter().map(|f| (*f, None)))
        .filter(|(c, _)| c.addr >= m.addr && c.addr < m.end())
        .collect();
    chunks.sort_by_key(|(c, _)| c.addr);
    chunks
}

/// Every byte of a small run belongs to exactly one chunk, live or free: the
/// chunks tile each mapping from its first byte to its last. (A big block's
/// mapping holds one live chunk, which may end before the mapping does.)
pub fn chunks_tile_runs<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let walk = state.heap.free_blocks();
    let page = state.log.page_size();
    for m in state.log.mappings() {
        let chunks = chunks_in(state.heap, state.model, &walk, &m);
        let mut at = m.addr;
        for (c, owner) in &chunks {
            let name = match owner {
                Some(b) => format!("{}'s chunk", b.name()),
                None => format!("free chunk #{}", position(&walk, *c)),
            };
            if c.addr > at {
                return Err(Failure::new(
                    format!(
                        "{} bytes of map #{} belong to no chunk: lost memory (a split's rest not put \
                         back on the list? a new run's rest dropped? a block never freed?)",
                        c.addr - at,
                        m.serial
                    ),
                    format!("a live or free chunk starting at {at:#x}"),
                    format!("nothing until {name} at {:#x}", c.addr),
                )
                .at(at));
            }
            if c.addr < at {
                return Err(Failure::new(
                    format!("{name} overlaps the chunk before it in map #{}", m.serial),
                    format!("chunks side by side: the next one starting at {at:#x}"),
                    format!("{name} is {}", show(c)),
                )
                .at(c.addr));
            }
            at = c.end();
        }
        let lone_big = matches!(chunks.as_slice(), [(_, Some(b))] if is_big(b.size, page));
        if at < m.end() && !lone_big {
            return Err(Failure::new(
                format!(
                    "the last {} bytes of map #{} belong to no chunk: lost memory (a split's rest \
                     or a new run's rest not put on the list?)",
                    m.end() - at,
                    m.serial
                ),
                format!(
                    "chunks covering map #{} to its end, {:#x}",
                    m.serial,
                    m.end()
                ),
                format!("the last chunk ends at {at:#x}"),
            )
            .at(at));
        }
        if at > m.end() {
            return Err(Failure::new(
                format!("a chunk runs past the end of map #{}", m.serial),
                format!("every chunk inside its run, which ends at {:#x}", m.end()),
                format!("the last chunk ends at {at:#x}"),
            )
            .at(m.end() - 1));
        }
    }
    Ok(())
}

/// Lesson 5 on: a run with no live block in it is one free chunk, the whole
/// run (freeing every block of a run merges it back together).
pub fn empty_run_is_one_chunk<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let walk = state.heap.free_blocks();
    for m in state.log.mappings() {
        let chunks = chunks_in(state.heap, state.model, &walk, &m);
        if chunks.iter().any(|(_, owner)| owner.is_some()) {
            continue;
        }
        let whole = Block {
            addr: m.addr,
            size: m.len,
        };
        if chunks.len() != 1 || chunks[0].0 != whole {
            let found: Vec<String> = chunks.iter().map(|(c, _)| show(c)).collect();
            return Err(Failure::new(
                format!(
                    "map #{} holds no live block, but is not one free chunk: freeing its blocks \
                     should have merged them all",
                    m.serial
                ),
                format!("one free chunk, the whole run {}", show(&whole)),
                if found.is_empty() {
                    "no free chunk in it at all".to_string()
                } else {
                    format!("{} free chunks: {}", found.len(), found.join(", "))
                },
            )
            .at(m.addr));
        }
    }
    Ok(())
}

/// Lesson 6: a big block gets one mapping of its own, from its chunk's first
/// byte, whole pages, no more than it needs; freeing it unmaps exactly that
/// mapping; the small path never unmaps.
pub fn big_blocks_own_their_pages<H: Heap>(state: &State<'_, H>) -> CheckResult {
    let page = state.log.page_size();
    let maps: Vec<Mapping> = state
        .page_events
        .iter()
        .filter_map(|e| match e {
            PageEvent::Mapped(m) => Some(*m),
            _ => None,
        })
        .collect();
    let unmaps: Vec<String> = state
        .page_events
        .iter()
        .filter_map(|e| match e {
            PageEvent::Unmapped(m) => Some(format!("unmap({:#x}, {})", m.addr, m.len)),
            PageEvent::BadUnmap { addr, len } => Some(format!("unmap({addr:#x}, {len})")),
            _ => None,
        })
        .collect();
    match state.done {
        Done::Malloc { size, id: Some(id) } if is_big(*size, page) => {
            let b = state.model.block(*id).expect("a new block is live");
            let chunk = b.addr - HEADER;
            let need = chunk_bytes_for(*size).unwrap_or(usize::MAX);
            let want = align_up(need, page).unwrap_or(usize::MAX);
            let ok = matches!(maps.as_slice(), [m] if m.addr == chunk && m.len == want);
            if !ok {
                let found: Vec<String> = maps
                    .iter()
                    .map(|m| format!("map({}) = {:#x}", m.len, m.addr))
                    .collect();
                return Err(Failure::new(
                    format!(
                        "malloc({size}) is big (its chunk, header included, is at least a page) \
                         but did not get pages of its own"
                    ),
                    format!(
                        "one map({want}) (the {need}-byte chunk rounded up to pages) whose first \
                         16 bytes are {}'s header, at {chunk:#x}",
                        b.name()
                    ),
                    if found.is_empty() {
                        format!("no map call; {} is at {:#x}", b.name(), b.addr)
                    } else {
                        format!("{}; {} is at {:#x}", found.join(", "), b.name(), b.addr)
                    },
                )
                .at(b.addr));
            }
        }
        Done::Free(b) if is_big(b.size, page) => {
            let chunk = b.addr - HEADER;
            let mapping = state.log.events().iter().rev().find_map(|e| match e {
                PageEvent::Mapped(m) if m.addr == chunk => Some(*m),
                _ => None,
            });
            let want = mapping.map_or_else(
                || format!("unmap({chunk:#x}, ...)"),
                |m| format!("unmap({:#x}, {}) (map #{})", m.addr, m.len, m.serial),
            );
            let ok = matches!(state.page_events, [PageEvent::Unmapped(m)] if m.addr == chunk);
            if !ok {
                return Err(Failure::new(
                    format!(
                        "free({}) of a big block did not unmap exactly the pages mapped for it",
                        b.name()
                    ),
                    format!("{want}, and nothing else"),
                    if unmaps.is_empty() {
                        "no unmap call (the pages stay mapped: a leak)".to_string()
                    } else {
                        unmaps.join(", ")
                    },
                )
                .at(chunk));
            }
        }
        Done::Free(b) if !unmaps.is_empty() => {
            return Err(Failure::new(
                format!("free({}) of a small block unmapped pages", b.name()),
                "no unmap: small chunks go back on the free list; their runs stay mapped",
                unmaps.join(", "),
            )
            .at(b.addr));
        }
        _ => {}
    }
    Ok(())
}

/// The picture layer: each free chunk drawn as `-`, its first 16 bytes as
/// its place in the free list (1 to 9, then `+`).
pub fn paint_free_chunks<H: Heap>(heap: &H, _model: &Model, _log: &PageLog, pic: &mut Picture) {
    let walk = heap.free_blocks();
    for (i, f) in walk.iter().enumerate().take(512) {
        if !pic.paint(f.addr, f.size, '-') {
            pic.note(format!(
                "free chunk #{} {} is in no mapping",
                i + 1,
                show(f)
            ));
            continue;
        }
        let mark = if i < 9 {
            char::from(b'1' + i as u8)
        } else {
            '+'
        };
        pic.paint(f.addr, HEADER.min(f.size.max(1)), mark);
    }
    if !walk.is_empty() {
        pic.legend("- free chunk");
        pic.legend("1-9 a free chunk's header, numbered in free-list order (+ from the 10th)");
    }
}

/// A configuration for the free-list lessons: headers, the free-chunk
/// picture, `checks`, and a mix with more frees than lessons 2-3 (so chunks
/// are reused and merged) and big requests now and then.
pub fn config<H: Heap + 'static>(checks: &[Check], rules: Rules) -> Config<H> {
    let mut sizes = vec![
        (1, 0..=0),
        (8, 1..=64),
        (6, 65..=512),
        (3, 513..=4000),
        (1, 4001..=3 * 4096),
    ];
    if rules.big_blocks {
        sizes.push((2, 4064..=4112));
    }
    Config::new(checks)
        .with_headers()
        .painter(paint_free_chunks::<H>)
        .ops(OpMix {
            malloc: 5,
            free: 4,
            write: 2,
            refuse_next_map: 0,
            sizes: SizeMix(sizes),
            max_ops: 48,
        })
}

/// The built-in checks every free-list test includes as guards: the page
/// source's contract, and pointers aligned inside mapped pages (always
/// checked before the engine touches a block).
pub const BASE: [Check; 2] = [Check::SourceContract, Check::Aligned];

fn with_base(extra: &[Check]) -> Vec<Check> {
    let mut checks = BASE.to_vec();
    checks.extend_from_slice(extra);
    checks
}

/// A seeded runner for the properties this module drives itself (same seed
/// scheme as `alloc::check_property`: the seed and the test's name).
fn runner(ctx: &Ctx, name: &str, cases: u32) -> TestRunner {
    let salt = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&ctx.seed.to_le_bytes());
    seed[8..16].copy_from_slice(&salt.to_le_bytes());
    seed[16..].copy_from_slice(b"heaplab-freelist");
    let config = RunnerConfig {
        cases: if cfg!(miri) { 2 } else { cases },
        failure_persistence: None,
        max_shrink_iters: if cfg!(miri) { 8 } else { 1024 },
        ..RunnerConfig::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed))
}

/// Memory is reused: malloc a random list of sizes, free them all in a
/// random order, then malloc the same sizes again, the last freed first (the
/// order lesson 4's list now holds them): every block must come from a freed
/// chunk, and not one new page may be mapped.
pub fn memory_is_reused<H, F>(name: &'static str, make: Rc<F>, rules: Rules) -> Test
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let config = Rc::new(config::<H>(&BASE, rules));
    Test::new(name, move |ctx| {
        let sizes = proptest::collection::vec(
            prop_oneof![4 => 0..=64usize, 3 => 65..=600usize, 1 => 601..=3000usize],
            1..=24,
        );
        let strategy = sizes.prop_flat_map(|sizes| {
            let order: Vec<usize> = (0..sizes.len()).collect();
            (Just(sizes), Just(order).prop_shuffle())
        });
        let mut runner = runner(ctx, name, 48);
        let result = runner.run(&strategy, |(sizes, order)| {
            if reached_todo() {
                return Ok(());
            }
            reuse_case(&*make, &config, &sizes, &order).map_err(TestCaseError::fail)
        });
        finish(result)
    })
}

fn reuse_case<H: Heap>(
    make: &dyn Fn(InstrumentedPages) -> H,
    config: &Config<H>,
    sizes: &[usize],
    order: &[usize],
) -> Result<(), String> {
    let mut s = Session::new(make, config)?;
    let mut ids = Vec::new();
    for &size in sizes {
        ids.push(s.malloc(size)?);
    }
    let freed: Vec<Block> = ids
        .iter()
        .map(|&id| live_chunk(s.heap(), s.block(id)))
        .collect();
    for &i in order {
        s.free(ids[i])?;
    }
    let pages = s.log().pages_mapped();
    s.note("(from here on, every size again, the last freed first)");
    for &i in order.iter().rev() {
        let size = sizes[i];
        let id = s.malloc(size)?;
        let mapped = s.log().pages_mapped();
        let chunk = live_chunk(s.heap(), s.block(id));
        let reused = freed
            .iter()
            .any(|f| f.addr <= chunk.addr && chunk.end() <= f.end());
        s.ensure(mapped == pages && reused, || {
            Failure::new(
                format!(
                    "malloc({size}) did not reuse a freed chunk, although one of that size was \
                     at the head of the free list"
                ),
                format!(
                    "a chunk inside one of the chunks freed above (the one freed last that is \
                     not taken again yet: {}), and {pages} pages mapped as before",
                    show(&freed[i])
                ),
                format!("a chunk {}; {mapped} pages mapped", show(&chunk)),
            )
            .at(chunk.addr)
        })?;
    }
    s.free_all()?;
    s.finish()
}

fn finish<T: std::fmt::Debug>(result: Result<(), TestError<T>>) -> Result<(), String> {
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, _)) => Err(format!(
            "{}\n(the shortest failing case found, then every live block freed)",
            reason.message().trim_end()
        )),
        Err(TestError::Abort(reason)) => Err(format!(
            "the property run was aborted: {}",
            reason.message()
        )),
    }
}

/// The sizes of chunks in `walk`, for messages.
fn free_chunk_sizes(walk: &[Block]) -> String {
    show_walk(walk)
}

/// `n` blocks of `size`, side by side in one run, sorted by address: mallocs
/// `n + 2` blocks from a fresh heap and keeps the middle `n` (the outer two
/// are fences, so the run's rest never touches the blocks).
pub fn neighbours<H: Heap>(
    s: &mut Session<'_, H>,
    n: usize,
    size: usize,
) -> Result<Vec<usize>, String> {
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

/// The free chunk that holds `[addr, addr + len)`, if any.
fn free_chunk_holding(walk: &[Block], addr: usize, len: usize) -> Option<Block> {
    walk.iter()
        .copied()
        .find(|f| f.addr <= addr && addr + len <= f.end())
}

/// A named scenario: the guards only, so that it fails for its own idea
/// (the properties check everything else after every operation).
pub fn scenario<H, F, B>(name: &'static str, make: &Rc<F>, rules: Rules, body: B) -> Test
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
    B: Fn(&mut Session<'_, H>) -> Result<(), String> + 'static,
{
    alloc::scenario(name, make.clone(), config::<H>(&BASE, rules), body)
}

/// The properties every free-list lesson runs: one idea each, each with the
/// guards it needs (alignment, the page source's contract, headers).
pub fn properties<H, F>(make: &Rc<F>, rules: Rules) -> Vec<Test>
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    let prop = |name, config| alloc::property(name, make.clone(), config);
    let mut tests = vec![
        prop(
            "blocks_are_aligned_and_inside_mapped_pages",
            config::<H>(&[Check::SourceContract, Check::Aligned], rules),
        ),
        prop(
            "blocks_do_not_overlap",
            config::<H>(&with_base(&[Check::NoOverlap]), rules),
        ),
        prop(
            "contents_are_kept",
            config::<H>(&with_base(&[Check::ContentsKept]), rules),
        ),
        prop(
            "headers_hold_chunk_sizes",
            config::<H>(&with_base(&[Check::Headers, Check::UsableSize]), rules),
        ),
        prop(
            "stats_match_the_page_source",
            config::<H>(&with_base(&[Check::PageStats, Check::ChunkStats]), rules),
        ),
        prop(
            "free_list_is_consistent",
            config::<H>(&with_base(&[Check::Headers]), rules)
                .hook("free list consistent", free_list_consistent::<H>),
        ),
        prop(
            "every_byte_belongs_to_one_chunk",
            config::<H>(&with_base(&[Check::Headers]), rules)
                .hook("every byte in one chunk", chunks_tile_runs::<H>),
        ),
    ];
    if rules.coalescing {
        tests.push(prop(
            "free_list_is_in_address_order",
            config::<H>(&with_base(&[Check::Headers]), rules).hook(
                "address order, no touching free chunks",
                address_ordered::<H>,
            ),
        ));
        tests.push(prop(
            "freed_run_is_one_chunk",
            config::<H>(&with_base(&[Check::Headers]), rules).hook(
                "an empty run is one free chunk",
                empty_run_is_one_chunk::<H>,
            ),
        ));
    }
    // Fault injection: maps refused at random; malloc says None, never
    // panics, and the blocks already handed out keep their bytes.
    let mut refusals = config::<H>(
        &with_base(&[Check::NoOverlap, Check::ContentsKept, Check::ChunkStats]),
        rules,
    );
    refusals.ops.refuse_next_map = 1;
    tests.push(prop("random_map_refusals_are_survived", refusals));
    tests
}

/// The scenarios every free-list lesson runs (first fit, splitting, reuse)
/// and the fault injection of lessons 2-3, here around splitting.
pub fn scenarios<H, F>(make: &Rc<F>, rules: Rules) -> Vec<Test>
where
    H: Heap + 'static,
    F: Fn(InstrumentedPages) -> H + 'static,
{
    vec![
        scenario("freed_block_is_reused", make, rules, |s| {
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
        }),
        scenario("new_run_rest_goes_on_the_list", make, rules, |s| {
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
                    format!("one free chunk of {rest} bytes (map #{}'s {} bytes less a0's {}-byte chunk)", m.serial, m.len, chunk.size),
                    free_chunk_sizes(&walk),
                )
                .at(m.addr)
            })
        }),
        scenario("split_leaves_the_remainder_on_the_list", make, rules, |s| {
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
                    format!("a2's {}-byte chunk inside {}, and a free chunk of the other {rest} bytes", taken.size, show(&big)),
                    format!("a2's chunk is {}; the list is {}", show(&taken), free_chunk_sizes(&walk)),
                )
                .at(big.addr)
            })
        }),
        scenario("rest_too_small_is_not_split", make, rules, |s| {
            let ids = neighbours(s, 1, 48)?;
            let chunk = live_chunk(s.heap(), s.block(ids[0]));
            s.free(ids[0])?;
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
            })
        }),
        scenario(
            "first_fit_takes_the_first_chunk_that_fits",
            make,
            rules,
            |s| {
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
                s.ensure(free_chunk_holding(&[first], got.addr, got.size).is_some(), || {
                Failure::new(
                    "malloc(200) was not served from the first chunk on the list that fits",
                    format!("a chunk inside free chunk #{} {}, the first with {need} bytes or more", position(&walk, first), show(&first)),
                    format!("a chunk {} (the list was {})", show(&got), free_chunk_sizes(&walk)),
                )
                .at(got.addr)
            })
            },
        ),
        scenario(
            "refused_map_leaves_the_free_list_intact",
            make,
            rules,
            |s| {
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
            },
        ),
        scenario("survives_map_failure", make, rules, |s| {
            alloc::fault::survives_map_failure(s, &[24, 1000, 5000], 300_000, &[24, 2000, 100_000])
        }),
        scenario("first_map_fails", make, rules, |s| {
            alloc::fault::first_map_fails(s, 100)
        }),
        scenario(
            "hopeless_requests_return_none",
            make,
            rules,
            alloc::fault::hopeless_requests,
        ),
    ]
}

/// The lecture's fragmentation case: `count` blocks of 800 bytes, the heap
/// otherwise full (maps refused, 800-byte blocks taken until none fits),
/// then `freed` neighbouring blocks freed: `malloc(request)` must be served
/// from their merged chunk, without new pages.
pub fn lecture_case<H: Heap>(
    s: &mut Session<'_, H>,
    count: usize,
    freed: usize,
    request: usize,
) -> Result<(), String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        ids.push(s.malloc(800)?);
    }
    s.log().refuse_all_maps(true);
    s.note("(the page source refuses every map from here on)");
    for _ in 0..10_000 {
        match s.try_malloc(800)? {
            Some(id) => ids.push(id),
            None => break,
        }
    }
    ids.sort_by_key(|&id| s.block(id).addr);
    let chunks: Vec<Block> = ids
        .iter()
        .map(|&id| live_chunk(s.heap(), s.block(id)))
        .collect();
    let start = (0..chunks.len().saturating_sub(freed - 1)).find(|&i| {
        chunks[i..i + freed]
            .windows(2)
            .all(|w| w[0].end() == w[1].addr)
            && s.log()
                .mapping_holding(chunks[i].addr, chunks[i + freed - 1].end() - chunks[i].addr)
                .is_some()
    });
    let Some(start) = start else {
        return Err(s.fail_now(Failure::new(
            format!("no {freed} of the 800-byte blocks are neighbours in one run"),
            format!("runs big enough for {freed} chunks of 816 bytes side by side (RUN_MIN_BYTES)"),
            "every run holds fewer, or the chunks are not side by side",
        )));
    };
    let span = Block {
        addr: chunks[start].addr,
        size: chunks[start + freed - 1].end() - chunks[start].addr,
    };
    for &id in &ids[start..start + freed] {
        s.free(id)?;
    }
    let got = s.try_malloc(request)?;
    let walk = s.heap().free_blocks();
    let Some(id) = got else {
        return Err(s.fail_now(
            Failure::new(
                format!("malloc({request}) needed new pages after {freed} neighbouring 800-byte blocks were freed"),
                format!("a block from their merged chunk {}", show(&span)),
                format!("None (it asked for pages); the free list is {}", free_chunk_sizes(&walk)),
            )
            .at(span.addr),
        ));
    };
    let c = live_chunk(s.heap(), s.block(id));
    s.ensure(c.addr >= span.addr && c.end() <= span.end(), || {
        Failure::new(
            format!("malloc({request}) was not served from the merged chunk"),
            format!("a chunk inside {}", show(&span)),
            format!("a chunk {}", show(&c)),
        )
        .at(c.addr)
    })
}

/// The three merges of lesson 5, with the block before, after, and both:
/// `order` frees A, B, C (neighbours, in address order) by index; the
/// result must be one free chunk from A's start to the end of the last.
pub fn merge_case<H: Heap>(
    s: &mut Session<'_, H>,
    order: &[usize],
    what: &str,
) -> Result<(), String> {
    let ids = neighbours(s, 3, 100)?;
    let chunks: Vec<Block> = ids
        .iter()
        .map(|&id| live_chunk(s.heap(), s.block(id)))
        .collect();
    let freed: Vec<Block> = order.iter().map(|&i| chunks[i]).collect();
    for &i in order {
        s.free(ids[i])?;
    }
    let lo = freed.iter().map(|c| c.addr).min().expect("some");
    let hi = freed.iter().map(|c| c.end()).max().expect("some");
    let want = Block {
        addr: lo,
        size: hi - lo,
    };
    let walk = s.heap().free_blocks();
    s.ensure(walk.contains(&want), || {
        Failure::new(
            format!("free did not merge the chunk with {what}"),
            format!("one free chunk {}", show(&want)),
            format!("the free list is {}", free_chunk_sizes(&walk)),
        )
        .at(lo)
    })
}
