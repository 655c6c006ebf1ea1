//! The service operations, written against the storage port as a plain trait so that they
//! run natively in unit tests with an in-memory repository.
//!
//! Reads (`get`, `cat`) take a lock-free snapshot. Every change runs inside one exclusive
//! session: open (waits for the document's lock), read the current document, apply the
//! change in memory, commit. A failure anywhere before `commit` drops the session, which
//! writes nothing and releases the lock. Because every writer holds the lock from its read
//! to its commit, no change can be lost; there is nothing to retry.

use serde_json::Value;

use crate::document::{self, Root};
use crate::edit;
use crate::error::{Error, ErrorKind};
use crate::keypath::KeyPath;

/// The storage port, as the domain needs it.
pub trait Repository {
    /// An open exclusive session on one document.
    type Session: Session;
    /// A lock-free read: the document's whole text, `NotFound` if it does not exist.
    fn read(&self, name: &str) -> Result<String, Error>;
    /// Opens an exclusive session on `name` (waits for its lock).
    fn open(&self, name: &str) -> Result<Self::Session, Error>;
}

/// An exclusive session; dropping it without `commit` writes nothing.
pub trait Session {
    /// The document's text now, `None` if it does not exist.
    fn current(&self) -> Result<Option<String>, Error>;
    /// Replaces the document atomically and durably, and ends the session.
    fn commit(self, content: String) -> Result<(), Error>;
}

/// The value at `key` in `document` as compact JSON.
pub fn get(repo: &impl Repository, document: &str, key: &str) -> Result<String, Error> {
    let path = parse_key(document, key)?;
    let root = load(repo, document)?;
    if path.segments.is_empty() {
        return Ok(Value::Object(root).to_string());
    }
    edit::get(&root, &path)
        .map(Value::to_string)
        .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("{document}: key `{path}` not found")))
}

/// The whole document, pretty-printed.
pub fn cat(repo: &impl Repository, document: &str) -> Result<String, Error> {
    Ok(document::render(&load(repo, document)?))
}

/// Sets `key` to the JSON `value`.
pub fn set(repo: &impl Repository, document: &str, key: &str, value: &str) -> Result<(), Error> {
    let path = parse_key(document, key)?;
    let value = document::parse_value("the value", value).map_err(|e| in_document(document, e))?;
    update(repo, document, |root| edit::set(root, &path, value))
}

/// Removes `key`.
pub fn unset(repo: &impl Repository, document: &str, key: &str) -> Result<(), Error> {
    let path = parse_key(document, key)?;
    update(repo, document, |root| edit::unset(root, &path).map(drop))
}

/// Adds the JSON number `delta` to `key`, returning the new value as JSON.
pub fn incr(repo: &impl Repository, document: &str, key: &str, delta: &str) -> Result<String, Error> {
    let path = parse_key(document, key)?;
    let delta = document::parse_value("the increment", delta).map_err(|e| in_document(document, e))?;
    update(repo, document, |root| edit::incr(root, &path, &delta)).map(|n| n.to_string())
}

/// Applies the JSON Merge Patch `patch` at `key`.
pub fn merge(repo: &impl Repository, document: &str, key: &str, patch: &str) -> Result<(), Error> {
    let path = parse_key(document, key)?;
    let patch = document::parse_value("the patch", patch).map_err(|e| in_document(document, e))?;
    update(repo, document, |root| edit::merge(root, &path, patch))
}

fn load(repo: &impl Repository, document: &str) -> Result<Root, Error> {
    document::parse(document, &repo.read(document)?)
}

/// One read-modify-write inside a session. A missing document starts empty, so a first
/// change creates it.
fn update<T>(
    repo: &impl Repository,
    document: &str,
    change: impl FnOnce(&mut Root) -> Result<T, Error>,
) -> Result<T, Error> {
    let session = repo.open(document)?;
    let mut root = match session.current()? {
        Some(text) => document::parse(document, &text)?,
        None => Root::new(),
    };
    let out = change(&mut root).map_err(|e| in_document(document, e))?;
    session.commit(document::render(&root))?;
    Ok(out)
}

fn parse_key(document: &str, key: &str) -> Result<KeyPath, Error> {
    KeyPath::parse(key).map_err(|e| Error::new(ErrorKind::InvalidKey, format!("{document}: {e}")))
}

