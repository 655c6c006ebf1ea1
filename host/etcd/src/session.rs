//! Sessions on etcd: a lease, etcd's lock on the document, and a fence.
//!
//! The session's lease is kept alive by a task on the backend's runtime (and kept for the
//! next session when this one ends cleanly, see `leases`). The session's lock is a key
//! under the document's lock prefix, attached to the lease: taken in one transaction when
//! no other key is there, else given by etcd's lock service once the keys before it are
//! gone. The session holds the document while that key exists with the create revision it
//! got. Every read of the session and its commit are transactions that
//! compare exactly that, so a session whose lease ran out (its process paused past the
//! TTL, its network gone) and whose lock another writer has since taken cannot read as the
//! holder or commit: it gets `conflict` and nothing is written. The commit deletes the
//! lock key in the same transaction, so the next writer may start at once.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use confine_store::{BackendSession, Error, Result};
use etcd_client::{Compare, CompareOp, LockOptions, PutOptions, Txn, TxnOp, TxnOpResponse};

use crate::Shared;
use crate::leases::Lease;
use crate::outcome::{self, Outcome};

/// The least time given to etcd's lock service to answer, whatever the timeout.
const LOCK_ROUND_TRIP: Duration = Duration::from_millis(250);

pub(crate) struct EtcdSession {
    shared: Arc<Shared>,
    name: String,
    document: String,
    /// The name etcd's lock service knows the document's lock by.
    lock_name: String,
    /// The session's lease; `None` once it is given back or revoked.
    lease: Option<Lease>,
    lease_id: i64,
    /// The lock key etcd made for this session, and the revision it was created at: the
    /// fence. Zero until the lock is held.
    lock_key: String,
    created: i64,
    /// The document as the lock's check read it, under the fence: what the first
    /// `current` answers (the outer `Option` is whether it was taken yet).
    first_read: Mutex<Option<Option<Vec<u8>>>>,
}

