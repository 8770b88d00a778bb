//! The drawing against small heaps: one run, a split, three free chunks
//! listed out of address order, a cycle. Each drawing is parsed as a browser
//! parses it and its elements checked.

use heaplab_protocol::heap_state::{FreeChunk, HeapState, ListEnd, LiveChunk, Run};
use scraper::{ElementRef, Html, Selector};

use super::{draw, standalone, BAND_W, LEFT};

const BASE: u64 = 0x7f00_0000_0000;

fn run() -> Run {
    Run {
        serial: 1,
        addr: BASE,
        len: 4096,
    }
}

fn live(name: &str, at: u64, size: u64) -> LiveChunk {
    LiveChunk {
        name: name.into(),
        addr: BASE + at,
        size,
        requested: size - 16,
    }
}

fn free(at: u64, size: u64) -> FreeChunk {
    FreeChunk {
        addr: BASE + at,
        size,
    }
}

fn heap(live: Vec<LiveChunk>, free: Vec<FreeChunk>, end: ListEnd) -> HeapState {
    HeapState {
        header: 16,
        runs: vec![run()],
        live,
        free,
        list_end: end,
        ..HeapState::default()
    }
}

fn parse(state: &HeapState) -> Html {
    let svg = draw(state, "heap");
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
    Html::parse_fragment(&svg)
}

fn all<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

fn one<'a>(doc: &'a Html, css: &str) -> ElementRef<'a> {
    let found = all(doc, css);
    assert_eq!(
        found.len(),
        1,
        "one {css}, found {}: {}",
        found.len(),
        doc.html()
    );
    found[0]
}

fn num(e: ElementRef, name: &str) -> f64 {
    e.value().attr(name).unwrap().parse().unwrap()
}

/// `(from, to)` of every arrow of the list, in drawing order.
fn links(doc: &Html) -> Vec<(String, String)> {
    all(doc, "g.link")
        .iter()
        .map(|g| {
            let a = |n| g.value().attr(n).unwrap().to_string();
            (a("data-from"), a("data-to"))
        })
        .collect()
}

fn words(e: ElementRef) -> String {
    e.text().collect()
}

fn texts(doc: &Html) -> String {
    all(doc, "text")
        .iter()
        .flat_map(|t| t.text())
        .collect::<Vec<_>>()
        .join("|")
}

#[test]
fn one_run_with_one_chunk_to_scale() {
    let doc = parse(&heap(vec![live("a0", 0, 64)], vec![], ListEnd::Null));
    // 4 KiB: a band of lines of 1 KiB, the last three unused whole, so
    // drawn as one line, cut.
    let lines = all(&doc, "g.run");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].value().attr("data-addr"), Some("0x7f0000000000"));
    assert_eq!(lines[1].value().attr("data-addr"), Some("0x7f0000000400"));
    for unused in all(&doc, "rect.unused") {
        assert_eq!((num(unused, "x"), num(unused, "width")), (LEFT, BAND_W));
    }
    assert!(texts(&doc).contains("⋯ 3 KiB on this line, not to scale ⋯"));
    let chunk = one(&doc, "g.chunk.live[data-addr=\"0x7f0000000000\"]");
    let payload = chunk
        .select(&Selector::parse("rect.payload").unwrap())
        .next()
        .unwrap();
    let header = chunk
        .select(&Selector::parse("rect.hdr").unwrap())
        .next()
        .unwrap();
    // 64 bytes, 16 of them header, on a line of 1 KiB: to scale, within a
    // tenth of a px.
    assert!((num(payload, "width") - BAND_W * 64.0 / 1024.0).abs() < 0.1);
    assert!((num(header, "width") - BAND_W * 16.0 / 1024.0).abs() < 0.1);
    assert_eq!(num(header, "x"), LEFT);
    assert!(texts(&doc).contains("run 1|4 KiB"), "{}", texts(&doc));
    assert!(links(&doc).is_empty() && all(&doc, "g.focus").is_empty());
}

#[test]
fn a_split_shows_the_block_and_the_rest_on_the_list() {
    let state = heap(
        vec![live("a0", 0, 48)],
        vec![free(48, 4096 - 48)],
        ListEnd::Null,
    );
    let doc = parse(&state);
    let a0 = one(&doc, "g.chunk.live rect.payload");
    let rest = all(&doc, "g.chunk.free[data-order=\"1\"] rect.free");
    // Side by side, together the whole band: the rest ends the first line
    // and fills the next three, drawn as one.
    assert_eq!(rest.len(), 2);
    assert!((num(a0, "x") + num(a0, "width") - num(rest[0], "x")).abs() < 0.1);
    assert!((num(a0, "width") + num(rest[0], "width") - BAND_W).abs() < 0.2);
    assert_eq!(num(rest[1], "width"), BAND_W);
    assert!(texts(&doc).contains("a0") && texts(&doc).contains("free #1"));
    assert_eq!(links(&doc), [("head".into(), "1".into())]);
    let svg = one(&doc, "svg");
    assert_eq!(svg.value().attr("data-list-end"), Some("null"));
}

