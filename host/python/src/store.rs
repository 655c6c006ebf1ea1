//! The class `Store`: one repository (a granted directory, memory, or etcd), shared by
//! every Python thread that uses it, so that their updates of one document share lock
//! holds and fsyncs (group commit). Values cross as JSON text; the Python side parses them.

use std::time::{Duration, UNIX_EPOCH};

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine_domain::format::Format;
use confine_domain::service::{self, Change};
use confine_formats::Documents;
use confine_store::{Current, Memory, NewContent, Options, Repository, Splice};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::{Failure, Raise};
use crate::update::Update;
use crate::watch::Watch;

/// The TLS files of an `etcds://` store: the CA's certificate, the client's certificate
/// and its key.
type TlsPaths = (Option<String>, Option<String>, Option<String>);

/// A lock's status: whether it is held, the holder's pid, since when (seconds since the
/// epoch), and the holder's lease on etcd: its id, the time to live it was granted and what
/// is left of it (seconds).
type Status = (bool, Option<u32>, Option<f64>, Option<(i64, f64, f64)>);

/// A store of configuration documents.
#[pyclass(frozen, module = "confine._native")]
pub(crate) struct Store {
    repository: Repository,
}

/// A timeout given in seconds: a finite number >= 0, else a `ValueError` that names it.
pub(crate) fn seconds(timeout: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(timeout)
        .map_err(|_| PyValueError::new_err(format!("timeout must be a number of seconds >= 0, not {timeout}")))
}

/// The repository's limits: a lock timeout in seconds, and a size limit where one is given.
fn options(timeout: f64, max_size: Option<u64>, default_max: u64) -> PyResult<Options> {
    Ok(Options::default().with_lock_timeout(seconds(timeout)?).with_max_document_size(max_size.unwrap_or(default_max)))
}

#[pymethods]
impl Store {
    /// The store at `location`: a directory (the only one it will touch), or an
    /// `etcd://` / `etcds://` address where the package was built with etcd.
    #[staticmethod]
    #[pyo3(signature = (location, timeout, max_size=None, tls=None))]
    fn open(
        py: Python<'_>,
        location: &str,
        timeout: f64,
        max_size: Option<u64>,
        tls: Option<TlsPaths>,
    ) -> PyResult<Store> {
        if location.starts_with("etcd://") || location.starts_with("etcds://") {
            return etcd(py, location, timeout, max_size, tls);
        }
        let root = py.detach(|| Dir::open_ambient_dir(location, ambient_authority())).map_err(|e| {
            Failure::Store(confine_store::Error::Io {
                name: location.to_owned(),
                op: "open the store's directory",
                source: e,
            })
            .into_py(py)
        })?;
        let options = options(timeout, max_size, Options::default().max_document_size)?;
        Ok(Store { repository: Repository::new(root, options, Documents::default()) })
    }

    /// A store in memory, for tests: the same semantics, kept for the process's life.
    #[staticmethod]
    #[pyo3(signature = (timeout, max_size=None))]
    fn memory(timeout: f64, max_size: Option<u64>) -> PyResult<Store> {
        let options = options(timeout, max_size, Options::default().max_document_size)?;
        Ok(Store { repository: Repository::with_backend(Memory::new(), options, Documents::default()) })
    }

    /// The value at `key` of `document`, as JSON (the whole document for `""`). The key is
    /// refused before the document is read, as the CLI does.
    fn get(&self, py: Python<'_>, document: &str, key: &str) -> PyResult<String> {
        let path = service::parse_key(document, key).raise(py)?;
        let read = py.detach(|| self.repository.read(document)).raise(py)?;
        service::value_at(Format::of(document), document, &read.content, &path).raise(py)
    }

    /// Makes one change (`set`, `unset`, `incr`, `merge`) and returns its answer (the new
    /// value for `incr`, JSON).
    #[pyo3(signature = (document, op, key, value=None))]
    fn change(&self, py: Python<'_>, document: &str, op: &str, key: String, value: Option<String>) -> PyResult<String> {
        let value = value.unwrap_or_default();
        let change = match op {
            "set" => Change::Set { key, value },
            "unset" => Change::Unset { key },
            "incr" => Change::Incr { key, delta: value },
            "merge" => Change::Merge { key, patch: value },
            other => return Err(PyValueError::new_err(format!("no such change: {other:?}"))),
        };
        let answers = self.apply(py, document, vec![change])?;
        Ok(answers.into_iter().next().unwrap_or_default())
    }

    /// The document's text and revision.
    fn read(&self, py: Python<'_>, document: &str) -> PyResult<(String, String)> {
        let read = py.detach(|| self.repository.read(document)).raise(py)?;
        Ok((read.content, read.revision))
    }

    /// Compare-and-swap: writes `text` if the revision is `expected` (`None`: if there is
    /// no document). Returns the new revision.
    #[pyo3(signature = (document, text, expected))]
    fn save(&self, py: Python<'_>, document: &str, text: &str, expected: Option<&str>) -> PyResult<String> {
        py.detach(|| self.repository.save(document, text, expected)).raise(py)
    }

