//! The runtime's two engines: one with wasmtime's default allocator for plugins and
//! commands, and one with a pooling allocator for the domain guest, whose instances then
//! come from slots reserved once instead of a fresh mapping of linear memory per call (and
//! the unmapping, which interrupts every core). Plugins stay on the default allocator, so
//! that no pool limit constrains what they may be.

use wasmtime::component::Linker;
use wasmtime::error::Context;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::RuntimeOptions;
use super::state::StoreState;
use crate::port_host::{ConfineView, add_to_linker};

/// How many domain guest instances a runtime runs at once; more calls wait for a slot.
pub(super) const DOMAIN_SLOTS: u32 = 64;

/// The low bytes of a domain instance's linear memory that stay resident between calls:
/// its 1 MiB stack, its data and the start of its heap.
const KEEP_RESIDENT: usize = 2 << 20;

/// The plugins' engine and the domain guest's, both with epoch interruption: one engine
/// for both without a pool (a one-call process configures one engine, not two).
pub(super) fn engines(options: &RuntimeOptions) -> wasmtime::Result<(Engine, Engine)> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config).context("configure the wasm engine")?;
    if !options.instance_pool {
        return Ok((engine.clone(), engine));
    }
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(domain_pool(options)));
    let domain_engine = Engine::new(&config).context("configure the domain guest's engine")?;
    Ok((engine, domain_engine))
}

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

/// WASI 0.2 (each store's context decides what is reachable) and the port.
pub(super) fn linker_on(engine: &Engine) -> wasmtime::Result<Linker<StoreState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).context("link WASI")?;
    add_to_linker(&mut linker, |s: &mut StoreState| ConfineView { ctx: &mut s.confine, table: &mut s.table })
        .context("link config-repository")?;
    Ok(linker)
}
