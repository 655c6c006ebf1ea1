//! The backend seam: what a store must do for [`Repository`](crate::Repository) to keep the
//! port's promises over it. Everything above it (group commit, the wasmtime binding, the
//! runtime, the CLI) works over any backend unchanged.
//!
//! The trait is synchronous and object-safe. A backend is handed only names that passed
//! the rules of [`crate::name`], and content that passed the repository's checks (size,
//! and the [`Check`](crate::Check) it was given); it stores and returns bytes, which the
//! repository decodes and checks against the size limit, once for every backend. Revisions are computed above the seam, as the digest of the
//! content ([`crate::revision`]), so equal revisions mean equal content on every backend.
//!
//! What a backend promises, and the conformance suite checks
//! (`confine_store::conformance`, feature `conformance`):
//! - [`Backend::read`] returns one whole committed version, without waiting for writers.
//! - A session from [`Backend::open_session`] is exclusive against every other session and
//!   every [`Backend::save`] and [`Backend::remove`] of the same document, from any thread
//!   (and process, and machine, where the backend is shared that widely), until it is
//!   committed, aborted or dropped; it then releases at once.
//! - An optimistic session from [`Backend::open_optimistic`], where a backend offers one,
//!   commits only if nobody wrote the document after it was read and no session holds it.
//! - [`BackendSession::commit`] replaces the document atomically: readers see the old or the
//!   new content, never a mix, and the new one from the moment it returns `Ok`.
//! - Waits for a session end at the timeout given, with [`Error::LockTimeout`].
//! - A watch from [`Backend::watch`] wakes after every change of its document.

use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};
use crate::name::{DirectoryName, DocumentName};
use crate::revision;

/// A store of documents: the filesystem ([`Filesystem`](crate::Filesystem)), memory
/// ([`Memory`](crate::Memory)), or one of another crate.
pub trait Backend: Send + Sync {
    /// The document's bytes, `None` if it does not exist. Takes no lock. Of a document over
    /// `limit` bytes a backend may read and return only the first `limit + 1` (the
    /// repository refuses it), or refuse it with [`Error::TooLarge`] where it can tell its
    /// size first.
    ///
    /// # Errors
    /// The backend's own refusals of the name ([`Error::InvalidPath`]); [`Error::TooLarge`]
    /// as above; [`Error::Io`].
    fn read(&self, name: &DocumentName, limit: u64) -> Result<Option<Vec<u8>>>;

    /// Opens an exclusive session on the document (which need not exist), waiting up to
    /// `timeout` for the sessions of others to end. Its reads are bounded by `limit` as
    /// [`Backend::read`]'s are.
    ///
    /// # Errors
    /// [`Error::LockTimeout`]; the backend's own refusals of the name; [`Error::Io`].
    fn open_session(&self, name: &DocumentName, timeout: Duration, limit: u64) -> Result<Box<dyn BackendSession>>;

    /// An optimistic session, for a backend whose lock costs a remote write of its own
    /// (etcd): it reads the document now, excluding nobody, and its
    /// [`commit`](BackendSession::commit) writes only if nobody has written the document
    /// since (nor holds it in a session); otherwise it fails with [`Error::Conflict`],
    /// writing nothing. Group commit tries one before a session, so that an update costs a
    /// read and one conditional write, as the backend's own clients would make it.
    ///
    /// `None` where the backend has no cheaper way than a session (the provided method), or
    /// none for this document now (on etcd, one that does not exist): group commit then
    /// opens a session, which waits its turn.
    ///
    /// # Errors
    /// As [`Backend::read`].
    fn open_optimistic(&self, name: &DocumentName, limit: u64) -> Result<Option<Box<dyn BackendSession>>> {
        let _ = (name, limit);
        Ok(None)
    }

    /// Compare-and-swap: writes `content` if the current revision is `expected` (`None`: if
    /// the document does not exist), excluded from every session as one would be. The
    /// provided method does it in a session; a backend with a cheaper atomic primitive
    /// (a transaction) overrides it.
    ///
    /// # Errors
    /// [`Error::Conflict`] if the revision differs; those of [`Backend::open_session`] and
    /// [`BackendSession::commit`].
    fn save(
        &self,
        name: &DocumentName,
        content: &str,
        expected: Option<&str>,
        timeout: Duration,
        limit: u64,
    ) -> Result<()> {
        save_in_session(self.open_session(name, timeout, limit)?, name, content, expected)
    }

    /// Removes the document, excluded from every session as a save is.
    ///
    /// # Errors
    /// [`Error::NotFound`] if it does not exist; [`Error::LockTimeout`]; [`Error::Io`] or
    /// [`Error::NotDurable`].
    fn remove(&self, name: &DocumentName, timeout: Duration) -> Result<()>;

    /// The documents directly in `directory`, sorted, as names relative to the top level.
    ///
    /// # Errors
    /// [`Error::NotFound`] where the backend knows directories and this one is missing;
    /// [`Error::InvalidPath`]; [`Error::Io`].
    fn list(&self, directory: &DirectoryName) -> Result<Vec<String>>;

    /// Whether a session holds the document now, and whose, without taking it.
    ///
    /// # Errors
    /// The backend's own refusals of the name; [`Error::Io`].
    fn lock_status(&self, name: &DocumentName) -> Result<LockStatus>;

