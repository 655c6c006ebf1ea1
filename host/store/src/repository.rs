//! The repository: the port `config-repository` natively, over any [`Backend`]. It checks
//! names, and content with the [`Check`] it is given, in one place, computes revisions, and
//! batches concurrent updates (group commit); the backend stores bytes.

use std::sync::Arc;
use std::time::Duration;

use cap_std::fs::Dir;

use crate::backend::{Backend, BackendSession, LockStatus};
use crate::check::{Check, NewContent};
use crate::error::Result;
use crate::fs::Filesystem;
use crate::group::{self, Batches, Target};
use crate::known::Current;
use crate::name::{DirectoryName, DocumentName};
use crate::watch::Watch;
use crate::{content, revision};

/// Limits of a [`Repository`].
///
/// New limits may be added: start from [`Options::default`] and change what you need, with
/// the `with_*` methods or by assigning the fields.
///
/// ```
/// use std::time::Duration;
/// use confine_store::Options;
///
/// let options = Options::default().with_lock_timeout(Duration::from_secs(30)).with_max_document_size(1 << 20);
/// assert_eq!((options.lock_timeout, options.max_document_size), (Duration::from_secs(30), 1 << 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// How long a writer waits for a document's lock before
    /// [`Error::LockTimeout`](crate::Error::LockTimeout).
    pub lock_timeout: Duration,
    /// The largest document, in bytes, that is read or written (cut to the backend's own
    /// limit, [`Backend::max_document_size`]).
    pub max_document_size: u64,
}

impl Options {
    /// The same, with `lock_timeout` as the lock timeout.
    #[must_use]
    pub const fn with_lock_timeout(self, lock_timeout: Duration) -> Options {
        Options { lock_timeout, ..self }
    }

    /// The same, with `max_document_size` as the size limit, in bytes.
    #[must_use]
    pub const fn with_max_document_size(self, max_document_size: u64) -> Options {
        Options { max_document_size, ..self }
    }
}

impl Default for Options {
    /// A 5 s lock timeout and a 16 MiB size limit.
    fn default() -> Options {
        Options { lock_timeout: Duration::from_secs(5), max_document_size: 16 << 20 }
    }
}

/// One whole, consistent content of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The document's text.
    pub content: String,
    /// The revision of exactly this text: equal revisions mean equal bytes.
    pub revision: String,
}

/// The documents of one store, each a text that the [`Check`] given at its making accepts.
/// Cheap to clone; clones share the backend and batch their updates together.
///
/// Every name is relative to the store's top level; see [`Repository::read`] for what is
/// refused.
#[derive(Clone)]
pub struct Repository {
    backend: Arc<dyn Backend>,
    check: Arc<dyn Check>,
    options: Options,
    batches: Arc<Batches>,
    /// The types of the backend and the check, for [`Debug`].
    types: Types,
}

#[derive(Clone, Copy)]
struct Types {
    backend: &'static str,
    check: &'static str,
}

