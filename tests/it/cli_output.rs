//! What `confine` prints: pretty documents for people, exactly one JSON object per run for
//! scripts (`--json`), and the state of a document's lock (`lock-status`).
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use crate::support::{confine, other_locker, repository, run_fails, run_ok, snapshot};
use serde_json::{Value, json};

fn json_of(text: &str) -> Value {
    let mut lines = text.lines();
    let value = serde_json::from_str(lines.next().expect("one line")).unwrap();
    assert_eq!(lines.next(), None, "more than one line: {text}");
    value
}

/// Runs `confine --json ARGS` expecting `code`; returns the one JSON object it printed.
fn json_run(dir: &std::path::Path, args: &[&str], code: i32) -> Value {
    let output = confine(dir).arg("--json").args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(code), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    json_of(&String::from_utf8(output.stdout).unwrap())
}

#[test]
fn json_output_is_one_object_per_run_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(json_run(d, &["set", "app.json", "server", r#"{"port": 8080, "host": "a"}"#], 0), json!({"ok": true}));
    assert_eq!(json_run(d, &["get", "app.json", "server.port"], 0), json!({"ok": true, "value": 8080}));
    assert_eq!(json_run(d, &["incr", "app.json", "n", "5"], 0), json!({"ok": true, "value": 5}));
    assert_eq!(json_run(d, &["merge", "app.json", r#"{"n": null}"#], 0), json!({"ok": true}));
    assert_eq!(json_run(d, &["unset", "app.json", "server.host"], 0), json!({"ok": true}));
    // Key order is the document's, not sorted: the guest's text is passed through.
    let output = confine(d).args(["--json", "cat", "app.json"]).output().unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "{\"ok\":true,\"document\":{\"server\":{\"port\":8080}}}\n");
    for (args, code, kind) in [
        (vec!["get", "app.json", "nope"], 3, "not-found"),
        (vec!["get", "../app.json"], 2, "invalid-path"),
        (vec!["incr", "app.json", "server"], 2, "type-mismatch"),
        (vec!["set", "app.json", "x", "{"], 2, "invalid-value"),
        (vec!["set", "app.json"], 2, "usage"),
    ] {
        let answer = json_run(d, &args, code);
        assert_eq!((answer["ok"].clone(), answer["exit"].clone()), (json!(false), json!(code)), "{args:?}");
        assert_eq!(answer["error"]["kind"], kind, "{args:?}: {answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
    }
}

#[test]
fn cat_pretty_prints_a_document_stored_compact() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.json"), r#"{"b":{"x":[1,2]},"a":true}"#).unwrap();
    let printed = run_ok(confine(dir.path()).args(["cat", "app.json"]));
    assert_eq!(printed, "{\n  \"b\": {\n    \"x\": [\n      1,\n      2\n    ]\n  },\n  \"a\": true\n}\n");
}

#[test]
fn lock_status_tells_free_held_and_by_whom_without_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Free, and nothing created: no lock file appears.
    std::fs::write(d.join("app.json"), "{}").unwrap();
    let before = snapshot(d);
    assert_eq!(run_ok(confine(d).args(["lock-status", "app.json"])), "app.json: free\n");
    assert_eq!(
        json_run(d, &["lock-status", "app.json"], 0),
        json!({"ok": true, "held": false, "holder": null, "since_unix_ms": null})
    );
    assert_eq!(snapshot(d), before);

    // Held by a confine session of this process: the pid it stamped, and since when.
    let session = repository(d).open_session("app.json", None).unwrap();
    let text = run_ok(confine(d).args(["lock-status", "app.json"]));
    assert!(text.starts_with(&format!("app.json: held by process {} for ", std::process::id())), "{text}");
    let answer = json_run(d, &["lock-status", "app.json"], 0);
    assert_eq!((answer["held"].clone(), answer["holder"].clone()), (json!(true), json!(std::process::id())));
    assert!(answer["since_unix_ms"].as_u64().unwrap() > 0);
    drop(session);
    assert_eq!(run_ok(confine(d).args(["lock-status", "app.json"])), "app.json: free\n");

    // Held by another program's lockf: the kernel names it.
    let (mut holder, pid) = other_locker::holder(&d.join("app.json.lock"));
    assert_eq!(run_ok(confine(d).args(["lock-status", "app.json"])), format!("app.json: held by process {pid}\n"));
    drop(holder.stdin.take());
    holder.wait().unwrap();

    // A refused name is refused, as everywhere.
    let stderr = run_fails(confine(d).args(["lock-status", "../app.json"]), 2);
    assert!(stderr.contains("../app.json"), "{stderr}");
}

/// A compiled-code cache that others may write into could hold code planted for this user
/// to run: confine compiles in memory instead, writes nothing there, and says so once per
/// process (a batch of several guest calls included); a cache of the user's own says nothing.
#[test]
fn a_cache_others_may_write_is_not_used_and_said_so_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let caches = tempfile::tempdir().unwrap();
    let shared = caches.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let warning = format!(
        "confine: warning: the compiled-code cache {} is writable by its group or by others, so it was not used: \
         compiling in memory (make it yours and 0700 to use it)\n",
        shared.display()
    );

    let mut batch = confine(d);
    batch.env("CONFINE_CACHE_DIR", &shared).arg("batch");
    let (stdout, stderr, code) =
        crate::support::run_with_input(&mut batch, "set a.json n 1\nincr a.json n\nget a.json n\n");
    assert_eq!((stdout.as_str(), stderr.as_str(), code), ("ok\n2\n2\n", warning.as_str(), Some(0)));
    // A change starts the guest (a read does not: it runs the domain's rules natively).
    let output = confine(d).env("CONFINE_CACHE_DIR", &shared).args(["incr", "a.json", "n", "0"]).output().unwrap();
    assert_eq!(String::from_utf8(output.stderr).unwrap(), warning);
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "2\n");
    assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 0, "nothing is written to the shared cache");

    // A new cache of the user's own: made private, used, and nothing said.
    let own = caches.path().join("own/confine");
    let output = confine(d).env("CONFINE_CACHE_DIR", &own).args(["incr", "a.json", "n", "0"]).output().unwrap();
    assert_eq!(
        (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap()),
        ("2\n".into(), String::new())
    );
    assert_eq!(std::fs::metadata(&own).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::read_dir(&own).unwrap().count(), 1, "the guest's entry is stored");
}

/// A change confine cannot make as it promised is confine's own bug: exit 70, kind
/// `internal`, a message asking for a report, and nothing written. Never `io` (exit 5),
/// which says the storage failed. (A string with a line break in a TOML file of CRLF lines
/// is one such change today: the edit does not read back as the value set.)
#[test]
fn confine_s_own_bug_is_exit_70_internal_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = "a = 1\r\nb = \"x\"\r\n";
    std::fs::write(d.join("c.toml"), text).unwrap();
    let out = json_run(d, &["set", "c.toml", "b", "\"two\\nlines\""], 70);
    assert_eq!(out["error"]["kind"], "internal", "{out}");
    let message = out["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("c.toml: ") && message.ends_with("(a bug in confine: please report it)"), "{message}");
    let stderr = run_fails(confine(d).args(["set", "c.toml", "b", "\"two\\nlines\""]), 70);
    assert_eq!(stderr, format!("confine: {message}\n"));
    assert_eq!(std::fs::read_to_string(d.join("c.toml")).unwrap(), text);
}
