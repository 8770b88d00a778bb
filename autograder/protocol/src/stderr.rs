//! What a student's process printed, made the same from run to run: Rust's
//! panic and overflow messages name the thread's id (`thread 'main' (2560)
//! panicked`), which differs on every run, and the same submission must get
//! the same report. The checker cleans the stderr lines it quotes, the grader
//! a failure's message; both call this one function.

/// `thread 'main' (2560) has overflowed` → `thread 'main' has overflowed`,
/// for every `thread '<name>' (<digits>)` in `text`; anything else is kept.
pub fn without_thread_ids(text: &str) -> String {
    const MARK: &str = "thread '";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        let after_mark = at + MARK.len();
        let Some(name_len) = rest[after_mark..].find('\'') else {
            break;
        };
        let name_end = after_mark + name_len + 1;
        out.push_str(&rest[..name_end]);
        rest = &rest[name_end..];
        if let Some(len) = thread_id_len(rest) {
            rest = &rest[len..];
        }
    }
    out.push_str(rest);
    out
}

/// The length of ` (<digits>)` at the start of `text`, if it is one.
fn thread_id_len(text: &str) -> Option<usize> {
    let digits = text.strip_prefix(" (")?;
    let count = digits.bytes().take_while(u8::is_ascii_digit).count();
    (count > 0 && digits[count..].starts_with(')')).then_some(count + 3)
}

#[cfg(test)]
mod tests {
    use super::without_thread_ids;

    #[test]
    fn every_thread_id_is_dropped() {
        assert_eq!(
            without_thread_ids("thread 'main' (2560) has overflowed its stack"),
            "thread 'main' has overflowed its stack"
        );
        assert_eq!(
            without_thread_ids("thread 'a' (1) panicked\nthread 'b' (22) panicked"),
            "thread 'a' panicked\nthread 'b' panicked"
        );
    }

    #[test]
    fn other_text_is_kept() {
        for text in [
            "thread 'main' panicked",
            "no thread here (12)",
            "a ' (x) b",
            "thread 'x' (12a) oops",
            "thread 'unclosed (12)",
            "quoted 'name' (12) but no thread",
        ] {
            assert_eq!(without_thread_ids(text), text);
        }
    }
}
