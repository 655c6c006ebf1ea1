//! The texts a repository knows to be documents: the last one its group commit wrote of
//! each document, by its whole BLAKE3 digest, with how deep it nests. So that the next
//! update of a large document, finding the text it wrote, is not walked again: a digest of
//! the text costs a quarter of the check it replaces, and is taken only when a change asks
//! ([`Current::check`]) and there is an entry to compare it with.
//!
//! An entry states a fact about a text, not about a file: the text with that digest is a
//! document. So it never goes stale; a text that anybody else wrote has another digest
//! (BLAKE3's 256 bits, not the revision's 128, so that no writer can make a text share an
//! entry's digest on purpose) and is checked as before.

use std::cell::{Cell, OnceCell};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::check::Check;
use crate::error::{Error, Result};
use crate::name::DocumentName;

/// More documents than a process updates in one go; past it, the entries start again.
const MAX_ENTRIES: usize = 1024;

/// What a repository's clones know of the documents their group commit wrote.
#[derive(Debug, Default)]
pub(crate) struct Known(Mutex<HashMap<DocumentName, Entry>>);

#[derive(Debug)]
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

/// What a batch knows of the text it read, from the repository's own sources only: its
/// record (looked up once, when a change first asks) or the check a change had it make
/// ([`Current::check`]). Group commit makes a splice in that text without a walk only once
/// one of these says the text is a document.
#[derive(Debug, Default)]
pub(crate) struct ReadText {
    recorded: OnceCell<Option<usize>>,
    checked: Cell<Option<usize>>,
}

impl ReadText {
    /// How deep the text read nests at most, if the repository's record or its check says
    /// it is a document.
    pub(crate) fn depth(&self) -> Option<usize> {
        self.checked.get().or_else(|| self.recorded.get().copied().flatten())
    }
}

/// A document's content as it is given to the change of
/// [`Repository::update_in_place`](crate::Repository::update_in_place): its text, and what
/// the repository knows of it.
#[derive(Clone, Copy)]
pub struct Current<'a> {
    text: &'a str,
    name: &'a DocumentName,
    check: &'a dyn Check,
    knowledge: Knowledge<'a>,
}

#[derive(Clone, Copy)]
enum Knowledge<'a> {
    /// A text an earlier change of the batch made, checked or shown as it was: how deep it
    /// nests at most.
    Made(usize),
    /// The text as read: looked up in what the repository remembers of the document only
    /// when a change asks, so that a change that never checks (those of
    /// [`Repository::update`](crate::Repository::update)) costs no digest.
    Read { known: &'a Known, read: &'a ReadText },
}

impl std::fmt::Debug for Current<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Current").field("name", self.name).field("bytes", &self.text.len()).finish_non_exhaustive()
    }
}

impl<'a> Current<'a> {
    /// A text an earlier change of the batch made, nesting at most `depth` levels deep.
    pub(crate) fn made(text: &'a str, name: &'a DocumentName, check: &'a dyn Check, depth: usize) -> Current<'a> {
        Current { text, name, check, knowledge: Knowledge::Made(depth) }
    }

    /// The text of `name` as the batch read it; `read` keeps what is learnt of it for the
    /// batch's later changes and for the write.
    pub(crate) fn read(
        text: &'a str,
        name: &'a DocumentName,
        check: &'a dyn Check,
        known: &'a Known,
        read: &'a ReadText,
    ) -> Current<'a> {
        Current { text, name, check, knowledge: Knowledge::Read { known, read } }
    }

    /// How deep the text nests at most, where it is known to be a document.
    fn depth(self) -> Option<usize> {
        match self.knowledge {
            Knowledge::Made(depth) => Some(depth),
            Knowledge::Read { known, read } => {
                read.checked.get().or_else(|| *read.recorded.get_or_init(|| known.depth_of(self.name, self.text)))
            }
        }
    }

    /// The text.
    pub fn text(self) -> &'a str {
        self.text
    }

    /// Whether the repository knows the text to be a document, so that
    /// [`check`](Current::check) does not walk it: it is the very text (by its BLAKE3
    /// digest) that this repository's group commit last wrote of the document, or an earlier
    /// change of the same batch made it from such a text or one it checked.
    pub fn is_known(self) -> bool {
        self.depth().is_some()
    }

    /// Checks the text with the repository's [`Check`], without walking it where the
    /// repository knows it to be a document ([`is_known`](Current::is_known)): how deep it
    /// nests at most, as the check counts (then a bound, at least the text's). A text checked
    /// here is known to the rest of the batch, which makes a splice of it in place when its
    /// check shows the splice keeps it a document.
    ///
    /// # Errors
    /// [`Error::InvalidDocument`](crate::Error::InvalidDocument), naming the document, for a
    /// text that is not one.
    pub fn check(self) -> Result<usize> {
        if let Some(depth) = self.depth() {
            return Ok(depth);
        }
        let depth = self
            .check
            .check(self.name.as_str(), self.text)
            .map_err(|reason| Error::InvalidDocument { name: self.name.as_str().to_owned(), reason })?;
        if let Knowledge::Read { read, .. } = self.knowledge {
            read.checked.set(Some(depth));
        }
        Ok(depth)
    }
}

#[cfg(test)]
#[path = "tests/known.rs"]
mod tests;
