//! Where a store's documents and locks live in etcd's keyspace, under the user's prefix:
//!
//! ```text
//! PREFIX/doc/NAME          the document's bytes, nothing else
//! PREFIX/lock/NAME/LEASE   a session's lock (etcd's lock service), held while the key exists
//! PREFIX/writer/NAME       a nonce of the last save or remove, to recognise it in history
//! ```
//!
//! Documents and locks are apart so that no document name can be taken for a lock, and a
//! listing sees documents only. The revision is not stored: it is the digest of the bytes,
//! computed above the backend seam as on every backend, so one key per document suffices
//! and the digest can never disagree with the content.

use confine_store::name::{DirectoryName, DocumentName};

#[derive(Debug, Clone)]
pub(crate) struct Keys {
    documents: String,
    locks: String,
    writers: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Keys {
        Keys {
            documents: format!("{prefix}/doc/"),
            locks: format!("{prefix}/lock/"),
            writers: format!("{prefix}/writer/"),
        }
    }

    pub(crate) fn document(&self, name: &DocumentName) -> String {
        format!("{}{}", self.documents, name.as_str())
    }

    /// The name given to etcd's lock service; it makes the session's key under it.
    pub(crate) fn lock(&self, name: &DocumentName) -> String {
        format!("{}{}", self.locks, name.as_str())
    }

    /// The prefix of every lock key of the document, its holder's and its waiters'.
    pub(crate) fn lock_keys(&self, name: &DocumentName) -> String {
        format!("{}{}/", self.locks, name.as_str())
    }

    /// Where a save or remove writes its nonce.
    pub(crate) fn writer(&self, name: &DocumentName) -> String {
        format!("{}{}", self.writers, name.as_str())
    }

    /// The prefix of the documents in `directory` (and deeper).
    pub(crate) fn directory(&self, directory: &DirectoryName) -> String {
        format!("{}{}", self.documents, directory.join(""))
    }

    /// The document name of a key under [`Keys::directory`].
    pub(crate) fn name_of<'k>(&self, key: &'k str) -> Option<&'k str> {
        key.strip_prefix(&self.documents)
    }
}
