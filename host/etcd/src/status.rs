//! Who holds a document's lock on etcd, and how long their lease has left.

use std::time::{Duration, SystemTime};

use confine_store::name::DocumentName;
use confine_store::{Lease, LockStatus, Result};
use etcd_client::{GetOptions, SortOrder, SortTarget};

use crate::Shared;

/// The holder is the lock key with the lowest create revision (etcd's lock service queues
/// the others behind it); its value, written by the holder, is `PID UNIX_MS`.
pub(crate) fn lock_status(shared: &Shared, name: &DocumentName) -> Result<LockStatus> {
    let conn = &shared.connection;
    let prefix = shared.keys.lock_keys(name);
    let found = conn.idempotent(name.as_str(), "etcd lock status", || {
        let (mut kv, prefix) = (conn.kv.clone(), prefix.clone());
        let options = GetOptions::new().with_prefix().with_sort(SortTarget::Create, SortOrder::Ascend).with_limit(1);
        async move { kv.get(prefix, Some(options)).await }
    })?;
    let Some(holder) = found.kvs().first() else {
        return Ok(LockStatus::FREE);
    };
    let text = String::from_utf8_lossy(holder.value()).into_owned();
    let mut words = text.split(' ');
    let pid = words.next().and_then(|pid| pid.parse().ok());
    let since =
        words.next().and_then(|ms| ms.parse::<u64>().ok()).map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms));
    let id = holder.lease();
    let lease = conn
        .idempotent(name.as_str(), "etcd lease status", || {
            let mut client = conn.lease.clone();
            async move { client.time_to_live(id, None).await }
        })
        .ok()
        .filter(|lease| lease.ttl() >= 0)
        .map(|lease| Lease {
            id,
            granted: Duration::from_secs(lease.granted_ttl().max(0) as u64),
            remaining: Duration::from_secs(lease.ttl().max(0) as u64),
        });
    Ok(LockStatus::held(pid, since).with_lease(lease))
}
