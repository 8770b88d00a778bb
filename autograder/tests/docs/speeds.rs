//! Speeds are quoted only as ratios, each with the command that measured it
//! and the date: absolute speeds depend on the machine and the moment.

use crate::markdown::Page;

/// Units that make a number an absolute speed.
const SPEED_UNITS: [&str; 4] = [
    "ops/s",
    "operations a second",
    "operations per second",
    "ops a second",
];

/// Words that make a number before them a ratio of speeds.
const RATIO_WORDS: [&str; 3] = ["times faster", "times slower", "times as fast"];

/// What breaks the rule on `page`, one line each.
pub fn problems(page: &Page) -> Vec<String> {
    let mut problems = Vec::new();
    for (line, paragraph) in page.paragraphs() {
        let paragraph = paragraph.replace('\n', " ");
        if SPEED_UNITS
            .iter()
            .any(|unit| follows_number(&paragraph, unit, true))
        {
            problems.push(format!(
                "{}:{line}: an absolute speed: quote it as a ratio to the system allocator measured in the same run",
                page.name
            ));
        }
        let ratio = follows_number(&paragraph, "×", false)
            || RATIO_WORDS
                .iter()
                .any(|w| follows_number(&paragraph, w, true));
        let command = paragraph.contains("`cargo ") || paragraph.contains("`cc ");
        if ratio && !(has_date(&paragraph) && command) {
            problems.push(format!(
                "{}:{line}: a speed ratio without `measured on YYYY-MM-DD` and the command that measured it (`cargo …`, `cc …`) in the same paragraph",
                page.name
            ));
        }
    }
    problems
}

/// Whether `word` comes right after a number in `text` (with one space
/// between them when `spaced`, and a k, M or G allowed before the word).
fn follows_number(text: &str, word: &str, spaced: bool) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let mut before = text[..at].chars().rev().peekable();
        if spaced && before.next_if_eq(&' ').is_none() {
            return false;
        }
        if spaced {
            before.next_if(|c| "kMG".contains(*c));
            before.next_if_eq(&' ');
        }
        before.next().is_some_and(|c| c.is_ascii_digit())
    })
}

/// Whether `text` says `measured on YYYY-MM-DD`.
fn has_date(text: &str) -> bool {
    text.match_indices("measured on ").any(|(at, m)| {
        let date: Vec<char> = text[at + m.len()..].chars().take(10).collect();
        date.len() == 10
            && date.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == '-'
                } else {
                    c.is_ascii_digit()
                }
            })
    })
}
