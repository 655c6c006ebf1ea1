//! # confine-cli
//!
//! The `confine` command, the top layer: read and change JSON and TOML configuration
//! documents from the shell, safely next to other processes and plugins doing the same. This file
//! dispatches: each command to the call or the file that makes it. The command line and its
//! help are in `args` (clap), what commands run against in `context` (the store chosen by
//! `store`: `--dir`, or `--store etcd://...`; the wasm runtime), `confine run` in
//! `components`; SIGINT/SIGTERM stop writes cleanly (`signal`), `cache` chooses where
//! compiled components are cached, and `report` prints outcomes and failures. The commands
//! that are more than a call have a file each (`batch`, `changes` for apply, `watch`,
//! `cases` for test, `copy`). The work is the `confine` crate's runtime over a
//! `confine-store` repository.

use std::path::Path;
use std::process::ExitCode;

use args::{Cli, Command};
use clap::CommandFactory;
use components::{Standard, run_component};
use confine::{Change, RuntimeOptions};
use confine_store::Options;
use context::{Context, runtime_options, start_runtime, store_settings};
use report::{Failure, Outcome, failure_json, outcome_text, service_failure, status};

mod args;
mod batch;
mod cache;
mod cases;
mod changes;
mod components;
mod context;
mod copy;
mod read;
mod report;
mod signal;
mod store;
mod watch;

