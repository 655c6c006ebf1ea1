//! # confine-etcd
//!
//! confine's store on [etcd](https://etcd.io), for configuration shared by many machines:
//! the same port, rules, revisions and promises as a directory on one disk, behind the same
//! backend seam. A [`Repository`](confine_store::Repository) over [`Etcd`] is used exactly
//! as one over a directory: by the CLI (`--store etcd://...`), the domain guest, plugins,
//! `wasi:config` and `wasi:keyvalue` components, and embedders.
//!
//! ```no_run
//! use confine_etcd::{Address, Etcd, EtcdOptions};
//! use confine_store::{Options, Repository};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let address = Address::parse("etcd://127.0.0.1:2379,127.0.0.1:22379/myapp")?;
//! let etcd = Etcd::connect(&address, EtcdOptions::default())?;
//! let repository = Repository::with_backend(etcd, Options::default(), confine_formats::Documents::default());
//! let revision = repository.save("app.json", r#"{"port": 8080}"#, None)?;
//! assert_eq!(repository.read("app.json")?.revision, revision);
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//!
//! - **Reads** are linearizable: a read sees every write acknowledged before it began.
//! - **Saves** are one transaction that compares the document's version (or that it does
//!   not exist) and that no session holds it, then writes.
//! - **Updates** ([`Repository::update`](confine_store::Repository::update)) are a read and
//!   the same transaction as a save, on the version read; a batch that finds the document
//!   changed runs again in an exclusive session, so a change runs at most twice.
//! - **Sessions** are exclusive across machines: a lease kept alive while the session is
//!   open, etcd's lock on the document, and a **fence**: the session's reads and its commit
//!   succeed only while its lock key exists with the revision it was created at. A session
//!   that lost its lease (its process paused, its network gone) gets
//!   [`Error::Conflict`] and writes nothing.
//! - **Revisions** are the content digests of every backend: the same document has the same
//!   revision on a disk and on etcd.
//! - **Lost answers**: a write whose answer did not come (a timeout, a member that died) may
//!   or may not have been applied. confine makes sure it can no longer apply, then reads the
//!   document's history: it answers "done" or "not done" only when it knows, and otherwise
//!   says that the outcome is unknown.
//! - Every call waits at most [`EtcdOptions::request_timeout`]; an unreachable cluster, a
//!   cluster with no leader, refused credentials, a TLS handshake that failed (an unknown
//!   CA, a certificate not valid for the address or expired, a client certificate missing
//!   or refused, TLS and plain text mixed up): each is an error that names the endpoints
//!   and the cause. When no member answered, the last tenth of the timeout (at most 0.5 s)
//!   asks each endpoint directly why.
//! - **TLS**: an `etcds://` address speaks TLS (rustls) to every endpoint, verifying the
//!   members against [`TlsFiles::ca_cert`] or the system's roots, and presenting
//!   [`TlsFiles::client_cert`] where given.
//! - **Watches** resume through another member when theirs dies, from the revision after
//!   the last they saw; past a compaction they start again from now and leave a notice.
//!
//! # Limits
//!
//! - A holder that crashes keeps its document locked until its lease runs out
//!   ([`EtcdOptions::lease_ttl`], 10 s by default); then etcd frees the lock.
//! - Documents are at most 1 MiB by default ([`EtcdOptions::max_document_size`]): etcd
//!   refuses requests over its `--max-request-bytes` (1.5 MiB unless configured).
//! - The backend owns two small tokio runtimes: a caller blocks on one, driving its own call
//!   (so call it from a thread that is not running async tasks: in an async host, from
//!   `spawn_blocking`); one worker thread renews the sessions' leases and drives watches.
//! - etcd's history is read to settle a lost answer; a cluster that compacts it within
//!   seconds may turn such an answer into "outcome unknown".
#![deny(missing_docs)]

mod address;
mod connection;
mod keys;
mod leases;
mod optimistic;
mod outcome;
mod session;
mod status;
mod tls;
mod watch;

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use confine_store::name::{DirectoryName, DocumentName};
use confine_store::{
    Backend, BackendSession, BackendWatch, Error, LockStatus, Result, conflict, revision, save_in_session,
};
use etcd_client::{Compare, CompareOp, GetOptions, KeyValue, Txn, TxnOp, TxnOpResponse};

