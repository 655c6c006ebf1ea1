//! The integration suites of confine, in one test binary (each suite a module): the CLI,
//! the embedder API, plugins and the domain guest, across threads and real processes,
//! with crashes, faults, power loss, hostile guests, names and documents. Each suite
//! records one line of what it tried (`support::figure`), which `make test` prints.
//!
//! Child processes that a suite spawns from this binary are `#[ignore]`d tests run only by
//! their parent (`--ignored --exact module::name`).

mod support;

mod bad_input;
mod batch;
mod cli_output;
mod components;
mod crashes;
mod cross_process;
mod docs;
mod embedding;
#[cfg(feature = "etcd")]
mod etcd;
mod examples;
mod faults;
mod group_commit;
mod hostile_guests;
mod hostile_input;
mod listing;
mod lockers;
mod multi_change;
mod planted_files;
mod plugins;
mod power_loss;
mod reads;
mod stress;
mod threads;
mod toml;
mod wasi_config;
mod wasi_keyvalue;
mod watch;
