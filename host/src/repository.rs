//! The repository: JSON documents inside one capability directory, with locked,
//! atomic, durable writes. This is the native implementation of the WIT port
//! `config-repository`; the wasmtime binding calls it, and embedders may call it directly.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, OpenOptions, OpenOptionsExt};

use crate::error::{Error, IoContext, Result};
use crate::group::{self, Batches};
use crate::lock::{self, DocumentLock, LockStatus};
use crate::resolve::{self, Location};
use crate::step::{Seam, Step, StepGate};
use crate::{atomic, content, revision};

/// Limits of a [`Repository`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// How long a writer waits for a document's lock before [`Error::LockTimeout`].
    pub lock_timeout: Duration,
    /// The largest document, in bytes, that is read or written.
    pub max_document_size: u64,
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

/// JSON documents inside one directory. Cheap to clone; clones share the directory handle.
///
/// Every name is relative to the directory; see [`Repository::read`] for what is refused.
#[derive(Clone)]
pub struct Repository {
    root: Arc<Dir>,
    options: Options,
    seam: Seam,
    batches: Arc<Batches>,
}

impl Repository {
    /// A repository over `root`, the only directory it will ever touch.
    pub fn new(root: Dir, options: Options) -> Repository {
        Repository { root: Arc::new(root), options, seam: Seam::default(), batches: Arc::default() }
    }

    /// The same repository, with `gate` seeing every filesystem step of its reads and
    /// writes before it runs (see [`StepGate`]). Sessions opened from it use it too.
    pub fn with_gate(self, gate: Arc<dyn StepGate>) -> Repository {
        Repository { seam: Seam::new(gate), ..self }
    }

    /// The limits in force.
    pub fn options(&self) -> Options {
        self.options
    }

    /// The same documents (and gate) with other limits.
    pub fn with_options(&self, options: Options) -> Repository {
        Repository { options, ..self.clone() }
    }

    /// Reads a document without locking. The result is one whole committed version.
    ///
    /// # Errors
    /// [`Error::InvalidPath`] for a name that is empty, absolute, holds `.`, `..`, an empty
    /// component or a NUL byte, names a lock or temp file, leads outside the directory or
    /// is a symlink; [`Error::NotFound`]; [`Error::TooLarge`]; [`Error::InvalidDocument`]
    /// if it is not UTF-8; [`Error::Io`].
    pub fn read(&self, name: &str) -> Result<Snapshot> {
        let location = resolve::document(&self.root, name)?;
        read_at(&location, self.options.max_document_size, &self.seam)?
            .ok_or_else(|| Error::NotFound { name: name.to_owned() })
    }

    /// Compare-and-swap: writes `content` if the current revision is `expected` (`None`:
    /// if the document does not exist), under the document's lock. Returns the new revision
    /// once it is durable.
    ///
    /// # Errors
    /// [`Error::Conflict`] if the revision differs; [`Error::InvalidDocument`] if `content`
    /// is not a JSON object; [`Error::LockTimeout`]; and those of [`Repository::read`].
    pub fn save(&self, name: &str, content: &str, expected: Option<&str>) -> Result<String> {
        content::check(name, content, self.options.max_document_size)?;
        let session = self.open_session(name, None)?;
        let current = session.current()?;
        let found = current.as_ref().map(|s| s.revision.as_str());
        if found != expected {
            let describe = |r: Option<&str>| r.map_or_else(|| "no document".to_owned(), |r| format!("revision {r}"));
            return Err(Error::Conflict {
                name: name.to_owned(),
                reason: format!("expected {}, found {}", describe(expected), describe(found)),
            });
        }
        session.commit(content)
    }

    /// Removes a document under its lock; the lock file stays.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::LockTimeout`], [`Error::NotDurable`], and those of
    /// [`Repository::read`].
    pub fn remove(&self, name: &str) -> Result<()> {
        let session = self.open_session(name, None)?;
        atomic::remove(&session.location, &self.seam)
    }

    /// The documents in `directory` (`""` for the root), sorted, as names relative to the
    /// root. Lock files, temp files, directories, symlinks and non-UTF-8 names are left out.
    ///
    /// # Errors
    /// [`Error::InvalidPath`], [`Error::NotFound`], [`Error::Io`].
    pub fn list(&self, directory: &str) -> Result<Vec<String>> {
        let dir = resolve::directory(&self.root, directory)?;
        let mut names = Vec::new();
        for entry in dir.entries().context(directory, "list directory")? {
            let entry = entry.context(directory, "list directory")?;
            let is_file = entry.file_type().context(directory, "stat directory entry")?.is_file();
            let Ok(file) = entry.file_name().into_string() else { continue };
            if is_file && !resolve::is_lock_name(&file) && !resolve::is_temp_name(&file) {
                names.push(if directory.is_empty() { file } else { format!("{directory}/{file}") });
            }
        }
        names.sort();
        Ok(names)
    }

    /// Whether the document's lock is held, and by whom and since when where that can be
    /// known, without taking the lock or creating anything.
    ///
    /// # Errors
    /// Those of [`Repository::read`] about the name; [`Error::Io`].
    pub fn lock_status(&self, name: &str) -> Result<LockStatus> {
        lock::status(&resolve::document(&self.root, name)?)
    }

