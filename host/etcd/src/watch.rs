//! A document's changes, from an etcd watch on its key, that outlives the member it runs on.
//!
//! The watch remembers the last etcd revision it saw. When its stream ends (the member
//! died, the connection broke, the member lost its leader and cancelled it), it opens a
//! new one through the client's other endpoints from the next revision, so every change
//! committed meanwhile still wakes it. If etcd has compacted its history past that
//! revision, the watch starts again from now, wakes (the store then reads the current
//! value) and leaves a notice saying so. It gives up only when no endpoint has answered
//! for the request timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use confine_store::{BackendWatch, Error, Result};
use etcd_client::{WatchOptions, WatchResponse, WatchStream};

use crate::Shared;
use crate::connection::io_error;

/// The longest one attempt to open a watch waits, so that a member that does not answer
/// does not use up the time in which another one could.
const ATTEMPT: Duration = Duration::from_secs(1);

pub(crate) struct EtcdWatch {
    shared: Arc<Shared>,
    name: String,
    key: String,
    /// The open stream; `None` while a new one is to be opened.
    stream: Option<WatchStream>,
    /// The newest etcd revision whose changes were reported: a new stream starts after it.
    revision: i64,
    /// Since when no stream has been open.
    broken_since: Option<Instant>,
    /// Why the last stream ended, for the error if no new one can be opened.
    broken_by: String,
    notice: Option<String>,
}

impl EtcdWatch {
    /// Opens the watch and waits until etcd has created it, so that every change from the
    /// moment this returns is reported.
    pub(crate) fn open(shared: Arc<Shared>, name: &str, key: String) -> Result<EtcdWatch> {
        let mut watch = EtcdWatch {
            shared,
            name: name.to_owned(),
            key,
            stream: None,
            revision: 0,
            broken_since: None,
            broken_by: String::new(),
            notice: None,
        };
        let timeout = watch.shared.connection.timeout;
        let (stream, revision) = watch.create(None, timeout)?;
        watch.stream = Some(stream);
        watch.revision = revision;
        Ok(watch)
    }

    /// A new stream from the revision after `after` (from now if `None`), once etcd has
    /// created it; and the revision it was created at.
    fn create(&self, after: Option<i64>, within: Duration) -> Result<(WatchStream, i64)> {
        let conn = &self.shared.connection;
        let (mut client, key) = (conn.watch.clone(), self.key.clone());
        let options = after.map(|revision| WatchOptions::new().with_start_revision(revision + 1));
        let deadline = Instant::now() + within;
        conn.runtime.block_on(async {
            let left = || deadline.saturating_duration_since(Instant::now());
            let mut stream = match tokio::time::timeout(left(), client.watch(key, options)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return Err(conn.failure(&self.name, "etcd watch", &e)),
                Err(_) => return Err(conn.silence(&self.name, "etcd watch", within)),
            };
            match tokio::time::timeout(left(), stream.message()).await {
                Ok(Ok(Some(created))) if created.compact_revision() > 0 => Err(compacted(&self.name, &created)),
                Ok(Ok(Some(created))) if created.created() && !created.canceled() => {
                    Ok((stream, created.header().map_or(0, |h| h.revision())))
                }
                Ok(Ok(Some(other))) => Err(io_error(
                    &self.name,
                    "etcd watch",
                    std::io::ErrorKind::Other,
                    format!("etcd at {} did not create the watch: {}", conn.endpoints, other.cancel_reason()),
                )),
                Ok(Ok(None)) => Err(io_error(
                    &self.name,
                    "etcd watch",
                    std::io::ErrorKind::NotConnected,
                    format!("etcd at {} closed the watch", conn.endpoints),
                )),
                Ok(Err(e)) => Err(conn.failure(&self.name, "etcd watch", &e)),
                Err(_) => Err(conn.silence(&self.name, "etcd watch", within)),
            }
        })
    }

