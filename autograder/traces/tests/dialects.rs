//! The two malloc-lab header dialects: CS:APP's `heap-size ids ops weight`
//! and CMU 15-213's `weight ids ops data-bytes`, told apart by the header,
//! weights read as each course means them, and a line-numbered error when
//! a header given as 15-213's is not.

use heaplab_traces::rep::{parse, parse_as, Dialect, OpKind, Scoring};

/// A 15-213 trace: weight 2 (utilization only), 3 ids, 6 operations, and
/// 1000 data bytes: live at once at most are 600 + 400 (lines 7 and 8).
const CMU: &str = "2\n3\n6\n1000\na 0 600\na 1 100\nr 1 400\nf 0\na 2 50\nf 2\n";

/// The same operations with a CS:APP header.
const CSAPP: &str = "20000\n3\n6\n1\na 0 600\na 1 100\nr 1 400\nf 0\na 2 50\nf 2\n";

fn error(text: &str, dialect: Dialect) -> String {
    parse_as("bad.rep", text, dialect).unwrap_err().to_string()
}

#[test]
fn a_15_213_header_is_recognized_and_read_in_its_order() {
    let t = parse("traces/cmu.rep", CMU).unwrap();
    assert_eq!(t.dialect, Dialect::Cmu213);
    assert_eq!((t.weight, t.num_ids, t.suggested_heap), (2, 3, 1000));
    assert_eq!(t.ops.len(), 6);
    assert_eq!(t.ops[2].kind, OpKind::Realloc { id: 1, size: 400 });
}

#[test]
fn a_cs_app_header_stays_cs_app() {
    let t = parse("traces/csapp.rep", CSAPP).unwrap();
    assert_eq!(t.dialect, Dialect::CsApp);
    assert_eq!((t.suggested_heap, t.num_ids, t.weight), (20000, 3, 1));
}

#[test]
fn a_small_heap_size_with_a_weight_that_is_not_the_peak_is_cs_app() {
    // Hand-written CS:APP traces often say 0 for the unused heap size.
    let t = parse("x.rep", "0\n1\n2\n1\na 0 100\nf 0\n").unwrap();
    assert_eq!(t.dialect, Dialect::CsApp);
    assert_eq!((t.suggested_heap, t.weight), (0, 1));
}

#[test]
fn weights_say_what_a_trace_scores() {
    let scoring = |weight: usize| {
        let text = CMU.replacen('2', &weight.to_string(), 1);
        parse("w.rep", &text).unwrap().scoring()
    };
    let both = Scoring {
        utilization: true,
        throughput: true,
    };
    assert_eq!(
        scoring(0),
        Scoring {
            utilization: false,
            throughput: false
        }
    );
    assert_eq!(scoring(1), both);
    assert_eq!(
        scoring(2),
        Scoring {
            utilization: true,
            throughput: false
        }
    );
    assert_eq!(
        scoring(3),
        Scoring {
            utilization: false,
            throughput: true
        }
    );
    assert_eq!(
        parse("c.rep", CSAPP).unwrap().scoring(),
        both,
        "CS:APP weights are unused"
    );
}

#[test]
fn each_dialect_is_written_back_in_its_own_order() {
    for text in [CMU, CSAPP] {
        let t = parse("t.rep", text).unwrap();
        assert_eq!(t.to_rep(), text);
        assert_eq!(parse("t.rep", &t.to_rep()).unwrap(), t);
    }
}

#[test]
fn parse_as_reads_a_header_the_way_it_is_told() {
    let t = parse_as("t.rep", CMU, Dialect::CsApp).unwrap();
    assert_eq!(
        (t.dialect, t.suggested_heap, t.weight),
        (Dialect::CsApp, 2, 1000)
    );
    let t = parse_as("t.rep", CMU, Dialect::Cmu213).unwrap();
    assert_eq!(
        (t.dialect, t.suggested_heap, t.weight),
        (Dialect::Cmu213, 1000, 2)
    );
}

#[test]
fn a_15_213_weight_above_3_is_named_on_its_line() {
    assert_eq!(
        error(&CMU.replacen('2', "7", 1), Dialect::Cmu213),
        "bad.rep:1: expected a 15-213 weight (0 nothing, 1 utilization and throughput, 2 utilization, 3 throughput), found 7"
    );
}

#[test]
fn wrong_15_213_data_bytes_are_named_on_their_line() {
    assert_eq!(
        error(&CMU.replace("1000", "999"), Dialect::Cmu213),
        "bad.rep:4: expected the data bytes, the most bytes the trace has live at once, 1000; found 999"
    );
    // A header all on one line names that line.
    let one_line = CMU.replacen("2\n3\n6\n1000", "2 3 6 64", 1);
    assert!(error(&one_line, Dialect::Cmu213).starts_with("bad.rep:1: expected the data bytes"));
}

#[test]
fn a_malformed_header_names_both_dialects_meanings() {
    let message = parse("bad.rep", "x\n").unwrap_err().to_string();
    assert_eq!(
        message,
        "bad.rep:1: expected the suggested heap size (or, in a 15-213 trace, the weight) (a non-negative number), found \"x\""
    );
    let short = parse("bad.rep", "2\n3\n6\n").unwrap_err().to_string();
    assert!(
        short.contains("the weight (or, in a 15-213 trace, the data bytes)"),
        "{short}"
    );
}