pub use address::Address;
pub use tls::TlsFiles;

use connection::Connection;
use keys::Keys;
use outcome::Outcome;

/// What a save or remove writes.
#[derive(Clone, Copy)]
enum Write<'a> {
    Put(&'a [u8]),
    Delete,
}

/// Options of the etcd backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdOptions {
    /// The time to live of a session's lease, renewed while the session is open: how long a
    /// crashed or paused holder keeps its document locked. Whole seconds; 10 s by default.
    pub lease_ttl: Duration,
    /// The longest any one call to etcd waits for its answer; 5 s by default.
    pub request_timeout: Duration,
    /// The largest document, in bytes; 1 MiB by default. etcd refuses requests over its
    /// `--max-request-bytes` (1.5 MiB by default); raise both together.
    pub max_document_size: u64,
    /// The files of a TLS connection (`etcds://` addresses only): the CA to verify the
    /// members with (else the system's roots), and a client certificate and key.
    pub tls: TlsFiles,
}

impl Default for EtcdOptions {
    fn default() -> EtcdOptions {
        EtcdOptions {
            lease_ttl: Duration::from_secs(10),
            request_timeout: Duration::from_secs(5),
            max_document_size: 1 << 20,
            tls: TlsFiles::default(),
        }
    }
}

/// Documents in etcd, under one prefix. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct Etcd {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) connection: Connection,
    pub(crate) keys: Keys,
    pub(crate) options: EtcdOptions,
    /// Leases of ended sessions, kept for the next ones.
    pub(crate) leases: leases::Leases,
    /// Commits without the fence: only to show, in a test, what the fence prevents
    /// (feature `show-unfenced`); always `false` otherwise.
    pub(crate) unfenced: bool,
}

