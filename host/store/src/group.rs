//! Group commit: threads of one process that update the same document at once share one
//! lock hold and one write, so one fsync pair serves the whole waiting batch.
//!
//! Each caller queues its change. The first caller with nobody leading leads: it takes the
//! document's lock, reads the document once, applies every queued change in order (each to
//! the result of the one before), writes the result once through the usual atomic replace,
//! and only then tells each caller its outcome. Callers that arrive meanwhile form the next
//! batch, led by the first of them. A change that refuses, panics or yields content that is
//! not a document is left out; the others stand. A backend that panics fails its whole
//! batch with [`Error::Internal`], and the next batch is led as usual. The lock is the same
//! fcntl lock as everywhere, so other processes are excluded exactly as before: batching
//! happens only among the clones of one [`Repository`](crate::Repository), with the
//! leader's lock timeout; each change is checked against its own caller's size limit.
//!
//! On a backend whose lock is a remote write of its own (etcd), the leader first tries the
//! batch without it ([`Backend::open_optimistic`]): it reads the document, applies the
//! changes, and writes only if nobody wrote the document meanwhile. A batch that loses that
//! race runs again in an exclusive session, so every change runs at most twice, and its
//! last run is the one written or answered.
//!
//! It is written against the backend seam alone, so every backend gets group commit.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use std::time::Duration;

use crate::backend::{Backend, BackendSession};
use crate::check::{Check, NewContent};
use crate::error::{Error, Result};
use crate::known::{Current, Known, ReadText};
use crate::name::DocumentName;
use crate::{content, revision};

/// A change's answer, or its reason to refuse, on its way back to its caller: of the type
/// the caller's change gave, which only the caller knows
/// ([`Repository::update_in_place`](crate::Repository::update_in_place) makes and opens it).
pub(crate) type Answer = Box<dyn Any + Send>;

/// A queued change: gets the current content (`None`: no document) and returns the new
/// content (or a splice of the content it got) with its answer, or its reason to
/// refuse. It may run again, on newer content, when an optimistic attempt loses its race;
/// the last run's answer is the one given.
pub(crate) type Change =
    Box<dyn FnMut(Option<Current<'_>>) -> std::result::Result<(NewContent, Answer), Answer> + Send>;

/// What became of one caller's change.
enum Outcome {
    /// Written and durable: the document's new revision, and the change's answer.
    Written(String, Answer),
    /// The change refused, for its reason; nothing of it was written.
    Refused(Answer),
    /// The lock, the read or the write failed, or the change's content was not a document,
    /// or the backend panicked.
    Failed(Error),
    /// The change panicked; the panic goes on in the caller's thread.
    Panicked(Box<dyn Any + Send>),
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

    /// Answers the caller with `error` unless it has had its answer.
    fn fail_unless_answered(&self, error: impl FnOnce() -> Error) {
        let mut state = lock(&self.state);
        if matches!(*state, TicketState::Waiting) {
            *state = TicketState::Done(Outcome::Failed(error()));
            self.ready.notify_one();
        }
    }
}

struct Job {
    change: Change,
    ticket: Arc<Ticket>,
    /// The caller's own size limit, which its change's content is checked against.
    max_document_size: u64,
}

/// The queue of one document: the changes waiting for the next batch.
#[derive(Default)]
struct Queue {
    pending: VecDeque<Job>,
    leading: bool,
}

/// The queues of the documents of one repository, and what it knows of the texts it wrote,
/// shared by its clones.
#[derive(Default)]
pub(crate) struct Batches {
    queues: Mutex<HashMap<DocumentName, Arc<Mutex<Queue>>>>,
    known: Known,
}

/// The limits a batch is written with: its leader's.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) timeout: Duration,
    pub(crate) max_document_size: u64,
}

/// What a batch is written to and with.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) backend: &'a dyn Backend,
    pub(crate) check: &'a dyn Check,
    pub(crate) batches: &'a Batches,
    pub(crate) name: &'a DocumentName,
    pub(crate) limits: Limits,
}

