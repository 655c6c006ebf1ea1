//! Several changes as one update: `set` with several pairs, `unset` with several keys,
//! `apply` of JSON lines, and `Runtime::apply` for embedders. All of an update's changes
//! are made in one write or none is, across threads (group commit keeps each caller's
//! changes together) and across processes (a reader never sees half an update).
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use confine::{Change, Runtime, RuntimeOptions, ServiceError, ServiceErrorKind};
use serde_json::{Value, json};

use crate::support::{cache_dir, confine, figure, repository, run_fails, run_ok, run_with_input};

fn document(dir: &Path, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
}

/// Runs `apply DOC -` with `changes` on stdin; stdout, stderr and exit status.
fn apply_stdin(dir: &Path, json: bool, changes: &str) -> (String, String, Option<i32>) {
    let mut command: Command = confine(dir);
    if json {
        command.arg("--json");
    }
    run_with_input(command.args(["apply", "app.json", "-"]), changes)
}

#[test]
fn set_and_unset_of_several_keys_are_one_update() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(confine(d).args(["set", "app.json", "server.port", "8080", "name", "web", "n", "-1"]));
    assert_eq!(document(d, "app.json"), json!({"server": {"port": 8080}, "name": "web", "n": -1}));
    run_ok(confine(d).args(["unset", "app.json", "name", "n"]));
    assert_eq!(document(d, "app.json"), json!({"server": {"port": 8080}}));

    // A refused change refuses the update: the file stays byte for byte as it was.
    let before = std::fs::read(d.join("app.json")).unwrap();
    let stderr = run_fails(confine(d).args(["set", "app.json", "a", "1", "server.port.x", "2"]), 2);
    assert!(stderr.contains("(change 2; none of the update's changes was made)"), "{stderr}");
    let stderr = run_fails(confine(d).args(["unset", "app.json", "server", "gone"]), 3);
    assert!(stderr.starts_with("confine: app.json: key `gone` not found (change 2;"), "{stderr}");
    let stderr = run_fails(confine(d).args(["set", "app.json", "a", "1", "b"]), 2);
    assert!(stderr.contains("the KEY \"b\" has no VALUE"), "{stderr}");
    assert_eq!(std::fs::read(d.join("app.json")).unwrap(), before);
}

#[test]
fn apply_makes_every_kind_of_change_in_order_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let changes = r#"{"op": "set", "key": "server", "value": {"port": 80, "hosts": ["a"]}}
{"op": "incr", "key": "server.port", "by": 8000}

{"op": "merge", "key": "server", "patch": {"hosts": null, "tls": true}}
{"op": "incr", "key": "restarts"}
{"op": "set", "key": "big", "value": 18446744073709551615}
{"op": "unset", "key": "big"}
"#;
    let (stdout, stderr, code) = apply_stdin(d, false, changes);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "8080\n1\n", "the new value of each incr, in order");
    assert_eq!(document(d, "app.json"), json!({"server": {"port": 8080, "tls": true}, "restarts": 1}));

    std::fs::write(d.join("changes.jsonl"), "{\"op\":\"incr\",\"key\":\"restarts\"}\n{\"op\":\"set\",\"value\":{}}\n")
        .unwrap();
    let out = run_ok(confine(d).args(["--json", "apply", "app.json"]).arg(d.join("changes.jsonl")));
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!({"ok": true, "values": [2, null]}));
    assert_eq!(document(d, "app.json"), json!({}), "no key: the whole document");

    // Refusals: the line is named, and nothing is written.
    run_ok(confine(d).args(["set", "app.json", "n", "1"]));
    let before = std::fs::read(d.join("app.json")).unwrap();
    let refused = [
        (
            "{\"op\":\"incr\",\"key\":\"n\"}\n\n{\"op\":\"unset\",\"key\":\"gone\"}\n",
            3,
            "key `gone` not found (stdin line 3;",
        ),
        ("{\"op\":\"incr\",\"key\":\"n\"}\n{\"op\":\"incr\",\"key\":\"n\",\"by\":\"x\"}\n", 2, "(stdin line 2;"),
        ("{\"op\":\"set\",\"key\":\"a\",\"value\":{\"x\":1,\"x\":2}}\n", 2, "(stdin line 1;"),
        ("{\"op\":\"incr\",\"key\":\"n\"}\nnot json\n", 2, "stdin: line 2: not a change object"),
        ("{\"op\":\"set\",\"key\":\"a\"}\n", 2, "stdin: line 1: \"set\" needs \"value\""),
        ("{\"op\":\"unset\",\"key\":\"a\",\"value\":1}\n", 2, "\"unset\" takes no field \"value\""),
        ("{\"op\":\"set\",\"op\":\"unset\",\"key\":\"a\"}\n", 2, "the field \"op\" is given twice"),
        ("{\"op\":\"rename\",\"key\":\"a\"}\n", 2, "unknown \"op\" \"rename\""),
        ("{\"op\":\"incr\",\"key\":\"n\"} {}\n", 2, "text after the change object"),
        ("\n\n", 2, "app.json: the update has no changes"),
    ];
    for (changes, code, says) in refused {
        let (_, stderr, status) = apply_stdin(d, false, changes);
        assert_eq!(status, Some(code), "{changes:?}: {stderr}");
        assert!(stderr.contains(says), "{changes:?}: {stderr}");
        assert_eq!(std::fs::read(d.join("app.json")).unwrap(), before, "{changes:?} wrote nothing");
    }
    let (stdout, _, _) = apply_stdin(d, true, "{\"op\":\"unset\",\"key\":\"gone\"}\n");
    let failure: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((failure["exit"].clone(), failure["error"]["kind"].clone()), (json!(3), json!("not-found")));
    let stderr = run_fails(confine(d).args(["apply", "app.json", "no-such-file.jsonl"]), 3);
    assert!(stderr.contains("cannot read no-such-file.jsonl"), "{stderr}");
}

