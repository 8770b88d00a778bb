//! The docs as a book (`just book`): every page of docs/ is a chapter of
//! docs/SUMMARY.md, mdBook builds it, and every link of the built book
//! inside it, the theme's styles and scripts included, leads to a file of
//! the book (and to an element with that id, for a link with a `#`). Only
//! the pages' own references (`<a>` to a web address) leave the book;
//! nothing the book shows is fetched from elsewhere.

mod browser;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use scraper::{Html, Selector};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The mdbook to run: `HEAPLAB_MDBOOK`, the PATH's, or cargo's bin folder's.
fn mdbook() -> PathBuf {
    if let Some(path) = std::env::var_os("HEAPLAB_MDBOOK") {
        return path.into();
    }
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .map(|c| c.join("bin"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(cargo_bin)
        .map(|d| d.join("mdbook"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "this test needs mdbook: `cargo install mdbook --locked --no-default-features \
                 --features search` (.ci/run and `just book` install it), or set HEAPLAB_MDBOOK"
            )
        })
}

/// The chapters SUMMARY.md lists, as file names (`lesson4.md`).
fn chapters() -> Vec<String> {
    let summary = std::fs::read_to_string(root().join("docs/SUMMARY.md")).unwrap();
    summary
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- ["))
        .map(|l| {
            let start = l.find("](").expect("a chapter line is a link") + 2;
            l[start..l.len() - 1].to_string()
        })
        .collect()
}

#[test]
fn every_page_of_docs_is_a_chapter() {
    let listed: BTreeSet<String> = chapters().into_iter().collect();
    let pages: BTreeSet<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md") && n != "SUMMARY.md" && !n.starts_with('.'))
        .collect();
    assert_eq!(
        listed, pages,
        "docs/SUMMARY.md lists every page of docs/, once"
    );
}

#[test]
fn the_book_builds_and_its_links_lead_somewhere() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(mdbook())
        .args(["build", "--dest-dir"])
        .arg(out.path())
        .arg(root().join("docs"))
        .status()
        .expect("mdbook runs");
    assert!(status.success(), "mdbook build failed: {status:?}");
    let links = Selector::parse("a[href], link[href], script[src], img[src]").unwrap();
    let mut checked = 0;
    let mut ids = Ids::default();
    for chapter in chapters() {
        let page = out.path().join(chapter.replace(".md", ".html"));
        let html = std::fs::read_to_string(&page)
            .unwrap_or_else(|e| panic!("{chapter} was not built: {e}"));
        let doc = Html::parse_document(&html);
        for e in doc.select(&links) {
            let target = e.value().attr("href").or(e.value().attr("src")).unwrap();
            let reference = e.value().name() == "a" && target.starts_with("https://");
            if reference {
                continue;
            }
            if let Some(problem) = broken(out.path(), &page, target, &mut ids) {
                panic!("{chapter}: link {target:?} {problem}");
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} links: was the book built?");
    in_chromium(out.path());
}

/// After loading: the links of the table of contents (which the book's
/// script writes) and the errors, into `<pre id="drive">`.
const RECORD: &str = "<script>addEventListener('load', function () {\
var pre = document.createElement('pre'); pre.id = 'drive';\
var toc = [].map.call(document.querySelectorAll('.sidebar a[href]'), function (a) {\
return a.getAttribute('href'); });\
var imgs = [].map.call(document.querySelectorAll('main img'), function (i) {\
return { src: i.getAttribute('src'), drawn: i.complete && i.naturalWidth > 0 }; });\
pre.textContent = JSON.stringify({ errors: window.__errors, toc: toc, imgs: imgs });\
document.body.appendChild(pre); });</script>";

/// Each chapter in headless Chromium: no script errors, the table of
/// contents lists every chapter, and every image of a page (the figures of
/// docs/figures/) is drawn.
fn in_chromium(book: &Path) {
    let chapters: Vec<String> = chapters()
        .iter()
        .map(|c| c.replace(".md", ".html"))
        .collect();
    let mut figures = 0;
    for chapter in &chapters {
        let page = book.join(chapter);
        let html = std::fs::read_to_string(&page).unwrap();
        std::fs::write(&page, browser::instrumented(&html, RECORD)).unwrap();
        let dom = Html::parse_document(&browser::dump_dom(&page, &book.join("profile")));
        let drive = Selector::parse("pre#drive").unwrap();
        let found: String = dom
            .select(&drive)
            .next()
            .expect("the page loaded")
            .text()
            .collect();
        let seen: serde_json::Value = serde_json::from_str(&found).unwrap();
        assert_eq!(
            seen["errors"],
            serde_json::json!([]),
            "{chapter}: script errors"
        );
        let toc: Vec<&str> = seen["toc"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        for c in &chapters {
            assert!(
                toc.iter().any(|t| t.ends_with(c.as_str())),
                "{chapter}: {c} not in the contents {toc:?}"
            );
        }
        for img in seen["imgs"].as_array().unwrap() {
            assert_eq!(img["drawn"], true, "{chapter}: an image not drawn: {img}");
            figures += 1;
        }
    }
    assert!(figures >= 14, "only {figures} figures in the book");
}

/// The ids of each page read so far.
#[derive(Default)]
struct Ids(HashMap<PathBuf, HashSet<String>>);

impl Ids {
    fn of(&mut self, file: &Path) -> &HashSet<String> {
        self.0.entry(file.to_path_buf()).or_insert_with(|| {
            let doc = Html::parse_document(&std::fs::read_to_string(file).unwrap());
            let with_id = Selector::parse("[id]").unwrap();
            doc.select(&with_id)
                .map(|e| e.value().attr("id").unwrap().to_string())
                .collect()
        })
    }
}

/// What is wrong with the link `target` on `page`, if anything.
fn broken(book: &Path, page: &Path, target: &str, ids: &mut Ids) -> Option<String> {
    if target.contains("://") || target.starts_with("//") {
        return Some("leaves the book".into());
    }
    if target.starts_with("mailto:") || target.starts_with("javascript:") {
        return None;
    }
    let (path, fragment) = match target.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (target, None),
    };
    let path = path.split('?').next().unwrap();
    let file = if path.is_empty() {
        page.to_path_buf()
    } else {
        page.parent().unwrap().join(path)
    };
    let file = if file.is_dir() {
        file.join("index.html")
    } else {
        file
    };
    if !file.starts_with(book) || !file.is_file() {
        return Some(format!(
            "leads to {}, which is not in the book",
            file.display()
        ));
    }
    let fragment = fragment.filter(|f| !f.is_empty())?;
    if !ids.of(&file).contains(fragment) {
        return Some(format!("names #{fragment}, which {} lacks", file.display()));
    }
    None
}