fn in_document(document: &str, e: Error) -> Error {
    Error::new(e.kind, format!("{document}: {}", e.detail))
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::BTreeMap;
    use std::rc::Rc;

    use serde_json::json;

    use super::*;

    /// An in-memory repository that counts commits and can be told to fail them.
    #[derive(Default, Clone)]
    struct Memory {
        docs: Rc<RefCell<BTreeMap<String, String>>>,
        commits: Rc<Cell<usize>>,
        fail_commit: Rc<Cell<bool>>,
    }

    struct MemorySession {
        repo: Memory,
        name: String,
    }

    impl Repository for Memory {
        type Session = MemorySession;
        fn read(&self, name: &str) -> Result<String, Error> {
            self.docs.borrow().get(name).cloned().ok_or_else(|| Error::new(ErrorKind::NotFound, name))
        }
        fn open(&self, name: &str) -> Result<MemorySession, Error> {
            Ok(MemorySession { repo: self.clone(), name: name.to_owned() })
        }
    }

    impl Session for MemorySession {
        fn current(&self) -> Result<Option<String>, Error> {
            Ok(self.repo.docs.borrow().get(&self.name).cloned())
        }
        fn commit(self, content: String) -> Result<(), Error> {
            if self.repo.fail_commit.get() {
                return Err(Error::new(ErrorKind::Io, "disk full"));
            }
            self.repo.commits.set(self.repo.commits.get() + 1);
            self.repo.docs.borrow_mut().insert(self.name, content);
            Ok(())
        }
    }

    fn stored(repo: &Memory, name: &str) -> Value {
        serde_json::from_str(&repo.docs.borrow()[name]).unwrap()
    }

    #[test]
    fn first_change_creates_the_document() {
        let repo = Memory::default();
        set(&repo, "app.json", "server.port", "8080").unwrap();
        assert_eq!(stored(&repo, "app.json"), json!({"server": {"port": 8080}}));
        assert_eq!(get(&repo, "app.json", "server.port").unwrap(), "8080");
        assert_eq!(get(&repo, "app.json", "").unwrap(), r#"{"server":{"port":8080}}"#);
    }

    #[test]
    fn incr_returns_the_new_value() {
        let repo = Memory::default();
        assert_eq!(incr(&repo, "c.json", "n", "1").unwrap(), "1");
        assert_eq!(incr(&repo, "c.json", "n", "41").unwrap(), "42");
        assert_eq!(repo.commits.get(), 2);
    }

    #[test]
    fn failed_change_writes_nothing() {
        let repo = Memory::default();
        set(&repo, "a.json", "s", "\"text\"").unwrap();
        let before = repo.docs.borrow().clone();
        for (result, kind) in [
            (incr(&repo, "a.json", "s", "1").map(drop), ErrorKind::TypeMismatch),
            (set(&repo, "a.json", "s.x", "1"), ErrorKind::TypeMismatch),
            (set(&repo, "a.json", "x", "{oops"), ErrorKind::InvalidValue),
            (set(&repo, "a.json", "a..b", "1"), ErrorKind::InvalidKey),
            (unset(&repo, "a.json", "missing"), ErrorKind::NotFound),
            (merge(&repo, "a.json", "", "[1]"), ErrorKind::InvalidValue),
        ] {
            let err = result.unwrap_err();
            assert_eq!(err.kind, kind, "{err}");
            assert!(err.detail.starts_with("a.json: "), "{err}");
        }
        assert_eq!(*repo.docs.borrow(), before);
        assert_eq!(repo.commits.get(), 1);
    }

    #[test]
    fn a_corrupt_document_is_reported_and_left_alone() {
        let repo = Memory::default();
        repo.docs.borrow_mut().insert("bad.json".into(), "{\"a\": 1,,}".into());
        let err = set(&repo, "bad.json", "a", "2").unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidDocument);
        assert!(err.detail.contains("bad.json: not valid JSON at line 1, column 9"), "{err}");
        assert_eq!(repo.docs.borrow()["bad.json"], "{\"a\": 1,,}");
        assert_eq!(get(&repo, "bad.json", "a").unwrap_err().kind, ErrorKind::InvalidDocument);
    }

    #[test]
    fn commit_failure_reaches_the_caller() {
        let repo = Memory::default();
        repo.fail_commit.set(true);
        assert_eq!(set(&repo, "a.json", "k", "1").unwrap_err().kind, ErrorKind::Io);
        assert!(repo.docs.borrow().is_empty());
    }

    #[test]
    fn reads_of_a_missing_document_are_not_found() {
        let repo = Memory::default();
        assert_eq!(get(&repo, "none.json", "a").unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(cat(&repo, "none.json").unwrap_err().kind, ErrorKind::NotFound);
    }

    #[test]
    fn cat_pretty_prints() {
        let repo = Memory::default();
        merge(&repo, "m.json", "", r#"{"a": {"b": 1}}"#).unwrap();
        assert_eq!(cat(&repo, "m.json").unwrap(), "{\n  \"a\": {\n    \"b\": 1\n  }\n}\n");
    }
}
