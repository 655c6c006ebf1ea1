//! Where the documents are: a directory (`--dir`, the default) or a store named by
//! `--store` (`etcd://HOST:PORT[,HOST:PORT...]/PREFIX`). Every command runs on either the
//! same way, over the same port.

use std::path::Path;
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
    /// The lease of a session on etcd.
    #[cfg_attr(not(feature = "etcd"), allow(dead_code))]
    pub(crate) lease_ttl: Duration,
}

/// Opens the store at `store` (a URL), or else the directory `dir`.
pub(crate) fn open(
    store: Option<&str>,
    dir: &Path,
    settings: &Settings,
    stop: Option<Arc<StopOnSignal>>,
) -> Result<Repository, Failure> {
    let options = |backend_default: u64| Options {
        lock_timeout: settings.timeout,
        max_document_size: settings.max_size.unwrap_or(backend_default),
    };
    match store {
        Some(url) if url.starts_with("etcd://") => etcd(url, settings, options),
        Some(other) => Err(Failure::new(
            status::BAD_INPUT,
            "usage",
            format!("{other:?} is not a store confine knows: use --dir DIR, or --store etcd://HOST:PORT/PREFIX"),
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
            Ok(Repository::with_backend(filesystem, options(Options::default().max_document_size)))
        }
    }
}

#[cfg(feature = "etcd")]
fn etcd(url: &str, settings: &Settings, options: impl Fn(u64) -> Options) -> Result<Repository, Failure> {
    use confine_etcd::{Address, Etcd, EtcdOptions};
    let address = Address::parse(url).map_err(|e| Failure::new(status::BAD_INPUT, "usage", e))?;
    let defaults = EtcdOptions::default();
    let etcd_options = EtcdOptions {
        lease_ttl: settings.lease_ttl,
        request_timeout: settings.timeout,
        max_document_size: settings.max_size.unwrap_or(defaults.max_document_size),
    };
    let etcd = Etcd::connect(&address, etcd_options)
        .map_err(|e| Failure::new(status::IO, "io", format!("cannot connect to {address}: {e}")))?;
    Ok(Repository::with_backend(etcd, options(defaults.max_document_size)))
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
