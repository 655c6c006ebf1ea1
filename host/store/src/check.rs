//! What a document is, as the repository is told it: the store itself knows names, text and
//! revisions, and the layer that knows formats hands it a [`Check`] (for confine's
//! documents, `confine_formats::Documents`, made from the domain's rules). The repository runs
//! it on every text before anything is written, so that neither a buggy or hostile change
//! nor a backend can store a text that the next reader would refuse.
//!
//! A change may answer with a [`Splice`] of the text it was given instead of a whole new
//! text ([`NewContent::Splice`]). Where the repository knows that text to be a document (it
//! checked it, or wrote it last) it asks its check whether the splice keeps it one
//! ([`Check::splice_keeps`]) and, if so, makes the splice in place: a large document is
//! neither copied nor walked again. Nothing a change says can make the repository skip a
//! check: what it knows comes from its check and its own record alone.

use std::ops::Range;

/// The rules a document's text must follow, given to a
/// [`Repository`](crate::Repository) by the layer that knows formats.
pub trait Check: Send + Sync {
    /// Whether `text` may be the content of the document `name`: how deep it nests at most
    /// (a bound that [`Check::splice_keeps`] is later given back), or why not, with line
    /// and column where there are some (the repository names the document).
    ///
    /// # Errors
    /// The reason the text is not a document.
    fn check(&self, name: &str, text: &str) -> Result<usize, String>;

    /// Whether making `splice` in `text`, a text of `name` that this check accepted with a
    /// depth of at most `depth`, gives a text it would accept again, shown without walking
    /// `text` again: the depth after, or `None` where that is not shown (the repository
    /// then checks the new text whole). The provided method shows nothing.
    fn splice_keeps(&self, name: &str, text: &str, depth: usize, splice: &Splice) -> Option<usize> {
        let _ = (name, text, depth, splice);
        None
    }
}

/// Replace the bytes `range` of a text with `text`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Splice {
    /// The bytes replaced.
    pub range: Range<usize>,
    /// What stands there instead.
    pub text: String,
}

impl Splice {
    /// Whether the splice can be made in `text`: its range is in bounds, in order, and on
    /// UTF-8 character boundaries.
    pub fn fits(&self, text: &str) -> bool {
        text.get(self.range.clone()).is_some()
    }

    /// The length of `text` once the splice is made in it (which it [`fits`](Splice::fits)).
    pub(crate) fn length_in(&self, text: &str) -> usize {
        text.len() - self.range.len() + self.text.len()
    }
}

/// What a change of [`Repository::update_in_place`](crate::Repository::update_in_place)
/// makes of the content it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewContent {
    /// A whole new text, checked whole.
    Text(String),
    /// A splice of the content given (of `""` where the document does not exist).
    Splice(Splice),
}

impl From<String> for NewContent {
    fn from(text: String) -> NewContent {
        NewContent::Text(text)
    }
}

impl From<Splice> for NewContent {
    fn from(splice: Splice) -> NewContent {
        NewContent::Splice(splice)
    }
}
