//! The CLI's reads (`get`, `cat`, `watch`) run the domain's rules natively, without wasm:
//! each read here is made both ways, by `confine` and by the domain guest (the library's
//! `Runtime`, on the same directory, limits and format), and must answer the same: the
//! same value, or the same error (kind and sentence), on JSON and TOML documents, missing
//! ones and keys, bad keys, names and documents, the size limit and `--format`.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use confine::{Format, Options, Runtime, RuntimeOptions, ServiceError};
use serde_json::{Value, json};

use crate::support::{cache_dir, confine, figure};

/// The documents the reads are made on.
const DOCUMENTS: &[(&str, &str)] = &[
    ("app.json", "{\"server\": {\"port\": 8080, \"host\": \"a\"}, \"list\": [1, 2], \"n\": -1.5e3}\n"),
    ("bad.json", "{\"a\": 1,}\n"),
    ("twice.json", "{\"a\": 1, \"a\": 2}\n"),
    ("array.json", "[1]\n"),
    ("Cargo.toml", "# the manifest\n[package]\nname = \"demo\" # its name\n[[bin]]\nname = \"one\"\n"),
    ("bad.toml", "[a]\n[a]\n"),
    ("odd.toml", "{\"x\": {\"y\": true}}\n"),
    ("odd.json", "x.y = true\n"),
    (
        "big.json",
        "{\"padding\": \"........................................................................................................................\"}\n",
    ),
];

/// Each read: the document, the key, and the `--format` given, if any.
const READS: &[(&str, &str, Option<Format>)] = &[
    ("app.json", "", None),
    ("app.json", "server", None),
    ("app.json", "server.port", None),
    ("app.json", "list[1]", None),
    ("app.json", "n", None),
    ("app.json", "nope", None),
    ("app.json", "server.port.deeper", None),
    ("app.json", "list[9]", None),
    ("app.json", "server[", None),
    ("missing.json", "", None),
    ("missing.json", "a", None),
    ("../escape.json", "", None),
    ("bad.json", "a", None),
    ("twice.json", "", None),
    ("array.json", "", None),
    ("Cargo.toml", "", None),
    ("Cargo.toml", "package.name", None),
    ("Cargo.toml", "bin[0]", None),
    ("bad.toml", "", None),
    ("odd.toml", "", None),
    ("odd.toml", "x", Some(Format::Json)),
    ("odd.json", "", None),
    ("odd.json", "x.y", Some(Format::Toml)),
    ("big.json", "", None),
];

/// A size limit that `big.json` is over and every other document within.
const MAX_SIZE: u64 = 100;

fn directory() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in DOCUMENTS {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// The guest's answer, in the terms `--json` prints: the value, or the error's kind (the
/// WIT name of `ServiceErrorKind`) and sentence.
fn guest_answer(answer: Result<String, ServiceError>) -> Value {
    match answer {
        Ok(value) => json!({"ok": true, "value": serde_json::from_str::<Value>(&value).unwrap()}),
        Err(e) => {
            let kind = e.kind().map(|kind| kebab(&format!("{kind:?}"))).unwrap_or_else(|| "guest".into());
            json!({"ok": false, "kind": kind, "message": e.to_string()})
        }
    }
}

/// `InvalidDocument` as the WIT spells it, `invalid-document`.
fn kebab(name: &str) -> String {
    let mut kebab = String::new();
    for c in name.chars() {
        if c.is_uppercase() && !kebab.is_empty() {
            kebab.push('-');
        }
        kebab.push(c.to_ascii_lowercase());
    }
    kebab
}

/// The CLI's answer as `--json` printed it, in the same terms as [`guest_answer`].
fn cli_answer(printed: &Value) -> Value {
    match printed["ok"].as_bool() {
        Some(true) => json!({"ok": true, "value": printed["value"].clone()}),
        _ => {
            json!({"ok": false, "kind": printed["error"]["kind"].clone(), "message": printed["error"]["message"].clone()})
        }
    }
}

/// `confine` on `dir` with the size limit and `--format` the guest is given too.
fn command(dir: &Path, format: Option<Format>) -> Command {
    let mut command = confine(dir);
    command.args(["--max-size", &MAX_SIZE.to_string()]);
    if let Some(format) = format {
        command.args(["--format", &format.to_string()]);
    }
    command
}

/// `confine --json ARGS`, as [`command`] makes it.
fn cli(dir: &Path, format: Option<Format>, args: &[&str]) -> std::process::Output {
    command(dir, format).arg("--json").args(args).output().unwrap()
}

/// Whether a watch is made of `doc` too: not of a name it refuses at once, nor of one over
/// the size limit (a watch reports the store's refusal of each state, not a read's).
fn watched(doc: &str) -> bool {
    !doc.starts_with("..") && doc != "big.json"
}

fn runtime_and_repository(dir: &Path, format: Option<Format>) -> (Runtime, confine::Repository) {
    let runtime = Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir()), format, ..RuntimeOptions::default() });
    let repository = confine::Repository::new(
        cap_std::fs::Dir::open_ambient_dir(dir, cap_std::ambient_authority()).unwrap(),
        Options::default().with_max_document_size(MAX_SIZE),
        confine::Documents { format },
    );
    (runtime.unwrap(), repository)
}

