//! # confine-store
//!
//! The store layer of confine: configuration documents that many processes update at once,
//! with no lost update, no torn document and no name that escapes. It knows names, text,
//! revisions and sessions; what a document is, it is told: the layer that knows formats
//! hands each repository a [`Check`] (confine's is `confine_formats::Documents`: JSON, and
//! TOML by name). It is the port `config-repository` of `wit/confine.wit` natively, with no
//! wasmtime: the wasmtime binding (crate `confine-wasmtime`, library `confine`) and the CLI
//! sit on top of it, and a Rust program may use it alone.
//!
//! - [`Repository`]: the port over a [`Backend`]: lock-free reads, compare-and-swap saves,
//!   exclusive sessions, and updates with group commit ([`Repository::update`]). It checks
//!   names ([`name`]) and content (the size limit, UTF-8, and its [`Check`]) in one place
//!   and computes revisions (content digests), so every backend keeps the same rules.
//! - [`Backend`] and [`BackendSession`]: the seam, object-safe and synchronous. A backend
//!   is handed names that passed the rules ([`DocumentName`], [`DirectoryName`]) and leaves
//!   confine's own files out of a listing ([`name::is_lock_name`], [`name::is_temp_name`]).
//! - [`Filesystem`]: the default backend, one capability directory ([`cap_std::fs::Dir`]).
//!   [`StepGate`] sees each of its filesystem [`Step`]s before it runs and may stop it.
//! - [`Memory`]: the same semantics in memory, for tests.
//! - [`Watch`]: a document's changes as they come ([`Repository::watch`]), through the
//!   backend's notifications.
//!
//! # Example
//!
//! ```
//! use cap_std::{ambient_authority, fs::Dir};
//! use confine_store::{Error, Options, Repository};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tmp = tempfile::tempdir()?;
//! # let path = tmp.path();
//! // The one directory this repository may touch, and what its documents are (JSON, and
//! // TOML for a name that ends in `.toml`).
//! let root = Dir::open_ambient_dir(path, ambient_authority())?;
//! let repository = Repository::new(root, Options::default(), confine_formats::Documents::default());
//!
//! // An exclusive read-modify-write session: no writer in any process interleaves.
//! let session = repository.open_session("app.json", None)?;
//! assert!(session.current()?.is_none());
//! let revision = session.commit(r#"{"server": {"port": 8080}}"#)?;
//!
//! // Reads take no lock and see whole versions; compare-and-swap detects a change since.
//! assert_eq!(repository.read("app.json")?.revision, revision);
//! repository.save("app.json", r#"{"server": {"port": 8081}}"#, Some(&revision))?;
//! let stale = repository.save("app.json", "{}", Some(&revision));
//! assert!(matches!(stale, Err(Error::Conflict { .. })));
//!
//! // Names stay inside the directory.
//! assert!(matches!(repository.read("../secret.json"), Err(Error::InvalidPath { .. })));
//! # Ok(()) }
//! ```
//!
//! # Errors
//!
//! Every operation returns an [`Error`] that names the document (as the caller named it,
//! never a host path), the step that failed and the cause, e.g.
//! `app.json: fsync temp file failed: No space left on device (os error 28)`. When an
//! error is returned the document is as it was, except for [`Error::NotDurable`] (written,
//! durability unknown) and [`Error::Internal`] (a bug in confine: a backend panicked).
//! [`Error`] may gain kinds: a `match` on it needs an arm for the others.
//!
//! # Atomicity
//!
//! On the filesystem, every write holds the document's lock and replaces the file by
//! rename:
//!
//! ```text
//! fcntl(<name>.lock, F_OFD_SETLK, F_WRLCK, whole file)   -- wait, with timeout
//! open(.<name>.<random>.tmp, O_CREAT|O_EXCL|O_NOFOLLOW)
//! write, fchmod (mode of the old file), fsync(tmp)
//! rename(tmp, <name>)
//! fsync(directory)
//! close(<name>.lock)                                     -- releases the lock
//! ```
//!
//! A reader needs no lock: it sees the whole old or the whole new file, never a mix.
//!
//! # Durability
//!
//! A write is reported successful only after the temp file and the directory have been
//! fsynced: the new content survives a crash or a power loss from then on. If the
//! directory fsync fails, [`Error::NotDurable`] says the new content is visible but may not
//! survive a power loss. An fsync error is never retried into a success.
//!
//! A writer that dies at any moment (SIGKILL, a crash, a power loss) leaves the old or the
//! new document, never a mix: the kernel releases its lock, and its temp file is removed
//! by the next write of the same document. The test suites show this by killing writers at
//! every step, failing every step with ENOSPC, EIO, EACCES, EXDEV and EINTR, and replaying
//! recorded writes against a model of a disk that loses whatever was not fsynced.
//!
//! # Limitations
//!
//! - Locks on `<name>.lock` are advisory on Unix: they exclude confine and any program
//!   that `lockf`s or `flock`s the same file, not a program that writes without locking.
//! - The lock per platform: Linux, an open-file-description lock and an `flock`, taken
//!   together, since Linux keeps the two kinds apart (threads exclude each other too; on
//!   NFS and CIFS, which emulate `flock` with `fcntl` locks, the OFD lock alone); macOS and
//!   FreeBSD, `flock`, which excludes `lockf` users there; other Unix systems, classic
//!   `F_SETLK` plus an in-process gate (it does not exclude `flock` users); Windows,
//!   `LockFileEx` on byte 0, which excludes `msvcrt.locking` users. On Apple systems syncs
//!   are `F_FULLFSYNC`.
//! - Windows: a document that a program holds open without `FILE_SHARE_DELETE` (or, where
//!   renames lack POSIX semantics, that anyone holds open) cannot be replaced; the write
//!   retries for 2 s, then fails naming the cause. No directory fsync exists there: the
//!   rename writes through instead.
//! - Network filesystems: NFS implements fcntl locks through its lock manager and may
//!   lose them across server restarts; rename and fsync semantics vary. Use a local
//!   filesystem.
//! - Documents must be regular files; confine neither follows nor replaces a symlink at a
//!   document's name. Parent directories may be symlinks that stay inside the directory.
//! - A document is what the repository's [`Check`] accepts; with confine's
//!   (`confine_formats::Documents`), strict JSON whose root is an object, or strict TOML for
//!   a name that ends in `.toml`: a key defined twice, or an integer that does not fit in 64
//!   bits, is refused with its line and column rather than silently changed. A read does not
//!   check (the store's own writes only store what the check accepted).
//! - [`Memory`] keeps nothing past the process and is not shared with other processes.
#![deny(missing_docs)]

mod backend;
mod check;
mod content;
mod error;
mod fs;
mod group;
mod known;
mod memory;
pub mod name;
mod repository;
pub mod revision;
#[cfg(test)]
#[path = "tests/testing.rs"]
mod testing;
mod watch;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use backend::{Backend, BackendSession, BackendWatch, Lease, LockStatus, conflict, save_in_session};
pub use check::{Check, NewContent, Splice};
pub use error::{Error, Result};
pub use fs::{Filesystem, Step, StepGate};
pub use known::Current;
pub use memory::Memory;
pub use name::{DirectoryName, DocumentName, MAX_FILE_NAME};
pub use repository::{Options, Repository, Session, Snapshot};
pub use watch::{Watch, WatchEvent};
