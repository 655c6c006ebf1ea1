//! The runtime: wasmtime engines that run confine's domain guest and plugin components
//! against a [`Repository`]. The domain guest's instances come from a pooling allocator
//! on an engine of its own; plugins run on the default allocator.
//!
//! Each call gets a fresh store and instance (instantiation is cheap next to the two
//! fsyncs of a write, and nothing leaks from one call to the next: a pooled slot's memory
//! is reset before its next use), an empty WASI context
//! (no files, environment, network or clock beyond what WASI requires), a memory limit
//! and a wall-clock deadline enforced by epoch interruption. When a call traps, runs out of
//! time or memory, or returns an error, its store is dropped: every session it held is
//! dropped with it, which releases every lock and writes nothing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use wasmtime::component::{Linker, ResourceTable};
use wasmtime::error::Context;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits,
    StoreLimitsBuilder, Trap,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::binding::generated::exports::confine::config::config_service::{
    Applied, Change, Error as ServiceAnswer, Guest as ServiceExports,
};
use crate::binding::generated::{Domain, DomainPre};
use crate::binding::{ConfineCtx, ConfineView, add_to_linker};
use crate::cache::load_component;
use crate::repository::Repository;
use crate::service::{ServiceError, from_domain, to_service_error};
use confine_guest::service::Change as Edit;
use confine_guest::splice::Splice;

mod command;

pub use command::CommandError;

/// The domain guest, built from `guest/` by `make` and embedded in the binary.
const DOMAIN_GUEST: &[u8] = include_bytes!(env!("CONFINE_GUEST_WASM"));

/// How often the epoch advances; deadlines are counted in these ticks.
const TICK: Duration = Duration::from_millis(10);

mod plugin_bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "plugin",
        imports: { default: trappable },
        with: { "confine:config/config-repository": crate::binding::generated::confine::config::config_repository },
    });
}

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
}

impl Default for RuntimeOptions {
    /// A 10 s budget, 512 MiB of memory, no cache, plugin output shown.
    fn default() -> RuntimeOptions {
        RuntimeOptions {
            call_budget: Duration::from_secs(10),
            memory_limit: 512 << 20,
            cache_dir: None,
            plugin_stdio: true,
        }
    }
}

/// Runs the domain guest and plugins. Create one per process and reuse it: it holds the
/// compiled guest.
pub struct Runtime {
    core: Arc<Core>,
    _ticker: Ticker,
}

/// What a guest call needs, shared with the changes that group commit runs on another
/// caller's thread.
pub(crate) struct Core {
    /// Plugins' and commands' engine (default allocator), and its linker.
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<StoreState>,
    /// The domain guest's engine (pooling allocator), and the guest linked on it.
    domain_engine: Engine,
    domain: DomainPre<StoreState>,
    /// The pool's instance slots: a domain call waits for one rather than fail.
    slots: Slots,
    pub(crate) options: RuntimeOptions,
}

/// How many domain guest instances a runtime runs at once; more calls wait for a slot.
const DOMAIN_SLOTS: u32 = 64;

/// The low bytes of a domain instance's linear memory that stay resident between calls:
/// its 1 MiB stack, its data and the start of its heap.
const KEEP_RESIDENT: usize = 2 << 20;

/// The domain guest's pool: [`DOMAIN_SLOTS`] instances, each with linear memory up to the
/// runtime's memory limit. A slot is only address space until an instance uses it.
fn domain_pool(options: &RuntimeOptions) -> PoolingAllocationConfig {
    // A wasm32-wasip2 component of Rust instantiates a few core modules, each with at most
    // one memory and one table.
    const CORE_MODULES: u32 = 8;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(DOMAIN_SLOTS)
        .total_core_instances(DOMAIN_SLOTS * CORE_MODULES)
        .total_memories(DOMAIN_SLOTS * CORE_MODULES)
        .total_tables(DOMAIN_SLOTS * CORE_MODULES)
        .total_stacks(DOMAIN_SLOTS)
        .max_memory_size(options.memory_limit);
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        // Reset a slot by finding the pages a call dirtied (PAGEMAP_SCAN, Linux 6.7+) and
        // zeroing those with memset, keeping them mapped: no madvise, whose TLB shootdown
        // interrupts every core, and no page faults on the next call. Pages past this many
        // bytes (a large document's) are still given back to the system.
        pool.pagemap_scan(Enabled::Yes).linear_memory_keep_resident(KEEP_RESIDENT).table_keep_resident(64 << 10);
    }
    pool
}

fn linker_on(engine: &Engine) -> wasmtime::Result<Linker<StoreState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).context("link WASI")?;
    add_to_linker(&mut linker, |s: &mut StoreState| ConfineView { ctx: &mut s.confine, table: &mut s.table })
        .context("link config-repository")?;
    Ok(linker)
}

/// A counting semaphore over the pool's slots.
struct Slots {
    free: Mutex<u32>,
    freed: Condvar,
}

