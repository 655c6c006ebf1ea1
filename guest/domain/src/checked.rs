//! Texts known to be documents, and the splices shown to keep them documents: so that an
//! update of a large document is walked once, not once by the guest that makes the change
//! and again by the host that writes it.
//!
//! The proof is the grammar's: in a document (a text that [`strict::check`] accepts, root
//! an object), replacing the bytes of one whole value that stands where a value stands
//! (not a key) with the text of one value that the rules accept gives a document again.
//! No key of any object around it changes, so no key can repeat; every number outside it
//! is as it was; and the nesting it adds is counted. Anything else a splice does (insert
//! or remove members, replace part of a value) is not shown, and its text is checked
//! whole by whoever writes it.
//!
//! A shown splice can also be handed to the writer as it is ([`Spliced`]), still tied to
//! the text it was shown on, so that a writer holding that very text makes the splice in it
//! instead of copying the whole document.

use std::ops::Range;

use crate::document;
use crate::edit::MAX_DEPTH;
use crate::error::Error;
use crate::scan;
use crate::splice::Splice;
use crate::strict::{self, Shape};

/// A text that is a document under the rules of [`strict`], with its shape.
#[derive(Debug, Clone, Copy)]
pub struct Checked<'t> {
    text: &'t str,
    shape: Shape,
}

impl<'t> Checked<'t> {
    /// Checks `text`, the content of the document `name`, with the errors of
    /// [`document::check`].
    pub fn new(name: &str, text: &'t str) -> Result<Checked<'t>, Error> {
        Ok(Checked { text, shape: document::check(name, text)? })
    }

    /// `text` as somebody the caller trusts checked it, nesting at most `depth` levels deep:
    /// the domain guest trusts its host, which checks every text before it gives it (or
    /// knows it to be a document). Nothing is checked here; on a text that is not a
    /// document the edits are wrong (never a panic). What is made from it proves nothing
    /// to a writer that did not check the text itself: confine's repository makes a shown
    /// splice without a check only in a text it checked or wrote, and checks any other.
    pub fn trusted(text: &'t str, depth: usize) -> Checked<'t> {
        Checked { text, shape: Shape { is_object: true, depth } }
    }

    /// The text.
    pub fn text(self) -> &'t str {
        self.text
    }

    /// Its shape, as [`strict::check`] found it (or, for a [`Checked::trusted`] text, as
    /// its truster said: a depth at least the text's).
    pub fn shape(self) -> Shape {
        self.shape
    }

    /// What `splice` makes of this text, for a writer that holds it: the splice itself when
    /// it is shown to keep a document ([`NewContent::Spliced`]), else the new text to check;
    /// `None` if the splice does not fit.
    pub fn spliced(self, splice: Splice) -> Option<NewContent<'t>> {
        if !splice.fits(self.text) {
            return None;
        }
        Some(match self.depth_once(&splice) {
            Some(depth) => NewContent::Spliced(Spliced { base: self.text, splice, depth }),
            None => NewContent::Text(NewText::Unchecked(splice.apply_to(self.text)?)),
        })
    }

    /// How deep the text nests at most once `splice` is made, if it is shown to keep a
    /// document: as deep as before, or as deep as the new value reaches.
    fn depth_once(self, splice: &Splice) -> Option<usize> {
        let level = value_level(self.text, splice.start..splice.end)?;
        let reaches = level + strict::check(&splice.text).ok()?.depth;
        // Within the edits' own limit, well inside the parser's: deeper is left to a check.
        (reaches <= MAX_DEPTH).then_some(self.shape.depth.max(reaches))
    }
}

/// What `splice` makes of `current` ([`Checked::spliced`]), or of nothing when the document
/// does not exist yet (a new document is never shown: its writer checks it). `None` if the
/// splice does not fit.
pub fn splice_onto(current: Option<Checked<'_>>, splice: Splice) -> Option<NewContent<'_>> {
    match current {
        Some(checked) => checked.spliced(splice),
        None => splice.apply_to("").map(|text| NewContent::Text(NewText::Unchecked(text))),
    }
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

/// The whole new text of a document, shown to be one without being walked: made only by
/// [`Checked::spliced`], so it is a document if the text it was shown on is one. A writer
/// that does not itself know that text to be a document checks it again
/// ([`Checked::trusted`] is anyone's to call); confine's repository does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    text: String,
    depth: usize,
}

impl Document {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// How deep the text nests at most (as [`Shape::depth`] counts).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.text
    }
}

/// A document's new text: shown to be a document, or still to be checked by its writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewText {
    /// Shown to be a document.
    Document(Document),
    /// Not shown: the writer checks it.
    Unchecked(String),
}

impl NewText {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            NewText::Document(document) => document.as_str(),
            NewText::Unchecked(text) => text,
        }
    }
}

impl From<String> for NewText {
    fn from(text: String) -> NewText {
        NewText::Unchecked(text)
    }
}

/// A splice shown to keep a document (see the module's docs), tied by its lifetime to the
/// text it was shown on: made only by [`Checked::spliced`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spliced<'t> {
    base: &'t str,
    splice: Splice,
    depth: usize,
}

impl<'t> Spliced<'t> {
    /// Whether `text` is the very text the splice was shown on: the same bytes at the same
    /// address. Comparing addresses is enough because the lifetime keeps that text alive:
    /// two live texts at one address with one length are one text. (No document is empty,
    /// so no dangling address of an empty text can match.)
    pub fn is_of(&self, text: &str) -> bool {
        !self.base.is_empty() && std::ptr::eq(self.base, text)
    }

    /// How deep the text nests at most once the splice is made (as [`Shape::depth`] counts).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The splice, to make in the text it [`is_of`](Spliced::is_of): that text with it made
    /// is a document.
    pub fn into_splice(self) -> Splice {
        self.splice
    }

    /// The new text, made as a copy.
    pub fn into_text(self) -> NewText {
        // It fits: `Checked::spliced` made sure, and the base cannot change under a shared
        // borrow. Were it not so, an empty text is refused by the writer's check.
        match self.splice.apply_to(self.base) {
            Some(text) => NewText::Document(Document { text, depth: self.depth }),
            None => NewText::Unchecked(String::new()),
        }
    }
}

/// What a change gives the writer of a document: a whole new text, or a splice of the text
/// the change was given, shown to keep it a document, for the writer to make in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewContent<'t> {
    /// A whole new text.
    Text(NewText),
    /// A shown splice of the text the change was given.
    Spliced(Spliced<'t>),
}

impl NewContent<'_> {
    /// The whole new text, made as a copy where it is a splice.
    pub fn into_text(self) -> NewText {
        match self {
            NewContent::Text(text) => text,
            NewContent::Spliced(spliced) => spliced.into_text(),
        }
    }
}

impl From<NewText> for NewContent<'_> {
    fn from(text: NewText) -> Self {
        NewContent::Text(text)
    }
}

impl From<String> for NewContent<'_> {
    fn from(text: String) -> Self {
        NewContent::Text(NewText::Unchecked(text))
    }
}

#[cfg(test)]
#[path = "tests/checked.rs"]
mod tests;
