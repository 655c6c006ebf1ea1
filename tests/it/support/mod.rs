//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine::{Options, Repository};
use confine_store::{Filesystem, StepGate};

pub mod other_locker;

/// The call `other_locker` makes by default.
pub const LOCK_CALL: &str = "lockf";

/// A `confine` command on `dir`, with the tests' shared compiled-component cache.
pub fn confine(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_confine"));
    command.arg("--dir").arg(dir).env("CONFINE_CACHE_DIR", cache_dir());
    command
}

/// Runs `command` and returns its stdout, failing the test with its stderr if it fails.
pub fn run_ok(command: &mut Command) -> String {
    let output = command.output().expect("spawn");
    assert!(output.status.success(), "{} failed: {}", shown(command), String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8 stdout")
}

/// Runs `command` with `input` on its stdin; its stdout, stderr and exit status.
pub fn run_with_input(command: &mut Command, input: &str) -> (String, String, Option<i32>) {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().expect("piped stdin"), input.as_bytes()).expect("write stdin");
    let output = child.wait_with_output().expect("wait");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("utf-8 output");
    (text(output.stdout), text(output.stderr), output.status.code())
}

/// Runs `command`, expects exit status `code`, and returns its stderr.
pub fn run_fails(command: &mut Command, code: i32) -> String {
    let output: Output = command.output().expect("spawn");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "{}: stderr: {stderr}", shown(command));
    stderr
}

/// A command as text, cut short: some tests pass arguments of 100 KiB.
fn shown(command: &Command) -> String {
    let text = format!("{command:?}");
    if text.len() > 300 { format!("{}...", &text[..text.floor_char_boundary(300)]) } else { text }
}

/// Records the one-line summary of a suite (trials run, faults injected, ...), which
/// `make test` prints after the tests. One file per suite, so parallel tests do not mix.
pub fn figure(suite: &str, line: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("figures");
    std::fs::create_dir_all(&dir).expect("create figures directory");
    std::fs::write(dir.join(format!("{suite}.txt")), format!("{suite}: {line}\n")).expect("write figure");
}

/// Adds a test's counts to its suite's running totals and rewrites the suite's figure line
/// from them. The suite's tests run in parallel; the line is written under the totals'
/// lock, so the last one written holds every test's counts.
pub fn add_to_figure<T>(suite: &str, totals: &std::sync::Mutex<T>, add: impl FnOnce(&mut T) -> String) {
    let mut totals = totals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let line = add(&mut totals);
    figure(suite, &line);
}

/// Fails unless `result` is the store's refusal of `name` as an invalid path, naming the
/// name as given and giving `cause`.
pub fn assert_invalid_path<T>(call: &str, name: &str, cause: &str, result: confine_store::Result<T>) {
    match result {
        Err(confine_store::Error::InvalidPath { name: named, reason }) => {
            assert_eq!(named, name, "{call}: the error names the name as given");
            assert!(reason.contains(cause), "{call} {name:?}: want {cause:?}, got {reason:?}");
        }
        Err(other) => panic!("{call} {name:?}: want InvalidPath ({cause}), got {other:?}"),
        Ok(_) => panic!("{call} {name:?} was accepted"),
    }
}

/// `base` trials, times `CONFINE_SOAK` (set by `make soak`) when it is given.
pub fn trials(base: usize) -> usize {
    let factor = std::env::var("CONFINE_SOAK").ok().and_then(|f| f.parse::<usize>().ok()).unwrap_or(1);
    base * factor.max(1)
}

pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

/// A file the Makefile builds before the tests (`make plugins`, `make examples`): the path
/// in `var` (the Makefile sets it, also under CARGO_TARGET_DIR), else `default` in the
/// workspace.
fn built(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| workspace().join(default));
    assert!(path.is_file(), "{} is missing: run `make test`, which builds it", path.display());
    path
}

/// The `probe` test plugin built from tests/plugins/probe by `make plugins`.
pub fn probe_plugin() -> PathBuf {
    built("CONFINE_TEST_PLUGIN", "target/wasm32-wasip2/release/confine_test_plugin.wasm")
}

/// The example embedder (examples/embedder), built by `make examples`.
pub fn example_embedder() -> PathBuf {
    built("CONFINE_EXAMPLE_EMBEDDER", "target/release/confine-example-embedder")
}