impl Slots {
    fn new(count: u32) -> Slots {
        Slots { free: Mutex::new(count), freed: Condvar::new() }
    }

    /// Waits for a free slot; it is given back when the guard drops.
    fn take(&self) -> SlotGuard<'_> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        SlotGuard(self)
    }
}

struct SlotGuard<'a>(&'a Slots);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.0.freed.notify_one();
    }
}

/// Why a plugin run failed.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The component could not be loaded, or is not a confine plugin.
    #[error("cannot load the plugin: {0:#}")]
    Load(wasmtime::Error),
    /// The plugin trapped, ran out of time or memory.
    #[error("the plugin failed: {0}")]
    Trap(String),
    /// The plugin's `run` returned an error.
    #[error("the plugin reported: {0}")]
    Reported(String),
}

pub(crate) struct StoreState {
    wasi: WasiCtx,
    table: ResourceTable,
    confine: ConfineCtx,
    limits: StoreLimits,
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl Runtime {
    /// Builds the engine and loads the domain guest (from the cache when possible).
    ///
    /// # Errors
    /// If the engine cannot be configured or the guest does not load.
    pub fn new(options: RuntimeOptions) -> wasmtime::Result<Runtime> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).context("configure the wasm engine")?;
        let linker = linker_on(&engine)?;
        // The domain guest gets an engine of its own with a pooling allocator: its
        // instances come from slots reserved once, instead of a fresh mapping of linear
        // memory per call (and the unmapping, which interrupts every core). Plugins stay
        // on the default allocator, so that no pool limit constrains what they may be.
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(domain_pool(&options)));
        let domain_engine = Engine::new(&config).context("configure the domain guest's engine")?;
        let component = load_component(&domain_engine, DOMAIN_GUEST, options.cache_dir.as_deref())
            .context("load the domain guest")?;
        let domain =
            DomainPre::new(linker_on(&domain_engine)?.instantiate_pre(&component).context("link the domain guest")?)
                .context("check the domain guest's exports")?;
        let ticker = Ticker::start(&[&engine, &domain_engine]);
        let core = Core { engine, linker, domain_engine, domain, slots: Slots::new(DOMAIN_SLOTS), options };
        Ok(Runtime { core: Arc::new(core), _ticker: ticker })
    }

    /// The value at `key` of `document`, as compact JSON. See the WIT `config-service`.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn get(&self, repository: &Repository, document: &str, key: &str) -> Result<String, ServiceError> {
        self.core.call(repository, |svc, store| svc.call_get(store, document, key))
    }

    /// Sets `key` of `document` to the JSON `value`.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn set(&self, repository: &Repository, document: &str, key: &str, value: &str) -> Result<(), ServiceError> {
        self.change(repository, document, Edit::Set { key: key.into(), value: value.into() }).map(drop)
    }

    /// Removes `key` of `document`.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn unset(&self, repository: &Repository, document: &str, key: &str) -> Result<(), ServiceError> {
        self.change(repository, document, Edit::Unset { key: key.into() }).map(drop)
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
        self.change(repository, document, Edit::Incr { key: key.into(), delta: delta.into() })
    }

    /// Applies the JSON Merge Patch `patch` at `key` of `document`.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn merge(&self, repository: &Repository, document: &str, key: &str, patch: &str) -> Result<(), ServiceError> {
        self.change(repository, document, Edit::Merge { key: key.into(), patch: patch.into() }).map(drop)
    }

    /// The whole `document`, pretty-printed.
    ///
    /// # Errors
    /// See [`ServiceError`].
    pub fn cat(&self, repository: &Repository, document: &str) -> Result<String, ServiceError> {
        self.core.call(repository, |svc, store| svc.call_cat(store, document))
    }

    /// A change with group commit ([`Repository::update`]): the guest's pure `apply` runs on
    /// the document's current text inside the batch that writes it, so that concurrent
    /// changes of this process share lock holds and fsyncs. Returns the change's answer.
    /// A change whose key or JSON does not parse is refused first, natively with the
    /// guest's own code, before anything is queued or locked.
    fn change(&self, repository: &Repository, document: &str, edit: Edit) -> Result<String, ServiceError> {
        confine_guest::service::check(document, &edit).map_err(from_domain)?;
        let change = match edit {
            Edit::Set { key, value } => Change::Set((key, value)),
            Edit::Unset { key } => Change::Unset(key),
            Edit::Incr { key, delta } => Change::Incr((key, delta)),
            Edit::Merge { key, patch } => Change::Merge((key, patch)),
        };
        let (core, granted, name) = (Arc::clone(&self.core), repository.clone(), document.to_owned());
        let answer = Arc::new(Mutex::new(String::new()));
        let slot = Arc::clone(&answer);
        let updated = repository.update(document, move |current| {
            let applied = core.call(&granted, |svc, store| svc.call_apply(store, &name, current, &change))?;
            let (content, answer) = splice_into(current, applied)?;
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = answer;
            Ok(content)
        });
        match updated {
            Ok(Ok(_revision)) => Ok(std::mem::take(&mut *answer.lock().unwrap_or_else(PoisonError::into_inner))),
            Ok(Err(refused)) => Err(refused),
            Err(e) => Err(ServiceError::from(e)),
        }
    }

    /// Runs a plugin component (world `plugin`) with `args`, granting it `repository` and
    /// nothing else.
    ///
    /// # Errors
    /// See [`PluginError`].
    pub fn run_plugin(&self, repository: &Repository, wasm: &[u8], args: &[String]) -> Result<(), PluginError> {
        let component = load_component(&self.core.engine, wasm, self.core.options.cache_dir.as_deref())
            .map_err(PluginError::Load)?;
        let mut store = self.core.store(repository, self.core.options.plugin_stdio);
        let plugin = plugin_bindings::Plugin::instantiate(&mut store, &component, &self.core.linker)
            .context("instantiate (is it built for the `plugin` world of wit/confine.wit?)")
            .map_err(PluginError::Load)?;
        match plugin.call_run(&mut store, args) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(PluginError::Reported(message)),
            Err(trap) => Err(PluginError::Trap(describe_failure(&trap, &self.core.options))),
        }
    }
}

