//! Changes through the domain guest with group commit ([`Repository::update_in_place`]):
//! the guest's pure `apply` runs on the document's current text inside the batch that
//! writes it, so that concurrent changes of this process share lock holds and fsyncs.
//!
//! Before the update is queued, a guest instance is made (its pool slot taken) and the
//! guest parses the changes (`prepare`): a change that does not parse is refused before
//! anything waits, and under the lock the guest applies what it parsed, with no parse again.
//!
//! The host has the store check the current text before the guest sees it, and the guest
//! relies on that check (the WIT says so); the store spares the walk of a text it knows to
//! be a document, the one its group commit wrote last ([`Current::check`]). The guest
//! answers with a splice, which the store makes in place where its own check shows it keeps
//! the text a document (a value replaced by a value, as `incr` and `set` of an existing key
//! make), and checks whole otherwise: so a large document is walked at most once per
//! change, natively, instead of in the guest and again here, and nothing the guest says is
//! taken on trust.

use confine_domain::service::Change;
use confine_store::{Current, NewContent, Repository, Splice};

use super::Runtime;
use crate::Format;
use crate::errors::ServiceError;
use crate::generated::service::{Applied, Change as WitChange, Format as WitFormat};

impl Runtime {
    /// Applies `change` to `document` and returns its answer: the new value for an `incr`,
    /// empty for the others.
    pub(super) fn change(
        &self,
        repository: &Repository,
        document: &str,
        change: Change,
    ) -> Result<String, ServiceError> {
        match self.apply(repository, document, vec![change]) {
            Ok(answers) => Ok(answers.into_iter().next().unwrap_or_default()),
            // A change alone is refused in its own words, not as the first of an update.
            Err(ServiceError::Refused { error, .. }) => Err(*error),
            Err(e) => Err(e),
        }
    }

    /// Applies `changes` to `document` in order as one update: one write that makes all of
    /// them, or, if any refuses, none (the error is [`ServiceError::Refused`], naming the
    /// change). Returns each change's answer in order: the new value for an `incr`, empty
    /// for the others. Concurrent updates of the same document in this process share a
    /// write (group commit), each update's changes kept together.
    ///
    /// The guest instance is made and the changes parsed before the update is queued: no
    /// writer waits under the document's lock for a pool slot, a guest's start-up, or a
    /// change that does not parse.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn apply(
        &self,
        repository: &Repository,
        document: &str,
        changes: Vec<Change>,
    ) -> Result<Vec<String>, ServiceError> {
        let mut guest = self.core.instantiate(repository)?;
        let changes: Vec<WitChange> = changes.into_iter().map(to_wit).collect();
        // An update of no changes is refused by `apply`, once the store has resolved the
        // name: a name that cannot be is the first thing to tell.
        if !changes.is_empty() {
            let format = self.core.options.format.map(wit_format);
            guest.call(|svc, store| svc.call_prepare(store, document, &changes, format))?;
        }
        let name = document.to_owned();
        let updated = repository.update_in_place(document, move |current| {
            // Not walked where the store knows the text: the one it wrote last.
            let depth = current.map(Current::check).transpose()?.unwrap_or(0);
            // A text nests at most as deep as it is long, and the store's size limit keeps
            // that far below `u32::MAX`; the parser refuses deeper than 128 anyway.
            let depth = u32::try_from(depth).unwrap_or(u32::MAX);
            let text = current.map(Current::text);
            let applied = guest.call(|svc, store| svc.call_apply(store, &name, text, depth))?;
            splice_of(text, applied)
        });
        match updated {
            Ok(Ok((_revision, answers))) => Ok(answers),
            Ok(Err(refused)) => Err(refused),
            Err(e) => Err(ServiceError::from(e)),
        }
    }
}

pub(super) fn wit_format(format: Format) -> WitFormat {
    match format {
        Format::Json => WitFormat::Json,
        Format::Toml => WitFormat::Toml,
    }
}

fn to_wit(change: Change) -> WitChange {
    match change {
        Change::Set { key, value } => WitChange::Set((key, value)),
        Change::Unset { key } => WitChange::Unset(key),
        Change::Incr { key, delta } => WitChange::Incr((key, delta)),
        Change::Merge { key, patch } => WitChange::Merge((key, patch)),
    }
}

/// The guest's splice of `current` (of `""` when there is none) as new content for the
/// store, and the answers. A splice that does not fit is the guest's failure, said so
/// here; whether one that fits keeps a document is the store's to find.
fn splice_of(current: Option<&str>, applied: Applied) -> Result<(NewContent, Vec<String>), ServiceError> {
    let (start, end) = (applied.start, applied.end);
    let range = usize::try_from(start).ok().zip(usize::try_from(end).ok()).map(|(start, end)| start..end);
    match range {
        Some(range) if current.unwrap_or_default().get(range.clone()).is_some() => {
            Ok((NewContent::Splice(Splice { range, text: applied.text }), applied.answers))
        }
        _ => Err(ServiceError::Guest(format!(
            "it answered with the bytes {start}..{end} of a text of {} bytes, which do not fit it",
            current.map_or(0, str::len)
        ))),
    }
}

#[cfg(test)]
#[path = "tests/change.rs"]
mod tests;