/// Writer processes each make updates of two changes (incr a, incr b) while a reader
/// process reads the document lock-free again and again: it never sees one change of an
/// update without the other, and no update is lost.
#[test]
fn readers_in_other_processes_never_see_half_an_update() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("pair.jsonl"), "{\"op\":\"incr\",\"key\":\"a\"}\n{\"op\":\"incr\",\"key\":\"b\"}\n").unwrap();
    run_ok(confine(d).args(["set", "pair.json", "a", "0", "b", "0"]));
    let (writers, updates) = (4, 25);
    let (done, reads) = (AtomicBool::new(false), AtomicUsize::new(0));
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut child = confine(d).arg("batch").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut answers = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
            let mut last = 0;
            while !done.load(Ordering::SeqCst) {
                writeln!(stdin, "get pair.json").unwrap();
                let answer = answers.next().unwrap().unwrap();
                let seen: Value = serde_json::from_str(&answer).unwrap();
                assert_eq!(seen["a"], seen["b"], "half an update seen: {answer}");
                let a = seen["a"].as_u64().unwrap();
                assert!(a >= last, "the count went back from {last} to {a}");
                last = a;
                reads.fetch_add(1, Ordering::SeqCst);
            }
            drop(stdin);
            child.wait().unwrap();
        });
        let writers: Vec<_> = (0..writers)
            .map(|w| {
                s.spawn(move || {
                    if w % 2 == 0 {
                        for _ in 0..updates {
                            run_ok(confine(d).args(["apply", "pair.json"]).arg(d.join("pair.jsonl")));
                        }
                    } else {
                        let lines = format!("apply pair.json {}\n", d.join("pair.jsonl").display()).repeat(updates);
                        let mut child =
                            confine(d).arg("batch").stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
                        child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
                        assert!(child.wait().unwrap().success());
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
        reader.join().unwrap();
    });
    let total = writers * updates;
    assert_eq!(document(d, "pair.json"), json!({"a": total, "b": total}));
    figure(
        "multi_change",
        &format!(
            "{writers} processes x {updates} two-change updates (apply, single and batched) ended at a = b = {total}; \
             a reader process saw a = b in each of {} lock-free reads",
            reads.load(Ordering::SeqCst)
        ),
    );
}

/// Threads of one process update a document at once through `Runtime::apply`, so group
/// commit batches them: each caller's changes stay together, and an update that refuses
/// writes none of its changes while the others in its batch stand.
#[test]
fn group_commit_keeps_each_callers_changes_together() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path());
    let runtime = Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir()), ..RuntimeOptions::default() }).unwrap();
    let incr = |key: &str| Change::Incr { key: key.into(), delta: "1".into() };
    let (threads, updates) = (8, 20);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (runtime, repo) = (&runtime, &repo);
            s.spawn(move || {
                for u in 0..updates {
                    if (t + u) % 3 == 0 {
                        let refused =
                            runtime.apply(repo, "app.json", vec![incr("a"), Change::Unset { key: "gone".into() }]);
                        match refused {
                            Err(ServiceError::Refused { index: 1, error }) => {
                                assert_eq!(error.kind(), Some(ServiceErrorKind::NotFound));
                            }
                            other => panic!("expected the second change to refuse: {other:?}"),
                        }
                    } else {
                        let answers = runtime.apply(repo, "app.json", vec![incr("a"), incr("b")]).unwrap();
                        assert_eq!(answers[0], answers[1], "a and b move together");
                    }
                }
            });
        }
    });
    let made = (0..threads).flat_map(|t| (0..updates).map(move |u| (t + u) % 3)).filter(|r| *r != 0).count();
    assert_eq!(document(dir.path(), "app.json"), json!({"a": made, "b": made}));
    assert!(matches!(
        runtime.apply(&repo, "app.json", Vec::new()),
        Err(ServiceError::Answer { kind: ServiceErrorKind::InvalidValue, .. })
    ));
}
