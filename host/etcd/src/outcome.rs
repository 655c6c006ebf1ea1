//! Writes whose answer was lost. etcd may have applied a transaction that timed out, or
//! not (its API guarantees no more), so confine never reports either without knowing:
//! first it makes sure the lost transaction can no longer apply (it "poisons" what the
//! transaction compared), then it reads etcd's history to see whether the transaction was
//! applied before that. The transaction is recognised by what only it wrote (a session's
//! lock key deleted with the document, a save's nonce), never by the content, which
//! another writer may have written too.

use std::io;

use confine_store::Error;
use etcd_client::{EventType, GetOptions, WatchOptions};

use crate::connection::{Connection, io_error};

/// What a write whose answer was lost did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Committed,
    NotCommitted,
}

/// Whether a lost session commit was applied. The commit puts the document and deletes
/// the session's lock key in one transaction; the lock key is deleted once only (by that
/// commit, by the revoke that made sure it can no longer apply, or by the lease running
/// out). So the commit was applied exactly if the document changed at the revision the
/// lock key was deleted. Content is not compared: another writer may have written the
/// same bytes.
pub(crate) fn settle_commit(
    conn: &Connection,
    name: &str,
    document: &str,
    lock_key: &str,
    locked_at: i64,
) -> Result<Outcome, Error> {
    let deleted = first_change_after(conn, name, lock_key, locked_at, Some(EventType::Delete))?;
    let Some((_, _, at)) = deleted else {
        return Err(io_error(name, "etcd history read", io::ErrorKind::Other, "the lock key was never deleted".into()));
    };
    Ok(if changed_at(conn, name, document, at)? { Outcome::Committed } else { Outcome::NotCommitted })
}

/// Whether a lost save or remove was applied: the first change of the document after
/// `after` (the version it compared) happened in the transaction that wrote `nonce` to the
/// document's writer key, which only that save or remove did.
pub(crate) fn settle_write(
    conn: &Connection,
    name: &str,
    document: &str,
    writer: &str,
    after: i64,
    nonce: &str,
) -> Result<Outcome, Error> {
    let Some((_, _, at)) = first_change_after(conn, name, document, after, None)? else {
        return Ok(Outcome::NotCommitted);
    };
    let written = value_at(conn, name, writer, at)?;
    Ok(if written.as_deref() == Some(nonce.as_bytes()) { Outcome::Committed } else { Outcome::NotCommitted })
}

/// Whether `key` was changed at exactly revision `at`.
fn changed_at(conn: &Connection, name: &str, key: &str, at: i64) -> Result<bool, Error> {
    let Some((_, _, first)) = first_change_after(conn, name, key, at - 1, None)? else {
        return Ok(false);
    };
    Ok(first == at)
}

/// The value `key` had at revision `at` (if it existed then).
fn value_at(conn: &Connection, name: &str, key: &str, at: i64) -> Result<Option<Vec<u8>>, Error> {
    let key = key.to_owned();
    let mut found = conn.idempotent(name, "etcd history read", || {
        let (mut kv, key) = (conn.kv.clone(), key.clone());
        async move { kv.get(key, Some(GetOptions::new().with_revision(at))).await }
    })?;
    Ok(found.take_kvs().into_iter().next().map(|kv| kv.into_key_value().1))
}

/// The kind, value and revision of the first change of `key` after revision `after` (of
/// the kind `only`, if given), from etcd's history (a watch that starts there); `None` if
/// there is none.
fn first_change_after(
    conn: &Connection,
    name: &str,
    key: &str,
    after: i64,
    only: Option<EventType>,
) -> Result<Option<(EventType, Vec<u8>, i64)>, Error> {
    conn.idempotent(name, "etcd history read", || history(conn.watch.clone(), key.to_owned(), after, only))
}

/// The first change of `key` after `after`, read with a watch that starts there.
async fn history(
    mut client: etcd_client::WatchClient,
    key: String,
    after: i64,
    only: Option<EventType>,
) -> Result<Option<(EventType, Vec<u8>, i64)>, etcd_client::Error> {
    let options = WatchOptions::new().with_start_revision(after + 1);
    let mut stream = client.watch(key, Some(options)).await?;
    loop {
        // Past events come first; once the watch has caught up, a progress request is
        // answered with no events, which means there was no change.
        match tokio::time::timeout(std::time::Duration::from_millis(200), stream.message()).await {
            Err(_idle) => stream.request_progress().await?,
            Ok(message) => match message? {
                None => return Err(etcd_client::Error::WatchError("the history watch closed".into())),
                Some(response) if response.canceled() => {
                    return Err(etcd_client::Error::WatchError(format!(
                        "the history after revision {after} is gone (compacted to {})",
                        response.compact_revision()
                    )));
                }
                Some(response) => {
                    let wanted = |event: &&etcd_client::Event| only.is_none_or(|kind| event.event_type() == kind);
                    if let Some(event) = response.events().iter().find(wanted) {
                        let (value, at) =
                            event.kv().map_or((Vec::new(), 0), |kv| (kv.value().to_vec(), kv.mod_revision()));
                        return Ok(Some((event.event_type(), value, at)));
                    }
                    if !response.created() && response.events().is_empty() {
                        return Ok(None);
                    }
                }
            },
        }
    }
}

/// The error for a write whose answer was lost and whose outcome could not be learnt.
pub(crate) fn unknown(name: &str, op: &'static str, lost: &Error, check: &Error) -> Error {
    io_error(
        name,
        op,
        io::ErrorKind::TimedOut,
        format!(
            "the outcome is unknown: the change may or may not have been made. Its answer was lost ({}), and so was the check that would tell ({}); read the document to see",
            source_of(lost),
            source_of(check)
        ),
    )
}

/// The error for a write whose answer was lost and that is known not to have been made.
pub(crate) fn not_made(name: &str, op: &'static str, lost: &Error) -> Error {
    io_error(name, op, io::ErrorKind::NotConnected, format!("{}; the change was not made", source_of(lost)))
}

fn source_of(e: &Error) -> String {
    match e {
        Error::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}
