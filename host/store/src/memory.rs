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

use crate::backend::{Backend, BackendSession, LockStatus};
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
}

#[derive(Default)]
struct State {
    documents: BTreeMap<String, String>,
    /// The documents a session holds, and since when.
    held: HashMap<String, SystemTime>,
}

impl Memory {
    /// An empty store.
    pub fn new() -> Memory {
        Memory::default()
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

fn within(name: &str, content: Option<&String>, limit: u64) -> Result<Option<String>> {
    match content {
        Some(content) if content.len() as u64 > limit => {
            Err(Error::TooLarge { name: name.to_owned(), size: content.len() as u64, limit })
        }
        found => Ok(found.cloned()),
    }
}

impl Backend for Memory {
    fn read(&self, name: &DocumentName, limit: u64) -> Result<Option<String>> {
        within(name.as_str(), self.shared.lock().documents.get(name.as_str()), limit)
    }

    fn open_session(&self, name: &DocumentName, timeout: Duration, limit: u64) -> Result<Box<dyn BackendSession>> {
        Ok(Box::new(MemorySession { held: self.hold(name, timeout)?, limit }))
    }

    fn remove(&self, name: &DocumentName, timeout: Duration) -> Result<()> {
        let held = self.hold(name, timeout)?;
        match held.store.shared.lock().documents.remove(name.as_str()) {
            Some(_) => Ok(()),
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
            Some(since) => LockStatus { held: true, holder: Some(std::process::id()), since: Some(*since) },
            None => LockStatus::FREE,
        })
    }
}

struct MemorySession {
    held: Held,
    limit: u64,
}

impl BackendSession for MemorySession {
    fn current(&self) -> Result<Option<String>> {
        let name = &self.held.name;
        within(name, self.held.store.shared.lock().documents.get(name), self.limit)
    }

    fn commit(self: Box<Self>, content: &str) -> Result<()> {
        let name = self.held.name.clone();
        self.held.store.shared.lock().documents.insert(name, content.to_owned());
        Ok(())
    }
}