/// Locks a mutex. Changes run outside every lock here and panics are caught, so a poisoned
/// mutex cannot hold broken state; carry on with it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Queues `change` for the document `name`, takes part in the batches until it is
/// written, and returns its outcome: `Ok(Ok((revision, answer)))` once durable,
/// `Ok(Err(reason))` if the change refused.
pub(crate) fn update(target: Target<'_>, change: Change) -> Result<std::result::Result<(String, Answer), Answer>> {
    let Target { batches, name, limits, .. } = target;
    let queue = Arc::clone(lock(&batches.queues).entry(name.clone()).or_default());
    let ticket = Arc::new(Ticket { state: Mutex::new(TicketState::Waiting), ready: Condvar::new() });
    let first = {
        let mut queue = lock(&queue);
        let max_document_size = limits.max_document_size;
        queue.pending.push_back(Job { change, ticket: Arc::clone(&ticket), max_document_size });
        !std::mem::replace(&mut queue.leading, true)
    };
    if first {
        lead(target, &queue);
    }
    let mut state = lock(&ticket.state);
    loop {
        match std::mem::replace(&mut *state, TicketState::Waiting) {
            TicketState::Done(Outcome::Written(revision, answer)) => return Ok(Ok((revision, answer))),
            TicketState::Done(Outcome::Refused(reason)) => return Ok(Err(reason)),
            TicketState::Done(Outcome::Failed(e)) => return Err(e),
            TicketState::Done(Outcome::Panicked(payload)) => resume_unwind(payload),
            TicketState::Lead => {
                drop(state);
                lead(target, &queue);
                state = lock(&ticket.state);
            }
            TicketState::Waiting => state = ticket.ready.wait(state).unwrap_or_else(PoisonError::into_inner),
        }
    }
}

/// Writes one batch (everything queued now), then hands the lead to the first caller that
/// queued meanwhile, or ends leading.
fn lead(target: Target<'_>, queue: &Arc<Mutex<Queue>>) {
    let batch: Vec<Job> = lock(queue).pending.drain(..).collect();
    let tickets: Vec<Arc<Ticket>> = batch.iter().map(|job| Arc::clone(&job.ticket)).collect();
    // Changes' panics are caught one by one; this catches a backend's, so that its callers
    // hear of it (a bug, not a failure of the storage) and the queue is handed on rather
    // than left leading forever.
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| write_batch(target, batch))) {
        let reason = format!(
            "the backend panicked while it wrote a batch of updates: {}",
            panic_message(&*payload).unwrap_or("(no message)")
        );
        for ticket in tickets {
            ticket.fail_unless_answered(|| Error::Internal {
                name: target.name.as_str().to_owned(),
                reason: reason.clone(),
            });
        }
    }
    let mut batches = lock(&target.batches.queues);
    let mut waiting = lock(queue);
    match waiting.pending.front() {
        Some(next) => next.ticket.set(TicketState::Lead),
        None => {
            waiting.leading = false;
            // Forget an idle queue nobody else holds, so names used once do not pile up.
            if Arc::strong_count(queue) == 2 {
                batches.remove(target.name);
            }
        }
    }
}

/// What a panic said, where it said it in words (`panic!` with a message does).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload.downcast_ref::<&'static str>().copied().or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

fn write_batch(target: Target<'_>, jobs: Vec<Job>) {
    let Target { backend, name, limits, .. } = target;
    let jobs = match backend.open_optimistic(name, limits.max_document_size) {
        Ok(Some(attempt)) => match apply_and_commit(target, attempt, jobs, Attempt::Optimistic) {
            Some(raced) => raced,
            None => return,
        },
        Ok(None) => jobs,
        Err(e) => return fail_all(jobs, &e),
    };
    match backend.open_session(name, limits.timeout, limits.max_document_size) {
        Ok(session) => {
            // An exclusive session does not lose a race: every caller is answered.
            let _ = apply_and_commit(target, session, jobs, Attempt::Exclusive);
        }
        Err(e) => fail_all(jobs, &e),
    }
}

fn fail_all(jobs: Vec<Job>, e: &Error) {
    for job in jobs {
        job.ticket.set(TicketState::Done(Outcome::Failed(e.duplicate())));
    }
}

/// What a session of [`apply_and_commit`] is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// From [`Backend::open_optimistic`]: its commit may find the document changed.
    Optimistic,
    /// From [`Backend::open_session`].
    Exclusive,
}

