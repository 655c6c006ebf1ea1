//! The texts a repository knows to be documents: the last one its group commit wrote of
//! each document, by its whole BLAKE3 digest, with how deep it nests. So that the next
//! update of a large document, finding the text it wrote, is not walked again: a digest of
//! the text costs a quarter of the check it replaces.
//!
//! An entry states a fact about a text, not about a file: the text with that digest is a
//! document. So it never goes stale; a text that anybody else wrote has another digest
//! (BLAKE3's 256 bits, not the revision's 128, so that no writer can make a text share an
//! entry's digest on purpose) and is checked as before.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use confine_domain::checked::Checked;
use confine_domain::error::Error as DomainError;

use crate::name::DocumentName;

/// More documents than a process updates in one go; past it, the entries start again.
const MAX_ENTRIES: usize = 1024;

/// What a repository's clones know of the documents their group commit wrote.
#[derive(Default)]
pub(crate) struct Known(Mutex<HashMap<DocumentName, Entry>>);

struct Entry {
    digest: blake3::Hash,
    depth: usize,
}

impl Known {
    /// How deep `text`, the content of `name` just read, nests at most, if it is the text
    /// last remembered for `name`. Digests it only when there is one.
    pub(crate) fn depth_of(&self, name: &DocumentName, text: &str) -> Option<usize> {
        let (digest, depth) = {
            let known = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            let entry = known.get(name)?;
            (entry.digest, entry.depth)
        };
        (blake3::hash(text.as_bytes()) == digest).then_some(depth)
    }

    /// Remembers that the text of `name` whose digest is `digest` is a document nesting at
    /// most `depth` levels deep.
    pub(crate) fn remember(&self, name: &DocumentName, digest: blake3::Hash, depth: usize) {
        let mut known = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if known.len() >= MAX_ENTRIES && !known.contains_key(name) {
            known.clear();
        }
        known.insert(name.clone(), Entry { digest, depth });
    }
}

/// A document's content as it is given to the change of
/// [`Repository::update_in_place`](crate::Repository::update_in_place): its text, and what
/// the repository knows of it.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    text: &'a str,
    /// How deep it nests at most, where it is known to be a document.
    known: Option<usize>,
}

impl<'a> Current<'a> {
    pub(crate) fn new(text: &'a str, known: Option<usize>) -> Current<'a> {
        Current { text, known }
    }

    /// The text.
    pub fn text(self) -> &'a str {
        self.text
    }

    /// Whether the repository knows the text to be a document, so that
    /// [`checked`](Current::checked) does not walk it: it is the very text (by its BLAKE3
    /// digest) that this repository's group commit last wrote of the document, or an earlier
    /// change of the same batch made it from such a text or one it checked.
    pub fn is_known(self) -> bool {
        self.known.is_some()
    }

    /// The text checked as a document ([`Checked::new`], with its errors), without walking
    /// it where the repository knows it to be one ([`is_known`](Current::is_known)); its
    /// shape's depth is then a bound, at least the text's.
    ///
    /// # Errors
    /// [`Checked::new`]'s, naming `name`, for a text that is not a document.
    pub fn checked(self, name: &str) -> Result<Checked<'a>, DomainError> {
        match self.known {
            Some(depth) => Ok(Checked::trusted(self.text, depth)),
            None => Checked::new(name, self.text),
        }
    }
}

#[cfg(test)]
#[path = "tests/known.rs"]
mod tests;
