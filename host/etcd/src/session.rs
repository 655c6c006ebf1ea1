//! Sessions on etcd: a lease, etcd's lock on the document, and a fence.
//!
//! The session's lease is kept alive by a task on the backend's runtime while the session
//! is open. etcd's lock service gives the session a key under the document's lock prefix,
//! attached to the lease; the session holds the document while that key exists with the
//! create revision it got. Every read of the session and its commit are transactions that
//! compare exactly that, so a session whose lease ran out (its process paused past the
//! TTL, its network gone) and whose lock another writer has since taken cannot read as the
//! holder or commit: it gets `conflict` and nothing is written. The commit deletes the
//! lock key in the same transaction, so the next writer may start at once.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use confine_store::{BackendSession, Error, Result};
use etcd_client::{Compare, CompareOp, LockOptions, PutOptions, Txn, TxnOp, TxnOpResponse};
use tokio::task::JoinHandle;

use crate::Shared;
use crate::outcome::{self, Outcome};

/// The least time given to etcd's lock service to answer, whatever the timeout.
const LOCK_ROUND_TRIP: Duration = Duration::from_millis(250);

pub(crate) struct EtcdSession {
    shared: Arc<Shared>,
    name: String,
    document: String,
    /// The name etcd's lock service knows the document's lock by.
    lock_name: String,
    lease: i64,
    /// The lock key etcd made for this session, and the revision it was created at: the
    /// fence. Zero until the lock is held.
    lock_key: String,
    created: i64,
    limit: u64,
    keeper: JoinHandle<()>,
    /// The document as the lock's check read it, under the fence: what the first
    /// `current` answers (the outer `Option` is whether it was taken yet).
    first_read: Mutex<Option<Option<Vec<u8>>>>,
    /// Whether the lease is already gone (committed or revoked): nothing to release.
    released: bool,
}

impl EtcdSession {
    pub(crate) fn open(
        shared: Arc<Shared>,
        name: &confine_store::name::DocumentName,
        timeout: Duration,
        limit: u64,
    ) -> Result<EtcdSession> {
        let deadline = Instant::now() + timeout;
        let conn = &shared.connection;
        let ttl = shared.options.lease_ttl.as_secs().max(1) as i64;
        // A grant whose answer was lost leaves a lease with nothing on it, which expires.
        let grant = conn.idempotent(name.as_str(), "etcd lease grant", || {
            let mut lease_client = conn.lease.clone();
            async move { lease_client.grant(ttl, None).await }
        })?;
        let lease = grant.id();
        let granted = Duration::from_secs(grant.ttl().max(1) as u64);
        let keeper = conn.runtime.spawn(keep_alive(conn.lease.clone(), lease, granted / 3));
        // From here on, dropping the session revokes the lease, whatever fails.
        let mut session = EtcdSession {
            document: shared.keys.document(name),
            lock_name: shared.keys.lock(name),
            name: name.as_str().to_owned(),
            lease,
            lock_key: String::new(),
            created: 0,
            limit,
            keeper,
            first_read: Mutex::new(None),
            released: false,
            shared: shared.clone(),
        };
        let lock_client = conn.lock.clone();
        let lock_name = session.lock_name.clone();
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
        // The same transaction writes who holds it, for lock-status, and reads the
        // document: a session's first read, made under the fence (saving a round trip).
        let holder = format!("{} {}", std::process::id(), unix_ms(SystemTime::now()));
        let check = Txn::new().when([Compare::lease(key.clone(), CompareOp::Equal, lease)]).and_then([
            TxnOp::put(key.clone(), holder, Some(PutOptions::new().with_lease(lease))),
            TxnOp::get(key.clone(), None),
            TxnOp::get(session.document.clone(), None),
        ]);
        // Idempotent: it writes the same value again.
        let checked = conn.idempotent(name.as_str(), "etcd lock check", || {
            let (mut kv, check) = (conn.kv.clone(), check.clone());
            async move { kv.txn(check).await }
        })?;
        let mut gets = checked.op_responses().into_iter().filter_map(|op| match op {
            TxnOpResponse::Get(mut get) => Some(get.take_kvs().into_iter().next()),
            _ => None,
        });
        let created = gets.next().flatten().map(|kv| kv.create_revision());
        let document = gets.next().map(|kv| kv.map(|kv| kv.into_key_value().1));
        match (created, document) {
            (Some(created), Some(document)) if checked.succeeded() => {
                session.lock_key = key;
                session.created = created;
                *session.first_read.get_mut().unwrap_or_else(PoisonError::into_inner) = Some(document);
                Ok(session)
            }
            _ => Err(Error::Conflict {
                name: name.as_str().to_owned(),
                reason: "etcd granted a lock whose lease had already expired; nothing was done, try again".into(),
            }),
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
        self.keeper.abort();
        if self.released {
            return Ok(());
        }
        let conn = &self.shared.connection;
        let id = self.lease;
        let revoked = conn.idempotent(&self.name, "etcd lease revoke", || {
            let mut lease = conn.lease.clone();
            async move { lease.revoke(id).await }
        });
        match revoked {
            Ok(_) => {
                self.released = true;
                Ok(())
            }
            // A lease that is gone already has released the lock.
            Err(Error::Io { source, .. }) if source.to_string().contains("lease not found") => {
                self.released = true;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

impl BackendSession for EtcdSession {
    fn current(&self) -> Result<Option<String>> {
        let first = self.first_read.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(document) = first {
            return document.map(|bytes| crate::content(&self.name, bytes, self.limit)).transpose();
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
        value.map(|bytes| crate::content(&self.name, bytes, self.limit)).transpose()
    }

    fn commit(mut self: Box<Self>, content: &str) -> Result<()> {
        let shared = self.shared.clone();
        let conn = &shared.connection;
        let commit = Txn::new()
            .when(self.fence())
            .and_then([TxnOp::put(self.document.clone(), content, None), TxnOp::delete(self.lock_key.clone(), None)]);
        let mut kv = conn.kv.clone();
        let answer = conn.call(&self.name, "etcd commit", conn.timeout, async move { kv.txn(commit).await });
        match answer {
            Ok(response) if response.succeeded() => {
                // The lock key is gone with the commit; the lease only has to stop.
                self.keeper.abort();
                let mut lease = conn.lease.clone();
                let id = self.lease;
                conn.runtime.spawn(async move { lease.revoke(id).await });
                self.released = true;
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
        let _ = self.revoke();
    }
}

/// Renews the lease every `every` until the task is aborted or the lease is gone.
async fn keep_alive(mut client: etcd_client::LeaseClient, lease: i64, every: Duration) {
    loop {
        match client.keep_alive(lease).await {
            Ok((mut keeper, mut answers)) => loop {
                tokio::time::sleep(every).await;
                if keeper.keep_alive().await.is_err() {
                    break;
                }
                match tokio::time::timeout(every, answers.message()).await {
                    Ok(Ok(Some(answer))) if answer.ttl() > 0 => {}
                    // The lease expired: the lock is gone, and the fence refuses the commit.
                    Ok(Ok(Some(_))) => return,
                    _ => break,
                }
            },
            Err(etcd_client::Error::LeaseKeepAliveError(_)) => return,
            Err(_) => {}
        }
        tokio::time::sleep(every / 4).await;
    }
}

fn unix_ms(time: SystemTime) -> u128 {
    time.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis())
}
