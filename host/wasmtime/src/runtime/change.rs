//! Changes through the domain guest with group commit ([`Repository::update`]): the guest's
//! pure `apply` runs on the document's current text inside the batch that writes it, so
//! that concurrent changes of this process share lock holds and fsyncs.

use std::sync::{Arc, Mutex, PoisonError};

use confine_domain::service::{self, Change};
use confine_domain::splice::Splice;
use confine_store::Repository;
use wasmtime::Store;

use super::Runtime;
use super::state::StoreState;
use crate::bindings::service::{Applied, AppliedAll, Change as WitChange, Guest as ServiceExports};
use crate::errors::ServiceError;

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

/// One guest call that answers a change of `document`'s `current` text.
type GuestChange = Box<
    dyn Fn(
            &ServiceExports,
            &mut Store<StoreState>,
            &str,
            Option<&str>,
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
            Box::new(move |svc, store, name, current| {
                Ok(svc.call_apply(store, name, current, &change)?.map(Answered::from).map_err(ServiceError::from))
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
            Box::new(move |svc, store, name, current| {
                Ok(svc.call_apply_all(store, name, current, &changes)?.map(Answered::from).map_err(ServiceError::from))
            }),
        )
    }

    /// Runs `change` in the guest on the document's current text inside the batch that
    /// writes it, and returns its answers once the write is durable.
    fn update(
        &self,
        repository: &Repository,
        document: &str,
        change: GuestChange,
    ) -> Result<Vec<String>, ServiceError> {
        let (core, granted, name) = (Arc::clone(&self.core), repository.clone(), document.to_owned());
        let answers = Arc::new(Mutex::new(Vec::new()));
        let slot = Arc::clone(&answers);
        let updated = repository.update(document, move |current| {
            let answered = core.call(&granted, |svc, store| change(svc, store, &name, current))?;
            let (content, answers) = splice_into(current, answered)?;
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = answers;
            Ok(content)
        });
        match updated {
            Ok(Ok(_revision)) => Ok(std::mem::take(&mut *answers.lock().unwrap_or_else(PoisonError::into_inner))),
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

/// The new content that the guest's splice makes of `current`, and the answers. The host
/// checks that the splice fits: the guest is trusted with the document's rules (which the
/// store checks again on the result), not with the host's memory.
fn splice_into(current: Option<&str>, answered: Answered) -> Result<(String, Vec<String>), ServiceError> {
    let text = current.unwrap_or_default();
    let (start, end) = (answered.start, answered.end);
    let splice = usize::try_from(start).ok().zip(usize::try_from(end).ok()).map(|(start, end)| Splice {
        start,
        end,
        text: answered.text,
    });
    match splice.and_then(|splice| splice.apply_to(text)) {
        Some(content) => Ok((content, answered.answers)),
        None => Err(ServiceError::Guest(format!(
            "it answered with the bytes {start}..{end} of a text of {} bytes, which do not fit it",
            text.len()
        ))),
    }
}

#[cfg(test)]
#[path = "tests/change.rs"]
mod tests;
