//! `confine test PLUGIN CASES`: component tests for plugin authors. Each folder in CASES is
//! one case:
//!
//! ```text
//! CASES/renames-in-every-document/
//!   args        the plugin's arguments, one a line (none without the file)
//!   before/     the documents before the run (none without the folder)
//!   after/      the documents expected after it, all of them
//!   error       or: text the plugin's error must contain (after/ is then optional)
//! ```
//!
//! Each case runs on its own fresh in-memory store holding `before/` exactly as written, so
//! cases cannot see each other or the disk. Documents compare as values (key order and
//! layout aside; a TOML document, named `*.toml`, as its JSON value), or byte for byte with `--exact`; a failed case shows a diff of what it
//! expected against what it found.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use confine::{PluginError, Runtime};
use confine_store::{Memory, Options, Repository};

use crate::report::{Failure, Outcome, status};

/// Runs every case folder of `cases` against the plugin `wasm`, one line each on `output`,
/// then `N passed, M failed` (with `json`, one object each, then the totals); exits 1 if a
/// case failed.
pub(crate) fn run<W: Write>(
    runtime: &Runtime,
    wasm: &[u8],
    cases: &Path,
    exact: bool,
    options: Options,
    json: bool,
    output: &mut W,
) -> Result<Outcome, Failure> {
    let mut folders: Vec<_> = std::fs::read_dir(cases)
        .and_then(|entries| entries.map(|entry| entry.map(|e| e.path())).collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            Failure::new(status::BAD_INPUT, "usage", format!("cannot read the cases in {}: {e}", cases.display()))
        })?
        .into_iter()
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    if folders.is_empty() {
        return Err(Failure::new(status::BAD_INPUT, "usage", format!("{}: no case folders in it", cases.display())));
    }
    let (mut passed, mut failed) = (0, 0);
    let write = |output: &mut W, line: String| {
        output
            .write_all(line.as_bytes())
            .and_then(|()| output.flush())
            .map_err(|e| Failure::new(status::IO, "io", format!("cannot write the results: {e}")))
    };
    for folder in &folders {
        let name = folder.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let outcome = run_case(runtime, wasm, folder, exact, options);
        if outcome.is_ok() {
            passed += 1
        } else {
            failed += 1
        }
        let line = match (outcome, json) {
            (Ok(()), false) => format!("ok     {name}\n"),
            (Err(why), false) => format!("FAILED {name}: {why}\n"),
            (Ok(()), true) => format!("{{\"case\":{},\"ok\":true}}\n", quoted(&name)),
            (Err(why), true) => format!("{{\"case\":{},\"ok\":false,\"why\":{}}}\n", quoted(&name), quoted(&why)),
        };
        write(output, line)?;
    }
    let summary = if json {
        format!("{{\"ok\":{},\"passed\":{passed},\"failed\":{failed}}}\n", failed == 0)
    } else {
        format!("{passed} passed, {failed} failed\n")
    };
    write(output, summary)?;
    Ok(Outcome::Streamed { status: u8::from(failed > 0) })
}

fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// One case: `Err` says why it failed, with a diff where documents differ.
fn run_case(runtime: &Runtime, wasm: &[u8], folder: &Path, exact: bool, options: Options) -> Result<(), String> {
    let args = match std::fs::read_to_string(folder.join("args")) {
        Ok(text) => text.lines().map(str::to_owned).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("cannot read args: {e}")),
    };
    let expected_error = match std::fs::read_to_string(folder.join("error")) {
        Ok(text) => Some(text.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read error: {e}")),
    };
    let after = folder.join("after");
    if expected_error.is_none() && !after.is_dir() {
        return Err("the case has neither after/ nor error: nothing to compare".to_owned());
    }
    let memory = Memory::new();
    for (name, content) in documents_in(&folder.join("before"))? {
        memory.plant(&name, &content).map_err(|e| format!("before/{name}: {e}"))?;
    }
    let repository = Repository::with_backend(memory.clone(), options, confine::Documents::default());
    match (runtime.run_plugin(&repository, wasm, &args), expected_error) {
        (Ok(()), None) => {}
        (Ok(()), Some(want)) => return Err(format!("the plugin succeeded; expected an error containing {want:?}")),
        (Err(e), None) => return Err(format!("the plugin failed: {}", plugin_message(&e))),
        (Err(e), Some(want)) => {
            let message = plugin_message(&e);
            if !message.contains(&want) {
                return Err(format!("the plugin failed with {message:?}; expected an error containing {want:?}"));
            }
        }
    }
    if !after.is_dir() {
        return Ok(());
    }
    compare(&documents_in(&after)?, &memory.documents(), exact)
}

