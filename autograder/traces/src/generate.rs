//! heaplab's own workloads, written as malloc-lab traces: each a named
//! pattern of requests that stresses one thing a heap must do well.
//!
//! Every workload is a function of one seed, through [`SplitMix64`] (a fixed
//! algorithm, so the same seed gives the same file on every machine and with
//! every version of every crate). `grade traces --out DIR [--seed N]` writes
//! them; `traces/` in the repository holds them for [`DEFAULT_SEED`], and a
//! test checks that those files are exactly what this module writes.

use crate::rep::{Op, OpKind, Trace};

/// The seed of the committed `traces/`.
pub const DEFAULT_SEED: u64 = 2026;

/// A named workload and what it stresses.
pub struct Workload {
    /// File stem: `traces/<name>.rep`.
    pub name: &'static str,
    /// One line for tables and docs.
    pub about: &'static str,
    build: fn(&mut SplitMix64, &mut Builder),
}

/// Every workload, in the order tables list them.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "small-blocks",
        about: "many blocks of 1 to 64 bytes, freed at random: header overhead",
        build: small_blocks,
    },
    Workload {
        name: "binary",
        about: "64-byte blocks pin 448-byte holes that are refilled at other sizes: reuse of split holes",
        build: binary,
    },
    Workload {
        name: "coalescing",
        about: "runs of equal blocks freed in random order, then asked back at twice and four times the size",
        build: coalescing,
    },
    Workload {
        name: "realloc",
        about: "buffers grown by realloc, with small blocks allocated between the steps",
        build: realloc,
    },
    Workload {
        name: "mixed-lifetimes",
        about: "long-lived blocks mixed with many short-lived ones, 16 bytes to 4 KiB",
        build: mixed_lifetimes,
    },
    Workload {
        name: "big-blocks",
        about: "blocks of 64 KiB to 1 MiB among small ones: big allocations",
        build: big_blocks,
    },
];

/// Every workload for `seed`, in [`WORKLOADS`] order.
pub fn generate(seed: u64) -> Vec<Trace> {
    WORKLOADS.iter().map(|w| build(w, seed)).collect()
}

/// The workload called `name` for `seed`.
pub fn workload(name: &str, seed: u64) -> Option<Trace> {
    WORKLOADS
        .iter()
        .find(|w| w.name == name)
        .map(|w| build(w, seed))
}

fn build(w: &Workload, seed: u64) -> Trace {
    // Each workload draws from its own stream, so adding or changing one
    // leaves the others' files as they were.
    let stream = w.name.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    });
    let mut rng = SplitMix64::new(seed ^ stream);
    let mut b = Builder::default();
    (w.build)(&mut rng, &mut b);
    b.finish(w.name)
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and fixed forever,
/// which is what reproducible files need.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// Roughly log-uniform in `lo..=hi`: as many blocks of 16-32 bytes as of
    /// 1024-2048, the way real programs' sizes spread.
    pub fn log_range(&mut self, lo: usize, hi: usize) -> usize {
        let (l, h) = ((lo as f64).ln(), (hi as f64).ln());
        let x = l + (h - l) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (x.exp() as usize).clamp(lo, hi)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// Index of a uniformly chosen element of a non-empty collection of `len`.
    pub fn pick(&mut self, len: usize) -> usize {
        self.range(0, len - 1)
    }

    /// Fisher-Yates.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.range(0, i);
            v.swap(i, j);
        }
    }
}

/// Writes operations, giving every allocation a fresh id.
#[derive(Default)]
struct Builder {
    ops: Vec<Op>,
    next_id: usize,
    live_bytes: usize,
    peak_bytes: usize,
    sizes: Vec<usize>,
}

impl Builder {
    fn push(&mut self, kind: OpKind) {
        // Line numbers as in the written file: four header lines first.
        let line = self.ops.len() + 5;
        self.ops.push(Op { line, kind });
        self.peak_bytes = self.peak_bytes.max(self.live_bytes);
    }

    fn alloc(&mut self, size: usize) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        self.sizes.push(size);
        self.live_bytes += size;
        self.push(OpKind::Alloc { id, size });
        id
    }

    fn free(&mut self, id: usize) {
        self.live_bytes -= self.sizes[id];
        self.push(OpKind::Free { id });
    }

    fn realloc(&mut self, id: usize, size: usize) {
        self.live_bytes = self.live_bytes - self.sizes[id] + size;
        self.sizes[id] = size;
        self.push(OpKind::Realloc { id, size });
    }

    fn free_all(&mut self, ids: impl IntoIterator<Item = usize>) {
        for id in ids {
            self.free(id);
        }
    }

    fn finish(self, name: &str) -> Trace {
        Trace {
            name: name.to_string(),
            dialect: crate::rep::Dialect::CsApp,
            // malloc-lab's first header number; ours is the peak payload,
            // the least any heap could use.
            suggested_heap: self.peak_bytes,
            num_ids: self.next_id,
            weight: 1,
            ops: self.ops,
        }
    }
}

/// Removes and returns a random element (order is not kept).
fn take_random(rng: &mut SplitMix64, live: &mut Vec<usize>) -> usize {
    let i = rng.pick(live.len());
    live.swap_remove(i)
}

fn small_blocks(rng: &mut SplitMix64, b: &mut Builder) {
    // The live count wanders up to ~10 000 blocks and back: a heap pays its
    // per-block header on every one of them.
    let mut live = Vec::new();
    for step in 0..24_000 {
        let grow = if step < 12_000 { 0.75 } else { 0.3 };
        if live.is_empty() || rng.chance(grow) {
            let size = rng.range(1, 64);
            live.push(b.alloc(size));
        } else {
            let id = take_random(rng, &mut live);
            b.free(id);
        }
    }
    rng.shuffle(&mut live);
    b.free_all(live);
}

