//! The state of one guest or plugin call's store: an empty WASI context (no files,
//! environment or network; stdout and stderr only where allowed), the port over the
//! repository granted, a memory limit, and a deadline of the lock timeout plus the call
//! budget, enforced by epoch interruption and, for lock waits, by the port itself.

use std::time::Instant;

use confine_store::Repository;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::RuntimeOptions;
use super::ticker::TICK;
use crate::port_host::ConfineCtx;

pub(crate) struct StoreState {
    wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) confine: ConfineCtx,
    limits: MemoryLimit,
}

impl StoreState {
    /// Whether the call was refused memory past its limit (then that is why it failed).
    pub(super) fn memory_refused(&self) -> bool {
        self.limits.refused()
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// A fresh store on `engine` granting `repository`, within `options`' limits.
pub(super) fn store_on(
    engine: &Engine,
    repository: &Repository,
    options: &RuntimeOptions,
    stdio: bool,
) -> Store<StoreState> {
    let mut wasi = WasiCtx::builder();
    if stdio {
        wasi.inherit_stdout().inherit_stderr();
    }
    let deadline = repository.options().lock_timeout + options.call_budget;
    let state = StoreState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        confine: ConfineCtx::new(repository.clone()).with_deadline(Instant::now() + deadline),
        limits: MemoryLimit::new(options),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(ticks(deadline));
    store.epoch_deadline_trap();
    store
}

/// The memory limits of one call's store (plugins', the guest's and commands' alike),
/// which remember whether they refused a growth: a failure is known to be the limit's by
/// this record, not by the words of wasmtime's error.
pub(crate) struct MemoryLimit {
    limits: StoreLimits,
    limit: usize,
    refused: bool,
}

impl MemoryLimit {
    pub(super) fn new(options: &RuntimeOptions) -> MemoryLimit {
        let limits = StoreLimitsBuilder::new()
            .memory_size(options.memory_limit)
            .instances(16)
            .trap_on_grow_failure(true)
            .build();
        MemoryLimit { limits, limit: options.memory_limit, refused: false }
    }

    /// Whether a memory was refused growth past the limit.
    pub(super) fn refused(&self) -> bool {
        self.refused
    }
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.refused |= desired > self.limit;
        self.limits.memory_growing(current, desired, maximum)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// A deadline in epoch ticks (at least one).
pub(super) fn ticks(deadline: std::time::Duration) -> u64 {
    (deadline.as_millis() / TICK.as_millis()).max(1) as u64
}
