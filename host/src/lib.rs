//! # confine
//!
//! Configuration files that many processes and sandboxed WebAssembly plugins update at
//! once, with no lost update, no torn file and no escape from the directory they were
//! given.
//!
//! - [`Repository`]: JSON documents in one capability directory ([`cap_std::fs::Dir`]),
//!   with lock-free reads, compare-and-swap saves, exclusive sessions, and updates with
//!   group commit ([`Repository::update`]).
//! - [`add_to_linker`] and [`add_to_linker_async`]: give any wasmtime component the WIT
//!   port `confine:config/config-repository` over a [`Repository`], for sync and async
//!   hosts, with a [`ConfineCtx`] in your store and a [`ConfineView`] of it.
//! - [`Runtime`]: runs confine's domain guest (`config-service`), plugin components, and
//!   standard `wasi:cli` commands ([`Runtime::run_command`]).
//! - [`add_wasi_config_to_linker`]: gives a component the standard `wasi:config/store`
//!   over one document, flattened to keys like `server.port` (see [`WasiConfigCtx`]).
//! - [`StepGate`]: sees each filesystem [`Step`] of a write before it runs and may stop it;
//!   [`StopOnSignal`] is the one the CLI uses to stop writes cleanly on SIGINT/SIGTERM.
//!
//! # Example
//!
//! ```
//! use cap_std::{ambient_authority, fs::Dir};
//! use confine::{Error, Options, Repository};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tmp = tempfile::tempdir()?;
//! # let path = tmp.path();
//! // The one directory this repository may touch.
//! let repository = Repository::new(Dir::open_ambient_dir(path, ambient_authority())?, Options::default());
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
//! Every operation of the [`Repository`] returns an [`Error`] that names the document (as
//! the caller named it, never a host path), the step that failed and the cause, e.g.
//! `app.json: fsync temp file failed: No space left on device (os error 28)`. When an
//! error is returned the document is as it was, except for [`Error::NotDurable`]. Through
//! wasm, the same errors reach components as the WIT `error` variant, and the [`Runtime`]
//! reports the service's answers as [`ServiceError`] and plugin failures as [`PluginError`];
//! a `wasmtime::Error` from a binding is a trap, never an answer.
//!
//! # Atomicity
//!
//! Every write holds the document's lock and replaces the file by rename:
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
//! - Locks are advisory fcntl record locks on `<name>.lock`: they exclude confine and any
//!   program that `lockf`s the same file, not a program that writes without locking.
//! - On Linux the lock is an open-file-description lock (threads exclude each other too);
//!   other Unix systems use classic `F_SETLK` plus an in-process gate.
//! - Network filesystems: NFS implements fcntl locks through its lock manager and may
//!   lose them across server restarts; rename and fsync semantics vary. Use a local
//!   filesystem.
//! - Documents must be regular files; confine neither follows nor replaces a symlink at a
//!   document's name. Parent directories may be symlinks that stay inside the directory.
//! - Documents are strict JSON: an object with the same key twice, or an integer that does
//!   not fit in 64 bits, is refused with its line and column rather than silently changed.
//! - A guest call that is running when SIGINT arrives is not cut short by [`StopOnSignal`]:
//!   its next write step fails, and its deadline bounds the rest.
#![deny(missing_docs)]

mod atomic;
mod content;
mod error;
mod group;
mod lock;
mod repository;
mod resolve;
mod revision;
mod signal;
mod step;
mod sys;
#[cfg(test)]
#[path = "tests/testing.rs"]
mod testing;

pub use error::{Error, Result};
pub use lock::LockStatus;
pub use repository::{Options, Repository, Session, Snapshot};
pub use resolve::MAX_FILE_NAME;
pub use signal::{StopOnSignal, signal_name};
pub use step::{Step, StepGate};
mod binding;
mod binding_async;
mod cache;
mod runtime;
mod service;
mod wasi_config;

pub use binding::{ConfineCtx, ConfineView, GuestSession, MAX_OPEN_SESSIONS, add_to_linker};
pub use binding_async::add_to_linker_async;
pub use cache::default_cache_dir;
pub use runtime::{CommandError, PluginError, Runtime, RuntimeOptions};
pub use service::{ServiceError, ServiceErrorKind};
pub use wasi_config::{WasiConfigCtx, WasiConfigView, add_wasi_config_to_linker};
