//! `confine`: read and change JSON configuration documents from the shell, safely next to
//! other processes and plugins doing the same.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use clap::{Parser, Subcommand};
use confine::{
    Options, PluginError, Repository, Runtime, RuntimeOptions, ServiceError, ServiceErrorKind, StopOnSignal,
};

const ABOUT: &str = "Read and change JSON configuration documents, safely shared by many processes and plugins.";

const GUARANTEES: &str = "\
Read and change JSON configuration documents, safely shared by many processes and plugins.

Guarantees: every change (set, unset, incr, merge, and plugins' writes) is a read-modify-write \
under an exclusive fcntl lock on `<doc>.lock` beside the document (compatible with programs \
that lockf(3) the same file), so concurrent changes from any number of processes are all \
applied and none is lost. The new content goes to a temp file in the same directory, which \
is fsynced, renamed over the document, and the directory is fsynced before success is \
reported: readers never see a torn file, and a reported change survives a crash or power \
loss. Names cannot leave --dir: absolute paths, `..`, and symlinks leading out are refused, \
and nothing is written on any error. Limits: locks are advisory (a program that writes \
without locking is not excluded); use a local filesystem, not NFS.";

const AFTER_HELP: &str = "\
KEY is a dotted path: server.port, plugins[2].name, [0]. Keys holding . [ ] or \" are \
quoted in brackets: hosts[\"eu.west\"].port. An empty or missing KEY is the whole document.

VALUE is JSON (8080, true, {\"a\":1}, \"text\"); anything else is taken as a string, so \
`set app.json name web` stores \"web\". A VALUE that starts with { [ or \" must be valid JSON. \
To store the string \"true\", quote it: '\"true\"'.

Exit status: 0 success; 1 the guest or plugin failed (trap, deadline, memory) or a plugin \
reported an error; 2 bad input (usage, name, key, value, document not valid JSON, too large); \
3 document or key not found; 4 lock timeout or conflict; 5 I/O error; 130 or 143 stopped by \
SIGINT or SIGTERM before the change was made (nothing written; a second signal ends confine at \
once, which leaves the old or the new document, never a mix).

Examples:
  confine --dir /etc/myapp set app.json server.port 8080
  confine --dir /etc/myapp incr app.json stats.restarts
  confine --dir /etc/myapp merge app.json '{\"log\": {\"level\": \"debug\"}}'
  confine --dir /etc/myapp get app.json server
  confine --dir /etc/myapp run migrate.wasm v2";

#[derive(Parser)]
#[command(name = "confine", version, about = ABOUT, long_about = GUARANTEES, after_help = AFTER_HELP)]
struct Cli {
    /// The directory that holds the documents; confine touches nothing outside it.
    #[arg(long, short = 'd', value_name = "DIR", default_value = ".", env = "CONFINE_DIR")]
    dir: PathBuf,

    /// How long to wait for a document's lock before giving up (e.g. 5s, 250ms, 1m).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,

    /// How long a guest or plugin call may run, beyond its waits for locks, before it is
    /// stopped (e.g. 10s).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    budget: Duration,

    /// The most memory, in MiB, a guest or plugin instance may use.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    memory: usize,

    /// The largest document, in bytes, that is read or written.
    #[arg(long, value_name = "BYTES", default_value_t = Options::default().max_document_size)]
    max_size: u64,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the value at KEY (the whole document without KEY) as compact JSON.
    Get { doc: String, key: Option<String> },
    /// Set KEY to VALUE, creating the document and missing parents.
    Set {
        doc: String,
        key: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Remove KEY (an array element: the ones after it move down).
    Unset { doc: String, key: String },
    /// Add DELTA (default 1) to the number at KEY (missing counts as 0); print the result.
    Incr {
        doc: String,
        key: String,
        #[arg(allow_hyphen_values = true, default_value = "1")]
        delta: String,
    },
    /// Apply a JSON Merge Patch (RFC 7396) at KEY, or to the whole document without KEY.
    Merge {
        doc: String,
        /// [KEY] PATCH
        #[arg(num_args = 1..=2, required = true, value_names = ["KEY", "PATCH"], allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print the whole document, pretty-printed.
    Cat { doc: String },
    /// Run a plugin component (world `plugin` of wit/confine.wit) with access to DIR only.
    Run {
        plugin: PathBuf,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Exit statuses, as documented in `--help`.
mod status {
    pub(crate) const GUEST: u8 = 1;
    pub(crate) const BAD_INPUT: u8 = 2;
    pub(crate) const NOT_FOUND: u8 = 3;
    pub(crate) const BUSY: u8 = 4;
    pub(crate) const IO: u8 = 5;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(output) => {
            if let Some(text) = output {
                print!("{text}");
            }
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("confine: {message}");
            ExitCode::from(code)
        }
    }
}

type Failure = (u8, String);

fn run(cli: Cli) -> Result<Option<String>, Failure> {
    let dir = Dir::open_ambient_dir(&cli.dir, ambient_authority()).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound { status::NOT_FOUND } else { status::IO };
        (code, format!("cannot open directory {}: {e}", cli.dir.display()))
    })?;
    let options = Options { lock_timeout: cli.timeout, max_document_size: cli.max_size };
    let stop =
        Arc::new(StopOnSignal::install().map_err(|e| (status::IO, format!("cannot install signal handlers: {e}")))?);
    let repository = Repository::new(dir, options).with_gate(stop.clone());
    let stopped = |failure: Failure| match stop.received() {
        Some(signal) => {
            let code = u8::try_from(128 + signal).unwrap_or(u8::MAX);
            (
                code,
                format!(
                    "stopped by {}; the change in progress was not made: {}",
                    confine::signal_name(signal),
                    failure.1
                ),
            )
        }
        None => failure,
    };
    let runtime = Runtime::new(RuntimeOptions {
        call_budget: cli.budget,
        memory_limit: cli.memory.saturating_mul(1 << 20),
        cache_dir: confine::default_cache_dir(),
        plugin_stdio: true,
    })
    .map_err(|e| (status::GUEST, format!("cannot start the wasm runtime: {e:#}")))?;
    let line = |text: String| Some(format!("{text}\n"));
    let answer = match cli.command {
        Command::Get { doc, key } => runtime.get(&repository, &doc, key.as_deref().unwrap_or("")).map(line),
        Command::Set { doc, key, value } => runtime.set(&repository, &doc, &key, &json_or_string(value)).map(|()| None),
        Command::Unset { doc, key } => runtime.unset(&repository, &doc, &key).map(|()| None),
        Command::Incr { doc, key, delta } => runtime.incr(&repository, &doc, &key, &delta).map(line),
        Command::Merge { doc, args } => {
            let (key, patch) = match args.as_slice() {
                [patch] => ("", patch),
                [key, patch] => (key.as_str(), patch),
                _ => return Err((status::BAD_INPUT, "merge takes [KEY] PATCH".into())),
            };
            runtime.merge(&repository, &doc, key, patch).map(|()| None)
        }
        Command::Cat { doc } => runtime.cat(&repository, &doc).map(Some),
        Command::Run { plugin, args } => {
            let wasm = std::fs::read(&plugin)
                .map_err(|e| (status::IO, format!("cannot read plugin {}: {e}", plugin.display())))?;
            return runtime
                .run_plugin(&repository, &wasm, &args)
                .map(|()| None)
                .map_err(|e| stopped(plugin_failure(&plugin, e)));
        }
    };
    answer.map_err(|e| stopped(service_failure(e)))
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

fn service_failure(e: ServiceError) -> Failure {
    use ServiceErrorKind as K;
    let code = match e.kind() {
        None => status::GUEST,
        Some(K::NotFound) => status::NOT_FOUND,
        Some(K::Conflict | K::LockTimeout) => status::BUSY,
        Some(K::Io) => status::IO,
        Some(K::InvalidPath | K::InvalidKey | K::InvalidValue | K::TypeMismatch | K::TooLarge | K::InvalidDocument) => {
            status::BAD_INPUT
        }
    };
    (code, e.to_string())
}

fn plugin_failure(plugin: &std::path::Path, e: PluginError) -> Failure {
    let code = match e {
        PluginError::Load(_) => status::BAD_INPUT,
        PluginError::Trap(_) | PluginError::Reported(_) => status::GUEST,
    };
    (code, format!("{}: {e}", plugin.display()))
}

/// Parses `250ms`, `5s`, `2m`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 250ms, 5s or 1m"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        _ => return Err(format!("unknown unit {unit:?} in {text:?}: use ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}
