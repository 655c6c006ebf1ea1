//! A standard `wasi:cli` command that knows only the published `wasi:keyvalue` WIT
//! (tests/plugins/keyvalue-probe) reads and writes confine documents as buckets through
//! `confine run --keyvalue DOC`: a bucket is a document of DIR (`""` is DOC), a key a
//! top-level member taken literally, a value a JSON string member (other members read as
//! their compact JSON). Every write is one locked, atomic update, so the component's
//! increments mix exactly with `confine incr` and with a Python `lockf` writer; every
//! refusal (a name outside DIR, a value that is not UTF-8, an overflow, the size limit,
//! too many buckets) leaves every file as it was, inside DIR and outside it.
//!
//! The probe prints one line per answer and exits with status 3 on any error answer,
//! which Rust's std on `wasm32-wasip2` reports (and confine passes on) as 1.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{
    OTHER_LOCKER, add_to_figure, assert_no_temp_files, config_reader, confine, documents, keyvalue_probe, probe_plugin,
    run_fails, run_ok, snapshot,
};

/// What the suite's tests did, for its figure line.
#[derive(Default)]
struct Totals {
    /// wasi:keyvalue calls made by components (the probe counts them).
    calls: u64,
    /// Those that answered an error (each one a refusal the tests expected).
    refusals: u64,
    /// Component runs.
    runs: u64,
    /// The cross-process test's writers, once it has passed.
    cross: Option<String>,
}

static TOTALS: Mutex<Totals> = Mutex::new(Totals { calls: 0, refusals: 0, runs: 0, cross: None });

pub(super) fn record(calls: u64, refusals: u64, runs: u64, cross: Option<String>) {
    add_to_figure("wasi_keyvalue", &TOTALS, |totals| {
        totals.calls += calls;
        totals.refusals += refusals;
        totals.runs += runs;
        if cross.is_some() {
            totals.cross = cross;
        }
        let mut line = format!(
            "{} wasi:keyvalue calls from {} component runs, {} refusals (names outside DIR, non-UTF-8, \
             overflow, non-numbers, size limit, 1024 open buckets, no --keyvalue), files unchanged by each",
            totals.calls, totals.runs, totals.refusals
        );
        if let Some(cross) = &totals.cross {
            line.push_str(", ");
            line.push_str(cross);
        }
        line
    });
}

/// The probe's own count of its calls and errors, from its last line on stderr.
pub(super) fn counts(stderr: &str) -> (u64, u64) {
    let line = stderr.lines().find_map(|l| l.strip_prefix("keyvalue-probe: ")).unwrap_or("0 calls, 0 errors");
    let numbers: Vec<u64> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    (numbers.first().copied().unwrap_or(0), numbers.get(1).copied().unwrap_or(0))
}

/// `confine [OPTIONS] run [--keyvalue DOC] keyvalue-probe ARGS...` in `dir`.
pub(super) fn probe_command(dir: &Path, options: &[&str], keyvalue: Option<&str>, args: &[&str]) -> Command {
    let mut command = confine(dir);
    command.args(options).arg("run");
    if let Some(doc) = keyvalue {
        command.args(["--keyvalue", doc]);
    }
    command.arg(keyvalue_probe()).args(args);
    command
}

/// Runs a probe command: its exit status and stdout, its calls counted for the figure.
pub(super) fn answers(command: &mut Command) -> (Option<i32>, String) {
    let output: Output = command.output().expect("spawn");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
    let (calls, errors) = counts(&stderr);
    record(calls, errors, 1, None);
    let code = output.status.code();
    assert!(code == Some(0) || code == Some(1), "{command:?}: status {code:?}, stderr: {stderr}\nstdout: {stdout}");
    (code, stdout)
}

/// The probe over `--keyvalue DOC`; it must answer without any error.
pub(super) fn kv_ok(dir: &Path, doc: &str, args: &[&str]) -> String {
    let (code, out) = answers(&mut probe_command(dir, &[], Some(doc), args));
    assert_eq!(code, Some(0), "{args:?} answered an error: {out}");
    out
}

/// The probe over `--keyvalue DOC`; some answer must be an error (status 3, seen as 1).
pub(super) fn kv_refused(dir: &Path, doc: &str, args: &[&str]) -> String {
    kv_refused_with(dir, &[], doc, args)
}

pub(super) fn kv_refused_with(dir: &Path, options: &[&str], doc: &str, args: &[&str]) -> String {
    let (code, out) = answers(&mut probe_command(dir, options, Some(doc), args));
    assert_eq!(code, Some(1), "{args:?} should have answered an error: {out}");
    out
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The text of an `error: Error::Other("...")` line, unescaped enough to search.
pub(super) fn other_text(line: &str) -> &str {
    line.strip_prefix("error: Error::Other(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .unwrap_or_else(|| panic!("want error: Error::Other(\"...\"), got {line:?}"))
}

pub(super) fn single_line(out: &str) -> &str {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "want one line: {out:?}");
    lines[0]
}

mod hostile;
mod mapping;