    /// Opens a new stream after the last revision reported, trying until `deadline` (one
    /// attempt at a time, each at most [`ATTEMPT`]). `Ok(true)` once one is open and the
    /// document should be read again at once (history was compacted past the revision);
    /// `Ok(false)` when open, or when `deadline` came first but the request timeout since
    /// the break has not passed. An error once it has.
    fn reopen(&mut self, deadline: Instant) -> Result<bool> {
        let conn = &self.shared.connection;
        let broken_since = *self.broken_since.get_or_insert_with(Instant::now);
        let give_up = broken_since + conn.timeout;
        loop {
            let now = Instant::now();
            let until = deadline.min(give_up);
            if now >= until {
                if now >= give_up {
                    return Err(io_error(
                        &self.name,
                        "etcd watch",
                        std::io::ErrorKind::NotConnected,
                        format!(
                            "etcd at {}: the watch broke ({}) and no member took it up within {:?}",
                            conn.endpoints, self.broken_by, conn.timeout
                        ),
                    ));
                }
                return Ok(false);
            }
            match self.create(Some(self.revision), (until - now).min(ATTEMPT)) {
                Ok((stream, _)) => {
                    self.stream = Some(stream);
                    self.broken_since = None;
                    return Ok(false);
                }
                Err(Error::Conflict { .. }) => return self.restart_from_now(deadline),
                Err(e) => {
                    self.broken_by = e.to_string();
                    std::thread::sleep(Duration::from_millis(50).min(until.saturating_duration_since(Instant::now())));
                }
            }
        }
    }

    /// After etcd compacted its history past the revision to resume from: what happened in
    /// between is gone, so a new stream starts from now, the document is to be read again
    /// (`Ok(true)`), and a notice says so.
    fn restart_from_now(&mut self, deadline: Instant) -> Result<bool> {
        let within = deadline.saturating_duration_since(Instant::now()).max(ATTEMPT);
        let (stream, revision) = self.create(None, within)?;
        self.notice = Some(format!(
            "{}: etcd compacted its history past revision {}, where the watch was to resume; changes \
             before revision {revision} may not have been shown (the value shown next is the current one)",
            self.name,
            self.revision + 1
        ));
        self.stream = Some(stream);
        self.revision = revision;
        self.broken_since = None;
        Ok(true)
    }

    /// Notes what a response says of the revisions seen.
    fn saw(&mut self, response: &WatchResponse) {
        let newest_event = response.events().iter().filter_map(|e| e.kv()).map(|kv| kv.mod_revision()).max();
        let header = response.header().map(|h| h.revision());
        self.revision = self.revision.max(newest_event.unwrap_or(0)).max(header.unwrap_or(0));
    }
}

/// The error that says etcd compacted its history past where a watch was to start.
fn compacted(name: &str, response: &WatchResponse) -> Error {
    Error::Conflict {
        name: name.to_owned(),
        reason: format!("etcd compacted its history at revision {}", response.compact_revision()),
    }
}

impl BackendWatch for EtcdWatch {
    fn wait(&mut self, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            let Some(stream) = self.stream.as_mut() else {
                if self.reopen(deadline)? {
                    return Ok(true);
                }
                if self.stream.is_none() {
                    return Ok(false);
                }
                continue;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            let conn = &self.shared.connection;
            let message = conn.runtime.block_on(async { tokio::time::timeout(left, stream.message()).await });
            match message {
                Err(_elapsed) => return Ok(false),
                Ok(Ok(Some(response))) if !response.canceled() => {
                    self.saw(&response);
                    if !response.events().is_empty() {
                        return Ok(true);
                    }
                }
                Ok(Ok(Some(response))) if response.compact_revision() > 0 => return self.restart_from_now(deadline),
                Ok(Ok(Some(response))) => {
                    self.broken_by = format!("etcd ended it: {}", response.cancel_reason());
                    self.stream = None;
                }
                Ok(Ok(None)) => {
                    self.broken_by = "the member closed it".to_owned();
                    self.stream = None;
                }
                Ok(Err(e)) => {
                    self.broken_by = conn.failure(&self.name, "etcd watch", &e).to_string();
                    self.stream = None;
                }
            }
        }
    }

    fn take_notice(&mut self) -> Option<String> {
        self.notice.take()
    }
}

impl std::fmt::Debug for EtcdWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EtcdWatch({})", self.name)
    }
}