/// The example plugin examples/plugins/rename-key, built by `make examples`.
pub fn example_rename_key() -> PathBuf {
    built("CONFINE_EXAMPLE_RENAME_KEY", "target/wasm32-wasip2/release/confine_example_rename_key.wasm")
}

/// The example plugin examples/plugins/validate, built by `make examples`.
pub fn example_validate() -> PathBuf {
    built("CONFINE_EXAMPLE_VALIDATE", "target/wasm32-wasip2/release/confine_example_validate.wasm")
}

/// How long a check that a lock is free may wait for it: far below the 5 s lock timeout, so
/// a lock left held still fails the check, but not zero, because other tests of this binary
/// spawn processes at any moment, and a child between fork and exec briefly shares this
/// process's lock descriptors (see host/store/src/fs/lock.rs).
pub const SOON: std::time::Duration = std::time::Duration::from_secs(2);

/// The workspace's top folder (this binary is the `confine-cli` crate's, in host/cli).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A repository of `dir` whose filesystem steps `gate` sees first.
pub fn gated(dir: &Path, gate: Arc<dyn StepGate>) -> Repository {
    let root = Dir::open_ambient_dir(dir, ambient_authority()).expect("open dir");
    Repository::with_backend(Filesystem::new(root).with_gate(gate), Options::default(), confine::Documents::default())
}

pub fn repository(dir: &Path) -> Repository {
    repository_with(dir, Options::default())
}

pub fn repository_with(dir: &Path, options: Options) -> Repository {
    Repository::new(
        Dir::open_ambient_dir(dir, ambient_authority()).expect("open dir"),
        options,
        confine::Documents::default(),
    )
}

/// Everything observable about a directory tree: each entry's kind, mode, bytes or link
/// target. Two equal snapshots mean nothing was created, removed or changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry {
    File { mode: u32, bytes: Vec<u8> },
    Dir { mode: u32 },
    Symlink { target: PathBuf },
    Other,
}

pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut entries = BTreeMap::new();
    walk(root, root, &mut entries);
    entries
}

fn walk(root: &Path, dir: &Path, entries: &mut BTreeMap<PathBuf, Entry>) {
    for item in std::fs::read_dir(dir).expect("read_dir") {
        let path = item.expect("entry").path();
        let metadata = std::fs::symlink_metadata(&path).expect("lstat");
        let mode = metadata.permissions().mode();
        let relative = path.strip_prefix(root).expect("inside").to_path_buf();
        let entry = if metadata.file_type().is_symlink() {
            Entry::Symlink { target: std::fs::read_link(&path).expect("readlink") }
        } else if metadata.is_dir() {
            walk(root, &path, entries);
            Entry::Dir { mode }
        } else if metadata.is_file() {
            Entry::File { mode, bytes: std::fs::read(&path).expect("read") }
        } else {
            Entry::Other
        };
        entries.insert(relative, entry);
    }
}

/// Like [`snapshot`], without lock files, whose content is only the last holder's pid.
pub fn documents(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut entries = snapshot(root);
    entries.retain(|path, _| path.extension().is_none_or(|ext| ext != "lock"));
    entries
}

/// Fails if any confine temp file is left anywhere under `root`.
pub fn assert_no_temp_files(root: &Path) {
    for path in snapshot(root).keys() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(!(name.starts_with('.') && name.ends_with(".tmp")), "temp file left: {}", path.display());
    }
}

/// Another program sharing confine's lock file: `python3 -c OTHER_LOCKER MODE LOCKER ...`
/// holds, tries, or updates a document under `lockf`, `flock` or a Python library's lock
/// (see the script).
pub const OTHER_LOCKER: &str = other_locker::SCRIPT;

/// The `config-reader` test command built from tests/plugins/config-reader by `make plugins`:
/// a standard wasi:cli command that knows only the published `wasi:config` WIT.
pub fn config_reader() -> PathBuf {
    built("CONFINE_CONFIG_READER", "target/wasm32-wasip2/release/confine_test_config_reader.wasm")
}

/// The `keyvalue-probe` test command built from tests/plugins/keyvalue-probe by
/// `make plugins`: a standard wasi:cli command that knows only the published
/// `wasi:keyvalue` WIT.
pub fn keyvalue_probe() -> PathBuf {
    built("CONFINE_KEYVALUE_PROBE", "target/wasm32-wasip2/release/confine_test_keyvalue_probe.wasm")
}
