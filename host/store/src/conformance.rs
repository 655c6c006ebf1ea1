//! The conformance suite: the port's promises, checked over any backend through the public
//! API of [`Repository`] alone, so that every backend (memory, the filesystem, a backend of
//! another crate) runs the same checks unchanged.
//!
//! A backend's test target gives the suite a fixture: a function that makes a [`Fresh`],
//! an empty store for one check. [`conformance_suite!`](crate::conformance_suite) expands
//! to one `#[test]` per promise, named as the promise's function here:
//!
//! ```
//! use confine_store::conformance::Fresh;
//! use confine_store::{Memory, Options, Repository};
//!
//! fn fresh() -> Fresh {
//!     Fresh::new(Repository::with_backend(Memory::new(), Options::default(), confine_formats::Documents::default()))
//! }
//!
//! // `#[test] fn save_refuses_a_stale_revision()`, ... (compiled under `cargo test`).
//! confine_store::conformance_suite!(fresh);
//! # fn main() {
//! #     // Each check is also a plain function: it panics naming the promise it finds
//! #     // broken, and returns how many port operations it made.
//! #     assert!(confine_store::conformance::save_refuses_a_stale_revision(&fresh) > 0);
//! # }
//! ```
//!
//! A backend whose directories must exist before a document is saved in them (the
//! filesystem) says how to make one with [`Fresh::with_directories`]; whatever must live as
//! long as the store (a temporary directory) goes to [`Fresh::keeping`]:
//!
//! ```
//! use cap_std::{ambient_authority, fs::Dir};
//! use confine_store::conformance::Fresh;
//! use confine_store::{Options, Repository};
//!
//! fn fresh() -> Fresh {
//!     let tmp = tempfile::tempdir().expect("create temp dir");
//!     let open = || Dir::open_ambient_dir(tmp.path(), ambient_authority()).expect("open temp dir");
//!     let directories = open();
//!     Fresh::new(Repository::new(open(), Options::default(), confine_formats::Documents::default()))
//!         .with_directories(move |name| directories.create_dir_all(name))
//!         .keeping(tmp)
//! }
//! # fn main() { assert!(confine_store::conformance::list_returns_the_documents_directly_in_a_directory(&fresh) > 0); }
//! ```
//!
//! The checks set the limits they test with [`Repository::with_options`]; otherwise they
//! keep the fixture's options, whose lock timeout must leave a waiting writer time to get
//! the lock (a second or more; [`Options::default`] gives 5 s). Each check makes a few
//! hundred port operations and, on a disk, well under a second of fsyncs.

// A conformance check fails loudly on purpose: every panic names the promise it found
// broken (see `check`).
#![allow(clippy::panic, clippy::expect_used)]

use std::any::Any;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::ScopedJoinHandle;
use std::time::Duration;

use crate::{Error, LockStatus, Options, Repository, Result, Session, Snapshot, Watch};

mod group;
mod rules;
mod sessions;
mod toml;
mod watch;
mod writes;

pub use group::{
    an_update_checks_every_splice_it_cannot_show, an_update_keeps_a_write_made_while_its_change_runs,
    an_update_knows_only_the_texts_it_wrote, group_commit_loses_no_update, group_commit_makes_splices_in_place,
    group_commit_refusal_is_its_callers_alone, group_commit_refuses_a_non_document_for_its_caller_only,
};
pub use rules::{
    bad_names_are_refused_by_every_operation, content_over_the_size_limit_is_refused, invalid_documents_are_refused,
    list_returns_the_documents_directly_in_a_directory,
};
pub use sessions::{
    a_session_excludes_other_sessions, a_session_excludes_saves_updates_and_removes,
    lock_status_is_held_during_a_session_and_free_after, reads_see_whole_versions_while_writers_write,
    sessions_across_threads_lose_no_update, the_lock_is_released_on_commit_abort_and_drop,
};
pub use toml::{a_toml_splice_is_checked_whole, toml_documents_are_checked_as_toml, toml_updates_lose_no_update};
pub use watch::a_watch_reports_each_state_and_ends_on_the_last;
pub use writes::{
    abort_and_drop_write_nothing, equal_revisions_mean_equal_content, read_of_a_missing_document_is_not_found,
    remove_deletes_and_then_is_not_found, save_refuses_a_stale_revision,
    save_with_the_current_revision_returns_the_content_revision, save_without_a_revision_creates_and_then_conflicts,
};

/// How a fixture makes a directory of documents.
type MakeDirectory = dyn Fn(&str) -> io::Result<()> + Send + Sync;

/// A fresh, empty store for one check, made by a backend's fixture.
pub struct Fresh {
    /// The repository under test. It holds no document; the checks clone it for their
    /// threads and narrow its limits with [`Repository::with_options`].
    pub repository: Repository,
    /// Makes a directory of documents (a name like `sub/deeper`, its parents too).
    directories: Box<MakeDirectory>,
    /// How long the checks' reader threads rest between reads (zero: none).
    reader_rest: std::time::Duration,
    /// What must outlive the repository (a temporary directory); dropped last.
    _keep: Box<dyn Any + Send>,
}

