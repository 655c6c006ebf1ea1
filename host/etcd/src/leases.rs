//! The leases of one backend's sessions. A session needs a lease for its lock; granting
//! one is a round trip through etcd's log, so a lease whose session ended cleanly (its lock
//! key deleted by the commit or the release) is kept, still renewed, for the next session
//! of this process. A kept lease holds no key, so one that is lost (the process paused
//! past its TTL, etcd unreachable) costs nothing: it is noticed and replaced.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use confine_store::Result;
use tokio::task::JoinHandle;

use crate::connection::Connection;

/// How many unused leases a backend keeps: enough for the sessions it holds at once.
const KEPT: usize = 8;

/// A lease and the task that renews it (stopped when the lease is dropped).
pub(crate) struct Lease {
    pub(crate) id: i64,
    keeper: JoinHandle<()>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.keeper.abort();
    }
}

#[derive(Default)]
pub(crate) struct Leases {
    kept: Mutex<Vec<Lease>>,
}

impl Leases {
    /// A kept lease that is still renewed, or a new one of `ttl`.
    pub(crate) fn take(&self, conn: &Connection, name: &str, ttl: Duration) -> Result<Lease> {
        while let Some(lease) = self.kept.lock().unwrap_or_else(PoisonError::into_inner).pop() {
            if !lease.keeper.is_finished() {
                return Ok(lease);
            }
        }
        Leases::grant(conn, name, ttl)
    }

    /// A new lease of `ttl`, renewed from now on.
    pub(crate) fn grant(conn: &Connection, name: &str, ttl: Duration) -> Result<Lease> {
        let seconds = ttl.as_secs().max(1) as i64;
        // A grant whose answer was lost leaves a lease with nothing on it, which expires.
        let grant = conn.idempotent(name, "etcd lease grant", || {
            let mut client = conn.lease.clone();
            async move { client.grant(seconds, None).await }
        })?;
        let granted = Duration::from_secs(grant.ttl().max(1) as u64);
        let keeper = conn.runtime.spawn(keep_alive(conn.lease.clone(), grant.id(), granted / 3));
        Ok(Lease { id: grant.id(), keeper })
    }

    /// Keeps `lease`, which holds no key now, for the next session.
    pub(crate) fn give_back(&self, lease: Lease) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() < KEPT && !lease.keeper.is_finished() {
            kept.push(lease);
        }
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
