//! The runtime: wasmtime engines that run confine's domain guest and plugin components
//! against a [`Repository`].
//!
//! Each call gets a fresh store and instance (instantiation is cheap next to the two
//! fsyncs of a write, and nothing leaks from one call to the next: a pooled slot's memory
//! is reset before its next use), an empty WASI context (no files, environment, network or
//! clock beyond what WASI requires), a memory limit and a wall-clock deadline enforced by
//! epoch interruption. When a call traps, runs out of time or memory, or returns an error,
//! its store is dropped: every session it held is dropped with it, which releases every
//! lock and writes nothing.
//!
//! - `engine`: the two engines (the domain guest's pooling allocator) and the linker;
//! - `state`: one call's store and its limits; `slots`: the pool's slots; `ticker`: epochs;
//! - `change`: changes through the guest with group commit; `command`: `wasi:cli` commands;
//! - `failure`: how a call failed, in one line.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use confine_domain::service::Change;
use confine_store::Repository;
use wasmtime::component::Linker;
use wasmtime::error::Context;
use wasmtime::{Engine, Store};

use crate::cache::{self, load_component};
use crate::errors::ServiceError;
use crate::generated::service::Guest as ServiceExports;
use crate::generated::sync::plugin::Plugin;
use crate::generated::sync::{Domain, DomainPre};

mod change;
mod command;
mod engine;
mod failure;
mod slots;
mod state;
mod ticker;

pub use command::{CommandError, CommandImports};
pub use failure::PluginError;
use failure::describe_failure;
use slots::{SlotGuard, Slots};
use state::{StoreState, store_on, ticks};
use ticker::Ticker;

/// The domain guest, built from `guest/component` by `make` and embedded in the binary.
const DOMAIN_GUEST: &[u8] = include_bytes!(env!("CONFINE_GUEST_WASM"));

/// The digest of [`DOMAIN_GUEST`] that keys its cache entry, computed by the build script
/// so that a start does not hash the guest again.
const GUEST_DIGEST: &str = env!("CONFINE_GUEST_DIGEST");

/// Limits and settings of a [`Runtime`].
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Time a guest call may run beyond the repository's lock timeout (which bounds each
    /// wait for a lock inside it) before it is interrupted.
    pub call_budget: Duration,
    /// The most linear memory, in bytes, one guest instance may grow to.
    pub memory_limit: usize,
    /// Where compiled components are cached; `None` compiles on every start.
    pub cache_dir: Option<PathBuf>,
    /// Whether plugins may write to the process's stdout and stderr.
    pub plugin_stdio: bool,
    /// Whether the domain guest's instances come from a pool reserved when the runtime
    /// starts, so that each call costs less (a long-running host, a batch, group commit),
    /// or are allocated per call on the plugins' engine, so that the runtime starts faster
    /// (a process that makes one call). The limits are the same either way.
    pub instance_pool: bool,
    /// The format of every document the domain guest serves, if not the one its name says
    /// (`.toml` is TOML, anything else JSON): a command's `--format`. Give the repository
    /// the same ([`crate::Documents::all`]), so that it checks what it writes alike.
    pub format: Option<crate::Format>,
}

impl Default for RuntimeOptions {
    /// A 10 s budget, 512 MiB of memory, no cache, plugin output shown, pooled instances.
    fn default() -> RuntimeOptions {
        RuntimeOptions {
            call_budget: Duration::from_secs(10),
            memory_limit: 512 << 20,
            cache_dir: None,
            plugin_stdio: true,
            instance_pool: true,
            format: None,
        }
    }
}

/// Runs the domain guest and plugins. Create one per process and reuse it: it holds the
/// compiled guest.
pub struct Runtime {
    core: Arc<Core>,
    /// Why [`RuntimeOptions::cache_dir`] was not used, if it was refused.
    cache_refusal: Option<String>,
    _ticker: Ticker,
}