impl Fresh {
    /// The fixture of a store whose directories are implied by the names in them (a
    /// key-value store, [`Memory`](crate::Memory)): a document may be saved in any directory.
    pub fn new(repository: Repository) -> Fresh {
        Fresh {
            repository,
            directories: Box::new(|_| Ok(())),
            reader_rest: std::time::Duration::ZERO,
            _keep: Box::new(()),
        }
    }

    /// The same, for a store where a directory must exist before a document is saved in it:
    /// `make` creates the directory `name` (relative to the store's top level) and its
    /// parents, succeeding if it exists.
    pub fn with_directories(self, make: impl Fn(&str) -> io::Result<()> + Send + Sync + 'static) -> Fresh {
        Fresh { directories: Box::new(make), ..self }
    }

    /// The same, for a store where a reader that holds a document open makes a writer wait
    /// (Windows filesystems without POSIX rename semantics: Wine, FAT, Windows before 10
    /// 1607): the checks' reader threads rest `rest` between reads, so that writers find
    /// moments with no reader. What the readers must see is checked all the same.
    pub fn with_reader_rest(self, rest: std::time::Duration) -> Fresh {
        Fresh { reader_rest: rest, ..self }
    }

    /// The same, keeping `keep` alive until the check is done with the store (and dropping
    /// it after the repository): a temporary directory, a server.
    pub fn keeping(self, keep: impl Any + Send) -> Fresh {
        Fresh { _keep: Box::new(keep), ..self }
    }

    /// Makes the directory `name` (and its parents) for the documents a check saves there.
    ///
    /// # Panics
    /// If the fixture cannot make it: the check cannot go on.
    pub fn make_directory(&self, name: &str) {
        (self.directories)(name).unwrap_or_else(|e| panic!("the fixture could not make the directory {name:?}: {e}"));
    }
}

/// Expands to one `#[test]` per promise of [`confine_store::conformance`](crate::conformance),
/// each named as the promise's function, over a fixture: a path or expression of type
/// `Fn() -> Fresh`.
///
/// - `conformance_suite!(fixture)`
/// - `conformance_suite!(fixture, record)`: `record`, a `Fn(&str, u64)`, is called after each
///   check that held with the promise's name and the number of port operations it made,
///   for a suite's figures.
#[macro_export]
macro_rules! conformance_suite {
    ($fresh:expr $(,)?) => {
        $crate::conformance_suite!($fresh, |_promise: &str, _operations: u64| {});
    };
    ($fresh:expr, $record:expr $(,)?) => {
        $crate::conformance_suite!(@promises ($fresh) ($record)
            read_of_a_missing_document_is_not_found
            save_without_a_revision_creates_and_then_conflicts
            save_refuses_a_stale_revision
            save_with_the_current_revision_returns_the_content_revision
            equal_revisions_mean_equal_content
            remove_deletes_and_then_is_not_found
            abort_and_drop_write_nothing
            reads_see_whole_versions_while_writers_write
            a_session_excludes_other_sessions
            sessions_across_threads_lose_no_update
            a_session_excludes_saves_updates_and_removes
            the_lock_is_released_on_commit_abort_and_drop
            lock_status_is_held_during_a_session_and_free_after
            bad_names_are_refused_by_every_operation
            content_over_the_size_limit_is_refused
            invalid_documents_are_refused
            list_returns_the_documents_directly_in_a_directory
            group_commit_loses_no_update
            group_commit_refusal_is_its_callers_alone
            group_commit_refuses_a_non_document_for_its_caller_only
            group_commit_makes_splices_in_place
            an_update_knows_only_the_texts_it_wrote
            an_update_checks_every_splice_it_cannot_show
            an_update_keeps_a_write_made_while_its_change_runs
            a_watch_reports_each_state_and_ends_on_the_last
            toml_documents_are_checked_as_toml
            toml_updates_lose_no_update
            a_toml_splice_is_checked_whole
        );
    };
    (@promises ($fresh:expr) ($record:expr) $($promise:ident)*) => {
        $(
            #[test]
            fn $promise() {
                let fresh: &dyn Fn() -> $crate::conformance::Fresh = &$fresh;
                let record: &dyn Fn(&str, u64) = &$record;
                record(stringify!($promise), $crate::conformance::$promise(fresh));
            }
        )*
    };
}

/// Runs one check on a fresh store: panics with the promise's name if `body` panics,
/// returns the port operations it made.
fn check(promise: &str, fresh: &dyn Fn() -> Fresh, body: impl FnOnce(&Fresh, &Port)) -> u64 {
    let fresh = fresh();
    let port = Port { repository: fresh.repository.clone(), operations: Arc::default() };
    match catch_unwind(AssertUnwindSafe(|| body(&fresh, &port))) {
        Ok(()) => port.operations(),
        Err(payload) => {
            let reason = crate::group::panic_message(&*payload).unwrap_or("(a panic without a message)");
            panic!("conformance: the promise `{promise}` is broken: {reason}")
        }
    }
}

