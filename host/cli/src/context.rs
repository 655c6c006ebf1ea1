//! What commands run against (`Context`): the repository the command line chose, the
//! signal handler, and the wasm runtime, started on first use.

use std::cell::OnceCell;
use std::sync::Arc;

use confine::{Runtime, RuntimeOptions};
use confine_store::Repository;

use crate::args::{Cli, Command};
use crate::report::{Failure, status};
use crate::signal::{self, StopOnSignal};
use crate::{cache, store};

/// What commands run against: the repository over --dir, the signal handler, and the wasm
/// runtime, started on first use (lock-status, ls and rm never start it; a batch starts it
/// once).
pub(crate) struct Context {
    pub(crate) repository: Repository,
    pub(crate) stop: Arc<StopOnSignal>,
    pub(crate) runtime_options: RuntimeOptions,
    pub(crate) runtime: OnceCell<Runtime>,
    pub(crate) json: bool,
}

impl Context {
    pub(crate) fn open(cli: &Cli) -> Result<Context, Failure> {
        let stop = Arc::new(
            StopOnSignal::install()
                .map_err(|e| Failure::new(status::IO, "io", format!("cannot install signal handlers: {e}")))?,
        );
        let settings = store_settings(cli);
        store::refuse_tls_files_without_tls(cli.store.as_deref(), &settings)?;
        let repository = store::open(cli.store.as_deref(), &cli.dir, &settings, Some(stop.clone()))?;
        Ok(Context {
            repository,
            stop,
            runtime_options: runtime_options(cli),
            runtime: OnceCell::new(),
            json: cli.json,
        })
    }

    pub(crate) fn runtime(&self) -> Result<&Runtime, Failure> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime);
        }
        let runtime = start_runtime(self.runtime_options.clone())?;
        Ok(self.runtime.get_or_init(|| runtime))
    }

    /// `failure`, or, if a signal arrived, the interruption that caused it.
    pub(crate) fn stopped(&self, failure: Failure) -> Failure {
        match self.stop.received() {
            Some(signal) => Failure::new(
                u8::try_from(128 + signal).unwrap_or(u8::MAX),
                "interrupted",
                format!(
                    "stopped by {}; the change in progress was not made: {}",
                    signal::signal_name(signal),
                    failure.message
                ),
            ),
            None => failure,
        }
    }
}

/// Starts the wasm runtime (once per process), saying on stderr why the compiled-code cache
/// was not used if it was refused.
pub(crate) fn start_runtime(options: RuntimeOptions) -> Result<Runtime, Failure> {
    let runtime = Runtime::new(options)
        .map_err(|e| Failure::new(status::GUEST, "guest", format!("cannot start the wasm runtime: {e:#}")))?;
    if let Some(refusal) = runtime.cache_refusal() {
        eprintln!("confine: warning: {refusal}");
    }
    Ok(runtime)
}

/// What the command line says about any store it opens.
pub(crate) fn store_settings(cli: &Cli) -> store::Settings {
    store::Settings {
        timeout: cli.timeout,
        max_size: cli.max_size,
        format: cli.format.map(Into::into),
        lease_ttl: cli.lease_ttl,
        tls: store::TlsPaths {
            ca_cert: cli.etcd_cacert.clone(),
            client_cert: cli.etcd_cert.clone(),
            client_key: cli.etcd_key.clone(),
        },
    }
}

/// The wasm runtime's limits as the command line sets them. Only a batch calls the guest
/// again and again (a watch reads natively): a pool of instances pays off for it, while a
/// single command starts faster without one.
pub(crate) fn runtime_options(cli: &Cli) -> RuntimeOptions {
    RuntimeOptions {
        call_budget: cli.budget,
        memory_limit: cli.memory.saturating_mul(1 << 20),
        cache_dir: cache::default_cache_dir(),
        plugin_stdio: true,
        instance_pool: matches!(cli.command, Command::Batch),
        format: cli.format.map(Into::into),
    }
}
