//! Texts known to be documents, and the splices shown to keep them documents: so that an
//! update of a large document is walked once, not once by the guest that makes the change
//! and again by the host that writes it.
//!
//! The proof is the grammar's: in a document (a text that [`strict::check`] accepts, root
//! an object), replacing the bytes of one whole value that stands where a value stands
//! (not a key) with the text of one value that the rules accept gives a document again.
//! No key of any object around it changes, so no key can repeat; every number outside it
//! is as it was; and the nesting it adds is counted. Anything else a splice does (insert
//! or remove members, replace part of a value) is not shown ([`splice_keeps`] answers
//! `None`), and its text is checked whole by whoever writes it.

use std::ops::Range;

use crate::document;
use crate::edit::MAX_DEPTH;
use crate::error::Error;
use crate::format::Format;
use crate::scan;
use crate::strict::{self, Shape};

/// A text that is a document under the rules of [`strict`], with its shape: made by the
/// check, or (within the crate) from a host's word that it checked the text.
#[derive(Debug, Clone, Copy)]
pub struct Checked<'t> {
    text: &'t str,
    shape: Shape,
}

impl<'t> Checked<'t> {
    /// Checks `text`, the content of the document `name` in `format`, with the errors of
    /// [`document::check`].
    pub fn new(format: Format, name: &str, text: &'t str) -> Result<Checked<'t>, Error> {
        Ok(Checked { text, shape: document::check(format, name, text)? })
    }

    /// `text` as a host that checked it says, nesting at most `depth` levels deep: the
    /// guest's service trusts its host, which checks every text before it gives it. On a
    /// text that is not a document the edits are wrong (never a panic); what they answer
    /// is a splice, which its writer checks (confine's store with its own record and
    /// check, [`splice_keeps`]), so nothing is written on this word alone.
    pub(crate) fn trusted(text: &'t str, depth: usize) -> Checked<'t> {
        Checked { text, shape: Shape { is_object: true, depth } }
    }

    /// The text.
    pub fn text(self) -> &'t str {
        self.text
    }

    /// Its shape, as [`strict::check`] found it (or as the host said: a depth at least the
    /// text's).
    pub fn shape(self) -> Shape {
        self.shape
    }
}

/// How deep `text` nests at most once its bytes `range` are replaced with `with` (a splice),
/// where that is shown to keep it a document: as deep as before, or as deep as the new
/// value reaches. `None` where it is not shown, or does not fit.
///
/// `text` must be a document nesting at most `depth` levels deep, which the caller knows
/// by its own check or record (this is not checked: only the bytes before the splice and
/// the splice's own text are read); on any other text the answer means nothing.
pub fn splice_keeps(text: &str, depth: usize, range: Range<usize>, with: &str) -> Option<usize> {
    text.get(range.clone())?;
    let level = value_level(text, range)?;
    let reaches = level + strict::check(with).ok()?.depth;
    // Within the edits' own limit, well inside the parser's: deeper is left to a check.
    (reaches <= MAX_DEPTH).then_some(depth.max(reaches))
}

/// How many containers enclose the value of a member or element of the document `text`
/// that spans exactly `range`; `None` if no value does (a key, part of a value, the gap
/// between two items, the root). Reads the bytes before `range` at most.
fn value_level(text: &str, range: Range<usize>) -> Option<usize> {
    let mut open = text.find('{')?;
    let mut level = 1;
    loop {
        let item = scan::items(text, open)
            .take_while(|item| item.start() <= range.start)
            .find(|item| item.value.start <= range.start && range.end <= item.value.end)?;
        if item.value == range {
            return Some(level);
        }
        match text.as_bytes().get(item.value.start) {
            Some(b'{' | b'[') => (open, level) = (item.value.start, level + 1),
            _ => return None,
        }
    }
}

#[cfg(test)]
#[path = "tests/checked.rs"]
mod tests;
