//! Changes through the domain guest with group commit ([`Repository::update`]): the guest's
//! pure `apply` runs on the document's current text inside the batch that writes it, so
//! that concurrent changes of this process share lock holds and fsyncs.

use std::sync::{Arc, Mutex, PoisonError};

use confine_domain::service::{self, Change};
use confine_domain::splice::Splice;
use confine_store::Repository;

use super::Runtime;
use crate::bindings::service::{Applied, Change as WitChange};
use crate::errors::ServiceError;

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
        let change = match change {
            Change::Set { key, value } => WitChange::Set((key, value)),
            Change::Unset { key } => WitChange::Unset(key),
            Change::Incr { key, delta } => WitChange::Incr((key, delta)),
            Change::Merge { key, patch } => WitChange::Merge((key, patch)),
        };
        let (core, granted, name) = (Arc::clone(&self.core), repository.clone(), document.to_owned());
        let answer = Arc::new(Mutex::new(String::new()));
        let slot = Arc::clone(&answer);
        let updated = repository.update(document, move |current| {
            let applied = core.call(&granted, |svc, store| svc.call_apply(store, &name, current, &change))?;
            let (content, answer) = splice_into(current, applied)?;
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = answer;
            Ok(content)
        });
        match updated {
            Ok(Ok(_revision)) => Ok(std::mem::take(&mut *answer.lock().unwrap_or_else(PoisonError::into_inner))),
            Ok(Err(refused)) => Err(refused),
            Err(e) => Err(ServiceError::from(e)),
        }
    }
}

/// The new content that the guest's splice makes of `current`, and the change's answer.
/// The host checks that the splice fits: the guest is trusted with the document's rules
/// (which the store checks again on the result), not with the host's memory.
fn splice_into(current: Option<&str>, applied: Applied) -> Result<(String, String), ServiceError> {
    let text = current.unwrap_or_default();
    let (start, end) = (applied.start, applied.end);
    let splice = usize::try_from(start).ok().zip(usize::try_from(end).ok()).map(|(start, end)| Splice {
        start,
        end,
        text: applied.text,
    });
    match splice.and_then(|splice| splice.apply_to(text)) {
        Some(content) => Ok((content, applied.answer)),
        None => Err(ServiceError::Guest(format!(
            "it answered with the bytes {start}..{end} of a text of {} bytes, which do not fit it",
            text.len()
        ))),
    }
}

#[cfg(test)]
#[path = "tests/change.rs"]
mod tests;
