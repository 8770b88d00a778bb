//! Text and attribute values made safe to put in HTML and SVG.

use std::borrow::Cow;

/// `s` as element text.
pub fn text(s: &str) -> Cow<'_, str> {
    html_escape::encode_text(s)
}

/// `s` as a double-quoted attribute value.
pub fn attr(s: &str) -> Cow<'_, str> {
    html_escape::encode_double_quoted_attribute(s)
}
