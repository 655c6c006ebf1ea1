//! How a guest, plugin or command call failed, in one line for a person.

use wasmtime::Trap;

use super::RuntimeOptions;

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

/// One line on why a guest call failed: the trap's cause without the wasm backtrace.
/// `memory_refused`: the call's store refused it memory past the limit (its limiter's
/// record), which is then the cause.
pub(super) fn describe_failure(e: &wasmtime::Error, options: &RuntimeOptions, memory_refused: bool) -> String {
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => {
            format!("it ran past its deadline (lock timeout + {:?} budget) and was stopped", options.call_budget)
        }
        _ if memory_refused => {
            format!("it tried to grow its memory past the limit of {} bytes", options.memory_limit)
        }
        Some(Trap::UnreachableCodeReached) => "it trapped (panicked or aborted)".to_owned(),
        Some(trap) => format!("it trapped: {trap}"),
        None => format!("{e:#}"),
    }
}
