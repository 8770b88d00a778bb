//! The functions of a Rust file, as `grade carry` needs them: a key that
//! names each across two lessons (`impl Heap::malloc`, `impl::grow`,
//! `chunk_of`), where its body and the whole item are, and where the `impl`
//! it belongs to ends. Test modules are left out.

use std::ops::Range;

use proc_macro2::LineColumn;
use syn::spanned::Spanned;

/// One function of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnItem {
    /// `impl Trait::name` for a trait's method, `impl::name` for an
    /// inherent one, `name` for a free function: the same across lessons,
    /// though the heap's type is renamed from lesson to lesson.
    pub key: String,
    pub name: String,
    /// The body, braces included.
    pub body: Range<usize>,
    /// The whole item, its doc comment and attributes included.
    pub whole: Range<usize>,
    /// Where the closing brace of its `impl` block is, for a method.
    pub impl_close: Option<usize>,
}

/// The functions of `text` (a whole `.rs` file).
pub fn items(text: &str) -> Result<Vec<FnItem>, String> {
    let file = syn::parse_file(text).map_err(|e| {
        let at = e.span().start();
        format!("line {}: {e}", at.line)
    })?;
    let at = Offsets::new(text);
    let mut out = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Fn(f) => out.push(FnItem {
                key: f.sig.ident.to_string(),
                name: f.sig.ident.to_string(),
                body: at.range(f.block.span()),
                whole: at.range(f.span()),
                impl_close: None,
            }),
            syn::Item::Impl(i) => methods(i, &at, &mut out),
            _ => {}
        }
    }
    Ok(out)
}

fn methods(block: &syn::ItemImpl, at: &Offsets, out: &mut Vec<FnItem>) {
    let owner = match &block.trait_ {
        Some((_, path, _)) => {
            let last = path.segments.last().map(|s| s.ident.to_string());
            format!("impl {}", last.unwrap_or_default())
        }
        None => "impl".to_string(),
    };
    let close = at.offset(block.brace_token.span.close().start());
    for item in &block.items {
        if let syn::ImplItem::Fn(f) = item {
            out.push(FnItem {
                key: format!("{owner}::{}", f.sig.ident),
                name: f.sig.ident.to_string(),
                body: at.range(f.block.span()),
                whole: at.range(f.span()),
                impl_close: Some(close),
            });
        }
    }
}

/// Byte offsets of a file's line and column positions.
struct Offsets<'t> {
    text: &'t str,
    line_starts: Vec<usize>,
}

impl<'t> Offsets<'t> {
    fn new(text: &'t str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Offsets { text, line_starts }
    }

    /// The byte offset of a position (lines count from 1, columns in chars).
    fn offset(&self, at: LineColumn) -> usize {
        let start = self.line_starts.get(at.line.saturating_sub(1)).copied();
        let start = start.unwrap_or(self.text.len());
        let line = &self.text[start..];
        start
            + line
                .char_indices()
                .nth(at.column)
                .map_or(line.len(), |(i, _)| i)
    }

    fn range(&self, span: proc_macro2::Span) -> Range<usize> {
        self.offset(span.start())..self.offset(span.end())
    }
}

/// The lesson whose exercise a function body is left to do for, when the
/// body is only `// TODO: … (lesson N)` and `todo!()`.
pub fn todo_of_lesson(body: &str) -> Option<u32> {
    let inner = body.trim().strip_prefix('{')?.strip_suffix('}')?;
    let lines: Vec<&str> = inner
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let [todo, "todo!()"] = lines.as_slice() else {
        return None;
    };
    let task = todo.strip_prefix("// TODO:")?;
    let n = task
        .trim_end()
        .strip_suffix(')')?
        .rsplit_once("(lesson ")?
        .1;
    n.parse().ok()
}

/// True for a body still left to do (`todo!()` and nothing else of note).
pub fn is_todo(body: &str) -> bool {
    let inner = body.trim().trim_start_matches('{').trim_end_matches('}');
    inner
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .all(|l| l == "todo!()" || l == "unimplemented!()")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
/// Doc.
pub fn free_fn() -> u8 {
    7
}

impl<S> Heap for My<S> {
    fn malloc(&mut self) {
        // TODO: first fit (lesson 4)
        todo!()
    }
}

impl<S> My<S> {
    fn grow(&mut self) { let x = 'é'; }
}
";

    #[test]
    fn functions_are_keyed_across_renamed_types() {
        let items = items(TEXT).unwrap();
        let keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["free_fn", "impl Heap::malloc", "impl::grow"]);
        assert_eq!(&TEXT[items[0].body.clone()], "{\n    7\n}");
        assert!(TEXT[items[0].whole.clone()].starts_with("/// Doc."));
        assert_eq!(&TEXT[items[2].body.clone()], "{ let x = 'é'; }");
        assert_eq!(TEXT.as_bytes()[items[1].impl_close.unwrap()], b'}');
    }

    #[test]
    fn an_earlier_lessons_todo_says_which() {
        let items = items(TEXT).unwrap();
        assert_eq!(todo_of_lesson(&TEXT[items[1].body.clone()]), Some(4));
        assert_eq!(todo_of_lesson(&TEXT[items[0].body.clone()]), None);
        assert!(is_todo(&TEXT[items[1].body.clone()]));
        assert!(!is_todo("{ 7 }"));
    }
}
