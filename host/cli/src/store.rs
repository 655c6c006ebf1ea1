//! Where the documents are: a directory (`--dir`, the default) or a store named by
//! `--store` (`etcd://HOST:PORT[,HOST:PORT...]/PREFIX`, `etcds://` over TLS). Every command
//! runs on either the same way, over the same port.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine_store::{Filesystem, Options, Repository};

use crate::report::{Failure, status};
use crate::signal::StopOnSignal;

/// What the command line says about the store, beside its location.
pub(crate) struct Settings {
    /// How long to wait for a lock, and on etcd for any answer.
    pub(crate) timeout: Duration,
    /// `--max-size`, if given; else each backend's default.
    pub(crate) max_size: Option<u64>,
    /// `--format`, if given: every document's format, whatever its name.
    pub(crate) format: Option<confine::Format>,
    /// The lease of a session on etcd.
    #[cfg_attr(not(feature = "etcd"), allow(dead_code))]
    pub(crate) lease_ttl: Duration,
    /// `--etcd-cacert`, `--etcd-cert`, `--etcd-key`: used by every etcds:// store.
    pub(crate) tls: TlsPaths,
}

/// The TLS files the command line names.
#[cfg_attr(not(feature = "etcd"), allow(dead_code))]
pub(crate) struct TlsPaths {
    pub(crate) ca_cert: Option<PathBuf>,
    pub(crate) client_cert: Option<PathBuf>,
    pub(crate) client_key: Option<PathBuf>,
}

impl TlsPaths {
    fn named(&self) -> Vec<&'static str> {
        let flags = [
            (self.ca_cert.is_some(), "--etcd-cacert"),
            (self.client_cert.is_some(), "--etcd-cert"),
            (self.client_key.is_some(), "--etcd-key"),
        ];
        flags.into_iter().filter_map(|(given, flag)| given.then_some(flag)).collect()
    }
}

/// Refuses TLS files given for a plain-text `--store etcd://...`: whoever gives them
/// believes the connection is encrypted, and it would not be. (For a directory they are
/// unused, as they may come from the environment; `copy --to` uses them where it goes to
/// an etcds:// store.)
pub(crate) fn refuse_tls_files_without_tls(store: Option<&str>, settings: &Settings) -> Result<(), Failure> {
    let named = settings.tls.named();
    match store {
        Some(url) if url.starts_with("etcd://") && !named.is_empty() => Err(Failure::new(
            status::BAD_INPUT,
            "usage",
            format!(
                "{} (or CONFINE_ETCD_*) given for a plain-text store: use etcds:// to speak TLS to etcd",
                named.join(", ")
            ),
        )),
        _ => Ok(()),
    }
}

/// The documents' check: each in the format its name says, or all in `--format`'s.
fn documents(settings: &Settings) -> confine::Documents {
    confine::Documents { format: settings.format }
}

/// Opens the store at `store` (a URL), or else the directory `dir`.
pub(crate) fn open(
    store: Option<&str>,
    dir: &Path,
    settings: &Settings,
    stop: Option<Arc<StopOnSignal>>,
) -> Result<Repository, Failure> {
    let options = |backend_default: u64| {
        Options::default()
            .with_lock_timeout(settings.timeout)
            .with_max_document_size(settings.max_size.unwrap_or(backend_default))
    };
    match store {
        Some(url) if url.starts_with("etcd://") || url.starts_with("etcds://") => etcd(url, settings, options),
        Some(other) => Err(Failure::new(
            status::BAD_INPUT,
            "usage",
            format!(
                "{other:?} is not a store confine knows: use --dir DIR, or --store etcd://HOST:PORT/PREFIX \
                 (etcds:// for TLS)"
            ),
        )),
        None => {
            let root = Dir::open_ambient_dir(dir, ambient_authority()).map_err(|e| {
                let (code, kind) = if e.kind() == std::io::ErrorKind::NotFound {
                    (status::NOT_FOUND, "not-found")
                } else {
                    (status::IO, "io")
                };
                Failure::new(code, kind, format!("cannot open directory {}: {e}", dir.display()))
            })?;
            let filesystem = Filesystem::new(root);
            let filesystem = match stop {
                Some(stop) => filesystem.with_gate(stop),
                None => filesystem,
            };
            Ok(Repository::with_backend(filesystem, options(Options::default().max_document_size), documents(settings)))
        }
    }
}

#[cfg(feature = "etcd")]
fn etcd(url: &str, settings: &Settings, options: impl Fn(u64) -> Options) -> Result<Repository, Failure> {
    use confine_etcd::{Address, Etcd, EtcdOptions, TlsFiles};
    let address = Address::parse(url).map_err(|e| Failure::new(status::BAD_INPUT, "usage", e))?;
    let defaults = EtcdOptions::default();
    let tls = match address.tls {
        true => TlsFiles {
            ca_cert: settings.tls.ca_cert.clone(),
            client_cert: settings.tls.client_cert.clone(),
            client_key: settings.tls.client_key.clone(),
        },
        false => TlsFiles::default(),
    };
    let etcd_options = EtcdOptions {
        lease_ttl: settings.lease_ttl,
        request_timeout: settings.timeout,
        max_document_size: settings.max_size.unwrap_or(defaults.max_document_size),
        tls,
    };
    let etcd = Etcd::connect(&address, etcd_options)
        .map_err(|e| Failure::new(status::IO, "io", format!("cannot connect to {address}: {e}")))?;
    Ok(Repository::with_backend(etcd, options(defaults.max_document_size), documents(settings)))
}

#[cfg(not(feature = "etcd"))]
fn etcd(url: &str, _: &Settings, _: impl Fn(u64) -> Options) -> Result<Repository, Failure> {
    Err(Failure::new(
        status::BAD_INPUT,
        "usage",
        format!(
            "{url}: this confine was built without the etcd backend; build it with \
             `cargo build --release -p confine-cli --features etcd` (`make build` does)"
        ),
    ))
}
