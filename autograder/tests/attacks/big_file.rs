//! Filling the disk: 1 GiB into /tmp, where the grader's next test would
//! find it, and 1 GiB into its own scratch folder ($TMPDIR).

use std::io::Write;

use crate::{breach, tried};

pub fn before_main() {}

pub fn in_the_heap() {
    tried("writing 1 GiB to /tmp");
    fill("/tmp/heaplab-attack-big", "wrote to /tmp");
    let scratch = std::env::temp_dir().join("heaplab-attack-big");
    tried("writing 1 GiB to its scratch folder");
    if fill(&scratch.to_string_lossy(), "") >= 1 << 30 {
        breach("wrote 1 GiB to its scratch folder");
    }
}

/// Writes up to 1 GiB to `path`; says `first` (a breach) once the first
/// MiB is written. The bytes written.
fn fill(path: &str, first: &str) -> u64 {
    let Ok(mut file) = std::fs::File::create(path) else {
        return 0;
    };
    let block = vec![0x5au8; 1 << 20];
    let mut written = 0u64;
    for _ in 0..1024 {
        if file.write_all(&block).is_err() {
            break;
        }
        if written == 0 && !first.is_empty() {
            breach(first);
        }
        written += block.len() as u64;
    }
    written
}