impl Core {
    pub(crate) fn call<T>(
        &self,
        repository: &Repository,
        f: impl FnOnce(&ServiceExports, &mut Store<StoreState>) -> wasmtime::Result<Result<T, ServiceAnswer>>,
    ) -> Result<T, ServiceError> {
        let _slot = self.slots.take();
        let mut store = self.store_on(&self.domain_engine, repository, false);
        let domain: Domain = self
            .domain
            .instantiate(&mut store)
            .map_err(|e| ServiceError::Guest(format!("cannot instantiate: {e:#}")))?;
        match f(domain.confine_config_config_service(), &mut store) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(to_service_error(e)),
            Err(trap) => Err(ServiceError::Guest(describe_failure(&trap, &self.options))),
        }
    }

    /// A store for a plugin or command.
    pub(crate) fn store(&self, repository: &Repository, stdio: bool) -> Store<StoreState> {
        self.store_on(&self.engine, repository, stdio)
    }

    fn store_on(&self, engine: &Engine, repository: &Repository, stdio: bool) -> Store<StoreState> {
        let mut wasi = WasiCtx::builder();
        if stdio {
            wasi.inherit_stdout().inherit_stderr();
        }
        let deadline = repository.options().lock_timeout + self.options.call_budget;
        let state = StoreState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            confine: ConfineCtx::new(repository.clone()).with_deadline(Instant::now() + deadline),
            limits: StoreLimitsBuilder::new()
                .memory_size(self.options.memory_limit)
                .instances(16)
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline((deadline.as_millis() / TICK.as_millis()).max(1) as u64);
        store.epoch_deadline_trap();
        store
    }
}

/// The new content that the guest's splice makes of `current`, and the change's answer.
/// The host checks that the splice fits: the guest is trusted with the document's rules
/// (which the host checks again on the result), not with the host's memory.
fn splice_into(current: Option<&str>, applied: Applied) -> Result<(String, String), ServiceError> {
    let text = current.unwrap_or_default();
    let (start, end) = (applied.start, applied.end);
    let splice = usize::try_from(start).ok().zip(usize::try_from(end).ok()).map(|(start, end)| Splice {
        start,
        end,
        text: applied.text,
    });
    match splice.and_then(|splice| splice.apply_to(text)) {
        Some(content) => Ok((content, applied.answer)),
        None => Err(ServiceError::Guest(format!(
            "it answered with the bytes {start}..{end} of a text of {} bytes, which do not fit it",
            text.len()
        ))),
    }
}

/// One line on why a guest call failed: the trap's cause without the wasm backtrace.
fn describe_failure(e: &wasmtime::Error, options: &RuntimeOptions) -> String {
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => {
            format!("it ran past its deadline (lock timeout + {:?} budget) and was stopped", options.call_budget)
        }
        Some(Trap::UnreachableCodeReached) => "it trapped (panicked or aborted)".to_owned(),
        Some(trap) => format!("it trapped: {trap}"),
        None if format!("{e:#}").contains("growing memory") => {
            format!("it tried to grow its memory past the limit of {} bytes", options.memory_limit)
        }
        None => format!("{e:#}"),
    }
}

/// Advances the engine's epoch every [`TICK`] until the runtime is dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    fn start(engines: &[&Engine]) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, weak) = (Arc::clone(&stop), engines.iter().map(|e| e.weak()).collect::<Vec<_>>());
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                for engine in &weak {
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => return,
                    }
                }
            }
        });
        Ticker { stop }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
#[path = "tests/runtime.rs"]
mod tests;