impl Etcd {
    /// Connects to the cluster at `address`, over TLS for an `etcds://` address. The
    /// connection is made lazily: an unreachable cluster, or a handshake that fails, is
    /// reported by the first call, within the timeout, naming each endpoint and its cause.
    ///
    /// # Errors
    /// An endpoint that is not a valid address; a TLS file that cannot be read (named) or
    /// TLS files for a plain-text address; the client's runtime could not start; with a
    /// user, the errors of the first call.
    pub fn connect(address: &Address, options: EtcdOptions) -> io::Result<Etcd> {
        // Room for a document and the rest of a response (keys, headers).
        let max_message = usize::try_from(options.max_document_size).unwrap_or(usize::MAX).saturating_add(64 << 10);
        let tls = match (address.tls, options.tls.is_empty()) {
            (true, _) => Some(tls::config(&options.tls)?),
            (false, true) => None,
            (false, false) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{address}: TLS files are given for a plain-text store; use etcds:// to speak TLS"),
                ));
            }
        };
        let spoke = match address.tls {
            true => tls::Spoke::Tls { identity: options.tls.client_cert.is_some() },
            false => tls::Spoke::Plain,
        };
        let connection = Connection::open(address, tls, spoke, options.request_timeout, max_message)?;
        let keys = Keys::new(&address.prefix);
        Ok(Etcd {
            shared: Arc::new(Shared { connection, keys, options, leases: leases::Leases::default(), unfenced: false }),
        })
    }

    /// The same backend whose sessions commit without their fence. For the test that shows
    /// what the fence prevents (a paused holder overwriting a newer commit); it exists only
    /// with the feature `show-unfenced`, which no build turns on.
    #[cfg(feature = "show-unfenced")]
    #[doc(hidden)]
    pub fn without_fence_to_show_why_it_is_there(address: &Address, options: EtcdOptions) -> io::Result<Etcd> {
        let fenced = Etcd::connect(address, options)?;
        let shared = Arc::into_inner(fenced.shared).ok_or_else(|| io::Error::other("backend is shared"))?;
        Ok(Etcd { shared: Arc::new(Shared { unfenced: true, ..shared }) })
    }

    /// The document's key-value now (linearizable).
    fn document(&self, name: &DocumentName) -> Result<Option<KeyValue>> {
        let conn = &self.shared.connection;
        let key = self.shared.keys.document(name);
        let mut found = conn.idempotent(name.as_str(), "etcd read", || {
            let (mut kv, key) = (conn.kv.clone(), key.clone());
            async move { kv.get(key, None).await }
        })?;
        Ok(found.take_kvs().into_iter().next())
    }

    /// The document's key-value now (linearizable), and whether a session holds it.
    fn document_and_lock(&self, name: &DocumentName) -> Result<(Option<KeyValue>, bool)> {
        let conn = &self.shared.connection;
        let look = Txn::new().and_then([
            TxnOp::get(self.shared.keys.document(name), None),
            TxnOp::get(self.shared.keys.lock_keys(name), Some(GetOptions::new().with_prefix().with_count_only())),
        ]);
        let response = conn.idempotent(name.as_str(), "etcd read", || {
            let (look, mut kv) = (look.clone(), conn.kv.clone());
            async move { kv.txn(look).await }
        })?;
        let mut responses = response.op_responses().into_iter();
        let document = match responses.next() {
            Some(TxnOpResponse::Get(mut get)) => get.take_kvs().into_iter().next(),
            _ => None,
        };
        let locked = matches!(responses.next(), Some(TxnOpResponse::Get(get)) if get.count() > 0);
        Ok((document, locked))
    }

    /// Compares-and-writes the document: `write` if it is still at `version` (its mod
    /// revision, 0 for none) and no session holds it. `Ok(false)` if either moved.
    /// A lost answer is settled before this returns.
    ///
    /// The same transaction writes a fresh nonce to the document's writer key: what tells,
    /// from etcd's history, that a change was this write's and not another writer's.
    fn write_if(
        &self,
        name: &DocumentName,
        version: Option<&KeyValue>,
        write: Write<'_>,
        op: &'static str,
    ) -> Result<bool> {
        let conn = &self.shared.connection;
        let keys = &self.shared.keys;
        let key = keys.document(name);
        let nonce = nonce();
        let at = version.map_or(0, KeyValue::mod_revision);
        let change = match write {
            Write::Put(bytes) => TxnOp::put(key.clone(), bytes, None),
            Write::Delete => TxnOp::delete(key.clone(), None),
        };
        let txn = Txn::new()
            .when([
                Compare::mod_revision(key.clone(), CompareOp::Equal, at),
                Compare::create_revision(keys.lock_keys(name), CompareOp::Equal, 0).with_prefix(),
            ])
            .and_then([change, TxnOp::put(keys.writer(name), nonce.as_str(), None)]);
        let written = conn.write(name.as_str(), op, conn.timeout, || {
            let (mut kv, txn) = (conn.kv.clone(), txn.clone());
            async move { kv.txn(txn).await }
        });
        let lost = match written {
            Ok(response) => return Ok(response.succeeded()),
            Err(lost) => lost,
        };
        match self.settle(name, &key, version, &nonce) {
            Ok(Outcome::Committed) => Ok(true),
            Ok(Outcome::NotCommitted) => Err(outcome::not_made(name.as_str(), op, &lost)),
            Err(check) => Err(outcome::unknown(name.as_str(), op, &lost, &check)),
        }
    }

    /// Whether a write compared against `version` whose answer was lost was applied. First
    /// it rewrites the same bytes if the document is still at `version`, so the lost write,
    /// which compares that version, can no longer apply; if the document had moved, the
    /// first change after `version` tells, by its nonce.
    fn settle(&self, name: &DocumentName, key: &str, version: Option<&KeyValue>, nonce: &str) -> Result<Outcome> {
        let conn = &self.shared.connection;
        let Some(version) = version else {
            // Only a session creates a document (see `save`), whose lease fences it.
            return Ok(Outcome::NotCommitted);
        };
        let at = version.mod_revision();
        let poison = Txn::new()
            .when([Compare::mod_revision(key.to_owned(), CompareOp::Equal, at)])
            .and_then([TxnOp::put(key.to_owned(), version.value(), None)]);
        let poisoned = conn.idempotent(name.as_str(), "etcd settle", || {
            let (poison, mut kv) = (poison.clone(), conn.kv.clone());
            async move { kv.txn(poison).await }
        })?;
        if poisoned.succeeded() {
            return Ok(Outcome::NotCommitted);
        }
        outcome::settle_write(conn, name.as_str(), key, &self.shared.keys.writer(name), at, nonce)
    }

    /// Waits a little before looking again at a document a session holds.
    fn wait_for_session(
        &self,
        name: &DocumentName,
        deadline: Instant,
        timeout: Duration,
        pause: &mut Duration,
    ) -> Result<()> {
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::LockTimeout {
                name: name.as_str().to_owned(),
                lock: format!("etcd lock {}", self.shared.keys.lock(name)),
                timeout,
                holder: status::lock_status(&self.shared, name)?.holder,
            });
        }
        std::thread::sleep((*pause).min(deadline - now));
        *pause = (*pause * 2).min(Duration::from_millis(200));
        Ok(())
    }
}