fn main() -> ExitCode {
    let cli = args::parse().unwrap_or_else(|e| {
        // A usage error is still one JSON object on stdout for a script that asked for it.
        if e.use_stderr() && std::env::args_os().any(|arg| arg == "--json") {
            print!("{}", failure_json(&Failure::new(status::BAD_INPUT, "usage", e.to_string().trim())));
        }
        e.exit()
    });
    let json = cli.json;
    match run(cli) {
        Ok(Outcome::Streamed { status }) => ExitCode::from(status),
        Ok(outcome) => {
            if let Some(text) = outcome_text(&outcome, json) {
                print!("{text}");
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            if json {
                print!("{}", failure_json(&failure));
            }
            eprintln!("confine: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn run(cli: Cli) -> Result<Outcome, Failure> {
    // Generated from the command line's definition, before any directory is opened.
    match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "confine", &mut std::io::stdout());
            return Ok(Outcome::Done);
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map_err(|e| Failure::new(status::IO, "io", format!("cannot write the manual page: {e}")))?;
            return Ok(Outcome::Done);
        }
        Command::Test { plugin, cases, exact } => {
            let wasm = std::fs::read(plugin).map_err(|e| {
                Failure::new(status::BAD_INPUT, "usage", format!("cannot read {}: {e}", plugin.display()))
            })?;
            let runtime = start_runtime(RuntimeOptions { plugin_stdio: false, ..runtime_options(&cli) })?;
            let max_document_size = cli.max_size.unwrap_or(Options::default().max_document_size);
            let options = Options::default().with_lock_timeout(cli.timeout).with_max_document_size(max_document_size);
            return cases::run(&runtime, &wasm, cases, *exact, options, cli.json, &mut std::io::stdout());
        }
        _ => {}
    }
    let context = Context::open(&cli)?;
    let settings = store_settings(&cli);
    let outcome = match cli.command {
        Command::Batch => Ok(batch::run(&context, &mut std::io::stdin().lock(), &mut std::io::stdout())),
        Command::Watch { doc, key } => watch::run(&context, &doc, key.as_deref().unwrap_or(""), &mut std::io::stdout()),
        Command::Copy { to, dirs } => {
            let (store, dir) =
                if to.contains("://") { (Some(to.as_str()), Path::new("")) } else { (None, Path::new(&to)) };
            let destination = store::open(store, dir, &settings, None)?;
            copy::run(&context.repository, &destination, &dirs, cli.json, &mut std::io::stdout())
        }
        command => execute(command, &context),
    };
    // The process exits next. Every call's store, and with it every session and lock, is
    // gone already; what dropping the runtime would still do (unmap the guest's code and
    // free the engine's tables) the exit does at once, for less.
    std::mem::forget(context.runtime.into_inner());
    outcome
}

/// Runs one command (a command line's, or a line of a batch).
fn execute(command: Command, context: &Context) -> Result<Outcome, Failure> {
    let repository = &context.repository;
    // A call to the domain guest (the wasm runtime starts on the first), its failure
    // classified as the service's.
    let guest =
        |answer: Result<Outcome, confine::ServiceError>| answer.map_err(|e| context.stopped(service_failure(e)));
    let done = |()| Outcome::Done;
    match command {
        // The port's own calls, made without the wasm runtime.
        Command::LockStatus { doc } => {
            let status = repository.lock_status(&doc).map_err(report::repository_failure)?;
            Ok(Outcome::Lock { doc, status })
        }
        Command::Ls { dir } => {
            let documents = repository.list(dir.as_deref().unwrap_or("")).map_err(report::repository_failure)?;
            Ok(Outcome::Listing(documents))
        }
        Command::Rm { doc } => {
            repository.remove(&doc).map_err(|e| context.stopped(report::repository_failure(e)))?;
            Ok(Outcome::Done)
        }
        // Reads, by the domain's rules run natively: no wasm is started for them.
        Command::Get { doc, key } => {
            let value = read::get(repository, context.runtime_options.format, &doc, key.as_deref().unwrap_or(""));
            value.map(Outcome::Value).map_err(service_failure)
        }
        Command::Set { doc, pairs } => {
            if pairs.len() % 2 == 1 {
                let last = pairs.last().map_or("", String::as_str);
                return Err(Failure::new(status::BAD_INPUT, "usage", format!("set: the KEY {last:?} has no VALUE")));
            }
            let changes: Vec<Change> = pairs
                .chunks_exact(2)
                .map(|pair| Change::Set { key: pair[0].clone(), value: json_or_string(pair[1].clone()) })
                .collect();
            // One change keeps the words of a single change; several are one update.
            match changes.as_slice() {
                [Change::Set { key, value }] => guest(context.runtime()?.set(repository, &doc, key, value).map(done)),
                _ => guest(context.runtime()?.apply(repository, &doc, changes).map(|_| Outcome::Done)),
            }
        }
        Command::Unset { doc, keys } => match keys.as_slice() {
            [key] => guest(context.runtime()?.unset(repository, &doc, key).map(done)),
            _ => {
                let changes = keys.into_iter().map(|key| Change::Unset { key }).collect();
                guest(context.runtime()?.apply(repository, &doc, changes).map(|_| Outcome::Done))
            }
        },
        Command::Apply { doc, file } => changes::apply(context, &doc, file.as_deref()),
        Command::Incr { doc, key, delta } => {
            guest(context.runtime()?.incr(repository, &doc, &key, &delta).map(Outcome::Value))
        }
        Command::Merge { doc, args } => {
            let (key, patch) = match args.as_slice() {
                [patch] => ("", patch),
                [key, patch] => (key.as_str(), patch),
                _ => return Err(Failure::new(status::BAD_INPUT, "usage", "merge takes [KEY] PATCH")),
            };
            guest(context.runtime()?.merge(repository, &doc, key, patch).map(done))
        }
        Command::Cat { doc } => {
            let format = context.runtime_options.format;
            let document = read::cat(repository, format, &doc).and_then(|pretty| {
                // The compact form for --json, with key order kept.
                let compact = if context.json { read::get(repository, format, &doc, "")? } else { String::new() };
                Ok(Outcome::Document { pretty, compact })
            });
            document.map_err(service_failure)
        }
        Command::Run { config, keyvalue, component, args } => {
            let standard = Standard { config, keyvalue, format: context.runtime_options.format };
            run_component(context.runtime()?, repository, standard, &component, &args).map_err(|e| context.stopped(e))
        }
        // Answered by `run` before a directory is opened, or the batch itself.
        Command::Batch
        | Command::Watch { .. }
        | Command::Copy { .. }
        | Command::Test { .. }
        | Command::Completions { .. }
        | Command::Man => Err(Failure::new(
            status::BAD_INPUT,
            "usage",
            "batch, watch, copy, test, completions and man cannot run inside a batch",
        )),
    }
}

/// A VALUE that is not JSON is taken as a string, unless it starts like a JSON object,
/// array or string: then it was meant as JSON, and the guest reports where it breaks.
fn json_or_string(value: String) -> String {
    let meant_as_json = value.trim_start().starts_with(['{', '[', '"']);
    if meant_as_json || serde_json::from_str::<serde::de::IgnoredAny>(&value).is_ok() {
        value
    } else {
        serde_json::Value::String(value).to_string()
    }
}
