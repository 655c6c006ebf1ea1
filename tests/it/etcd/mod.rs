//! The etcd backend against real etcd servers (Debian's `etcd`, started by the tests on
//! free loopback ports): the store's conformance suite unchanged, the CLI and plugins on
//! etcd across processes and members, and the faults a cluster has: a leader killed under
//! writers, a session holder paused past its lease, a cluster that is down, documents over
//! the size limit.

mod certs;
mod server;

mod cli;
mod conformance;
mod faults;
mod lost_answers;
mod proxy;
mod tls;

use confine_etcd::{Address, Etcd, EtcdOptions};
use confine_store::{Options, Repository};

pub(crate) use certs::Certs;
pub(crate) use server::{Cluster, Tls};

/// A repository over the cluster (with its TLS files, if it speaks TLS), under `prefix`.
pub(crate) fn repository(cluster: &Cluster, prefix: &str, options: EtcdOptions) -> Repository {
    let address = Address::parse(&cluster.url(prefix)).expect("the cluster's address");
    Repository::with_backend(
        Etcd::connect(&address, cluster.options(options)).expect("connect"),
        Options::default(),
        confine::Documents::default(),
    )
}

/// `confine --store` on the cluster (with its TLS files, if it speaks TLS), under `prefix`.
pub(crate) fn confine(cluster: &Cluster, prefix: &str) -> std::process::Command {
    confine_at(&cluster.url(prefix), cluster.tls_args())
}

/// `confine --store STORE` with the TLS flags `tls` (a store of proxies, or a command for
/// another thread, which cannot borrow the cluster).
pub(crate) fn confine_at(
    store: &str,
    tls: impl IntoIterator<Item = impl AsRef<std::ffi::OsStr>>,
) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_confine"));
    command.arg("--store").arg(store).args(tls);
    command.env("CONFINE_CACHE_DIR", crate::support::cache_dir());
    command
}