/// A value no other write has written: the process, the time and a counter.
fn nonce() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    format!("{host}/{}/{time}/{count}", std::process::id())
}

impl Backend for Etcd {
    fn read(&self, name: &DocumentName, _limit: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.document(name)?.map(|kv| kv.into_key_value().1))
    }

    fn open_session(&self, name: &DocumentName, timeout: Duration, _limit: u64) -> Result<Box<dyn BackendSession>> {
        Ok(Box::new(session::EtcdSession::open(self.shared.clone(), name, timeout)?))
    }

    fn open_optimistic(&self, name: &DocumentName, _limit: u64) -> Result<Option<Box<dyn BackendSession>>> {
        Ok(optimistic::OptimisticSession::open(self, name)?.map(|s| Box::new(s) as Box<dyn BackendSession>))
    }

    fn save(
        &self,
        name: &DocumentName,
        content: &str,
        expected: Option<&str>,
        timeout: Duration,
        limit: u64,
    ) -> Result<()> {
        let Some(expected) = expected else {
            // A create goes through a session: "does not exist" cannot be poisoned the way a
            // version can (see `settle`), but a lease can.
            return save_in_session(self.open_session(name, timeout, limit)?, name, content, None);
        };
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(5);
        loop {
            let (document, locked) = self.document_and_lock(name)?;
            let found = document.as_ref().map(|kv| revision::of(kv.value()));
            if found.as_deref() != Some(expected) {
                return Err(conflict(name, Some(expected), found.as_deref()));
            }
            if locked {
                self.wait_for_session(name, deadline, timeout, &mut pause)?;
                continue;
            }
            if self.write_if(name, document.as_ref(), Write::Put(content.as_bytes()), "etcd save")? {
                return Ok(());
            }
        }
    }

    fn remove(&self, name: &DocumentName, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(5);
        loop {
            let (document, locked) = self.document_and_lock(name)?;
            if document.is_none() {
                return Err(Error::NotFound { name: name.as_str().to_owned() });
            }
            if locked {
                self.wait_for_session(name, deadline, timeout, &mut pause)?;
                continue;
            }
            if self.write_if(name, document.as_ref(), Write::Delete, "etcd remove")? {
                return Ok(());
            }
        }
    }

    fn list(&self, directory: &DirectoryName) -> Result<Vec<String>> {
        let conn = &self.shared.connection;
        let prefix = self.shared.keys.directory(directory);
        let shown = if directory.as_str().is_empty() { "." } else { directory.as_str() };
        let found = conn.idempotent(shown, "etcd list", || {
            let (mut kv, prefix) = (conn.kv.clone(), prefix.clone());
            async move { kv.get(prefix, Some(GetOptions::new().with_prefix().with_keys_only())).await }
        })?;
        let within = directory.join("");
        // etcd answers in key order, which is byte order, as the other backends sort.
        Ok(found
            .kvs()
            .iter()
            .filter_map(|kv| std::str::from_utf8(kv.key()).ok())
            .filter_map(|key| self.shared.keys.name_of(key))
            .filter(|name| name.strip_prefix(&within).is_some_and(|file| !file.contains('/')))
            .map(str::to_owned)
            .collect())
    }

    fn lock_status(&self, name: &DocumentName) -> Result<LockStatus> {
        status::lock_status(&self.shared, name)
    }

    fn watch(&self, name: &DocumentName) -> Result<Box<dyn BackendWatch>> {
        Ok(Box::new(watch::EtcdWatch::open(self.shared.clone(), name.as_str(), self.shared.keys.document(name))?))
    }

    fn max_document_size(&self) -> u64 {
        self.shared.options.max_document_size
    }
}