/// Applies the jobs' changes in turn to the session's content, commits the result if any
/// applied, and answers every caller. Except when an optimistic commit finds the document
/// changed: then the jobs are returned, in their order, to run again (only a change that
/// panicked has had its answer, and is not run again).
fn apply_and_commit(
    target: Target<'_>,
    session: Box<dyn BackendSession>,
    jobs: Vec<Job>,
    attempt: Attempt,
) -> Option<Vec<Job>> {
    let read = session.current().and_then(|bytes| {
        bytes.map(|bytes| content::decode(target.name.as_str(), bytes, target.limits.max_document_size)).transpose()
    });
    let mut working = match read {
        Ok(content) => Working { target, content, made: None, read: ReadText::default() },
        Err(e) => {
            fail_all(jobs, &e);
            return None;
        }
    };
    let mut ran: Vec<(Job, Ran)> = Vec::with_capacity(jobs.len());
    for mut job in jobs {
        let changed = catch_unwind(AssertUnwindSafe(|| (job.change)(working.current())));
        let ran_as = match changed {
            Err(payload) => {
                job.ticket.set(TicketState::Done(Outcome::Panicked(payload)));
                continue;
            }
            Ok(Err(reason)) => Ran::Settled(Outcome::Refused(reason)),
            Ok(Ok((new, answer))) => match working.make(new, job.max_document_size) {
                Ok(()) => Ran::Applied(answer),
                Err(e) => Ran::Settled(Outcome::Failed(e)),
            },
        };
        ran.push((job, ran_as));
    }
    let applied = ran.iter().any(|(_, ran_as)| matches!(ran_as, Ran::Applied(_)));
    let (Some(content), Some(depth), true) = (working.content, working.made, applied) else {
        // Nothing to write: the session ends, the lock (if any) is released. The refusals
        // stand: they were made on the latest content, read at this batch's start.
        for (job, ran_as) in ran {
            if let Ran::Settled(outcome) = ran_as {
                job.ticket.set(TicketState::Done(outcome));
            }
        }
        return None;
    };
    // Each change was checked or shown as it was made: the content is a document.
    let written = session.commit(&content).map(|()| {
        let digest = blake3::hash(content.as_bytes());
        target.batches.known.remember(target.name, digest, depth);
        revision::of_digest(&digest)
    });
    if attempt == Attempt::Optimistic && matches!(written, Err(Error::Conflict { .. })) {
        return Some(ran.into_iter().map(|(job, _)| job).collect());
    }
    for (job, ran_as) in ran {
        let outcome = match (ran_as, &written) {
            (Ran::Settled(outcome), _) => outcome,
            (Ran::Applied(answer), Ok(revision)) => Outcome::Written(revision.clone(), answer),
            (Ran::Applied(_), Err(e)) => Outcome::Failed(e.duplicate()),
        };
        job.ticket.set(TicketState::Done(outcome));
    }
    None
}

/// The content a batch makes, change by change, and what the repository knows of it.
struct Working<'a> {
    target: Target<'a>,
    /// The content read (`None`: no document), then as the changes so far made it.
    content: Option<String>,
    /// How deep the content nests at most once a change has made it, checked or shown as it
    /// was made; `None` while it is the text read.
    made: Option<usize>,
    /// What the repository learns of the text read: from its record when a change first
    /// asks, or from a check a change has it make.
    read: ReadText,
}

impl Working<'_> {
    /// The content as the next change is given it.
    fn current(&self) -> Option<Current<'_>> {
        let Target { name, check, batches, .. } = self.target;
        let text = self.content.as_deref()?;
        Some(match self.made {
            Some(depth) => Current::made(text, name, check, depth),
            None => Current::read(text, name, check, &batches.known, &self.read),
        })
    }

    /// Makes `new`, what a change whose caller's size limit is `limit` made of the content.
    /// A splice is made in place, with no copy and no walk, where the repository knows the
    /// content to be a document (made in this batch, or the text read, by its record or its
    /// check) and its check shows the splice keeps it one; any other new text is checked
    /// whole. On error the content is as it was.
    fn make(&mut self, new: NewContent, limit: u64) -> Result<()> {
        let Target { name, check, .. } = self.target;
        let splice = match new {
            NewContent::Text(text) => return self.replace(text, limit),
            NewContent::Splice(splice) => splice,
        };
        let known = self.made.or_else(|| self.read.depth());
        let held = self.content.as_deref().unwrap_or_default();
        if !splice.fits(held) {
            return Err(content::does_not_fit(name.as_str(), &splice));
        }
        let shown = known.and_then(|depth| check.splice_keeps(name.as_str(), held, depth, &splice));
        if let (Some(depth), Some(held)) = (shown, self.content.as_mut()) {
            content::splice_in_place(name.as_str(), held, &splice, limit)?;
            self.made = Some(depth);
            return Ok(());
        }
        let held = self.content.as_deref().unwrap_or_default();
        let text = [&held[..splice.range.start], &splice.text, &held[splice.range.end..]].concat();
        self.replace(text, limit)
    }

    /// Makes `text` the content, once it is checked whole.
    fn replace(&mut self, text: String, limit: u64) -> Result<()> {
        self.made = Some(content::check(self.target.check, self.target.name.as_str(), &text, limit)?);
        self.content = Some(text);
        Ok(())
    }
}

/// What became of a change in a batch.
enum Ran {
    /// Applied to the content: its outcome is the write's, and then its answer is given.
    Applied(Answer),
    /// Answered already, whatever the write does.
    Settled(Outcome),
}

#[cfg(test)]
#[path = "tests/group.rs"]
mod tests;