    /// Starts watching the document (which need not exist) for changes. From the moment
    /// this returns, every change of it that the backend can see (a commit, save or remove
    /// by any writer, in any process) wakes the watch's next [`BackendWatch::wait`].
    ///
    /// # Errors
    /// The backend's own refusals of the name ([`Error::NotFound`] where the document's
    /// directory is missing); [`Error::Io`] if the platform's change notification fails.
    fn watch(&self, name: &DocumentName) -> Result<Box<dyn BackendWatch>>;

    /// The largest document this backend can hold, whatever the repository's options say.
    fn max_document_size(&self) -> u64 {
        u64::MAX
    }
}

/// Notifications of changes of one document, from [`Backend::watch`].
pub trait BackendWatch: Send {
    /// Waits up to `timeout` for a change since the previous wait (or since the watch
    /// began): `true` once one (or several, coalesced) may have happened, `false` when the
    /// time ran out. A wake without a change is allowed; a change without a wake is not.
    ///
    /// # Errors
    /// [`Error::Io`] if the notification channel broke; the watch is then over.
    fn wait(&mut self, timeout: Duration) -> Result<bool>;

    /// Something the watcher should be told that is not a state of the document, once: e.g.
    /// that changes may have been missed (etcd compacted its history while the watch moved
    /// to another member). `None` by default.
    fn take_notice(&mut self) -> Option<String> {
        None
    }
}

/// An open exclusive session of a [`Backend`]. Dropping it without [`BackendSession::commit`]
/// writes nothing and releases the document.
pub trait BackendSession: Send {
    /// The document's bytes now, `None` if it does not exist.
    ///
    /// # Errors
    /// As [`Backend::read`].
    fn current(&self) -> Result<Option<Vec<u8>>>;

    /// Replaces the document with `content` (already checked) atomically and durably, then
    /// ends the session. On error the document is as it was, except for
    /// [`Error::NotDurable`].
    ///
    /// # Errors
    /// [`Error::Io`] (nothing written), [`Error::NotDurable`] (written, durability unknown),
    /// [`Error::Conflict`] where the backend can lose a session (a lease) before the commit,
    /// and where an optimistic session ([`Backend::open_optimistic`]) finds the document
    /// changed.
    fn commit(self: Box<Self>, content: &str) -> Result<()>;

    /// Ends the session without writing; the same as dropping it.
    fn abort(self: Box<Self>) {}
}

/// Whether a document's lock is held, as far as can be told without taking it.
///
/// New fields may be added: a backend makes one with [`LockStatus::FREE`] or
/// [`LockStatus::held`] (and [`LockStatus::with_lease`]), never with a struct literal.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use confine_store::{Lease, LockStatus};
///
/// let lease = Lease { id: 7, granted: Duration::from_secs(10), remaining: Duration::from_secs(4) };
/// let status = LockStatus::held(Some(4242), Some(SystemTime::now())).with_lease(Some(lease));
/// assert!(status.held && status.holder == Some(4242) && status.lease == Some(lease));
/// assert!(!LockStatus::FREE.held);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockStatus {
    /// Whether a session holds the document now.
    pub held: bool,
    /// The process that holds it, where that can be known: on the filesystem, the pid the
    /// kernel reports for a classic `lockf`/`F_SETLK` holder or (on Linux, from
    /// `/proc/locks`) an `flock` holder, or else the pid that a confine holder wrote into the
    /// lock file. `None` if unknown.
    pub holder: Option<u32>,
    /// When the holder took it, where that can be known; `None` if not held or not known.
    pub since: Option<SystemTime>,
    /// The lease that keeps the holder's lock, on a backend whose locks expire (etcd):
    /// the lock is freed when it runs out, if the holder stops renewing it.
    pub lease: Option<Lease>,
}

/// A holder's lease, from [`LockStatus::lease`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The lease's id in the backend.
    pub id: i64,
    /// The time to live it was granted, renewed while its holder runs.
    pub granted: Duration,
    /// How long it has left, if its holder stops renewing it now.
    pub remaining: Duration,
}

impl LockStatus {
    /// Nobody holds the lock.
    pub const FREE: LockStatus = LockStatus { held: false, holder: None, since: None, lease: None };

    /// A session holds the lock: the process `holder` since `since`, where those can be
    /// known; with no lease.
    pub const fn held(holder: Option<u32>, since: Option<SystemTime>) -> LockStatus {
        LockStatus { held: true, holder, since, lease: None }
    }

    /// The same, with `lease` as the lease that keeps the holder's lock.
    #[must_use]
    pub const fn with_lease(self, lease: Option<Lease>) -> LockStatus {
        LockStatus { lease, ..self }
    }
}

/// Compare-and-swap in an open session: commits `content` if the document's revision is
/// `expected` (`None`: if it does not exist). What [`Backend::save`] does unless a backend
/// has a cheaper way.
///
/// # Errors
/// [`Error::Conflict`] if the revision differs; those of the session's calls.
pub fn save_in_session(
    session: Box<dyn BackendSession>,
    name: &DocumentName,
    content: &str,
    expected: Option<&str>,
) -> Result<()> {
    let found = session.current()?.map(|current| revision::of(&current));
    if found.as_deref() != expected {
        return Err(conflict(name, expected, found.as_deref()));
    }
    session.commit(content)
}

/// The refusal of a compare-and-swap that found another revision than the one expected.
pub fn conflict(name: &DocumentName, expected: Option<&str>, found: Option<&str>) -> Error {
    let describe = |r: Option<&str>| r.map_or_else(|| "no document".to_owned(), |r| format!("revision {r}"));
    Error::Conflict {
        name: name.as_str().to_owned(),
        reason: format!("expected {}, found {}", describe(expected), describe(found)),
    }
}
