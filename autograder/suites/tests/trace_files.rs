//! The committed `traces/` are exactly what the generator writes for the
//! default seed, and every generated trace parses back to itself.
//!
//! After changing a workload on purpose, rewrite the files with
//! `HEAPLAB_BLESS=1 cargo test -p heaplab-suites --test trace_files`
//! (or `cargo grade traces --out traces`).

use std::path::PathBuf;

use heaplab_suites::trace::generate::{self, DEFAULT_SEED, WORKLOADS};
use heaplab_suites::trace::rep;

fn traces_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../traces")
}

#[test]
fn committed_traces_match_the_generator() {
    let dir = traces_dir();
    if std::env::var_os("HEAPLAB_BLESS").is_some() {
        generate::write_all(&dir, DEFAULT_SEED).expect("traces/ is writable");
    }
    for trace in generate::generate(DEFAULT_SEED) {
        let path = dir.join(format!("{}.rep", trace.name));
        let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e} (HEAPLAB_BLESS=1 writes it)",
                path.display()
            )
        });
        assert!(
            committed == trace.to_rep(),
            "{} differs from the generator's output for seed {DEFAULT_SEED}; \
             rerun with HEAPLAB_BLESS=1 if the workload changed on purpose",
            path.display()
        );
    }
}

#[test]
fn generated_traces_parse_back_to_themselves() {
    for trace in generate::generate(7) {
        let file = format!("{}.rep", trace.name);
        let parsed = rep::parse(&file, &trace.to_rep()).expect("a generated trace is valid");
        assert_eq!(parsed, trace);
    }
}

#[test]
fn the_seed_decides_the_workload() {
    let a = generate::workload("small-blocks", 1).unwrap();
    let b = generate::workload("small-blocks", 1).unwrap();
    let c = generate::workload("small-blocks", 2).unwrap();
    assert_eq!(a, b, "same seed, same trace");
    assert_ne!(a, c, "another seed, another trace");
}

#[test]
fn every_workload_frees_what_it_allocates() {
    for w in WORKLOADS {
        let trace = generate::workload(w.name, DEFAULT_SEED).unwrap();
        let mut live = vec![false; trace.num_ids];
        for op in &trace.ops {
            match op.kind {
                rep::OpKind::Alloc { id, .. } => live[id] = true,
                rep::OpKind::Free { id } => live[id] = false,
                rep::OpKind::Realloc { .. } => {}
            }
        }
        assert!(
            live.iter().all(|l| !l),
            "{} leaves blocks live at the end",
            w.name
        );
    }
}