impl EtcdSession {
    pub(crate) fn open(
        shared: Arc<Shared>,
        name: &confine_store::name::DocumentName,
        timeout: Duration,
    ) -> Result<EtcdSession> {
        let deadline = Instant::now() + timeout;
        let conn = &shared.connection;
        let lease = shared.leases.take(conn, name.as_str(), shared.options.lease_ttl)?;
        // From here on, dropping the session releases the lock, whatever fails.
        let mut session = EtcdSession {
            document: shared.keys.document(name),
            lock_name: shared.keys.lock(name),
            name: name.as_str().to_owned(),
            lease_id: lease.id,
            lease: Some(lease),
            lock_key: String::new(),
            created: 0,
            first_read: Mutex::new(None),
            shared: shared.clone(),
        };
        let lease = session.lease_id;
        let lock_client = conn.lock.clone();
        let lock_name = session.lock_name.clone();
        // The lock is free most of the time: take it in one transaction as etcd's lock
        // service would (the key NAME/LEASE, first in line because no other key is under
        // the document's lock prefix). Otherwise wait in line at the lock service.
        let key = format!("{lock_name}/{lease:x}");
        let free = Compare::create_revision(shared.keys.lock_keys(name), CompareOp::Equal, 0).with_prefix();
        match session.hold(&key, free) {
            Ok(true) => return Ok(session),
            Ok(false) => {}
            // A kept lease that ran out unnoticed: the same with a new one.
            Err(e) if lease_gone(&e) => {
                drop(session.lease.take());
                return EtcdSession::open(shared, name, deadline.saturating_duration_since(Instant::now()));
            }
            Err(e) => return Err(e),
        }
        // A wait shorter than a round trip (a try-lock, timeout zero) asks first whether the
        // lock is taken, and then gives etcd's lock service the round trip it needs.
        if deadline.saturating_duration_since(Instant::now()) < LOCK_ROUND_TRIP {
            while crate::status::lock_status(&shared, name)?.held {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(session.timed_out(name, timeout));
                }
                std::thread::sleep(left.min(Duration::from_millis(10)));
            }
        }
        // Asking again with the same lease is safe: etcd's lock is the key of the lease, and
        // one whose answer was lost is that same key.
        let wait = deadline.saturating_duration_since(Instant::now()).max(LOCK_ROUND_TRIP);
        let locked = conn.idempotent_within(name.as_str(), "etcd lock", wait, || {
            let (mut lock_client, lock_name) = (lock_client.clone(), lock_name.clone());
            async move { lock_client.lock(lock_name, Some(LockOptions::new().with_lease(lease))).await }
        });
        let key = match locked {
            Ok(response) => String::from_utf8_lossy(response.key()).into_owned(),
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::TimedOut => {
                return Err(session.timed_out(name, timeout));
            }
            Err(e) => return Err(e),
        };
        // etcd 3.4 can answer a lock whose lease has already expired (etcd issue 11456):
        // the session holds the document only if its key is still there, on its lease.
        if session.hold(&key, Compare::lease(key.clone(), CompareOp::Equal, lease))? {
            return Ok(session);
        }
        Err(Error::Conflict {
            name: name.as_str().to_owned(),
            reason: "etcd granted a lock whose lease had already expired; nothing was done, try again".into(),
        })
    }

    /// Takes the lock key `key` if `condition` holds: one transaction that writes who holds
    /// it (for lock-status), learns its create revision (the fence) and reads the document
    /// (the session's first read, made under the fence). Asking twice writes the same again.
    fn hold(&mut self, key: &str, condition: Compare) -> Result<bool> {
        let conn = &self.shared.connection;
        let holder = format!("{} {}", std::process::id(), unix_ms(SystemTime::now()));
        let txn = Txn::new().when([condition]).and_then([
            TxnOp::put(key, holder, Some(PutOptions::new().with_lease(self.lease_id))),
            TxnOp::get(key, None),
            TxnOp::get(self.document.clone(), None),
        ]);
        let answer = conn.idempotent(&self.name, "etcd lock", || {
            let (mut kv, txn) = (conn.kv.clone(), txn.clone());
            async move { kv.txn(txn).await }
        })?;
        let mut gets = answer.op_responses().into_iter().filter_map(|op| match op {
            TxnOpResponse::Get(mut get) => Some(get.take_kvs().into_iter().next()),
            _ => None,
        });
        let created = gets.next().flatten().map(|kv| kv.create_revision());
        let document = gets.next().map(|kv| kv.map(|kv| kv.into_key_value().1));
        match (created, document) {
            (Some(created), Some(document)) if answer.succeeded() => {
                self.lock_key = key.to_owned();
                self.created = created;
                *self.first_read.get_mut().unwrap_or_else(PoisonError::into_inner) = Some(document);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The refusal of a lock that stayed taken, naming its holder where etcd tells; or, if
    /// etcd cannot even say who holds it (no leader, unreachable), that cause.
    fn timed_out(&self, name: &confine_store::name::DocumentName, timeout: Duration) -> Error {
        match crate::status::lock_status(&self.shared, name) {
            Err(cause) => cause,
            Ok(status) => Error::LockTimeout {
                name: self.name.clone(),
                lock: format!("etcd lock {}", self.lock_name),
                timeout,
                holder: status.holder,
            },
        }
    }

    /// The fence: this session's lock key still exists with the revision it was made at.
    fn fence(&self) -> Vec<Compare> {
        if self.shared.unfenced {
            return Vec::new();
        }
        vec![Compare::create_revision(self.lock_key.clone(), CompareOp::Equal, self.created)]
    }

    fn lost(&self) -> Error {
        Error::Conflict {
            name: self.name.clone(),
            reason: "this session lost its lock (its etcd lease ran out: was the process paused or cut off?); nothing was written".into(),
        }
    }

    /// Revokes the lease (which deletes the lock key), waiting for etcd's answer.
    fn revoke(&mut self) -> Result<()> {
        let Some(lease) = self.lease.take() else {
            return Ok(());
        };
        let conn = &self.shared.connection;
        let id = lease.id;
        drop(lease);
        let revoked = conn.idempotent(&self.name, "etcd lease revoke", || {
            let mut client = conn.lease.clone();
            async move { client.revoke(id).await }
        });
        match revoked {
            Ok(_) => Ok(()),
            // A lease that is gone already has released the lock.
            Err(e) if lease_gone(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Releases the lock without writing: deletes the lock key and keeps the lease for the
    /// next session; if the delete fails, revokes the lease, which etcd ends by itself
    /// after its TTL if even that fails.
    fn release(&mut self) {
        if self.lease.is_none() {
            return;
        }
        if !self.lock_key.is_empty() {
            let conn = &self.shared.connection;
            let (key, created) = (self.lock_key.clone(), self.created);
            let delete = Txn::new()
                .when([Compare::create_revision(key.clone(), CompareOp::Equal, created)])
                .and_then([TxnOp::delete(key, None)]);
            let deleted = conn.idempotent(&self.name, "etcd unlock", || {
                let (mut kv, delete) = (conn.kv.clone(), delete.clone());
                async move { kv.txn(delete).await }
            });
            if deleted.is_ok_and(|answer| answer.succeeded())
                && let Some(lease) = self.lease.take()
            {
                self.shared.leases.give_back(lease);
                return;
            }
        }
        let _ = self.revoke();
    }
}

/// Whether an error says the lease no longer exists.
fn lease_gone(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.to_string().contains("lease not found"))
}

impl BackendSession for EtcdSession {
    fn current(&self) -> Result<Option<Vec<u8>>> {
        let first = self.first_read.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(document) = first {
            return Ok(document);
        }
        let conn = &self.shared.connection;
        let read = Txn::new().when(self.fence()).and_then([TxnOp::get(self.document.clone(), None)]);
        let response = conn.idempotent(&self.name, "etcd read", || {
            let (read, mut kv) = (read.clone(), conn.kv.clone());
            async move { kv.txn(read).await }
        })?;
        if !response.succeeded() {
            return Err(self.lost());
        }
        let value = response.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Get(get) => get.kvs().first().map(|kv| kv.value().to_vec()),
            _ => None,
        });
        Ok(value)
    }

    fn commit(mut self: Box<Self>, content: &str) -> Result<()> {
        let shared = self.shared.clone();
        let conn = &shared.connection;
        let commit = Txn::new()
            .when(self.fence())
            .and_then([TxnOp::put(self.document.clone(), content, None), TxnOp::delete(self.lock_key.clone(), None)]);
        let answer = conn.write(&self.name, "etcd commit", conn.timeout, || {
            let (mut kv, commit) = (conn.kv.clone(), commit.clone());
            async move { kv.txn(commit).await }
        });
        match answer {
            Ok(response) if response.succeeded() => {
                // The lock key is gone with the commit; the lease serves the next session.
                if let Some(lease) = self.lease.take() {
                    self.shared.leases.give_back(lease);
                }
                Ok(())
            }
            Ok(_) => Err(self.lost()),
            Err(lost) => {
                // Revoking the lease deletes the lock key (if the commit or the lease's end
                // has not), so the lost commit, which compares it, can no longer apply; then
                // the revision the key was deleted at tells whether the commit did.
                let settled = self.revoke().and_then(|()| {
                    outcome::settle_commit(conn, &self.name, &self.document, &self.lock_key, self.created)
                });
                match settled {
                    Ok(Outcome::Committed) => Ok(()),
                    Ok(Outcome::NotCommitted) => Err(outcome::not_made(&self.name, "etcd commit", &lost)),
                    Err(check) => Err(outcome::unknown(&self.name, "etcd commit", &lost, &check)),
                }
            }
        }
    }
}

impl Drop for EtcdSession {
    fn drop(&mut self) {
        // Released at once for the next writer; if etcd cannot be reached, the lease runs
        // out after its TTL and etcd releases the lock then.
        self.release();
    }
}

fn unix_ms(time: SystemTime) -> u128 {
    time.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis())
}
