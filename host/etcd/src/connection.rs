//! The connection to the cluster: the client, the small runtime it runs on, and every call
//! bounded by a timeout and turned into a repository error that names the endpoints and
//! the cause.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use confine_store::Error;
use etcd_client::{Client, ConnectOptions, KvClient, LeaseClient, LockClient, TlsOptions, WatchClient};
use tokio::runtime::Runtime;

use crate::Address;
use crate::tls::{self, Spoke};

/// How long a call that failed because no member answered waits before trying again.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The most of a call's time kept, when no member answered, to ask each endpoint directly
/// why (`Connection::diagnose`).
const DIAGNOSIS: Duration = Duration::from_millis(500);

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
    /// The endpoints' URLs and the TLS configuration the clients use, for `diagnose`.
    urls: Vec<String>,
    tls: Option<TlsOptions>,
    spoke: Spoke,
    /// The longest any one call waits for an answer.
    pub(crate) timeout: Duration,
}

impl Connection {
    pub(crate) fn open(
        address: &Address,
        tls: Option<TlsOptions>,
        spoke: Spoke,
        timeout: Duration,
        max_message: usize,
    ) -> io::Result<Connection> {
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
        if let Some(tls) = &tls {
            options = options.with_tls(tls.clone());
        }
        let endpoints = address.endpoints.join(",");
        let scheme = if address.tls { "https" } else { "http" };
        let urls: Vec<String> = address.endpoints.iter().map(|e| format!("{scheme}://{e}")).collect();
        // A client's connection is driven by the runtime it was made on: one for each.
        // With a user it authenticates at once, so this is where an unreachable cluster or
        // a failed handshake shows first: the same diagnosis as for any call.
        let within = timeout.saturating_sub(diagnosis_time(timeout));
        let connect = |on: &Runtime| {
            let connect = Client::connect(urls.clone(), Some(options.clone()));
            match on.block_on(async { tokio::time::timeout(within, connect).await }) {
                Ok(Ok(client)) => Ok(client),
                Ok(Err(e)) if kind_of(&e, spoke) != io::ErrorKind::NotConnected => {
                    Err(io::Error::new(kind_of(&e, spoke), format!("etcd at {endpoints}: {}", cause(&e, spoke))))
                }
                outcome => {
                    let failed = match outcome {
                        Ok(Err(e)) => format!("etcd at {endpoints}: {}", cause(&e, spoke)),
                        _ => format!("etcd at {endpoints}: no answer within {within:?}"),
                    };
                    let (kind, why) = diagnose(on, &urls, tls.as_ref(), spoke, diagnosis_time(timeout))
                        .unwrap_or((io::ErrorKind::TimedOut, String::new()));
                    Err(io::Error::new(kind, format!("{failed}{why}")))
                }
            }
        };
        let (foreground, background) = (connect(&calls)?, connect(&runtime)?);
        Ok(Connection {
            urls,
            tls,
            spoke,
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

    /// Runs a call that must not be made twice (a write), waiting at most `within`, again
    /// only while it fails before anything was sent: a member that is down refuses the
    /// connection, and the client's next pick may be one that is up. Any other failure
    /// (its answer lost, maybe applied) is returned at once, for the caller to settle.
    pub(crate) fn write<T, F>(
        &self,
        name: &str,
        op: &'static str,
        within: Duration,
        call: impl FnMut() -> F,
    ) -> Result<T, Error>
    where
        F: Future<Output = Result<T, etcd_client::Error>>,
    {
        self.again_while(name, op, Instant::now() + within, never_sent, call)
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
        call: impl FnMut() -> F,
    ) -> Result<T, Error>
    where
        F: Future<Output = Result<T, etcd_client::Error>>,
    {
        let diagnosis = diagnosis_time(within);
        match self.again_while(name, op, Instant::now() + within.saturating_sub(diagnosis), transient, call) {
            Err(e) if transient(&e) => Err(self.diagnosed(e, diagnosis)),
            outcome => outcome,
        }
    }

    /// Runs `call` until it succeeds, fails in a way `again` does not retry, or `deadline`
    /// has passed, pausing between tries.
    fn again_while<T, F>(
        &self,
        name: &str,
        op: &'static str,
        deadline: Instant,
        again: fn(&Error) -> bool,
        mut call: impl FnMut() -> F,
    ) -> Result<T, Error>
    where
        F: Future<Output = Result<T, etcd_client::Error>>,
    {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.call(name, op, left, call()) {
                Err(e) if again(&e) && deadline > Instant::now() + RETRY_PAUSE => std::thread::sleep(RETRY_PAUSE),
                outcome => return outcome,
            }
        }
    }

    /// `e`, a call's failure because no member answered in time or the connection broke,
    /// with what each endpoint says when asked directly, within `budget`: the client's
    /// balanced channel only says that no member is ready, not why (refused, a failed TLS
    /// handshake, a plain-text member asked for TLS).
    pub(crate) fn diagnosed(&self, e: Error, budget: Duration) -> Error {
        let Error::Io { name, op, source } = e else { return e };
        match diagnose(&self.calls, &self.urls, self.tls.as_ref(), self.spoke, budget) {
            Some((kind, why)) => io_error(&name, op, kind, format!("{source}{why}")),
            None => Error::Io { name, op, source },
        }
    }

    /// The error of a call that got no answer in time.
    pub(crate) fn silence(&self, name: &str, op: &'static str, within: Duration) -> Error {
        io_error(name, op, io::ErrorKind::TimedOut, format!("etcd at {}: no answer within {within:?}", self.endpoints))
    }

    pub(crate) fn failure(&self, name: &str, op: &'static str, e: &etcd_client::Error) -> Error {
        io_error(name, op, kind_of(e, self.spoke), format!("etcd at {}: {}", self.endpoints, cause(e, self.spoke)))
    }
}

/// The part of `timeout` kept for [`diagnose`]: a tenth, at most [`DIAGNOSIS`].
pub(crate) fn diagnosis_time(timeout: Duration) -> Duration {
    (timeout / 10).min(DIAGNOSIS)
}

/// Asks each endpoint directly, at once, within `budget`, whether it answers: a connection
/// of its own (not the client's balanced channel, which hides why a member is not ready)
/// and one status request. The causes of those that do not, as `; ENDPOINT: CAUSE` each,
/// with the error kind of the first that TLS explains (else `NotConnected`); `None` if
/// every endpoint answered or none said anything within the budget.
fn diagnose(
    on: &Runtime,
    urls: &[String],
    tls: Option<&TlsOptions>,
    spoke: Spoke,
    budget: Duration,
) -> Option<(io::ErrorKind, String)> {
    let found = on.block_on(async {
        let mut probes = tokio::task::JoinSet::new();
        for (index, url) in urls.iter().enumerate() {
            let (url, tls) = (url.clone(), tls.cloned());
            probes.spawn(async move {
                let asked = async {
                    let failure = probe(url.clone(), tls).await.err()?;
                    // A TLS member asked in plain text hangs up, and the client sees only a
                    // broken pipe: asked in TLS, it answers with a handshake.
                    let speaks_tls = spoke == Spoke::Plain && speaks_tls(&url).await;
                    Some((failure, speaks_tls))
                };
                (index, tokio::time::timeout(budget, asked).await)
            });
        }
        let mut found = Vec::new();
        while let Some(Ok((index, outcome))) = probes.join_next().await {
            match outcome {
                Ok(None) => {}
                Ok(Some(failure)) => found.push((index, failure)),
                Err(_elapsed) => {
                    let silent = format!("no answer within {budget:?}");
                    found.push((index, ((silent.clone(), silent), false)));
                }
            }
        }
        found.sort();
        found
    });
    let mut kind = None;
    let mut why = String::new();
    for (index, ((chain, innermost), speaks_tls)) in &found {
        let host = urls[*index].split_once("://").map_or(urls[*index].as_str(), |(_, host)| host);
        let explained = tls::explain(chain, spoke).or_else(|| {
            speaks_tls.then_some((io::ErrorKind::InvalidData, "the endpoint speaks TLS (use etcds://, not etcd://)"))
        });
        match explained {
            Some((tls_kind, words)) => {
                kind.get_or_insert(tls_kind);
                why.push_str(&format!("; {host}: {words} ({innermost})"));
            }
            None => why.push_str(&format!("; {host}: {innermost}")),
        }
    }
    (!why.is_empty()).then(|| (kind.unwrap_or(io::ErrorKind::NotConnected), why))
}

/// Whether the endpoint of `url` (an `http://` one) answers a TLS handshake: it completes,
/// or fails over the certificate or with an alert, which only a TLS server sends.
async fn speaks_tls(url: &str) -> bool {
    let Some(host) = url.strip_prefix("http://") else { return false };
    let tls = TlsOptions::new().with_native_roots();
    match probe(format!("https://{host}"), Some(tls)).await {
        Ok(()) => true,
        Err((chain, _)) => chain.contains("peer certificate") || chain.contains("received fatal alert"),
    }
}

/// One endpoint asked directly: a connection of its own and a status request. A failure
/// as its whole chain of causes (to explain) and its innermost cause (to show).
async fn probe(url: String, tls: Option<TlsOptions>) -> Result<(), (String, String)> {
    fn failed(e: &dyn std::error::Error) -> (String, String) {
        let mut innermost = e;
        while let Some(source) = innermost.source() {
            innermost = source;
        }
        (chain(e), innermost.to_string())
    }
    let mut endpoint = tonic::transport::Endpoint::from_shared(url).map_err(|e| failed(&e))?;
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).map_err(|e| failed(&e))?;
    }
    let channel = endpoint.connect().await.map_err(|e| failed(&e))?;
    let mut client = Client::from_channel(etcd_client::Channel::Tonic(channel), None).await.map_err(|e| failed(&e))?;
    client.status().await.map(|_| ()).map_err(|e| failed(&e))
}

