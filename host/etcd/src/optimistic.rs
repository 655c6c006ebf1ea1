//! Optimistic sessions: an update as etcd's own clients make it, one linearizable read and
//! one transaction that writes only if the document's mod revision is still the one read.
//!
//! A session's lock is a write through etcd's log of its own (and a lease), so an exclusive
//! session costs twice the writes of this. Group commit tries this first and falls back to
//! an exclusive session when the transaction finds the document changed, so a change runs
//! at most twice. The write is the same transaction as a save's (`Etcd::write_if`): it also
//! compares that no session holds the document, so it is excluded by every session, and a
//! lost answer is settled the same way.

use confine_store::name::DocumentName;
use confine_store::{BackendSession, Error, Result};
use etcd_client::KeyValue;

use crate::{Etcd, Write};

pub(crate) struct OptimisticSession {
    etcd: Etcd,
    name: DocumentName,
    /// The document as read, with the mod revision the write compares.
    read: KeyValue,
}

impl OptimisticSession {
    /// Reads the document, as a plain linearizable get. `None` where an exclusive session
    /// must write it: it does not exist (a create is fenced by a session's lease, see
    /// `Etcd::save`). A document a session holds is not looked for here: the write refuses
    /// it, and the batch runs again in a session, which waits its turn.
    pub(crate) fn open(etcd: &Etcd, name: &DocumentName) -> Result<Option<OptimisticSession>> {
        let Some(read) = etcd.document(name)? else {
            return Ok(None);
        };
        Ok(Some(OptimisticSession { etcd: etcd.clone(), name: name.clone(), read }))
    }
}

impl BackendSession for OptimisticSession {
    fn current(&self) -> Result<Option<Vec<u8>>> {
        Ok(Some(self.read.value().to_vec()))
    }

    fn commit(self: Box<Self>, content: &str) -> Result<()> {
        if self.etcd.write_if(&self.name, Some(&self.read), Write::Put(content.as_bytes()), "etcd update")? {
            return Ok(());
        }
        Err(Error::Conflict {
            name: self.name.as_str().to_owned(),
            reason: "another writer changed it after it was read (nothing was written)".to_owned(),
        })
    }
}
