//! The pages' figures cannot drift: docs/figures/ holds exactly what
//! `just figures` (`cargo run -p heaplab-autograder --example figures`)
//! draws now from the reference heaps, byte for byte, and every figure is
//! shown on a page, every figure a page shows exists.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::root;

/// The `.svg` files of `dir`, by name.
fn svg_files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".svg"))
        .collect()
}

/// Every `figures/NAME.svg` the pages of docs/ link to.
fn shown_on_pages(docs: &Path) -> BTreeSet<String> {
    let mut shown = BTreeSet::new();
    for entry in std::fs::read_dir(docs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices("](figures/") {
                let rest = &text[at + "](figures/".len()..];
                let end = rest.find(')').expect("an image link ends");
                shown.insert(rest[..end].to_string());
            }
        }
    }
    shown
}

#[test]
fn the_figures_are_what_the_reference_heaps_draw_now() {
    let fresh = tempfile::tempdir().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "run",
            "-q",
            "-p",
            "heaplab-autograder",
            "--example",
            "figures",
        ])
        .args(["--", "--out"])
        .arg(fresh.path())
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the figures example failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed_dir = root().join("docs/figures");
    let drawn = svg_files(fresh.path());
    let committed = svg_files(&committed_dir);
    assert!(drawn.len() >= 14, "heap drawings and five plots: {drawn:?}");
    assert_eq!(
        committed, drawn,
        "docs/figures/ holds other files than the example draws: run `just figures`"
    );
    for name in &drawn {
        let now = std::fs::read(fresh.path().join(name)).unwrap();
        let kept = std::fs::read(committed_dir.join(name)).unwrap();
        assert!(
            now == kept,
            "docs/figures/{name} is not what the reference heap draws now: run `just figures` \
             and commit the result"
        );
    }
    assert_eq!(
        shown_on_pages(&root().join("docs")),
        drawn,
        "every figure on a page, and every figure a page shows drawn"
    );
}