/// The backend's and the check's types and the limits: what a repository is, not what it
/// holds.
impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("backend", &self.types.backend)
            .field("check", &self.types.check)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Repository {
    /// A repository of the documents in `root`, the only directory it will ever touch (the
    /// [`Filesystem`] backend, confine's default), each checked by `check`.
    pub fn new(root: Dir, options: Options, check: impl Check + 'static) -> Repository {
        Repository::with_backend(Filesystem::new(root), options, check)
    }

    /// A repository over `backend`, its documents checked by `check`.
    pub fn with_backend<B: Backend + 'static, C: Check + 'static>(
        backend: B,
        options: Options,
        check: C,
    ) -> Repository {
        let types = Types { backend: std::any::type_name::<B>(), check: std::any::type_name::<C>() };
        Repository { backend: Arc::new(backend), check: Arc::new(check), options, batches: Arc::default(), types }
    }

    /// The limits in force.
    pub fn options(&self) -> Options {
        self.options
    }

    /// The same documents (and batches) with other limits.
    pub fn with_options(&self, options: Options) -> Repository {
        Repository { options, ..self.clone() }
    }

    /// The size limit in force: the options', cut to the backend's own.
    pub fn max_document_size(&self) -> u64 {
        self.options.max_document_size.min(self.backend.max_document_size())
    }

    /// Reads a document without locking. The result is one whole committed version.
    ///
    /// # Errors
    /// [`Error::InvalidPath`](crate::Error::InvalidPath) for a name that is empty, absolute,
    /// holds `.`, `..`, an empty component or a NUL byte, names a lock or temp file (see
    /// [`crate::name`]), or that the backend refuses (on the filesystem: one that leads
    /// outside the directory or is a symlink); [`Error::NotFound`](crate::Error::NotFound);
    /// [`Error::TooLarge`](crate::Error::TooLarge);
    /// [`Error::InvalidDocument`](crate::Error::InvalidDocument) if it is not UTF-8;
    /// [`Error::Io`](crate::Error::Io). A stored text is not checked as a document: that
    /// is its reader's concern, and the store's own writes only ever store documents.
    pub fn read(&self, name: &str) -> Result<Snapshot> {
        let name = DocumentName::parse(name)?;
        let limit = self.max_document_size();
        let bytes = self.backend.read(&name, limit)?;
        let bytes = bytes.ok_or_else(|| crate::Error::NotFound { name: name.as_str().to_owned() })?;
        content::decode(name.as_str(), bytes, limit).map(snapshot)
    }

    /// Compare-and-swap: writes `content` if the current revision is `expected` (`None`:
    /// if the document does not exist), under the document's lock. Returns the new revision
    /// once it is durable.
    ///
    /// # Errors
    /// [`Error::Conflict`](crate::Error::Conflict) if the revision differs;
    /// [`Error::InvalidDocument`](crate::Error::InvalidDocument) if the repository's check
    /// refuses `content`; [`Error::LockTimeout`](crate::Error::LockTimeout); and those of
    /// [`Repository::read`].
    pub fn save(&self, name: &str, content: &str, expected: Option<&str>) -> Result<String> {
        let name = DocumentName::parse(name)?;
        let limit = self.max_document_size();
        content::check(&*self.check, name.as_str(), content, limit)?;
        self.backend.save(&name, content, expected, self.options.lock_timeout, limit)?;
        Ok(revision::of(content.as_bytes()))
    }

    /// Removes a document under its lock (on the filesystem the lock file stays).
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound),
    /// [`Error::LockTimeout`](crate::Error::LockTimeout),
    /// [`Error::NotDurable`](crate::Error::NotDurable), and those of [`Repository::read`].
    pub fn remove(&self, name: &str) -> Result<()> {
        self.backend.remove(&DocumentName::parse(name)?, self.options.lock_timeout)
    }

    /// The documents directly in `directory` (`""` for the top level), sorted, as names
    /// relative to the top level. Lock files, temp files, directories, symlinks and
    /// non-UTF-8 names are left out.
    ///
    /// # Errors
    /// [`Error::InvalidPath`](crate::Error::InvalidPath),
    /// [`Error::NotFound`](crate::Error::NotFound) (a missing directory, on the filesystem),
    /// [`Error::Io`](crate::Error::Io).
    pub fn list(&self, directory: &str) -> Result<Vec<String>> {
        self.backend.list(&DirectoryName::parse(directory)?)
    }

    /// Whether the document's lock is held, and by whom and since when where that can be
    /// known, without taking the lock or creating anything.
    ///
    /// # Errors
    /// Those of [`Repository::read`] about the name; [`Error::Io`](crate::Error::Io).
    pub fn lock_status(&self, name: &str) -> Result<LockStatus> {
        self.backend.lock_status(&DocumentName::parse(name)?)
    }

    /// Watches a document (which need not exist) for changes: [`Watch::next`] gives its
    /// state now, then each new state as it comes, through the backend's change
    /// notification (no polling). Changes in quick succession may be coalesced into the
    /// last; the last state given is never older than the last change.
    ///
    /// # Errors
    /// Those of [`Repository::read`] about the name ([`Error::NotFound`](crate::Error::NotFound)
    /// for a missing directory); [`Error::Io`](crate::Error::Io) if the platform's change
    /// notification cannot start.
    pub fn watch(&self, name: &str) -> Result<Watch> {
        let checked = DocumentName::parse(name)?;
        let notifications = self.backend.watch(&checked)?;
        Ok(Watch::new(self.clone(), checked.as_str().to_owned(), notifications))
    }

    /// Opens an exclusive session on a document, waiting up to `timeout` (`None`: the
    /// repository's lock timeout) for its lock. The document need not exist.
    ///
    /// # Errors
    /// [`Error::LockTimeout`](crate::Error::LockTimeout), and those of [`Repository::read`]
    /// about the name.
    pub fn open_session(&self, name: &str, timeout: Option<Duration>) -> Result<Session> {
        let name = DocumentName::parse(name)?;
        let limit = self.max_document_size();
        let inner = self.backend.open_session(&name, timeout.unwrap_or(self.options.lock_timeout), limit)?;
        Ok(Session { name, inner, limit, check: Arc::clone(&self.check) })
    }

    /// Read-modify-write with group commit: `change` gets the document's current content
    /// (`None` if it does not exist) and returns the new content, or refuses with its own
    /// error. Returns the new revision once it is durable, or the refusal (nothing of this
    /// change written).
    ///
    /// When several threads update the same document through clones of this repository
    /// at once, one of them takes the lock and applies every waiting change in turn, each
    /// to the result of the one before, then writes once: one write (one fsync pair on the
    /// filesystem) for the whole batch. Each caller is told its outcome only after the
    /// batch is durable. A change that refuses, panics (the panic is resumed in its
    /// caller's thread) or returns content that is not a document is left out, and the
    /// others stand. `change` may run on another caller's thread, hence `Send + 'static`.
    /// Other processes are excluded by the document's lock as for every write.
    ///
    /// The new content is a `String`, checked whole as every write is, or a
    /// [`Splice`](crate::Splice) of the content given. A change that must spare a large
    /// document that walk uses [`Repository::update_in_place`]: it may check the content it
    /// is given ([`Current::check`], which does not walk a text the repository knows), and a
    /// splice of a text so checked is made in place where the check shows that it keeps a
    /// document.
    ///
    /// `change` runs once on the filesystem and in memory. On a backend that first tries a
    /// batch without the lock ([`Backend::open_optimistic`](crate::Backend::open_optimistic):
    /// etcd, where the lock is a network write of its own) it may run twice: on the version
    /// read, and again in an exclusive session if another writer changed the document before
    /// the write (or a session held it). So it must make the new content from the content it is given alone, as
    /// the function of [`AtomicU64::fetch_update`](std::sync::atomic::AtomicU64::fetch_update)
    /// does; its last run is the one written, or whose refusal is returned.
    ///
    /// ```
    /// use confine_store::{Memory, Options, Repository};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let repository = Repository::with_backend(Memory::new(), Options::default(), confine_formats::Documents::default());
    ///
    /// // A change makes the new text from the current one (None: no document yet); it runs
    /// // under the document's lock, so no update in any thread or process is lost.
    /// let bump = |current: Option<&str>| -> Result<String, serde_json::Error> {
    ///     let mut document: serde_json::Value = serde_json::from_str(current.unwrap_or("{}"))?;
    ///     document["hits"] = (document["hits"].as_u64().unwrap_or(0) + 1).into();
    ///     Ok(document.to_string())
    /// };
    /// let first = repository.update("hits.json", bump)??; // the new revision
    /// repository.update("hits.json", bump)??;
    /// assert_eq!(repository.read("hits.json")?.content, r#"{"hits":2}"#);
    /// assert_ne!(repository.read("hits.json")?.revision, first);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Those of [`Repository::open_session`] and [`Session::commit`], for every change of
    /// the batch; [`Error::InvalidDocument`](crate::Error::InvalidDocument) or
    /// [`Error::TooLarge`](crate::Error::TooLarge) for a change whose new content is not a
    /// document (that change only); [`Error::Internal`](crate::Error::Internal), for every
    /// change of the batch, if the backend panicked while it wrote the batch.
    pub fn update<E: Send + 'static, T: Into<NewContent>>(
        &self,
        name: &str,
        mut change: impl FnMut(Option<&str>) -> std::result::Result<T, E> + Send + 'static,
    ) -> Result<std::result::Result<String, E>> {
        let updated =
            self.update_in_place(name, move |current| change(current.map(Current::text)).map(|new| (new.into(), ())))?;
        Ok(updated.map(|(revision, ())| revision))
    }

    /// [`Repository::update`] for a change that answers with a value of its own, and that
    /// may check the content it is given ([`Current::check`]) and answer with a
    /// [`Splice`](crate::Splice) of it.
    ///
    /// [`Current::check`] does not walk a text the repository knows to be a document: the
    /// one its group commit wrote last (found by its BLAKE3 digest, which costs a quarter of
    /// a walk), or what an earlier change of the same batch made. A splice of a text the
    /// repository knows, which its check shows to keep a document
    /// ([`Check::splice_keeps`]), is made in the content it holds: a large document is
    /// neither copied nor walked again. Any other new content is checked whole.
    ///
    /// The change returns its new content and its answer; once the write is durable the
    /// update returns the new revision and the answer of the change's last run (a refusal:
    /// its reason). Everything else is as [`Repository::update`] says.
    ///
    /// ```
    /// use confine_store::{Check, Memory, NewContent, Options, Repository, Splice};
    ///
    /// /// A toy format: a document is `{n}` with a decimal `n`; a digit for digits keeps one.
    /// struct Counter;
    /// impl Check for Counter {
    ///     fn check(&self, _name: &str, text: &str) -> Result<usize, String> {
    ///         let digits = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')).ok_or("no braces")?;
    ///         digits.parse::<u64>().map(|_| 1).map_err(|e| e.to_string())
    ///     }
    ///     fn splice_keeps(&self, _name: &str, text: &str, depth: usize, splice: &Splice) -> Option<usize> {
    ///         let digits = 1..text.len() - 1;
    ///         let all_digits = !splice.text.is_empty() && splice.text.bytes().all(|b| b.is_ascii_digit());
    ///         (splice.range == digits && all_digits).then_some(depth)
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let repository = Repository::with_backend(Memory::new(), Options::default(), Counter);
    /// repository.save("counter", "{41}", None)?;
    /// let updated = repository.update_in_place("counter", |current| {
    ///     let current = current.ok_or("no counter")?;
    ///     current.check().map_err(|_| "not a counter")?;
    ///     let text = current.text();
    ///     let n: u64 = text[1..text.len() - 1].parse().map_err(|_| "not a number")?;
    ///     let splice = Splice { range: 1..text.len() - 1, text: (n + 1).to_string() };
    ///     Ok::<_, &str>((NewContent::Splice(splice), n + 1))
    /// })?;
    /// assert_eq!(updated, Ok((repository.read("counter")?.revision, 42)));
    /// assert_eq!(repository.read("counter")?.content, "{42}");
    ///
    /// // That text is the one the repository wrote: the next change's check does not walk it.
    /// let refused = repository.update_in_place("counter", |current| {
    ///     Err::<(NewContent, ()), _>(current.is_some_and(|current| current.is_known()))
    /// })?;
    /// assert_eq!(refused, Err(true));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Those of [`Repository::update`].
    pub fn update_in_place<T: Send + 'static, E: Send + 'static>(
        &self,
        name: &str,
        mut change: impl FnMut(Option<Current<'_>>) -> std::result::Result<(NewContent, T), E> + Send + 'static,
    ) -> Result<std::result::Result<(String, T), E>> {
        let name = DocumentName::parse(name)?;
        let change: group::Change = Box::new(move |current| match change(current) {
            Ok((new, answer)) => Ok((new, Box::new(answer))),
            Err(reason) => Err(Box::new(reason)),
        });
        let limits = group::Limits { timeout: self.options.lock_timeout, max_document_size: self.max_document_size() };
        let target =
            Target { backend: &*self.backend, check: &*self.check, batches: &self.batches, name: &name, limits };
        Ok(match group::update(target, change)? {
            Ok((revision, answer)) => Ok((revision, opened(answer))),
            Err(reason) => Err(opened(reason)),
        })
    }
}