/// The repository under test, counting the port operations made through it (and its
/// clones, on every thread).
#[derive(Clone)]
struct Port {
    repository: Repository,
    operations: Arc<AtomicU64>,
}

impl Port {
    fn operations(&self) -> u64 {
        self.operations.load(Ordering::Relaxed)
    }

    fn count<T>(&self, outcome: T) -> T {
        self.operations.fetch_add(1, Ordering::Relaxed);
        outcome
    }

    /// The same store (and count) with other limits.
    fn with(&self, change: impl FnOnce(Options) -> Options) -> Port {
        let options = change(self.repository.options());
        Port { repository: self.repository.with_options(options), ..self.clone() }
    }

    fn read(&self, name: &str) -> Result<Snapshot> {
        self.count(self.repository.read(name))
    }

    fn save(&self, name: &str, content: &str, expected: Option<&str>) -> Result<String> {
        self.count(self.repository.save(name, content, expected))
    }

    fn remove(&self, name: &str) -> Result<()> {
        self.count(self.repository.remove(name))
    }

    fn list(&self, directory: &str) -> Result<Vec<String>> {
        self.count(self.repository.list(directory))
    }

    fn lock_status(&self, name: &str) -> Result<LockStatus> {
        self.count(self.repository.lock_status(name))
    }

    fn watch(&self, name: &str) -> Result<Watch> {
        self.count(self.repository.watch(name))
    }

    fn open_session(&self, name: &str, timeout: Option<Duration>) -> Result<Session> {
        self.count(self.repository.open_session(name, timeout))
    }

    fn current(&self, session: &Session) -> Result<Option<Snapshot>> {
        self.count(session.current())
    }

    fn commit(&self, session: Session, content: &str) -> Result<String> {
        self.count(session.commit(content))
    }

    fn abort(&self, session: Session) {
        session.abort();
        self.count(());
    }

    fn update<E: Send + 'static>(
        &self,
        name: &str,
        change: impl FnMut(Option<&str>) -> std::result::Result<String, E> + Send + 'static,
    ) -> Result<std::result::Result<String, E>> {
        self.count(self.repository.update(name, change))
    }
}

/// The kinds of [`Error`], to say which one a promise expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    NotFound,
    InvalidPath,
    Conflict,
    LockTimeout,
    TooLarge,
    InvalidDocument,
    Io,
    NotDurable,
    Internal,
}

fn kind(error: &Error) -> Kind {
    match error {
        Error::NotFound { .. } => Kind::NotFound,
        Error::InvalidPath { .. } => Kind::InvalidPath,
        Error::Conflict { .. } => Kind::Conflict,
        Error::LockTimeout { .. } => Kind::LockTimeout,
        Error::TooLarge { .. } => Kind::TooLarge,
        Error::InvalidDocument { .. } => Kind::InvalidDocument,
        Error::Io { .. } => Kind::Io,
        Error::NotDurable { .. } => Kind::NotDurable,
        Error::Internal { .. } => Kind::Internal,
    }
}

/// The value of a call that must succeed.
#[track_caller]
fn ok<T>(outcome: Result<T>, doing: &str) -> T {
    outcome.unwrap_or_else(|e| panic!("{doing}: failed: {e}"))
}

/// Asserts that a call was refused with an error of kind `want`.
#[track_caller]
fn refused<T>(outcome: Result<T>, want: Kind, doing: &str) {
    match outcome {
        Ok(_) => panic!("{doing}: succeeded, but must be refused with {want:?}"),
        Err(e) if kind(&e) == want => {}
        Err(e) => panic!("{doing}: must be refused with {want:?}, was refused with {:?}: {e}", kind(&e)),
    }
}

/// The content of a document, or `None` if it does not exist (any other error fails).
#[track_caller]
fn content(port: &Port, name: &str) -> Option<String> {
    match port.read(name) {
        Ok(snapshot) => Some(snapshot.content),
        Err(e) if kind(&e) == Kind::NotFound => None,
        Err(e) => panic!("reading {name}: failed: {e}"),
    }
}

/// A small document holding a counter.
fn counter(value: u64) -> String {
    format!("{{\"counter\": {value}}}")
}

/// The value of a [`counter`] document.
#[track_caller]
fn counter_of(content: &str) -> u64 {
    content
        .strip_prefix("{\"counter\": ")
        .and_then(|rest| rest.strip_suffix('}'))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("not a counter document written by this suite: {content:?}"))
}

/// Joins a scoped thread, carrying its panic (and so its message) on.
fn join<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    handle.join().unwrap_or_else(|payload| resume_unwind(payload))
}