fn binary(rng: &mut SplitMix64, b: &mut Builder) {
    // Pairs of a small long-lived block and a big short-lived one: freeing
    // the big ones leaves holes pinned between small blocks. Each round asks
    // for big blocks of another size: a heap that splits holes and merges
    // the leftovers refills the same holes; one that does not keeps mapping.
    const PAIRS: usize = 2000;
    let mut small = Vec::with_capacity(PAIRS);
    let mut big = Vec::with_capacity(PAIRS);
    for _ in 0..PAIRS {
        small.push(b.alloc(64));
        big.push(b.alloc(448));
    }
    for size in [384, 448, 320, 448] {
        rng.shuffle(&mut big);
        b.free_all(big.drain(..));
        for _ in 0..PAIRS {
            big.push(b.alloc(size));
        }
    }
    b.free_all(big);
    b.free_all(small);
}

fn coalescing(rng: &mut SplitMix64, b: &mut Builder) {
    // A run of blocks of one size, freed in random order, then asked back as
    // half as many blocks of twice the size (plus the header the merge
    // frees), then a quarter as many of four times. Only a heap that merges
    // neighbours can serve the bigger requests from the freed run.
    const RUN: usize = 2000;
    for _ in 0..3 {
        let size = 16 * rng.range(2, 16);
        let mut count = RUN;
        let mut request = size;
        for _ in 0..3 {
            let mut ids: Vec<usize> = (0..count).map(|_| b.alloc(request)).collect();
            rng.shuffle(&mut ids);
            b.free_all(ids);
            count /= 2;
            request = 2 * request + 16;
        }
    }
}

fn realloc(rng: &mut SplitMix64, b: &mut Builder) {
    // Buffers that grow by half again at each step, as a vector does, with
    // small blocks allocated in between so a buffer rarely has room to grow
    // where it is.
    const BUFFERS: usize = 48;
    const MAX: usize = 48 * 1024;
    let mut buffers: Vec<(usize, usize)> = (0..BUFFERS)
        .map(|_| {
            let size = rng.range(16, 96);
            (b.alloc(size), size)
        })
        .collect();
    let mut small = Vec::new();
    while !buffers.is_empty() {
        let i = rng.pick(buffers.len());
        let (id, size) = buffers[i];
        let grown = size + size / 2 + rng.range(0, 16);
        if grown > MAX {
            buffers.swap_remove(i);
            b.free(id);
            continue;
        }
        b.realloc(id, grown);
        buffers[i].1 = grown;
        small.push(b.alloc(rng.range(16, 128)));
        if rng.chance(0.5) {
            let id = take_random(rng, &mut small);
            b.free(id);
        }
    }
    rng.shuffle(&mut small);
    b.free_all(small);
}

fn mixed_lifetimes(rng: &mut SplitMix64, b: &mut Builder) {
    // Long-lived blocks arrive throughout and stay to the end; short-lived
    // ones die a few operations after they are born, leaving holes between
    // the long-lived ones for the next short-lived blocks.
    const STEPS: usize = 12_000;
    let mut long_lived = Vec::new();
    // Short-lived blocks with the step at which each dies.
    let mut short: Vec<(usize, usize)> = Vec::new();
    for step in 0..STEPS {
        if rng.chance(0.12) {
            long_lived.push(b.alloc(rng.log_range(16, 4096)));
        } else {
            let dies = step + rng.range(1, 40);
            short.push((b.alloc(rng.log_range(16, 4096)), dies));
        }
        let mut k = 0;
        while k < short.len() {
            if short[k].1 <= step {
                let (id, _) = short.swap_remove(k);
                b.free(id);
            } else {
                k += 1;
            }
        }
    }
    b.free_all(short.into_iter().map(|(id, _)| id));
    rng.shuffle(&mut long_lived);
    b.free_all(long_lived);
}

fn big_blocks(rng: &mut SplitMix64, b: &mut Builder) {
    // Big blocks come and go (a dozen live at a time) among small blocks of
    // middling lifetime. A heap that maps big blocks on their own pages
    // gives them back whole; one that carves them from its arena keeps the
    // space and must reuse it.
    let mut big = Vec::new();
    let mut small = Vec::new();
    for _ in 0..400 {
        if big.len() >= 12 || (!big.is_empty() && rng.chance(0.4)) {
            let id = take_random(rng, &mut big);
            b.free(id);
        } else {
            big.push(b.alloc(rng.log_range(64 * 1024, 1024 * 1024)));
        }
        for _ in 0..rng.range(0, 8) {
            if small.len() > 200 && rng.chance(0.5) {
                let id = take_random(rng, &mut small);
                b.free(id);
            } else {
                small.push(b.alloc(rng.log_range(16, 1024)));
            }
        }
    }
    rng.shuffle(&mut big);
    b.free_all(big);
    rng.shuffle(&mut small);
    b.free_all(small);
}

/// Writes every workload for `seed` to `dir/<name>.rep` (creating `dir`);
/// returns the paths written.
pub fn write_all(dir: &std::path::Path, seed: u64) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    generate(seed)
        .into_iter()
        .map(|trace| {
            let path = dir.join(format!("{}.rep", trace.name));
            std::fs::write(&path, trace.to_rep())?;
            Ok(path)
        })
        .collect()
}