/// What a guest call needs, shared with the changes that group commit runs on another
/// caller's thread.
struct Core {
    /// Plugins' and commands' engine (default allocator), and its linker, made on the first
    /// plugin run (a process that only calls the guest never needs it).
    engine: Engine,
    linker: OnceLock<Linker<StoreState>>,
    /// The domain guest's engine (pooling allocator, or the plugins' engine without
    /// [`RuntimeOptions::instance_pool`]), and the guest linked on it.
    domain_engine: Engine,
    domain: DomainPre<StoreState>,
    /// The pool's instance slots: a domain call waits for one rather than fail.
    slots: Arc<Slots>,
    options: RuntimeOptions,
}

impl Runtime {
    /// Builds the engines and loads the domain guest (from the cache when possible).
    ///
    /// # Errors
    /// If an engine cannot be configured or the guest does not load.
    pub fn new(options: RuntimeOptions) -> wasmtime::Result<Runtime> {
        let (engine, domain_engine) = engine::engines(&options)?;
        let cache::Loaded { component, refusal: cache_refusal } =
            cache::load(&domain_engine, DOMAIN_GUEST, Some(GUEST_DIGEST), options.cache_dir.as_deref())
                .context("load the domain guest")?;
        let domain = DomainPre::new(
            engine::linker_on(&domain_engine)?.instantiate_pre(&component).context("link the domain guest")?,
        )
        .context("check the domain guest's exports")?;
        let ticker = Ticker::start(&[&engine, &domain_engine]);
        let slots = Arc::new(Slots::new(engine::DOMAIN_SLOTS));
        let core = Core { engine, linker: OnceLock::new(), domain_engine, domain, slots, options };
        Ok(Runtime { core: Arc::new(core), cache_refusal, _ticker: ticker })
    }

    /// Why the compiled-code cache ([`RuntimeOptions::cache_dir`]) was not used, if it was
    /// refused: a directory that another user owns or may write into, where code that
    /// this process would run could have been planted. Components are then compiled in
    /// memory, and nothing is read from or written to that directory. A sentence to show
    /// the user once; the library does not print it. `None` when the cache is used, and
    /// when there is none or it cannot be made (which only costs a compile).
    pub fn cache_refusal(&self) -> Option<&str> {
        self.cache_refusal.as_deref()
    }

    /// The value at `key` of `document`, as compact JSON. See the WIT `config-service`.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn get(&self, repository: &Repository, document: &str, key: &str) -> Result<String, ServiceError> {
        let format = self.core.options.format.map(change::wit_format);
        self.core.call(repository, |svc, store| svc.call_get(store, document, key, format))
    }

    /// Sets `key` of `document` to the JSON `value`, creating the document and missing
    /// parents.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn set(&self, repository: &Repository, document: &str, key: &str, value: &str) -> Result<(), ServiceError> {
        self.change(repository, document, Change::Set { key: key.into(), value: value.into() }).map(drop)
    }

    /// Removes `key` of `document`.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn unset(&self, repository: &Repository, document: &str, key: &str) -> Result<(), ServiceError> {
        self.change(repository, document, Change::Unset { key: key.into() }).map(drop)
    }

    /// Adds the JSON number `delta` to `key` of `document`; returns the new value.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn incr(
        &self,
        repository: &Repository,
        document: &str,
        key: &str,
        delta: &str,
    ) -> Result<String, ServiceError> {
        self.change(repository, document, Change::Incr { key: key.into(), delta: delta.into() })
    }

    /// Applies the JSON Merge Patch `patch` at `key` of `document`.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn merge(&self, repository: &Repository, document: &str, key: &str, patch: &str) -> Result<(), ServiceError> {
        self.change(repository, document, Change::Merge { key: key.into(), patch: patch.into() }).map(drop)
    }

    /// The whole `document`: JSON pretty-printed, TOML as it is written.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn cat(&self, repository: &Repository, document: &str) -> Result<String, ServiceError> {
        let format = self.core.options.format.map(change::wit_format);
        self.core.call(repository, |svc, store| svc.call_cat(store, document, format))
    }

    /// Runs a plugin component (world `plugin`) with `args`, granting it `repository` and
    /// nothing else.
    ///
    /// # Errors
    /// See [`PluginError`].
    pub fn run_plugin(&self, repository: &Repository, wasm: &[u8], args: &[String]) -> Result<(), PluginError> {
        let core = &self.core;
        let component =
            load_component(&core.engine, wasm, None, core.options.cache_dir.as_deref()).map_err(PluginError::Load)?;
        let mut store = store_on(&core.engine, repository, &core.options, core.options.plugin_stdio);
        let plugin = Plugin::instantiate(&mut store, &component, core.plugin_linker().map_err(PluginError::Load)?)
            .context("instantiate (is it built for the `plugin` world of wit/confine.wit?)")
            .map_err(PluginError::Load)?;
        match plugin.call_run(&mut store, args) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(PluginError::Reported(message)),
            Err(trap) => Err(PluginError::Trap(describe_failure(&trap, &core.options, store.data().memory_refused()))),
        }
    }
}

