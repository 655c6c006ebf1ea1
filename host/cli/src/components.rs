//! `confine run`: a component, as a wasi:cli command with the standard interfaces it was
//! given (`--config`, `--keyvalue`), or else as a plugin of the port.

use std::path::Path;

use confine::{CommandError, CommandImports, Format, Runtime, WasiConfigCtx, WasiKeyValueCtx};
use confine_store::Repository;
use confine_store::name::DocumentName;

use crate::report::{self, Failure, Outcome, plugin_failure, status};

/// The standard interfaces `confine run` gives a wasi:cli command: the documents named by
/// `--config` and `--keyvalue`, in `--format` if it was given.
pub(crate) struct Standard {
    pub(crate) config: Option<String>,
    pub(crate) keyvalue: Option<String>,
    pub(crate) format: Option<Format>,
}

/// `confine run`: a wasi:cli command (with `--config` and `--keyvalue`), or else a plugin.
pub(crate) fn run_component(
    runtime: &Runtime,
    repository: &Repository,
    standard: Standard,
    component: &Path,
    args: &[String],
) -> Result<Outcome, Failure> {
    let shown = component.display();
    let wasm =
        std::fs::read(component).map_err(|e| Failure::new(status::IO, "io", format!("cannot read {shown}: {e}")))?;
    // The command sees its file name, never the host path it was found at.
    let program = component.file_name().map_or_else(|| "command".into(), |n| n.to_string_lossy().into_owned());
    let argv: Vec<String> = std::iter::once(program).chain(args.iter().cloned()).collect();
    let mut config = match &standard.config {
        Some(doc) => WasiConfigCtx::new(repository.clone(), doc),
        None => WasiConfigCtx::empty(),
    };
    let mut keyvalue = match &standard.keyvalue {
        Some(doc) => {
            // Refused here, before anything runs, as any other command refuses a bad name.
            DocumentName::parse(doc).map_err(report::repository_failure)?;
            WasiKeyValueCtx::new(repository.clone(), Some(doc))
        }
        None => WasiKeyValueCtx::none(),
    };
    if let Some(format) = standard.format {
        (config, keyvalue) = (config.with_format(format), keyvalue.with_format(format));
    }
    // The options given that only a command takes, as the refusal names them.
    let for_commands = match (&standard.config, &standard.keyvalue) {
        (Some(_), Some(_)) => Some("--config and --keyvalue are"),
        (Some(_), None) => Some("--config is"),
        (None, Some(_)) => Some("--keyvalue is"),
        (None, None) => None,
    };
    match runtime.run_command(&wasm, &argv, CommandImports { config, keyvalue }) {
        Ok(0) => Ok(Outcome::Done),
        Ok(code) => Err(Failure::new(code, "command-exit", format!("{shown}: the command exited with status {code}"))),
        Err(e @ CommandError::NotACommand(_)) if for_commands.is_some() => Err(Failure::new(
            status::BAD_INPUT,
            "usage",
            format!("{shown}: {e}; {} for commands (plugins use config-repository)", for_commands.unwrap_or_default()),
        )),
        Err(CommandError::NotACommand(_)) => runtime
            .run_plugin(repository, &wasm, args)
            .map(|()| Outcome::Done)
            .map_err(|e| plugin_failure(component, e)),
        Err(e @ CommandError::Load(_)) => {
            Err(Failure::new(status::BAD_INPUT, "invalid-component", format!("{shown}: {e}")))
        }
        Err(e @ CommandError::Trap(_)) => Err(Failure::new(status::GUEST, "trap", format!("{shown}: {e}"))),
    }
}
