//! Changes through the domain guest with group commit ([`Repository::update`]): the guest's
//! pure `apply` runs on the document's current text inside the batch that writes it, so
//! that concurrent changes of this process share lock holds and fsyncs.
//!
//! The host checks the current text before the guest sees it, and the guest relies on that
//! check (the WIT says so); the store spares the walk of a text it knows to be a document,
//! the one its group commit wrote last ([`Current::checked`](confine_store::Current::checked)).
//! The splice the guest answers is then shown to keep the text a document where it can be
//! ([`Checked::spliced`]: a value replaced by a value, as `incr` and `set` of an existing
//! key make), so that the store need not walk the new text again, nor copy it: a shown
//! splice is made in the text the store holds ([`Repository::update_in_place`]). So a large
//! document is walked at most once per change, natively, instead of in the guest and again
//! here.

use confine_domain::checked::{self, Checked, NewContent};
use confine_domain::service::{self, Change};
use confine_domain::splice::Splice;
use confine_store::Repository;
use wasmtime::Store;

use super::Runtime;
use super::state::StoreState;
use crate::errors::ServiceError;
use crate::generated::service::{Applied, AppliedAll, Change as WitChange, Guest as ServiceExports};

/// A guest's answer to a change: the splice of the current text, and the answers.
struct Answered {
    start: u64,
    end: u64,
    text: String,
    answers: Vec<String>,
}

impl From<Applied> for Answered {
    fn from(a: Applied) -> Answered {
        Answered { start: a.start, end: a.end, text: a.text, answers: vec![a.answer] }
    }
}

impl From<AppliedAll> for Answered {
    fn from(a: AppliedAll) -> Answered {
        Answered { start: a.start, end: a.end, text: a.text, answers: a.answers }
    }
}

/// One guest call that answers a change of `document`'s `current` text (checked, or known
/// to the store) nesting at most `depth` levels deep.
type GuestChange = Box<
    dyn Fn(
            &ServiceExports,
            &mut Store<StoreState>,
            &str,
            Option<&str>,
            u32,
        ) -> wasmtime::Result<Result<Answered, ServiceError>>
        + Send
        + Sync,
>;

impl Runtime {
    /// Applies `change` to `document` and returns its answer. A change whose key or JSON
    /// does not parse is refused first, natively with the domain's own code, before
    /// anything is queued or locked.
    pub(super) fn change(
        &self,
        repository: &Repository,
        document: &str,
        change: Change,
    ) -> Result<String, ServiceError> {
        service::check(document, &change)?;
        let change = to_wit(change);
        let answers = self.update(
            repository,
            document,
            Box::new(move |svc, store, name, current, depth| {
                let applied = svc.call_apply(store, name, current, depth, &change)?;
                Ok(applied.map(Answered::from).map_err(ServiceError::from))
            }),
        )?;
        Ok(answers.into_iter().next().unwrap_or_default())
    }

    /// Applies `changes` to `document` in order as one update: one write that makes all of
    /// them, or, if any refuses, none (the error is [`ServiceError::Refused`], naming the
    /// change). Returns each change's answer in order: the new value for an `incr`, empty
    /// for the others. Concurrent updates of the same document in this process share a
    /// write (group commit), each update's changes kept together.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn apply(
        &self,
        repository: &Repository,
        document: &str,
        changes: Vec<Change>,
    ) -> Result<Vec<String>, ServiceError> {
        for (index, change) in changes.iter().enumerate() {
            service::check(document, change)
                .map_err(|e| ServiceError::Refused { index, error: Box::new(ServiceError::from(e)) })?;
        }
        let changes: Vec<WitChange> = changes.into_iter().map(to_wit).collect();
        self.update(
            repository,
            document,
            Box::new(move |svc, store, name, current, depth| {
                let applied = svc.call_apply_all(store, name, current, depth, &changes)?;
                Ok(applied.map(Answered::from).map_err(ServiceError::from))
            }),
        )
    }

    /// Runs `change` in the guest on the document's current text inside the batch that
    /// writes it, and returns its answers once the write is durable. The guest is
    /// instantiated first, before the change is queued: no writer waits under the
    /// document's lock for a pool slot or a guest's start-up.
    fn update(
        &self,
        repository: &Repository,
        document: &str,
        change: GuestChange,
    ) -> Result<Vec<String>, ServiceError> {
        let mut guest = self.core.instantiate(repository)?;
        let name = document.to_owned();
        let updated = repository.update_in_place(document, move |current| {
            // Not walked where the store knows the text: the one it wrote last.
            let checked = current.map(|current| current.checked(&name)).transpose()?;
            // A text nests at most as deep as it is long, and the store's size limit keeps
            // that far below `u32::MAX`; the parser refuses deeper than 128 anyway.
            let depth = checked.map_or(0, |c| u32::try_from(c.shape().depth).unwrap_or(u32::MAX));
            let answered = guest.call(|svc, store| change(svc, store, &name, checked.map(Checked::text), depth))?;
            splice_into(checked, answered)
        });
        match updated {
            Ok(Ok((_revision, answers))) => Ok(answers),
            Ok(Err(refused)) => Err(refused),
            Err(e) => Err(ServiceError::from(e)),
        }
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

/// The new content that the guest's splice makes of `current`, and the answers. The guest
/// is trusted with neither the host's memory nor the document's rules: the splice must fit,
/// and its text is a document shown by [`Checked::spliced`] or is checked by the store.
fn splice_into(
    current: Option<Checked<'_>>,
    answered: Answered,
) -> Result<(NewContent<'_>, Vec<String>), ServiceError> {
    let (start, end) = (answered.start, answered.end);
    let splice = usize::try_from(start).ok().zip(usize::try_from(end).ok()).map(|(start, end)| Splice {
        start,
        end,
        text: answered.text,
    });
    match splice.and_then(|splice| checked::splice_onto(current, splice)) {
        Some(content) => Ok((content, answered.answers)),
        None => Err(ServiceError::Guest(format!(
            "it answered with the bytes {start}..{end} of a text of {} bytes, which do not fit it",
            current.map_or(0, |checked| checked.text().len())
        ))),
    }
}

#[cfg(test)]
#[path = "tests/change.rs"]
mod tests;
