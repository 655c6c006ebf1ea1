//! Group commit: threads of one process that update the same document at once share one
//! lock hold and one write, so one fsync pair serves the whole waiting batch.
//!
//! Each caller queues its change. The first caller with nobody leading leads: it takes the
//! document's lock, reads the document once, applies every queued change in order (each to
//! the result of the one before), writes the result once through the usual atomic replace,
//! and only then tells each caller its outcome. Callers that arrive meanwhile form the next
//! batch, led by the first of them. A change that refuses, panics or yields content that is
//! not a document is left out; the others stand. The lock is the same fcntl lock as
//! everywhere, so other processes are excluded exactly as before: batching happens only
//! among the clones of one [`Repository`], and with the leader's gate and limits.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::content;
use crate::error::{Error, Result};
use crate::repository::Repository;

/// A queued change: gets the current content (`None`: no document) and returns the new
/// content, or `None` when it refuses (it keeps its own reason).
pub(crate) type Change = Box<dyn FnOnce(Option<&str>) -> Option<String> + Send>;

/// What became of one caller's change.
enum Outcome {
    /// Written and durable: the document's new revision.
    Written(String),
    /// The change refused; nothing of it was written.
    Refused,
    /// The lock, the read or the write failed, or the change's content was not a document.
    Failed(Error),
    /// The change panicked; the panic goes on in the caller's thread.
    Panicked(Box<dyn std::any::Any + Send>),
}

enum TicketState {
    Waiting,
    /// The caller is to lead the next batch.
    Lead,
    Done(Outcome),
}

/// One caller's place in the queue.
struct Ticket {
    state: Mutex<TicketState>,
    ready: Condvar,
}

impl Ticket {
    fn set(&self, state: TicketState) {
        *lock(&self.state) = state;
        self.ready.notify_one();
    }
}

struct Job {
    change: Change,
    ticket: Arc<Ticket>,
}

/// The queue of one document: the changes waiting for the next batch.
#[derive(Default)]
struct Queue {
    pending: VecDeque<Job>,
    leading: bool,
}

/// The queues of the documents of one repository, shared by its clones.
#[derive(Default)]
pub(crate) struct Batches(Mutex<HashMap<String, Arc<Mutex<Queue>>>>);

/// Locks a mutex. Changes run outside every lock here and panics are caught, so a poisoned
/// mutex cannot hold broken state; carry on with it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Queues `change` for the document `name`, takes part in the batches until it is
/// written, and returns its outcome: `Ok(Some(revision))` once durable, `Ok(None)` if the
/// change refused.
pub(crate) fn update(repository: &Repository, name: &str, change: Change) -> Result<Option<String>> {
    let queue = Arc::clone(lock(&repository.batches().0).entry(name.to_owned()).or_default());
    let ticket = Arc::new(Ticket { state: Mutex::new(TicketState::Waiting), ready: Condvar::new() });
    let first = {
        let mut queue = lock(&queue);
        queue.pending.push_back(Job { change, ticket: Arc::clone(&ticket) });
        !std::mem::replace(&mut queue.leading, true)
    };
    if first {
        lead(repository, name, &queue);
    }
    let mut state = lock(&ticket.state);
    loop {
        match std::mem::replace(&mut *state, TicketState::Waiting) {
            TicketState::Done(Outcome::Written(revision)) => return Ok(Some(revision)),
            TicketState::Done(Outcome::Refused) => return Ok(None),
            TicketState::Done(Outcome::Failed(e)) => return Err(e),
            TicketState::Done(Outcome::Panicked(payload)) => resume_unwind(payload),
            TicketState::Lead => {
                drop(state);
                lead(repository, name, &queue);
                state = lock(&ticket.state);
            }
            TicketState::Waiting => state = ticket.ready.wait(state).unwrap_or_else(PoisonError::into_inner),
        }
    }
}

/// Writes one batch (everything queued now), then hands the lead to the first caller that
/// queued meanwhile, or ends leading.
fn lead(repository: &Repository, name: &str, queue: &Arc<Mutex<Queue>>) {
    let batch: Vec<Job> = lock(queue).pending.drain(..).collect();
    write_batch(repository, name, batch);
    let mut batches = lock(&repository.batches().0);
    let mut waiting = lock(queue);
    match waiting.pending.front() {
        Some(next) => next.ticket.set(TicketState::Lead),
        None => {
            waiting.leading = false;
            // Forget an idle queue nobody else holds, so names used once do not pile up.
            if Arc::strong_count(queue) == 2 {
                batches.remove(name);
            }
        }
    }
}

fn write_batch(repository: &Repository, name: &str, jobs: Vec<Job>) {
    let fail_all = |jobs: Vec<Job>, e: Error| {
        for job in jobs {
            job.ticket.set(TicketState::Done(Outcome::Failed(e.duplicate())));
        }
    };
    let session = match repository.open_session(name, None) {
        Ok(session) => session,
        Err(e) => return fail_all(jobs, e),
    };
    let mut content = match session.current_content() {
        Ok(current) => current,
        Err(e) => return fail_all(jobs, e),
    };
    let limit = repository.options().max_document_size;
    let mut applied = Vec::new();
    for Job { change, ticket } in jobs {
        let changed = catch_unwind(AssertUnwindSafe(|| change(content.as_deref())));
        let outcome = match changed {
            Err(payload) => Outcome::Panicked(payload),
            Ok(None) => Outcome::Refused,
            Ok(Some(new)) => match content::check(name, &new, limit) {
                Ok(()) => {
                    content = Some(new);
                    applied.push(ticket);
                    continue;
                }
                Err(e) => Outcome::Failed(e),
            },
        };
        ticket.set(TicketState::Done(outcome));
    }
    let Some(content) = content.filter(|_| !applied.is_empty()) else {
        return; // nothing to write: the session ends, the lock is released
    };
    let written = session.write_checked(&content);
    for ticket in applied {
        let outcome = match &written {
            Ok(revision) => Outcome::Written(revision.clone()),
            Err(e) => Outcome::Failed(e.duplicate()),
        };
        ticket.set(TicketState::Done(outcome));
    }
}