impl Core {
    /// The plugins' linker, made on first use.
    fn plugin_linker(&self) -> wasmtime::Result<&Linker<StoreState>> {
        if let Some(linker) = self.linker.get() {
            return Ok(linker);
        }
        let linker = engine::linker_on(&self.engine)?;
        Ok(self.linker.get_or_init(|| linker))
    }

    /// One call of the domain guest, in a fresh (pooled) instance.
    fn call<T, E>(
        self: &Arc<Self>,
        repository: &Repository,
        f: impl FnOnce(&ServiceExports, &mut Store<StoreState>) -> wasmtime::Result<Result<T, E>>,
    ) -> Result<T, ServiceError>
    where
        ServiceError: From<E>,
    {
        self.instantiate(repository)?.call(f)
    }

    /// A fresh (pooled) instance of the domain guest, once a slot is free.
    fn instantiate(self: &Arc<Self>, repository: &Repository) -> Result<DomainInstance, ServiceError> {
        let slot = self.slots.take();
        let mut store = store_on(&self.domain_engine, repository, &self.options, false);
        let domain: Domain = self
            .domain
            .instantiate(&mut store)
            .map_err(|e| ServiceError::Guest(format!("cannot instantiate: {e:#}")))?;
        let deadline = ticks(repository.options().lock_timeout + self.options.call_budget);
        Ok(DomainInstance { store, domain, deadline, core: Arc::clone(self), _slot: slot })
    }
}

/// An instance of the domain guest and its store, for the calls of one operation (a
/// change may be run twice, on etcd: see `Repository::update`). Made before the change is
/// queued, so that its slot and its start-up are never waited for under a document's lock.
struct DomainInstance {
    // Field order: the store, and the pool's instance in it, go before the slot is given
    // back, so that whoever takes the slot finds an instance free.
    store: Store<StoreState>,
    domain: Domain,
    /// The deadline of each call, in epoch ticks from its start (as `store_on` sets it
    /// for a store made at once), so that the wait for the lock is not taken from it.
    deadline: u64,
    /// The runtime, whose options say why a call failed.
    core: Arc<Core>,
    _slot: SlotGuard,
}

impl DomainInstance {
    /// Calls `f` on the guest's exports; a trap is described as the runtime's options
    /// explain it. After a trap the instance is not called again: the operation fails.
    fn call<T, E>(
        &mut self,
        f: impl FnOnce(&ServiceExports, &mut Store<StoreState>) -> wasmtime::Result<Result<T, E>>,
    ) -> Result<T, ServiceError>
    where
        ServiceError: From<E>,
    {
        self.store.set_epoch_deadline(self.deadline);
        match f(self.domain.confine_config_config_service(), &mut self.store) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(ServiceError::from(e)),
            Err(trap) => {
                let memory_refused = self.store.data().memory_refused();
                Err(ServiceError::Guest(describe_failure(&trap, &self.core.options, memory_refused)))
            }
        }
    }
}
