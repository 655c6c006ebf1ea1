//! The layout of a JSON text by byte offsets: where each value starts and ends, and the
//! members of an object or the elements of an array. Only used on text that
//! [`strict::check`](crate::strict::check) accepted, so it follows brackets and strings
//! and nothing else; on any other text it returns wrong offsets but never panics.

use std::borrow::Cow;
use std::ops::Range;

/// A member of an object (with its key) or an element of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    /// The member's key, quotes included; `None` for an array element.
    pub(crate) key: Option<Range<usize>>,
    /// The value.
    pub(crate) value: Range<usize>,
}

impl Item {
    /// Where the item begins: at its key, or at its value in an array.
    pub(crate) fn start(&self) -> usize {
        self.key.as_ref().map_or(self.value.start, |key| key.start)
    }
}

/// The offset of the first non-whitespace byte at or after `at`.
pub(crate) fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// The end (exclusive) of the value that starts at `start`.
pub(crate) fn value_end(bytes: &[u8], start: usize) -> usize {
    match bytes.get(start) {
        Some(b'"') => string_end(bytes, start),
        Some(b'{' | b'[') => {
            let (mut depth, mut at) = (0usize, start);
            while let Some(&b) = bytes.get(at) {
                match b {
                    b'"' => {
                        at = string_end(bytes, at);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return at + 1;
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            at
        }
        _ => {
            let mut at = start;
            while bytes.get(at).is_some_and(|b| !matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')) {
                at += 1;
            }
            at
        }
    }
}

/// The end (exclusive) of the string whose opening quote is at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The items of the object or array whose opening bracket is at `open`, in order.
pub(crate) fn items(text: &str, open: usize) -> Items<'_> {
    let bytes = text.as_bytes();
    Items { bytes, at: open + 1, object: bytes.get(open) == Some(&b'{'), done: false }
}

/// The item after the one that ends at `end` in an object (`object`) or an array, if any.
pub(crate) fn item_after(text: &str, end: usize, object: bool) -> Option<Item> {
    Items { bytes: text.as_bytes(), at: end, object, done: false }.next()
}

/// See [`items`].
pub(crate) struct Items<'t> {
    bytes: &'t [u8],
    at: usize,
    object: bool,
    done: bool,
}

impl Iterator for Items<'_> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        let bytes = self.bytes;
        let mut at = skip_whitespace(bytes, self.at);
        if bytes.get(at) == Some(&b',') {
            at = skip_whitespace(bytes, at + 1);
        }
        if !matches!(bytes.get(at), Some(b) if *b != b'}' && *b != b']') {
            self.done = true;
            return None;
        }
        let key = if self.object {
            let key = at..string_end(bytes, at);
            at = skip_whitespace(bytes, key.end) + 1; // past the `:`
            at = skip_whitespace(bytes, at);
            Some(key)
        } else {
            None
        };
        let value = at..value_end(bytes, at);
        self.at = value.end;
        Some(Item { key, value })
    }
}

/// The key a member's quoted key text stands for.
pub(crate) fn key<'t>(text: &'t str, quoted: &Range<usize>) -> Cow<'t, str> {
    let raw = text.get(quoted.clone()).unwrap_or_default();
    let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default();
    if inner.contains('\\') {
        serde_json::from_str::<String>(raw).map_or(Cow::Borrowed(inner), Cow::Owned)
    } else {
        Cow::Borrowed(inner)
    }
}

/// The spaces and tabs that begin the line `at` is on.
pub(crate) fn line_indent(text: &str, at: usize) -> &str {
    let before = text.get(..at).unwrap_or(text);
    let line = &before[before.rfind('\n').map_or(0, |n| n + 1)..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// The whitespace just before `at`.
pub(crate) fn whitespace_before(text: &str, at: usize) -> &str {
    let before = text.get(..at).unwrap_or(text);
    &before[before.trim_end_matches([' ', '\t', '\n', '\r']).len()..]
}

#[cfg(test)]
#[path = "tests/scan.rs"]
mod tests;