/// An error and its sources, joined by `: `.
fn chain(e: &dyn std::error::Error) -> String {
    format!("{e}{}", chain_of(e))
}

/// The sources of an error, each as `: SOURCE`.
fn chain_of(e: &dyn std::error::Error) -> String {
    let mut sources = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        sources.push_str(&format!(": {s}"));
        source = s.source();
    }
    sources
}

pub(crate) fn io_error(name: &str, op: &'static str, kind: io::ErrorKind, message: String) -> Error {
    Error::Io { name: name.to_owned(), op, source: io::Error::new(kind, message) }
}

/// Whether an error says the cluster could not be reached or had no leader, which may pass.
pub(crate) fn transient(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if matches!(source.kind(), io::ErrorKind::NotConnected | io::ErrorKind::TimedOut))
}

/// Whether a call failed while connecting, so that nothing of it reached any member.
fn never_sent(e: &Error) -> bool {
    let Error::Io { source, .. } = e else { return false };
    let text = source.to_string();
    source.kind() == io::ErrorKind::NotConnected
        && (text.contains("tcp connect error") || text.contains("error trying to connect"))
}

/// Whether a status's message says the connection broke under the call (tonic reports it
/// with code Unknown or Internal).
fn broken_connection(message: &str) -> bool {
    message.contains("transport error") || message.contains("h2 protocol error")
}

fn kind_of(e: &etcd_client::Error, spoke: Spoke) -> io::ErrorKind {
    use tonic::Code;
    if let Some((kind, _)) = tls::explain(&chain(e), spoke) {
        return kind;
    }
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

/// What went wrong, in words: a TLS handshake that failed, unreachable, no leader,
/// credentials refused, or etcd's own message, with the transport's causes.
fn cause(e: &etcd_client::Error, spoke: Spoke) -> String {
    use tonic::Code;
    let sources = chain_of(e);
    if let Some((_, words)) = tls::explain(&chain(e), spoke) {
        return format!("{words} ({e}{sources})");
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