fn plugin_message(e: &PluginError) -> String {
    match e {
        PluginError::Reported(message) => message.clone(),
        other => other.to_string(),
    }
}

/// The documents under `root` (none if it does not exist), by name relative to it.
fn documents_in(root: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut documents = BTreeMap::new();
    if root.is_dir() {
        collect(root, "", &mut documents)?;
    }
    Ok(documents)
}

fn collect(dir: &Path, prefix: &str, documents: &mut BTreeMap<String, String>) -> Result<(), String> {
    let shown = |path: &Path| path.display().to_string();
    for entry in std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", shown(dir)))? {
        let path = entry.map_err(|e| format!("cannot read {}: {e}", shown(dir)))?.path();
        let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
            return Err(format!("{}: not a UTF-8 name", shown(&path)));
        };
        let name = format!("{prefix}{file}");
        if path.is_dir() {
            collect(&path, &format!("{name}/"), documents)?;
        } else {
            let content = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", shown(&path)))?;
            documents.insert(name, content);
        }
    }
    Ok(())
}

/// Compares the documents expected with those found: the same names, and each the same
/// value (or the same bytes when `exact`).
fn compare(expected: &BTreeMap<String, String>, found: &BTreeMap<String, String>, exact: bool) -> Result<(), String> {
    let mut differences = String::new();
    for (name, want) in expected {
        match found.get(name) {
            None => _ = write!(differences, "\n  {name}: expected, but the plugin left no such document"),
            Some(got) if exact && got != want => {
                _ = write!(differences, "\n  {name}: the bytes differ\n{}", diff(want, got));
            }
            Some(got) if !exact && !same_value(name, want, got) => {
                let (want, got) = (pretty(name, want), pretty(name, got));
                _ = write!(differences, "\n  {name}: the values differ\n{}", diff(&want, &got));
            }
            Some(_) => {}
        }
    }
    for name in found.keys().filter(|name| !expected.contains_key(*name)) {
        _ = write!(differences, "\n  {name}: not expected, but the plugin left it");
    }
    if differences.is_empty() { Ok(()) } else { Err(format!("the documents differ:{differences}")) }
}

/// Whether the documents `a` and `b`, both named `name`, hold the same value (in the
/// format the name says: a TOML document compares as its JSON value), or else the same
/// bytes.
fn same_value(name: &str, a: &str, b: &str) -> bool {
    let documents = confine::Documents::default();
    match (documents.value_of(name, a), documents.value_of(name, b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The document's value pretty-printed as JSON (so that a diff shows values, not layout),
/// or its text as it is if it is not a document.
fn pretty(name: &str, text: &str) -> String {
    confine::Documents::default()
        .value_of(name, text)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .map_or_else(|| text.to_owned(), |pretty| pretty + "\n")
}

/// A unified diff of `want` against `got`, indented under its case.
fn diff(want: &str, got: &str) -> String {
    let unified = similar::TextDiff::from_lines(want, got)
        .unified_diff()
        .context_radius(2)
        .header("expected", "found")
        .to_string();
    unified.lines().map(|line| format!("    {line}")).collect::<Vec<_>>().join("\n")
}