#[test]
fn three_free_chunks_are_linked_in_list_order_not_address_order() {
    // The list: the chunk at 512, then the one at 0, then the one at 1024.
    let order = [512, 0, 1024];
    let state = heap(
        vec![live("a1", 256, 64)],
        order.iter().map(|&at| free(at, 128)).collect(),
        ListEnd::Null,
    );
    let doc = parse(&state);
    for (i, at) in order.iter().enumerate() {
        let css = format!(
            "g.chunk.free[data-order=\"{}\"][data-addr=\"{:#x}\"]",
            i + 1,
            BASE + at
        );
        one(&doc, &css);
    }
    assert_eq!(
        links(&doc),
        [("head", "1"), ("1", "2"), ("2", "3")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // The arrow from #1 (at 512) to #2 (at 0) points left.
    let d = one(&doc, "g.link[data-from=\"1\"] path:not(.tip)")
        .value()
        .attr("d")
        .unwrap()
        .to_string();
    let xs: Vec<f64> = d
        .split(|c: char| c.is_ascii_alphabetic() || c == ' ')
        .filter_map(|s| s.parse().ok())
        .step_by(2)
        .collect();
    assert!(xs[0] > xs[2], "{d}");
    assert!(texts(&doc).contains("null"));
}

#[test]
fn a_cycle_is_an_arrow_back_and_the_broken_chunk_is_outlined() {
    let mut state = heap(
        vec![],
        vec![free(0, 256), free(512, 256)],
        ListEnd::Cycle { to: 0 },
    );
    state.focus = vec![BASE + 512 + 16];
    let doc = parse(&state);
    assert_eq!(
        links(&doc),
        [("head", "1"), ("1", "2"), ("2", "1")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
    one(&doc, "g.link.cycle[data-from=\"2\"][data-to=\"1\"]");
    assert!(
        texts(&doc).contains("back to #1: a cycle"),
        "{}",
        texts(&doc)
    );
    let outline = one(&doc, "g.focus rect");
    let chunk = one(&doc, "g.chunk[data-order=\"2\"] rect.free");
    assert!(num(outline, "x") < num(chunk, "x"));
    assert!(num(outline, "width") > num(chunk, "width"));
    assert_eq!(
        one(&doc, "svg").value().attr("data-list-end"),
        Some("cycle")
    );
}

#[test]
fn what_lies_outside_the_pages_is_said_in_words() {
    let mut state = heap(vec![], vec![free(0, 64)], ListEnd::Outside { addr: 0x10 });
    state.free.push(FreeChunk {
        addr: 0x20,
        size: 32,
    });
    state.left_out = 7;
    let doc = parse(&state);
    let said = texts(&doc);
    assert!(
        said.contains("a free chunk at 0x20 lies outside the mapped pages"),
        "{said}"
    );
    assert!(said.contains("7 more chunks not drawn"), "{said}");
}

#[test]
fn no_pages_yet_and_text_is_escaped() {
    let empty = draw(&HeapState::default(), "heap <before> \"any\"");
    assert!(empty.contains("no pages mapped yet"));
    assert!(
        empty.contains("aria-label=\"heap &lt;before&gt; &quot;any&quot;\""),
        "{empty}"
    );
    let odd = draw(&heap(vec![live("<b>", 0, 256)], vec![], ListEnd::Null), "x");
    assert!(odd.contains("&lt;b&gt;") && !odd.contains("<b>"), "{odd}");
}

#[test]
fn a_name_too_long_for_its_box_goes_under_it() {
    // 32 bytes on a line of 1 KiB: some 20 px, half of it header.
    let doc = parse(&heap(vec![live("a0", 0, 32)], vec![], ListEnd::Null));
    let below = one(&doc, "g.chunk.live text.label.below");
    assert_eq!(words(below), "a0");
    let payload = one(&doc, "g.chunk.live rect.payload");
    assert!(num(below, "y") > num(payload, "y") + num(payload, "height"));
}

#[test]
fn a_drawing_stands_alone_as_a_file() {
    let state = heap(vec![live("a0", 0, 64)], vec![free(64, 128)], ListEnd::Null);
    let drawn = draw(&state, "heap");
    let file = standalone(&drawn);
    assert!(
        file.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heap\""),
        "{file}"
    );
    assert!(file.ends_with("</svg>\n"));
    // The styles a page would give, inside; the drawing itself unchanged.
    let styles = file.find("<style>svg.heap").expect("the styles inside");
    assert!(styles < file.find("<g class=\"run\"").unwrap());
    let doc = Html::parse_fragment(&file);
    assert_eq!(all(&doc, "svg").len(), 1);
    assert_eq!(all(&doc, "g.chunk").len(), 2);
    assert!(file.contains(drawn.split_once('>').unwrap().1.trim_end_matches("</svg>")));
}
