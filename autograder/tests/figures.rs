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

/// A plot of the pages is the one `grade bench --plot` draws for its trace:
/// lesson 3's, on `docs/experiments/same-size.rep` alone (the smallest).
#[test]
fn a_footprint_figure_is_what_grade_bench_plots() {
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("traces");
    std::fs::create_dir(&traces).unwrap();
    let trace = root().join("docs/experiments/same-size.rep");
    std::fs::copy(&trace, traces.join("same-size.rep")).unwrap();
    let plot = dir.path().join("plot.svg");
    let graded = common::grade(&[
        "bench",
        "lesson3",
        "--solution",
        "--traces",
        traces.to_str().unwrap(),
        "--min-time-ms",
        "1",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert_eq!(graded.code, 0, "{}", graded.stderr);
    let benched = std::fs::read(&plot).unwrap();
    let figure = std::fs::read(root().join("docs/figures/lesson3-footprint.svg")).unwrap();
    assert!(
        benched == figure,
        "docs/figures/lesson3-footprint.svg differs from grade bench's plot of the same trace"
    );
}
