//! Standard `wasi:cli/command` components: `confine run` runs their `main` with
//! `wasi:config/store` over one document and `wasi:keyvalue` over the documents granted,
//! and nothing else.
//!
//! A command's WASI context has its arguments, the process's stdout and stderr (when
//! [`RuntimeOptions::plugin_stdio`] allows), and nothing more: stdin is closed, there is no
//! preopened directory and no environment variable, TCP, UDP and name lookups are refused,
//! and no socket address is allowed. It gets no `config-repository`; it changes documents
//! only through `wasi:keyvalue`, and only when [`CommandImports`] grants a repository. It
//! runs under the memory limit of a plugin and a deadline of the call budget, plus the
//! repository's lock timeout when `wasi:keyvalue` is granted (its writes wait for locks).

use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::error::Context;
use wasmtime::{Engine, Store, Trap};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::{I32Exit, WasiCtx, WasiCtxView, WasiView};

use super::failure::describe_failure;
use super::state::{MemoryLimit, ticks};
use super::{Runtime, RuntimeOptions};
use crate::cache::load_component;
use crate::wasi_config::{WasiConfigCtx, WasiConfigView, add_wasi_config_to_linker};
use crate::wasi_keyvalue::{WasiKeyValueCtx, WasiKeyValueView, add_wasi_keyvalue_to_linker};

/// What a command's standard imports answer from: `wasi:config/store` and `wasi:keyvalue`.
pub struct CommandImports {
    /// `wasi:config/store` ([`WasiConfigCtx::empty`] for none).
    pub config: WasiConfigCtx,
    /// `wasi:keyvalue` ([`WasiKeyValueCtx::none`] for none).
    pub keyvalue: WasiKeyValueCtx,
}

/// `wasi:config/store` from `config`, and no `wasi:keyvalue` store.
impl From<WasiConfigCtx> for CommandImports {
    fn from(config: WasiConfigCtx) -> CommandImports {
        CommandImports { config, keyvalue: WasiKeyValueCtx::none() }
    }
}

/// Why [`Runtime::run_command`] did not run a command to its end.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The bytes are not a command: not a component this engine compiles, or a component
    /// that exports no `wasi:cli/run` (a plugin, say). The text says which.
    #[error("not a wasi:cli command: {0}")]
    NotACommand(String),
    /// The command could not be instantiated, e.g. it imports an interface confine does
    /// not provide.
    #[error("cannot load the command: {0:#}")]
    Load(wasmtime::Error),
    /// The command trapped, ran out of time or memory.
    #[error("the command failed: {0}")]
    Trap(String),
}

struct CommandState {
    wasi: WasiCtx,
    table: ResourceTable,
    config: WasiConfigCtx,
    keyvalue: WasiKeyValueCtx,
    limits: MemoryLimit,
}

impl WasiView for CommandState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl Runtime {
    /// Runs the `wasi:cli/run` export of a command component. `args` is the whole argument
    /// list it sees, its program name first; `imports` answer its `wasi:config/store` and
    /// `wasi:keyvalue` imports (a [`WasiConfigCtx`] alone grants no `wasi:keyvalue` store).
    /// See the module docs for what else it gets: nothing but stdout and stderr.
    ///
    /// Returns the command's exit status: 0 when `run` returns `ok`, 1 for `err`, and the
    /// status given to `wasi:cli/exit` (`exit` or `exit-with-code`; a status outside
    /// 0..=255 counts as 1).
    ///
    /// # Errors
    /// See [`CommandError`]; [`CommandError::NotACommand`] is returned before anything runs.
    pub fn run_command(
        &self,
        wasm: &[u8],
        args: &[String],
        imports: impl Into<CommandImports>,
    ) -> Result<u8, CommandError> {
        let component = load_component(&self.core.engine, wasm, None, self.core.options.cache_dir.as_deref())
            .map_err(|e| CommandError::NotACommand(format!("{e:#}")))?;
        if !exports_cli_run(&self.core.engine, &component) {
            return Err(CommandError::NotACommand("it exports no wasi:cli/run".into()));
        }
        let linker = command_linker(&self.core.engine).map_err(CommandError::Load)?;
        let mut store = self.command_store(args, imports.into());
        let command = Command::instantiate(&mut store, &component, &linker)
            .context("instantiate (a command may import WASI 0.2, wasi:config/store and wasi:keyvalue only)")
            .map_err(CommandError::Load)?;
        match command.wasi_cli_run().call_run(&mut store) {
            Ok(Ok(())) => Ok(0),
            Ok(Err(())) => Ok(1),
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(I32Exit(status)) => Ok(u8::try_from(*status).unwrap_or(1)),
                None => Err(CommandError::Trap(describe_command_failure(
                    &e,
                    &self.core.options,
                    store.data().limits.refused(),
                ))),
            },
        }
    }

    fn command_store(&self, args: &[String], imports: CommandImports) -> Store<CommandState> {
        let mut wasi = WasiCtx::builder();
        wasi.args(args).allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false);
        if self.core.options.plugin_stdio {
            wasi.inherit_stdout().inherit_stderr();
        }
        // Writes through wasi:keyvalue wait for locks: allow for them, and end each wait by
        // the deadline (a host call that waits is not interrupted by the epoch).
        let lock_waits = imports.keyvalue.repository().map_or(Duration::ZERO, |r| r.options().lock_timeout);
        let deadline = self.core.options.call_budget + lock_waits;
        let state = CommandState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            config: imports.config,
            keyvalue: imports.keyvalue.with_deadline(Instant::now() + deadline),
            limits: MemoryLimit::new(&self.core.options),
        };
        let mut store = Store::new(&self.core.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(ticks(deadline));
        store.epoch_deadline_trap();
        store
    }
}

/// Whether `component` exports `wasi:cli/run` of WASI 0.2 (any minor version).
fn exports_cli_run(engine: &Engine, component: &Component) -> bool {
    component.component_type().exports(engine).any(|(name, _)| name.starts_with("wasi:cli/run@0.2."))
}

/// WASI 0.2 (its context decides what is reachable), `wasi:config/store` and
/// `wasi:keyvalue`.
fn command_linker(engine: &Engine) -> wasmtime::Result<Linker<CommandState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).context("link WASI")?;
    add_wasi_config_to_linker(&mut linker, |s: &mut CommandState| WasiConfigView { ctx: &mut s.config })
        .context("link wasi:config/store")?;
    add_wasi_keyvalue_to_linker(&mut linker, |s: &mut CommandState| WasiKeyValueView {
        ctx: &mut s.keyvalue,
        table: &mut s.table,
    })
    .context("link wasi:keyvalue")?;
    Ok(linker)
}

fn describe_command_failure(e: &wasmtime::Error, options: &RuntimeOptions, memory_refused: bool) -> String {
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => format!(
            "it ran past its budget of {:?} (plus the lock timeout, with wasi:keyvalue) and was stopped",
            options.call_budget
        ),
        _ => describe_failure(e, options, memory_refused),
    }
}
