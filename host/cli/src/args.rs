//! The command line: every command, option and help text (clap), and the durations it
//! takes. Nothing here runs anything.

use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

const ABOUT: &str =
    "Read and change JSON and TOML configuration documents, safely shared by many processes and plugins.";

const GUARANTEES: &str = "\
Read and change JSON and TOML configuration documents, safely shared by many processes and plugins.

A document whose name ends in .toml is TOML, any other JSON (--format says otherwise). A change \
to a TOML document rewrites only the bytes it changes: comments, blank lines, key order, quoting \
and the spelling of numbers stay.

Guarantees: every change (set, unset, incr, merge, and plugins' writes) is a read-modify-write \
under an exclusive lock on `<doc>.lock` beside the document (compatible with programs that \
lockf(3) or flock(2) the same file on Unix, as Python's fcntl.lockf, fasteners, filelock and \
portalocker do, or msvcrt.locking it on Windows), so concurrent changes from \
any number of processes are all applied and none is lost. The new content goes to a temp file in the same directory, which \
is fsynced, renamed over the document, and the directory is fsynced before success is \
reported: readers never see a torn file, and a reported change survives a crash or power \
loss. Names cannot leave --dir: absolute paths, `..`, and symlinks leading out are refused, as \
are names Windows cannot hold (CON, nul.json, a:b, a trailing dot), on every system; nothing \
is written on any error. Limits: locks are advisory (a program that writes \
without locking is not excluded); use a local filesystem, not NFS.";

const AFTER_HELP: &str = "\
KEY is a dotted path: server.port, plugins[2].name, [0]. Keys holding . [ ] or \" are \
quoted in brackets: hosts[\"eu.west\"].port. An empty or missing KEY is the whole document.

Values are JSON for TOML documents too: a table is an object, a date-time the string of its \
TOML text (kept a date-time when set to one), integers are 64-bit signed, and TOML has no null \
(unset removes a key; a null in merge removes a member).

