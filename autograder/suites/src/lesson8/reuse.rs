//! `freed_memory_is_reused`: a heap that never gives memory back to itself
//! (a bump allocator) is fast and wrong. Waves of blocks are allocated and
//! all freed, again and again; the pages mapped must stay within a bound of
//! what one wave holds, whatever the heap's layout.

use std::ptr::NonNull;
use std::rc::Rc;

use heaplab_kit::Heap;
use heaplab_protocol::Failure;

use crate::alloc::{InstrumentedPages, PageLog};
use crate::harness::{Ctx, Test};
use crate::remote::StudentStopped;

/// Waves of allocations, each freed whole before the next.
const WAVES: usize = 60;
/// Blocks a wave allocates.
const BLOCKS: usize = 100;
/// Mapped bytes allowed beyond [`SLACK`]: this many times a wave's payload.
const TIMES: usize = 8;
/// Mapped bytes allowed on top of `TIMES` waves: bookkeeping, caches.
const SLACK: usize = 2 << 20;

/// The test, on heaps `make` builds.
pub fn test<H: Heap + 'static, F: Fn(InstrumentedPages) -> H + 'static>(make: &Rc<F>) -> Test {
    let make = make.clone();
    Test::new("freed_memory_is_reused", move |ctx| reused(ctx, &*make))
}

/// xorshift from the seed: the same seed, the same waves.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// Mostly small blocks, a few over a page, one in fifty far bigger.
    fn size(&mut self) -> usize {
        match self.below(50) {
            0 => 20_000 + self.below(100_000),
            1..=5 => 1000 + self.below(8000),
            _ => 1 + self.below(512),
        }
    }
}

fn reused<H: Heap>(ctx: &Ctx, make: &dyn Fn(InstrumentedPages) -> H) -> Result<(), Failure> {
    let pages = InstrumentedPages::new();
    let log = pages.log();
    let mut heap = guarded("making the heap (new)", || make(pages))?;
    let mut rng = Rng(ctx.seed | 1);
    let (mut peak_mapped, mut peak_wave) = (0, 0);
    for wave in 1..=WAVES {
        let sizes: Vec<usize> = (0..BLOCKS).map(|_| rng.size()).collect();
        let payload: usize = sizes.iter().sum();
        peak_wave = peak_wave.max(payload);
        let mut blocks: Vec<NonNull<u8>> = Vec::with_capacity(BLOCKS);
        for &size in &sizes {
            let block = guarded(&format!("malloc({size})"), || heap.malloc(size))?;
            blocks.push(block.ok_or_else(|| {
                Failure::new(
                    format!("wave {wave}: malloc({size}) returned None"),
                    "a block: the page source refuses nothing in this test",
                    "None",
                )
            })?);
        }
        peak_mapped = peak_mapped.max(mapped(&log));
        for block in blocks {
            // SAFETY: a live block of this heap, freed once.
            guarded("free", || unsafe { heap.free(block) })?;
        }
        let allowed = TIMES * peak_wave + SLACK;
        if peak_mapped > allowed {
            return Err(grew(wave, peak_mapped, peak_wave, allowed));
        }
    }
    Ok(())
}

/// Bytes mapped now.
fn mapped(log: &PageLog) -> usize {
    (log.pages_mapped() - log.pages_unmapped()) * log.page_size()
}

fn grew(wave: usize, mapped: usize, wave_bytes: usize, allowed: usize) -> Failure {
    Failure::new(
        format!(
            "after {wave} waves of {BLOCKS} blocks, each wave freed whole before the next, the \
             heap has {mapped} bytes mapped"
        ),
        format!(
            "at most {allowed} bytes: {TIMES} times the largest wave's {wave_bytes} bytes of \
             payload, plus {} MiB",
            SLACK >> 20
        ),
        format!("{mapped} bytes: freed memory is not used again"),
    )
    .check("memory reused")
    .note("free must make a block's memory available to later mallocs (of its size class, or merged with its neighbours); a heap that only ever maps new pages runs out")
}

/// Runs a call of the student's heap; a stop of the student's process (or
/// a panic of its code) becomes the failure.
fn guarded<R>(during: &str, call: impl FnOnce() -> R) -> Result<R, Failure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).map_err(|payload| {
        match payload.downcast::<StudentStopped>() {
            Ok(stopped) => stopped.failure(),
            Err(other) => {
                let text = other
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| other.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".into());
                Failure::new(format!("{during} panicked"), "no panic", text)
            }
        }
    })
}
