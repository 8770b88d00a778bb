//! Writes the figures of the lesson pages into docs/figures/: the heap
//! drawings (`heaps.rs`) and one footprint plot per lesson from 2 to 6
//! (`footprints.rs`), from the reference heaps, with the report's and
//! `grade bench --plot`'s own drawing functions.
//!
//! `just figures`, or `cargo run -p heaplab-autograder --example figures
//! [-- --out DIR]` (another folder; the kit's test `figures` writes one and
//! compares it with docs/figures/). An example of the autograder, not a
//! `grade` command: it runs the reference heaps in its own process with the
//! suites' recorder, which the grader never links.

mod footprints;
mod heaps;

use std::path::{Path, PathBuf};
use std::time::Instant;

use heaplab_autograder::course::Course;
use heaplab_suites::alloc::window;

fn main() {
    let started = Instant::now();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = out_dir(&root);
    let course =
        Course::locate(Some(&root.join("course.toml"))).unwrap_or_else(|e| panic!("{}", e.message));
    // Every run of pages at a fixed address, the same on every machine, so
    // a drawing's addresses do not change from one run to the next.
    window::install(1 << 30).expect("the page window can be reserved");
    std::fs::create_dir_all(&out).expect("the figures' folder can be made");
    let mut figures: Vec<(&str, String)> = heaps::FIGURES
        .iter()
        .map(|f| (f.file, heaps::draw(f)))
        .collect();
    figures.extend(
        footprints::PLOTS
            .iter()
            .map(|p| (p.file, footprints::draw(&course, p))),
    );
    let mut total = 0;
    for (file, svg) in &figures {
        std::fs::write(out.join(file), svg).expect("the figure can be written");
        println!("{:>8} bytes  {}", svg.len(), out.join(file).display());
        total += svg.len();
    }
    println!(
        "{} figures, {total} bytes, in {:.2} s",
        figures.len(),
        started.elapsed().as_secs_f64()
    );
}

/// `--out DIR`, or docs/figures/.
fn out_dir(root: &Path) -> PathBuf {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => root.join("docs/figures"),
        [flag, dir] if flag == "--out" => PathBuf::from(dir),
        _ => {
            eprintln!("usage: figures [--out DIR]");
            std::process::exit(2);
        }
    }
}
