//! The store's conformance suite, unchanged, over etcd: each check on its own
//! single-member cluster, which the check's store keeps alive and then stops; and again
//! over `etcds://`, with a client certificate the cluster requires.

use std::sync::Mutex;

use confine_etcd::EtcdOptions;
use confine_store::conformance::Fresh;

use super::{Cluster, repository};
use crate::support::add_to_figure;

#[derive(Default)]
struct Totals {
    promises: u64,
    operations: u64,
}

static TOTALS: Mutex<Totals> = Mutex::new(Totals { promises: 0, operations: 0 });
static TLS_TOTALS: Mutex<Totals> = Mutex::new(Totals { promises: 0, operations: 0 });

fn fresh() -> Fresh {
    let cluster = Cluster::start(1);
    // The suite's 16 MiB documents are over etcd's own limit: its limit promise is checked
    // with the smaller limits it sets itself.
    let repository = repository(&cluster, "conformance", EtcdOptions::default());
    Fresh::new(repository).keeping(cluster)
}

fn record(_promise: &str, operations: u64) {
    tally("conformance-etcd", &TOTALS, "", operations);
}

/// Adds a promise held and its operations to the figure `name`.
fn tally(name: &str, totals: &Mutex<Totals>, over: &str, operations: u64) {
    add_to_figure(name, totals, |totals| {
        totals.promises += 1;
        totals.operations += operations;
        format!(
            "{} promises held{over}, {} port operations (CAS, sessions across 8 threads, group commit, names, limits, listing, watch)",
            totals.promises, totals.operations
        )
    });
}

confine_store::conformance_suite!(fresh, record);

mod over_tls {
    use super::super::certs::Certs;
    use super::super::faults::tls_cluster;
    use super::{EtcdOptions, Fresh, TLS_TOTALS, repository, tally};

    fn fresh() -> Fresh {
        let certs = Certs::make();
        let cluster = tls_cluster(1, &certs);
        let repository = repository(&cluster, "conformance", EtcdOptions::default());
        // Dropped in this order: the member, then its certificates.
        Fresh::new(repository).keeping((cluster, certs))
    }

    fn record(_promise: &str, operations: u64) {
        tally("conformance-etcds", &TLS_TOTALS, " over etcds:// with a client certificate", operations);
    }

    confine_store::conformance_suite!(fresh, record);
}