    /// The documents directly in `directory`.
    fn ls(&self, py: Python<'_>, directory: &str) -> PyResult<Vec<String>> {
        py.detach(|| self.repository.list(directory)).raise(py)
    }

    /// Removes the document under its lock.
    fn rm(&self, py: Python<'_>, document: &str) -> PyResult<()> {
        py.detach(|| self.repository.remove(document)).raise(py)
    }

    /// Whether the document's lock is held, by which process, since when (seconds since
    /// the epoch), and the lease that keeps it (etcd), without taking it.
    fn lock_status(&self, py: Python<'_>, document: &str) -> PyResult<Status> {
        let status = py.detach(|| self.repository.lock_status(document)).raise(py)?;
        let since = status.since.and_then(|at| at.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs_f64());
        let lease = status.lease.map(|lease| (lease.id, lease.granted.as_secs_f64(), lease.remaining.as_secs_f64()));
        Ok((status.held, status.holder, since, lease))
    }

    /// An exclusive session on the document, for `with store.update(...)`: waits up to
    /// `timeout` seconds (the store's lock timeout without it).
    #[pyo3(signature = (document, timeout=None))]
    fn update(&self, py: Python<'_>, document: &str, timeout: Option<f64>) -> PyResult<Update> {
        let timeout = timeout.map(seconds).transpose()?;
        let session = py.detach(|| self.repository.open_session(document, timeout)).raise(py)?;
        Update::new(py, session)
    }

    /// The document's states as they come.
    fn watch(&self, py: Python<'_>, document: &str) -> PyResult<Watch> {
        let watch = py.detach(|| self.repository.watch(document)).raise(py)?;
        Ok(Watch::new(watch))
    }
}

impl Store {
    /// Applies `changes` to `document` as one update, through group commit: each parsed
    /// before it waits for anything, then applied by the domain on the text as the store
    /// hands it (checked, or known), and written as a splice the store checks in its turn.
    fn apply(&self, py: Python<'_>, document: &str, changes: Vec<Change>) -> PyResult<Vec<String>> {
        let prepared = service::prepare_all(Format::of(document), document, changes).raise(py)?;
        let name = document.to_owned();
        let updated = py.detach(|| {
            self.repository.update_in_place(document, move |current| {
                let depth = current.map(Current::check).transpose()?.unwrap_or(0);
                let text = current.map(Current::text);
                let (splice, answers) = service::apply_prepared_to_checked(&name, text, depth, &prepared)?;
                let splice = Splice { range: splice.start..splice.end, text: splice.text };
                Ok::<_, Failure>((NewContent::Splice(splice), answers))
            })
        });
        match updated {
            Ok(Ok((_revision, answers))) => Ok(answers),
            Ok(Err(refused)) => Err(refused.into_py(py)),
            Err(e) => Err(Failure::Store(e).into_py(py)),
        }
    }
}

/// The value at `key` of `text`, the content of `document`, as JSON: for a watch of one
/// key, in the domain's key syntax.
#[pyfunction]
pub(crate) fn value_at(py: Python<'_>, document: &str, text: &str, key: &str) -> PyResult<String> {
    let path = service::parse_key(document, key).raise(py)?;
    service::value_at(Format::of(document), document, text, &path).raise(py)
}

#[cfg(feature = "etcd")]
fn etcd(py: Python<'_>, url: &str, timeout: f64, max_size: Option<u64>, tls: Option<TlsPaths>) -> PyResult<Store> {
    use confine_etcd::{Address, Etcd, EtcdOptions, TlsFiles};
    let address = Address::parse(url).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let defaults = EtcdOptions::default();
    let (ca_cert, client_cert, client_key) = tls.unwrap_or_default();
    let path = |file: Option<String>| file.map(std::path::PathBuf::from);
    let tls = TlsFiles { ca_cert: path(ca_cert), client_cert: path(client_cert), client_key: path(client_key) };
    let options = options(timeout, max_size, defaults.max_document_size)?;
    let etcd_options = EtcdOptions {
        request_timeout: options.lock_timeout,
        max_document_size: options.max_document_size,
        tls,
        ..defaults
    };
    let connected = py.detach(|| Etcd::connect(&address, etcd_options));
    let etcd = connected.map_err(|source| {
        let op = "connect to etcd";
        Failure::Store(confine_store::Error::Io { name: address.to_string(), op, source }).into_py(py)
    })?;
    Ok(Store { repository: Repository::with_backend(etcd, options, Documents::default()) })
}

#[cfg(not(feature = "etcd"))]
fn etcd(_py: Python<'_>, url: &str, _timeout: f64, _max_size: Option<u64>, _tls: Option<TlsPaths>) -> PyResult<Store> {
    Err(PyValueError::new_err(format!(
        "{url}: this build of confine has no etcd backend (build it with the feature `etcd`)"
    )))
}
