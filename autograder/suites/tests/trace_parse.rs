//! The `.rep` parser: malloc-lab's files read, every malformed file an error
//! naming the file, the line and what was expected, and no input a panic.

use heaplab_suites::trace::rep::{parse, OpKind, MAX_SIZE};
use proptest::prelude::*;

const SAMPLE: &str = "20000\n3\n5\n1\na 0 512\na 1 128\nr 0 640\nf 1\nf 0\n";

#[test]
fn reads_a_malloc_lab_trace() {
    let t = parse("traces/sample.rep", SAMPLE).unwrap();
    assert_eq!(t.name, "sample");
    assert_eq!((t.suggested_heap, t.num_ids, t.weight), (20000, 3, 1));
    let kinds: Vec<OpKind> = t.ops.iter().map(|o| o.kind).collect();
    assert_eq!(
        kinds,
        [
            OpKind::Alloc { id: 0, size: 512 },
            OpKind::Alloc { id: 1, size: 128 },
            OpKind::Realloc { id: 0, size: 640 },
            OpKind::Free { id: 1 },
            OpKind::Free { id: 0 },
        ]
    );
    assert_eq!(t.ops[2].line, 7, "operations remember their line");
    assert_eq!(t.to_rep(), SAMPLE, "writing gives back the same text");
}

#[test]
fn blank_lines_and_spaces_are_allowed() {
    let t = parse("x.rep", "  20000 \n\n3\n2\n1\n\na 0 1\n   f   0  \n\n").unwrap();
    assert_eq!(t.ops.len(), 2);
    assert_eq!(t.ops[1].line, 8);
}

fn error(text: &str) -> String {
    parse("bad.rep", text).unwrap_err().to_string()
}

#[test]
fn a_short_header_says_which_number_is_missing() {
    assert_eq!(
        error("20000\n3\n"),
        "bad.rep:2: the file ends before the header is complete: expected the number of operations (a number)"
    );
    assert!(error("").contains("expected the suggested heap size"));
}

#[test]
fn a_header_word_that_is_not_a_number_is_named() {
    assert_eq!(
        error("20000\nthree\n1\n1\n"),
        "bad.rep:2: expected the number of ids (a non-negative number), found \"three\""
    );
    assert!(error("-5\n1\n0\n1\n").starts_with("bad.rep:1: expected the suggested heap size"));
}

#[test]
fn an_unknown_operation_names_the_forms_expected() {
    assert_eq!(
        error("0\n1\n1\n1\nm 0 16\n"),
        "bad.rep:5: expected `a ID SIZE`, `f ID` or `r ID SIZE`, found \"m 0 16\""
    );
}

#[test]
fn a_wrong_number_of_fields_is_named() {
    assert!(error("0\n1\n1\n1\na 0\n").starts_with("bad.rep:5: expected `a ID SIZE`"));
    assert!(error("0\n1\n1\n1\nf 0 16\n").contains("(3 words)"));
}

#[test]
fn bad_numbers_in_operations_are_named() {
    assert_eq!(
        error("0\n1\n1\n1\na x 16\n"),
        "bad.rep:5: expected an id (a non-negative number), found \"x\""
    );
    assert_eq!(
        error("0\n1\n1\n1\na 0 -3\n"),
        "bad.rep:5: expected a size in bytes (a non-negative number), found \"-3\""
    );
    assert!(error(&format!("0\n1\n1\n1\na 0 {}\n", MAX_SIZE + 1)).contains("too large"));
}

#[test]
fn ids_must_be_in_range() {
    assert_eq!(
        error("0\n2\n1\n1\na 2 16\n"),
        "bad.rep:5: id 2 is out of range: the header declares 2 ids (0 to 1)"
    );
}

#[test]
fn operations_on_blocks_that_are_not_live_are_rejected() {
    assert_eq!(
        error("0\n1\n1\n1\nf 0\n"),
        "bad.rep:5: block 0 is freed but is not allocated"
    );
    assert_eq!(
        error("0\n1\n1\n1\nr 0 8\n"),
        "bad.rep:5: block 0 is resized but is not allocated"
    );
    assert_eq!(
        error("0\n1\n3\n1\na 0 8\nf 0\nf 0\n"),
        "bad.rep:7: block 0 is freed but is not allocated"
    );
    assert_eq!(
        error("0\n1\n2\n1\na 0 8\na 0 8\n"),
        "bad.rep:6: block 0 is allocated again before it was freed"
    );
}

#[test]
fn the_operation_count_must_match_the_header() {
    assert_eq!(
        error("0\n1\n3\n1\na 0 8\nf 0\n"),
        "bad.rep: the header declares 3 operations but the file has 2"
    );
}

#[test]
fn an_absurd_id_count_is_refused_before_anything_is_reserved() {
    assert!(error("0\n99999999999\n0\n1\n").contains("at most"));
}

#[test]
fn operations_on_the_header_line_are_refused() {
    assert!(error("0 1 1 1 a 0 8\n").contains("expected the first operation on its own line"));
}

/// Lines built from the words a trace uses, so most inputs get past the
/// header and exercise the operation checks.
fn near_trace() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("a".to_string()),
        Just("f".to_string()),
        Just("r".to_string()),
        Just("x".to_string()),
        (0usize..6).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        Just("-1".to_string()),
        Just("".to_string()),
    ];
    let line = proptest::collection::vec(word, 0..5).prop_map(|w| w.join(" "));
    (0usize..4, 0usize..8, proptest::collection::vec(line, 0..12))
        .prop_map(|(ids, n, lines)| format!("100\n{ids}\n{n}\n1\n{}", lines.join("\n")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_is_ok_or_err_never_a_panic(text in ".*") {
        let _ = parse("fuzz.rep", &text);
    }

    #[test]
    fn near_traces_are_ok_or_err_never_a_panic(text in near_trace()) {
        match parse("fuzz.rep", &text) {
            // What parses writes back to text that parses to the same trace.
            Ok(t) => prop_assert_eq!(parse("fuzz.rep", &t.to_rep()).unwrap(), t),
            Err(e) => {
                let shown = e.to_string();
                prop_assert!(shown.starts_with("fuzz.rep"), "{}", shown);
                prop_assert!(e.line <= text.lines().count(), "line {} past the end", e.line);
            }
        }
    }
}
