//! Blank lines where the lesson pass cut a region or a marker line: as a
//! person would have left them, so a generated file reads as if written by
//! hand.

/// One line of a lesson's file, ending included, and the line of the
/// reference file it comes from (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutLine {
    pub origin: usize,
    pub text: String,
}

/// A kept line, or the place of a removed region or marker line.
pub(super) enum Piece {
    Line(OutLine),
    Cut,
}

pub(super) fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// Keeps blank lines where a region or marker was removed as a person would
/// have written them: the blank lines on both sides of the cut become at most
/// one, and none is left at the start or end of the file, after a line that
/// opens a block or before a line that closes one.
pub(super) fn tidy(pieces: Vec<Piece>) -> Vec<OutLine> {
    let mut out: Vec<OutLine> = Vec::new();
    // After a cut: the first blank line seen since, if any.
    let mut after_cut: Option<Option<OutLine>> = None;
    for piece in pieces {
        match piece {
            Piece::Cut => {
                after_cut.get_or_insert(None);
            }
            Piece::Line(line) => match &mut after_cut {
                Some(blank) if is_blank(&line.text) => {
                    blank.get_or_insert(line);
                }
                Some(_) => {
                    let blank = after_cut.take().flatten();
                    settle(&mut out, blank, Some(&line.text));
                    out.push(line);
                }
                None => out.push(line),
            },
        }
    }
    if let Some(blank) = after_cut {
        settle(&mut out, blank, None);
    }
    out
}

/// Puts the right number of blank lines (0 or 1) between `out` and `next`
/// (`None` at the end of the file) at a cut; `blank` is the first blank line
/// after the cut, if there was one.
fn settle(out: &mut Vec<OutLine>, blank: Option<OutLine>, next: Option<&str>) {
    // The blank line before the cut, if any, is preferred to the one after.
    let mut before = None;
    while out.last().is_some_and(|l| is_blank(&l.text)) {
        before = out.pop();
    }
    let opens = out.last().is_none_or(|l| {
        let t = l.text.trim_end();
        t.ends_with('{') || t.ends_with('(') || t.ends_with('[')
    });
    let closes = next.is_none_or(|t| {
        let t = t.trim_start();
        t.starts_with('}') || t.starts_with(')') || t.starts_with(']')
    });
    if let Some(blank) = before.or(blank).filter(|_| !opens && !closes) {
        out.push(blank);
    }
}
