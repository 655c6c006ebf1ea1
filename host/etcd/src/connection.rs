//! The connection to the cluster: the client, the small runtime it runs on, and every call
//! bounded by a timeout and turned into a repository error that names the endpoints and
//! the cause.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use confine_store::Error;
use etcd_client::{Client, ConnectOptions, KvClient, LeaseClient, LockClient, WatchClient};
use tokio::runtime::Runtime;

use crate::Address;

/// How long a call that failed because no member answered waits before trying again.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

pub(crate) struct Connection {
    /// What the backend's callers block on, so the rest of confine stays synchronous: the
    /// calling thread itself drives the client of `kv` and `lock` while it waits, as a
    /// synchronous program's own runtime would, with no hand-over to another thread.
    calls: Runtime,
    /// One worker thread that drives what must go on between calls: the renewals of the
    /// sessions' leases, and watches.
    pub(crate) runtime: Runtime,
    pub(crate) kv: KvClient,
    pub(crate) lock: LockClient,
    pub(crate) lease: LeaseClient,
    pub(crate) watch: WatchClient,
    /// The endpoints, as errors name them.
    pub(crate) endpoints: String,
    /// The longest any one call waits for an answer.
    pub(crate) timeout: Duration,
}

impl Connection {
    pub(crate) fn open(address: &Address, timeout: Duration, max_message: usize) -> io::Result<Connection> {
        let calls = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("confine-etcd")
            .enable_all()
            .build()?;
        let mut options = ConnectOptions::new()
            .with_connect_timeout(timeout.min(Duration::from_secs(2)))
            .with_keep_alive(Duration::from_secs(5), timeout)
            // A member cut off from the others answers "no leader" at once instead of
            // serving stale data or waiting.
            .with_require_leader(true);
        if let Some((user, password)) = &address.user {
            options = options.with_user(user.clone(), password.clone());
        }
        let endpoints = address.endpoints.join(",");
        let urls: Vec<String> = address.endpoints.iter().map(|e| format!("http://{e}")).collect();
        // A client's connection is driven by the runtime it was made on: one for each.
        let connect = |on: &Runtime| {
            let connect = Client::connect(urls.clone(), Some(options.clone()));
            on.block_on(async { tokio::time::timeout(timeout, connect).await })
                .map_err(|_| {
                    let message = format!("etcd at {endpoints}: no answer within {timeout:?}");
                    io::Error::new(io::ErrorKind::TimedOut, message)
                })?
                .map_err(|e| io::Error::new(kind_of(&e), format!("etcd at {endpoints}: {}", cause(&e))))
        };
        let (foreground, background) = (connect(&calls)?, connect(&runtime)?);
        Ok(Connection {
            kv: foreground.kv_client().max_decoding_message_size(max_message),
            lock: foreground.lock_client(),
            lease: background.lease_client(),
            watch: background.watch_client().max_decoding_message_size(max_message),
            calls,
            runtime,
            endpoints,
            timeout,
        })
    }

    /// Runs one call for the document `name`, waiting at most `within`.
    pub(crate) fn call<T>(
        &self,
        name: &str,
        op: &'static str,
        within: Duration,
        call: impl Future<Output = Result<T, etcd_client::Error>>,
    ) -> Result<T, Error> {
        self.calls.block_on(async {
            match tokio::time::timeout(within, call).await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(e)) => Err(self.failure(name, op, &e)),
                Err(_) => Err(self.silence(name, op, within)),
            }
        })
    }

    /// Runs a call that may be made twice (a read, a revoke) until it succeeds, it fails for
    /// a reason of its own, or the timeout has passed: a member that went away, a broken
    /// connection or an election in progress is waited out.
    pub(crate) fn idempotent<T, F>(&self, name: &str, op: &'static str, call: impl FnMut() -> F) -> Result<T, Error>
    where
        F: Future<Output = Result<T, etcd_client::Error>>,
    {
        self.idempotent_within(name, op, self.timeout, call)
    }

    /// The same, waiting at most `within` in all.
    pub(crate) fn idempotent_within<T, F>(
        &self,
        name: &str,
        op: &'static str,
        within: Duration,
        mut call: impl FnMut() -> F,
    ) -> Result<T, Error>
    where
        F: Future<Output = Result<T, etcd_client::Error>>,
    {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.call(name, op, left, call()) {
                Err(e) if transient(&e) && deadline > Instant::now() + RETRY_PAUSE => std::thread::sleep(RETRY_PAUSE),
                outcome => return outcome,
            }
        }
    }

    /// The error of a call that got no answer in time.
    pub(crate) fn silence(&self, name: &str, op: &'static str, within: Duration) -> Error {
        io_error(name, op, io::ErrorKind::TimedOut, format!("etcd at {}: no answer within {within:?}", self.endpoints))
    }

    pub(crate) fn failure(&self, name: &str, op: &'static str, e: &etcd_client::Error) -> Error {
        io_error(name, op, kind_of(e), format!("etcd at {}: {}", self.endpoints, cause(e)))
    }
}

pub(crate) fn io_error(name: &str, op: &'static str, kind: io::ErrorKind, message: String) -> Error {
    Error::Io { name: name.to_owned(), op, source: io::Error::new(kind, message) }
}

/// Whether an error says the cluster could not be reached or had no leader, which may pass.
pub(crate) fn transient(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if matches!(source.kind(), io::ErrorKind::NotConnected | io::ErrorKind::TimedOut))
}

/// Whether a status's message says the connection broke under the call (tonic reports it
/// with code Unknown or Internal).
fn broken_connection(message: &str) -> bool {
    message.contains("transport error") || message.contains("h2 protocol error")
}

fn kind_of(e: &etcd_client::Error) -> io::ErrorKind {
    use tonic::Code;
    match e {
        etcd_client::Error::GRpcStatus(status) if status.message().contains("authentication failed") => {
            io::ErrorKind::PermissionDenied
        }
        etcd_client::Error::GRpcStatus(status) if broken_connection(status.message()) => io::ErrorKind::NotConnected,
        etcd_client::Error::GRpcStatus(status) => match status.code() {
            Code::Unavailable | Code::Cancelled | Code::Aborted => io::ErrorKind::NotConnected,
            Code::DeadlineExceeded => io::ErrorKind::TimedOut,
            Code::Unauthenticated | Code::PermissionDenied => io::ErrorKind::PermissionDenied,
            _ => io::ErrorKind::Other,
        },
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => io::ErrorKind::NotConnected,
        _ => io::ErrorKind::Other,
    }
}

/// What went wrong, in words: unreachable, no leader, credentials refused, or etcd's own
/// message, with the transport's causes.
fn cause(e: &etcd_client::Error) -> String {
    use tonic::Code;
    let mut sources = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        sources.push_str(&format!(": {s}"));
        source = s.source();
    }
    match e {
        etcd_client::Error::GRpcStatus(status) => {
            let message = status.message();
            let what = match status.code() {
                _ if message.contains("no leader") => "no leader (the cluster has lost its quorum or is electing one)",
                _ if broken_connection(message) => "the connection broke",
                // etcd answers a bad password with InvalidArgument, not Unauthenticated.
                _ if message.contains("authentication failed") => "the credentials were refused",
                Code::Unavailable => "unreachable",
                Code::Unauthenticated => "the credentials were refused",
                Code::PermissionDenied => "permission denied",
                Code::DeadlineExceeded => "no answer in time",
                _ => "refused the request",
            };
            format!("{what} ({message}{sources})")
        }
        etcd_client::Error::TransportError(_) => format!("unreachable ({e}{sources})"),
        _ => format!("{e}{sources}"),
    }
}