    /// Read-modify-write with group commit: `change` gets the document's current content
    /// (`None` if it does not exist) and returns the new content, or refuses with its own
    /// error. Returns the new revision once it is durable, or the refusal (nothing of this
    /// change written).
    ///
    /// When several threads update the same document through clones of this repository
    /// at once, one of them takes the lock and applies every waiting change in turn, each
    /// to the result of the one before, then writes once: one fsync pair for the whole
    /// batch. Each caller is told its outcome only after the batch is durable. A change
    /// that refuses, panics (the panic is resumed in its caller's thread) or returns
    /// content that is not a document is left out, and the others stand. `change` may
    /// run on another caller's thread, hence `Send + 'static`. Other processes are
    /// excluded by the document's lock as for every write.
    ///
    /// # Errors
    /// Those of [`Repository::open_session`] and [`Session::commit`], for every change of
    /// the batch; [`Error::InvalidDocument`] or [`Error::TooLarge`] for a change whose new
    /// content is not a document (that change only).
    pub fn update<E: Send + 'static>(
        &self,
        name: &str,
        change: impl FnOnce(Option<&str>) -> std::result::Result<String, E> + Send + 'static,
    ) -> Result<std::result::Result<String, E>> {
        let refusal = Arc::new(std::sync::Mutex::new(None));
        let reason = Arc::clone(&refusal);
        let change: group::Change = Box::new(move |current| match change(current) {
            Ok(new) => Some(new),
            Err(e) => {
                *reason.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
                None
            }
        });
        Ok(match group::update(self, name, change)? {
            Some(revision) => Ok(revision),
            None => Err(refusal
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
                .expect("a refused change leaves its reason")),
        })
    }

    pub(crate) fn batches(&self) -> &Batches {
        &self.batches
    }

    /// Opens an exclusive session on a document, waiting up to `timeout` (`None`: the
    /// repository's lock timeout) for its lock. The document need not exist.
    ///
    /// # Errors
    /// [`Error::LockTimeout`], and those of [`Repository::read`] about the name.
    pub fn open_session(&self, name: &str, timeout: Option<Duration>) -> Result<Session> {
        let location = resolve::document(&self.root, name)?;
        let lock = DocumentLock::acquire(&location, timeout.unwrap_or(self.options.lock_timeout), &self.seam)?;
        Ok(Session {
            location,
            _lock: lock,
            max_document_size: self.options.max_document_size,
            seam: self.seam.clone(),
        })
    }
}

/// An exclusive read-modify-write session on one document: while it lives, no other
/// writer can change the document.
///
/// Dropping a session without [`Session::commit`] writes nothing and releases the lock.
pub struct Session {
    location: Location,
    _lock: DocumentLock,
    max_document_size: u64,
    seam: Seam,
}

impl Session {
    /// The document's name.
    pub fn name(&self) -> &str {
        &self.location.name
    }

    /// The document as it is now, `None` if it does not exist.
    ///
    /// # Errors
    /// [`Error::TooLarge`], [`Error::InvalidDocument`] (not UTF-8), [`Error::InvalidPath`]
    /// (a symlink), [`Error::Io`].
    pub fn current(&self) -> Result<Option<Snapshot>> {
        read_at(&self.location, self.max_document_size, &self.seam)
    }

    /// [`Session::current`] without the revision, for group commit, which only needs the
    /// revision of what it writes: hashing costs as much as a parse on a large document.
    pub(crate) fn current_content(&self) -> Result<Option<String>> {
        read_content_at(&self.location, self.max_document_size, &self.seam)
    }

    /// Replaces the document with `content` atomically and durably, then releases the
    /// lock. Returns the new revision.
    ///
    /// # Errors
    /// [`Error::TooLarge`], [`Error::InvalidDocument`] (not a JSON object), [`Error::Io`]
    /// (nothing written), [`Error::NotDurable`] (written, durability unknown).
    pub fn commit(self, content: &str) -> Result<String> {
        content::check(&self.location.name, content, self.max_document_size)?;
        self.write_checked(content)
    }

    /// [`Session::commit`] of content already checked (group commit checks each change).
    pub(crate) fn write_checked(self, content: &str) -> Result<String> {
        atomic::replace(&self.location, content.as_bytes(), &self.seam)?;
        Ok(revision::of(content.as_bytes()))
    }
}

fn read_at(location: &Location, limit: u64, seam: &Seam) -> Result<Option<Snapshot>> {
    let content = read_content_at(location, limit, seam)?;
    Ok(content.map(|content| Snapshot { revision: revision::of(content.as_bytes()), content }))
}

fn read_content_at(location: &Location, limit: u64, seam: &Seam) -> Result<Option<String>> {
    let name = &location.name;
    let file_name = location.file.as_str();
    let mut options = OpenOptions::new();
    // NONBLOCK: a FIFO planted at the name must not hang the reader.
    options.read(true).custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32).follow(FollowSymlinks::No);
    let opened = seam
        .before(Step::OpenDocument { file: file_name })
        .and_then(|()| location.parent.open_with(file_name, &options));
    let file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if resolve::is_symlink_refusal(&e) => return Err(resolve::not_a_regular_file(name, true)),
        Err(source) => return Err(Error::Io { name: name.clone(), op: "open document", source }),
    };
    let metadata = seam
        .before(Step::StatDocument { file: file_name })
        .and_then(|()| file.metadata())
        .context(name, "stat document")?;
    if !metadata.is_file() {
        return Err(resolve::not_a_regular_file(name, false));
    }
    if metadata.len() > limit {
        return Err(Error::TooLarge { name: name.clone(), size: metadata.len(), limit });
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // `take` guards against a file that grows between the stat and the read.
    seam.before(Step::ReadDocument { file: file_name })
        .and_then(|()| file.take(limit + 1).read_to_end(&mut bytes))
        .context(name, "read document")?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge { name: name.clone(), size: bytes.len() as u64, limit });
    }
    content::decode(name, bytes).map(Some)
}
