//! The in-memory backend: the port's full semantics with no disk, for tests and for
//! embedders who test their plugins without one.
//!
//! Sessions exclude each other across threads (a mutex and a condition variable stand in
//! for the lock file); a commit replaces the content at once, so readers see the old or the
//! new; revisions are the same content digests as on disk; names follow the same rules.
//! Directories are implied by the names in them, as keys in a key-value store: a document
//! may be created in any directory, and listing a directory that holds none is empty.
//! Nothing survives the process, and other processes do not see it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::backend::{Backend, BackendSession, BackendWatch, LockStatus};
use crate::error::{Error, Result};
use crate::name::{DirectoryName, DocumentName};

/// Documents in memory. Cheap to clone: clones share the documents.
#[derive(Clone, Default)]
pub struct Memory {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    released: Condvar,
    /// Notified at every change of any document, for watches.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    documents: BTreeMap<String, String>,
    /// How many changes (commits, removals) there have been: a watch waits for it to move.
    changes: u64,
    /// The documents a session holds, and since when.
    held: HashMap<String, SystemTime>,
}

impl Memory {
    /// An empty store.
    pub fn new() -> Memory {
        Memory::default()
    }

    /// Puts `content` at `name` as it is, without the checks a save makes, as another
    /// program could leave a file: for what reads make of content that is not a document.
    ///
    /// # Errors
    /// [`Error::InvalidPath`] for a name the rules refuse.
    pub fn plant(&self, name: &str, content: &str) -> Result<()> {
        let name = DocumentName::parse(name)?;
        let mut state = self.shared.lock();
        state.documents.insert(name.as_str().to_owned(), content.to_owned());
        state.changes += 1;
        self.shared.changed.notify_all();
        Ok(())
    }

    /// The content of every document now, by name: what a test compares.
    pub fn documents(&self) -> BTreeMap<String, String> {
        self.shared.lock().documents.clone()
    }

    /// Takes `name` for a session, waiting up to `timeout` for the session holding it.
    fn hold(&self, name: &DocumentName, timeout: Duration) -> Result<Held> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.held.contains_key(name.as_str()) {
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::LockTimeout {
                    name: name.as_str().to_owned(),
                    lock: format!("{}.lock", name.as_str()),
                    timeout,
                    holder: Some(std::process::id()),
                });
            }
            state = self.shared.released.wait_timeout(state, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        state.held.insert(name.as_str().to_owned(), SystemTime::now());
        Ok(Held { store: self.clone(), name: name.as_str().to_owned() })
    }
}

/// How many documents there are and how many sessions are open: never their contents.
impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Memory")
            .field("documents", &state.documents.len())
            .field("sessions", &state.held.len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Every critical section here is a few map operations that cannot panic halfway, so a
    /// poisoned mutex holds consistent state: carry on with it.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A document taken by a session; released on drop.
struct Held {
    store: Memory,
    name: String,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.store.shared.lock().held.remove(&self.name);
        self.store.shared.released.notify_all();
    }
}

impl Backend for Memory {
    fn read(&self, name: &DocumentName, _limit: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.shared.lock().documents.get(name.as_str()).map(|text| text.clone().into_bytes()))
    }

    fn open_session(&self, name: &DocumentName, timeout: Duration, _limit: u64) -> Result<Box<dyn BackendSession>> {
        Ok(Box::new(MemorySession { held: self.hold(name, timeout)? }))
    }

    fn remove(&self, name: &DocumentName, timeout: Duration) -> Result<()> {
        let held = self.hold(name, timeout)?;
        let mut state = held.store.shared.lock();
        match state.documents.remove(name.as_str()) {
            Some(_) => {
                state.changes += 1;
                self.shared.changed.notify_all();
                Ok(())
            }
            None => Err(Error::NotFound { name: name.as_str().to_owned() }),
        }
    }

    fn list(&self, directory: &DirectoryName) -> Result<Vec<String>> {
        let prefix = directory.join("");
        let state = self.shared.lock();
        // BTreeMap order is byte order, the order the filesystem backend sorts in.
        Ok(state
            .documents
            .keys()
            .filter(|name| name.strip_prefix(&prefix).is_some_and(|file| !file.contains('/')))
            .cloned()
            .collect())
    }

    fn lock_status(&self, name: &DocumentName) -> Result<LockStatus> {
        Ok(match self.shared.lock().held.get(name.as_str()) {
            Some(since) => LockStatus::held(Some(std::process::id()), Some(*since)),
            None => LockStatus::FREE,
        })
    }

    fn watch(&self, _name: &DocumentName) -> Result<Box<dyn BackendWatch>> {
        let seen = self.shared.lock().changes;
        Ok(Box::new(MemoryWatch { store: self.clone(), seen }))
    }
}

/// Wakes at every change of any document of the store (a wake without a change of the
/// watched one is allowed), counted so that none between two waits is missed.
struct MemoryWatch {
    store: Memory,
    seen: u64,
}

impl BackendWatch for MemoryWatch {
    fn wait(&mut self, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        let mut state = self.store.shared.lock();
        while state.changes == self.seen {
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            state =
                self.store.shared.changed.wait_timeout(state, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        self.seen = state.changes;
        Ok(true)
    }
}

struct MemorySession {
    held: Held,
}

impl BackendSession for MemorySession {
    fn current(&self) -> Result<Option<Vec<u8>>> {
        let name = &self.held.name;
        Ok(self.held.store.shared.lock().documents.get(name).map(|text| text.clone().into_bytes()))
    }

    fn commit(self: Box<Self>, content: &str) -> Result<()> {
        let name = self.held.name.clone();
        let shared = &self.held.store.shared;
        let mut state = shared.lock();
        state.documents.insert(name, content.to_owned());
        state.changes += 1;
        shared.changed.notify_all();
        Ok(())
    }
}
