//! Writes whose answer was lost. etcd may have applied a transaction that timed out, or
//! not (its API guarantees no more), so confine never reports either without knowing:
//! first it makes sure the lost transaction can no longer apply (it "poisons" what the
//! transaction compared), then it reads the document's history to see whether the
//! transaction was applied before that.

use std::io;

use confine_store::Error;
use etcd_client::{EventType, WatchOptions};

use crate::connection::{Connection, io_error};

/// What a write whose answer was lost did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Committed,
    NotCommitted,
}

/// What the lost write was: a put of these bytes, or a delete.
pub(crate) enum Write<'a> {
    Put(&'a [u8]),
    Delete,
}

/// The first change of `key` after the store revision `after`, as the lost write would
/// have been if it was applied: the caller has made sure that no other writer could change
/// the key between `after` and the lost write, and that the lost write can no longer apply.
pub(crate) fn settle(conn: &Connection, name: &str, key: &str, after: i64, write: Write<'_>) -> Result<Outcome, Error> {
    let first = first_change_after(conn, name, key, after)?;
    Ok(match (first, write) {
        (Some((EventType::Put, value)), Write::Put(ours)) if value == ours => Outcome::Committed,
        (Some((EventType::Delete, _)), Write::Delete) => Outcome::Committed,
        _ => Outcome::NotCommitted,
    })
}

/// The kind and value of the first change of `key` after revision `after`, from etcd's
/// history (a watch that starts there); `None` if there is none.
fn first_change_after(
    conn: &Connection,
    name: &str,
    key: &str,
    after: i64,
) -> Result<Option<(EventType, Vec<u8>)>, Error> {
    let op = "etcd history read";
    let mut client = conn.watch.clone();
    let key = key.to_owned();
    conn.call(name, op, conn.timeout, async move {
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
                        if let Some(event) = response.events().first() {
                            let value = event.kv().map(|kv| kv.value().to_vec()).unwrap_or_default();
                            return Ok(Some((event.event_type(), value)));
                        }
                        if !response.created() {
                            return Ok(None);
                        }
                    }
                },
            }
        }
    })
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
