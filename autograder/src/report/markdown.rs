//! A failure in Markdown, for platforms that render it (Gradescope's
//! `output_format: "md"`): the message and its pictures in a code block,
//! so columns stay aligned, then the hint and the replay command.

use super::{failure_details, Graded};
use crate::runner::TestResult;

/// `text` in a fenced code block whose fence no line of `text` can close.
pub fn code_block(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}", text.trim_end())
}

/// A failed test's output: the message (what broke, expected and found,
/// the operations, the pictures) as code, the hint, the replay command.
pub fn failure(graded: &Graded, r: &TestResult) -> String {
    let hint = r.spec.hint.trim();
    let details = failure_details(graded, r, false);
    let message = details
        .strip_suffix(&format!("hint: {hint}"))
        .filter(|_| !hint.is_empty())
        .unwrap_or(&details);
    let mut out = code_block(message);
    if !hint.is_empty() {
        out.push_str(&format!("\n\n**Hint:** {hint}"));
    }
    out.push_str(&format!(
        "\n\nReplay it: `{}`",
        graded.replay(&r.spec.name).replace('`', "'")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_outlasts_the_backticks_inside() {
        assert_eq!(
            code_block("a0 = malloc(8)\n"),
            "```text\na0 = malloc(8)\n```"
        );
        assert_eq!(code_block("x ```` y"), "`````text\nx ```` y\n`````");
    }
}
