//! Watching a document: each state it takes (its content, its absence, content that cannot
//! be read), reported once, newest last, over any backend's notifications.
//!
//! The backend's watch is armed before the first read, and every wake is followed by a
//! read: a change made after a read wakes the watch again, so the last state reported is
//! never older than the last change. States that come and go between two reads are not
//! seen (a burst of writes is coalesced into its last).

use std::time::{Duration, Instant};

use crate::Repository;
use crate::backend::BackendWatch;
use crate::error::{Error, Result};
use crate::repository::Snapshot;

/// A state of a watched document.
#[derive(Debug)]
pub enum WatchEvent {
    /// The document exists with this content.
    Present(Snapshot),
    /// The document does not exist (it has not been created yet, or was removed).
    Absent,
    /// The document exists but cannot be read: over the size limit, not UTF-8, not a
    /// regular file. The error says which; a later state may follow.
    Unreadable(Error),
}

impl WatchEvent {
    /// Whether `self` and `other` are the same state (the same content, both absent, or
    /// unreadable for the same reason).
    fn same_as(&self, other: &WatchEvent) -> bool {
        match (self, other) {
            (WatchEvent::Present(a), WatchEvent::Present(b)) => a.revision == b.revision,
            (WatchEvent::Absent, WatchEvent::Absent) => true,
            (WatchEvent::Unreadable(a), WatchEvent::Unreadable(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

/// The states of one document, from [`Repository::watch`].
pub struct Watch {
    repository: Repository,
    name: String,
    notifications: Box<dyn BackendWatch>,
    /// The state last reported (`None` before the first).
    last: Option<WatchEvent>,
    /// Whether a read is due before the next wait (the first state, or a wake not yet read).
    due: bool,
}

/// The document watched and its last state reported (by revision; never its content).
impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last = self.last.as_ref().map(|state| match state {
            WatchEvent::Present(snapshot) => format!("present at revision {}", snapshot.revision),
            WatchEvent::Absent => "absent".to_owned(),
            WatchEvent::Unreadable(_) => "unreadable".to_owned(),
        });
        f.debug_struct("Watch").field("document", &self.name).field("last", &last).finish_non_exhaustive()
    }
}

impl Watch {
    pub(crate) fn new(repository: Repository, name: String, notifications: Box<dyn BackendWatch>) -> Watch {
        Watch { repository, name, notifications, last: None, due: true }
    }

    /// What the backend has to say beside the states, once (see
    /// [`BackendWatch::take_notice`]): e.g. that the watch could not resume where it broke
    /// and changes in between may not have been reported.
    pub fn take_notice(&mut self) -> Option<String> {
        self.notifications.take_notice()
    }

    /// The document's next state: at once on the first call (its state now), then the
    /// first state that differs from the last one returned, waiting up to `timeout` for it
    /// (`None` if none came by then).
    ///
    /// # Errors
    /// A read that failed for another reason than the document's own state (the storage
    /// failed: [`Error::Io`]), or the notification channel broke.
    pub fn next(&mut self, timeout: Duration) -> Result<Option<&WatchEvent>> {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.due && !self.notifications.wait(deadline.saturating_duration_since(Instant::now()))? {
                return Ok(None);
            }
            self.due = false;
            let state = match self.repository.read(&self.name) {
                Ok(snapshot) => WatchEvent::Present(snapshot),
                Err(Error::NotFound { .. }) => WatchEvent::Absent,
                Err(e @ (Error::TooLarge { .. } | Error::InvalidDocument { .. } | Error::InvalidPath { .. })) => {
                    WatchEvent::Unreadable(e)
                }
                Err(e) => return Err(e),
            };
            if !self.last.as_ref().is_some_and(|last| last.same_as(&state)) {
                return Ok(Some(self.last.insert(state)));
            }
        }
    }
}