VALUE is JSON (8080, true, {\"a\":1}, \"text\"); anything else is taken as a string, so \
`set app.json name web` stores \"web\". A VALUE that starts with { [ or \" must be valid JSON. \
To store the string \"true\", quote it: '\"true\"'. A VALUE of set that starts with - and is \
not a number goes after --: `set app.json flag -- -x`.

Exit status: 0 success; 1 the guest or plugin failed (trap, deadline, memory) or a plugin \
reported an error; 2 bad input (usage, name, key, value, document not valid JSON or TOML, too large); \
3 document or key not found; 4 lock timeout or conflict; 5 I/O error; 70 a bug in confine (an \
edit it made did not fit or did not read back: nothing written; please report it); 130 or 143 stopped by \
SIGINT or SIGTERM before the change was made (nothing written; a second signal ends confine at \
once, which leaves the old or the new document, never a mix). `run` of a wasi:cli command exits \
with the command's own status.

Examples:
  confine --dir /etc/myapp set app.json server.port 8080
  confine set Cargo.toml package.version '\"0.2.0\"'
  confine --dir /etc/myapp incr app.json stats.restarts
  confine --dir /etc/myapp merge app.json '{\"log\": {\"level\": \"debug\"}}'
  confine --dir /etc/myapp get app.json server
  confine --dir /etc/myapp --json get app.json server.port
  confine --dir /etc/myapp watch app.json server.port
  confine --dir /etc/myapp lock-status app.json
  confine --dir /etc/myapp ls services
  confine --dir /etc/myapp rm old.json
  printf 'incr app.json hits\nget app.json hits\n' | confine --dir /etc/myapp batch
  confine --dir /etc/myapp run migrate.wasm v2
  confine --dir /etc/myapp run --config app.json prog.wasm
  confine --dir /etc/myapp run --keyvalue state.json prog.wasm
  confine --store etcd://10.0.0.1:2379,10.0.0.2:2379/myapp incr app.json stats.restarts
  confine --store etcds://10.0.0.1:2379/myapp --etcd-cacert ca.pem --etcd-cert me.pem --etcd-key me-key.pem ls
  confine --dir /etc/myapp copy --to etcd://10.0.0.1:2379/myapp
  confine test plugin.wasm tests/";

#[derive(Parser)]
#[command(name = "confine", version, about = ABOUT, long_about = GUARANTEES, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// The directory that holds the documents; confine touches nothing outside it. Given
    /// here, it is used even where CONFINE_STORE is set.
    #[arg(long, short = 'd', value_name = "DIR", default_value = ".", env = "CONFINE_DIR")]
    pub(crate) dir: PathBuf,

    /// Keep the documents in etcd instead of --dir, under PREFIX:
    /// etcd://HOST:PORT[,HOST:PORT...]/PREFIX, or etcds://... to speak TLS to every
    /// endpoint (with USER:PASSWORD@ before the endpoints where etcd has authentication on).
    /// Reads are linearizable; sessions hold a lease (--lease-ttl) and a fenced lock, so
    /// every command keeps its guarantees across machines. CONFINE_STORE is used over
    /// CONFINE_DIR, and --dir given on the command line over CONFINE_STORE.
    #[arg(long, value_name = "URL", env = "CONFINE_STORE")]
    pub(crate) store: Option<String>,

    /// For etcds:// stores: the CA certificate (PEM) that signed the members' certificates
    /// [default: the system's roots].
    #[arg(long, value_name = "FILE", env = "CONFINE_ETCD_CACERT")]
    pub(crate) etcd_cacert: Option<PathBuf>,

    /// For etcds:// stores: a client certificate (PEM) to present, for clusters that run
    /// with --client-cert-auth. Where etcd's authentication is on, its common name is the
    /// user (no password needed). Needs --etcd-key.
    #[arg(long, value_name = "FILE", env = "CONFINE_ETCD_CERT", requires = "etcd_key")]
    pub(crate) etcd_cert: Option<PathBuf>,

    /// For etcds:// stores: the private key (PEM) of --etcd-cert.
    #[arg(long, value_name = "FILE", env = "CONFINE_ETCD_KEY", requires = "etcd_cert")]
    pub(crate) etcd_key: Option<PathBuf>,

    /// On etcd, how long a session's lease lives unless renewed: how long a crashed or
    /// paused holder keeps its document locked (whole seconds, e.g. 10s).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub(crate) lease_ttl: Duration,

    /// How long to wait for a document's lock before giving up, and on etcd for any answer
    /// (e.g. 5s, 250ms, 1m).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub(crate) timeout: Duration,

    /// How long a guest or plugin call may run, beyond its waits for locks, before it is
    /// stopped (e.g. 10s).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub(crate) budget: Duration,

    /// The most memory, in MiB, a guest or plugin instance may use.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    pub(crate) memory: usize,

    /// The largest document, in bytes, that is read or written [default: 16 MiB in a
    /// directory, 1 MiB on etcd, whose requests are limited to 1.5 MiB unless configured].
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_size: Option<u64>,

    /// What every document named is written in, whatever its name [default: TOML for a
    /// name ending in .toml, JSON for any other].
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub(crate) format: Option<FormatArg>,

    /// Print exactly one JSON object on stdout, for scripts: {"ok":true,...} with "value",
    /// "document", "documents" or the lock's state, or {"ok":false,"exit":N,"error":{"kind":...,
    /// "message":...}}. The exit status and the message on stderr stay as without it.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// `--format`'s words.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// Strict JSON whose root is an object.
    Json,
    /// TOML, its layout kept.
    Toml,
}

impl From<FormatArg> for confine::Format {
    fn from(format: FormatArg) -> confine::Format {
        match format {
            FormatArg::Json => confine::Format::Json,
            FormatArg::Toml => confine::Format::Toml,
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Print the value at KEY (the whole document without KEY) as compact JSON.
    Get { doc: String, key: Option<String> },
    /// Set KEY to VALUE, creating the document and missing parents.
    ///
    /// Several KEY VALUE pairs are one update: all are set, in order, in one write, or (if
    /// one is refused) none.
    Set {
        doc: String,
        /// KEY VALUE [KEY VALUE ...]
        #[arg(num_args = 2.., required = true, value_names = ["KEY", "VALUE"], allow_negative_numbers = true)]
        pairs: Vec<String>,
    },
    /// Remove KEY (an array element: the ones after it move down).
    ///
    /// Several KEYs are one update: all are removed, in order, in one write, or (if one is
    /// not there) none.
    Unset {
        doc: String,
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Apply the changes in FILE (or stdin) to DOC as one update: all of them, or none.
    ///
    /// The changes are read from FILE, or from stdin without FILE or for -, and made in
    /// order in one write; if one is refused none is made, and the refusal names its
    /// line. One change a line, as a JSON object: {"op":"set","key":"a.b","value":1},
    /// {"op":"unset","key":"a"}, {"op":"incr","key":"n","by":2} (by defaults to 1),
    /// {"op":"merge","key":"log","patch":{"level":"debug"}}; no key is the whole document.
    /// Prints the new value of each incr, one a line (with --json, "values": one entry
    /// per change, null for the others).
    Apply { doc: String, file: Option<PathBuf> },
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
    /// Print the value at KEY (or the document) now and again each time it changes.
    ///
    /// The value is compact JSON, one a line, until SIGINT or SIGTERM (exit 0). It waits on the
    /// platform's change notification, not by polling. Changes in quick succession may be
    /// coalesced: every line is a value that was committed, in commit order, and after a
    /// burst the last line is the current value. A missing document prints `absent`; one that
    /// becomes invalid, too large, or loses KEY prints `error: MESSAGE`; the watch goes on.
    /// With --json, one object a line: {"ok":true,"value":...,"revision":"..."},
    /// {"ok":true,"absent":true} or {"ok":false,...}.
    Watch { doc: String, key: Option<String> },
    /// Print the whole document: JSON pretty-printed (two-space indent, keys in their order), TOML as it is written.
    Cat { doc: String },
    /// List the documents directly in DIR (default: the top level), sorted by name, one a
    /// line: not lock or temp files, not directories.
    Ls { dir: Option<String> },
    /// Remove DOC, under its lock (a change in progress finishes first); DOC.lock stays.
    Rm { doc: String },
    /// Copy the documents in DIRS (default: the top level) to the store TO, revisions kept.
    ///
    /// TO is a directory or etcd://HOST:PORT/PREFIX, as --dir and --store take. Each
    /// document is created there with the same bytes, so it has the same revision. A
    /// document TO already holds with the same bytes is left (`same`); one with other bytes
    /// is refused and never overwritten. Prints `copied|same|refused... NAME REVISION`, one a
    /// line; exits 4 if any was refused. Directories are copied one level each: name every
    /// one (`confine copy --to etcd://h:2379/app "" services`).
    Copy {
        #[arg(long, value_name = "STORE")]
        to: String,
        dirs: Vec<String>,
    },
    /// Read commands from stdin, one a line, and answer each on stdout, in one process.
    ///
    /// The commands are in this command line's syntax (`set app.json a 1`, quoted as in a
    /// shell), each answered as it is done: a script making many changes pays one start. Each line is its own update, made as
    /// the command alone would make it; to group changes into one update, give them on one
    /// line (`set app.json a 1 b 2`, `unset app.json a b`, `apply app.json FILE`). A failed
    /// line does not stop the rest. A line's answer is what the command prints (`ok` for a
    /// change that prints nothing, `error: MESSAGE` for a failure, also on stderr with its
    /// line number); with --json, exactly
    /// one JSON object per line. Blank lines and lines starting with # are skipped. Exits 0
    /// if every line succeeded, else with the status of the first that failed; SIGINT or
    /// SIGTERM stops it after the line in progress (while it waits for input, at the next
    /// line; a second signal ends it at once).
    Batch,
    /// Run a plugin's component tests, one case a folder in CASES.
    ///
    /// Every case runs on a fresh in-memory store. A case holds `before/` (the documents before; none without it),
    /// `args` (the plugin's arguments, one a line), and `after/` (every document expected
    /// after the run) or `error` (text the plugin's error must contain), or both. Documents
    /// compare as values (a *.toml document as TOML), or byte for byte with --exact. Prints one line per case (a
    /// diff for each document that differs), then `N passed, M failed` (with --json, one
    /// object a case, {"case":...,"ok":...,"why":...}, then {"ok":...,"passed":N,"failed":M});
    /// exits 1 if any case failed. The plugin's own output is not shown. --dir plays no part.
    Test {
        /// The plugin component (.wasm, world `plugin`).
        plugin: PathBuf,
        /// The folder of case folders.
        cases: PathBuf,
        /// Compare documents byte for byte, not as values (JSON, or TOML for *.toml).
        #[arg(long)]
        exact: bool,
    },
    /// Print a completion script for SHELL on stdout, e.g.
    /// `confine completions bash > /etc/bash_completion.d/confine`.
    Completions { shell: clap_complete::Shell },
    /// Print confine's manual page (roff) on stdout, e.g. `confine man | man -l -`.
    Man,
    /// Tell whether DOC's lock is held, and by which process and since when.
    ///
    /// It takes no lock and creates nothing; what cannot be known is not told. The holder is the process the kernel
    /// reports for a lockf holder or, on Linux, a flock holder (filelock, portalocker, flock(1), confine), or the
    /// pid a confine holder wrote into DOC.lock.
    LockStatus { doc: String },
    /// Run a plugin component with access to DIR only, or a wasi:cli command with --config
    /// and --keyvalue.
    ///
    /// A plugin (world `plugin` of wit/confine.wit) gets ARGS and the documents of DIR
    /// through config-repository. A standard wasi:cli command (a component that exports
    /// wasi:cli/run, e.g. a Rust `fn main` built for wasm32-wasip2) gets its file name and
    /// ARGS as arguments, stdout and stderr, wasi:config/store over --config DOC (keys
    /// flattened: server.port, hosts["eu.west"], plugins[0].name; no DOC: no keys), and with
    /// --keyvalue DOC wasi:keyvalue over the documents of DIR (a bucket is a document, the
    /// empty identifier DOC; a key is a top-level member; every write locked, atomic and
    /// durable; without --keyvalue every bucket is access-denied). Nothing else: no files, no
    /// environment, no network, no stdin. Its exit status is confine's. Both run under
    /// --budget and --memory.
    Run {
        /// The document a wasi:cli command reads through wasi:config/store (refused for a plugin).
        #[arg(long, value_name = "DOC")]
        config: Option<String>,
        /// Grant a wasi:cli command wasi:keyvalue over DIR, with DOC the bucket of the empty
        /// identifier (refused for a plugin).
        #[arg(long, value_name = "DOC")]
        keyvalue: Option<String>,
        /// The component (.wasm): a plugin or a wasi:cli command.
        component: PathBuf,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// The command line, with where the documents are decided by who said it: `--dir` given on
/// the command line beats `CONFINE_STORE` (so that `confine --dir local copy --to
/// "$CONFINE_STORE"` copies the directory, not the store onto itself), `--store` or
/// `CONFINE_STORE` beats `CONFINE_DIR` and the default, and `--dir` with `--store` on one
/// command line names two places: a usage error.
pub(crate) fn parse() -> Result<Cli, clap::Error> {
    let matches = Cli::command().try_get_matches()?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    match (given("dir"), given("store")) {
        (true, true) => {
            return Err(Cli::command()
                .error(ErrorKind::ArgumentConflict, "--dir and --store name two places for the documents: give one"));
        }
        (true, false) => cli.store = None,
        _ => {}
    }
    Ok(cli)
}

/// Parses `250ms`, `5s`, `2m`, or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
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