#[test]
fn get_answers_as_the_guest_does() {
    let dir = directory();
    let d = dir.path();
    for &(doc, key, format) in READS {
        let (runtime, repository) = runtime_and_repository(d, format);
        let answer = runtime.get(&repository, doc, key);
        // Without --json: the value on stdout, or the sentence on stderr.
        let plain = command(d, format).args(["get", doc, key]).output().unwrap();
        match &answer {
            Ok(value) => assert_eq!(String::from_utf8(plain.stdout).unwrap(), format!("{value}\n")),
            Err(e) => assert_eq!(String::from_utf8(plain.stderr).unwrap(), format!("confine: {e}\n")),
        }
        let output = cli(d, format, &["get", doc, key]);
        assert_eq!(plain.status.code(), output.status.code(), "get {doc} {key:?}");
        let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(cli_answer(&printed), guest_answer(answer), "get {doc} {key:?} (--format {format:?})");
    }
    let watches = READS.iter().filter(|(doc, _, _)| watched(doc)).count();
    figure(
        "reads",
        &format!(
            "{n} get and {n} cat reads, {watches} watches, each made natively by confine and by the domain guest: \
             the same answers",
            n = READS.len()
        ),
    );
}

#[test]
fn cat_answers_as_the_guest_does() {
    let dir = directory();
    let d = dir.path();
    for &(doc, _, format) in READS {
        let (runtime, repository) = runtime_and_repository(d, format);
        let guest = runtime.cat(&repository, doc);
        let output = cli(d, format, &["cat", doc]);
        let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
        match guest {
            Ok(pretty) => {
                let compact: Value = serde_json::from_str(&runtime.get(&repository, doc, "").unwrap()).unwrap();
                assert_eq!(printed, json!({"ok": true, "document": compact}), "cat {doc}");
                let plain = command(d, format).args(["cat", doc]).output().unwrap();
                assert_eq!(String::from_utf8(plain.stdout).unwrap(), pretty, "cat {doc}");
            }
            Err(e) => assert_eq!(cli_answer(&printed), guest_answer(Err(e)), "cat {doc} (--format {format:?})"),
        }
    }
}

#[test]
fn watch_answers_as_the_guest_does() {
    let dir = directory();
    let d = dir.path();
    for &(doc, key, format) in READS.iter().filter(|(doc, _, _)| watched(doc)) {
        let (runtime, repository) = runtime_and_repository(d, format);
        let guest = guest_answer(runtime.get(&repository, doc, key));
        let mut watch = command(d, format)
            .args(["--json", "watch", doc, key])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(watch.stdout.take().unwrap()).read_line(&mut first).unwrap();
        watch.kill().unwrap();
        watch.wait().unwrap();
        let printed: Value = serde_json::from_str(&first).unwrap();
        if printed["absent"] == true {
            assert_eq!(guest["kind"], "not-found", "watch {doc} {key:?}: {printed}");
            continue;
        }
        assert_eq!(cli_answer(&printed), guest, "watch {doc} {key:?} (--format {format:?})");
    }
}