/// An answer (or reason) that group commit carried back to the caller whose change gave it.
fn opened<T: 'static>(answer: group::Answer) -> T {
    match answer.downcast::<T>() {
        Ok(answer) => *answer,
        // Group commit answers each caller with what its own change returned.
        Err(_) => unreachable!("an answer came back to another caller"),
    }
}

/// An exclusive read-modify-write session on one document: while it lives, no other
/// writer can change the document.
///
/// Dropping a session without [`Session::commit`] writes nothing and releases the lock.
pub struct Session {
    name: DocumentName,
    inner: Box<dyn BackendSession>,
    limit: u64,
    check: Arc<dyn Check>,
}

/// The document and the size limit of its reads and its commit.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("name", &self.name.as_str()).field("limit", &self.limit).finish_non_exhaustive()
    }
}

impl Session {
    /// The document's name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The document as it is now, `None` if it does not exist.
    ///
    /// # Errors
    /// [`Error::TooLarge`](crate::Error::TooLarge),
    /// [`Error::InvalidDocument`](crate::Error::InvalidDocument) (not UTF-8),
    /// [`Error::InvalidPath`](crate::Error::InvalidPath) (a symlink, on the filesystem),
    /// [`Error::Io`](crate::Error::Io).
    pub fn current(&self) -> Result<Option<Snapshot>> {
        let bytes = self.inner.current()?;
        bytes.map(|bytes| content::decode(self.name.as_str(), bytes, self.limit).map(snapshot)).transpose()
    }

    /// Replaces the document with `content` atomically and durably, then releases the
    /// lock. Returns the new revision.
    ///
    /// # Errors
    /// [`Error::TooLarge`](crate::Error::TooLarge),
    /// [`Error::InvalidDocument`](crate::Error::InvalidDocument) (the repository's check
    /// refuses it), [`Error::Io`](crate::Error::Io) (nothing written),
    /// [`Error::NotDurable`](crate::Error::NotDurable) (written, durability unknown).
    pub fn commit(self, content: &str) -> Result<String> {
        content::check(&*self.check, self.name.as_str(), content, self.limit)?;
        self.inner.commit(content)?;
        Ok(revision::of(content.as_bytes()))
    }

    /// Ends the session without writing: the same as dropping it.
    pub fn abort(self) {
        self.inner.abort();
    }
}

fn snapshot(content: String) -> Snapshot {
    Snapshot { revision: revision::of(content.as_bytes()), content }
}

#[cfg(test)]
#[path = "tests/repository.rs"]
mod tests;
