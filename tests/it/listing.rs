//! The rest of the port on the command line: `ls` (the documents of a directory) and `rm`
//! (a removal under the document's lock), as text and as `--json`; and what is generated
//! from the command line's definition: `completions` and `man`.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{confine, other_locker, run_fails, run_ok, snapshot};

fn json_of(text: &str) -> Value {
    serde_json::from_str(text.trim_end()).unwrap()
}

#[test]
fn ls_lists_the_documents_of_a_directory_sorted_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(run_ok(confine(d).arg("ls")), "", "an empty directory lists nothing");
    for doc in ["b.json", "a.json", "Z.json", "sub/x.json", "sub/deeper/y.json"] {
        std::fs::create_dir_all(d.join(doc).parent().unwrap()).unwrap();
        run_ok(confine(d).args(["set", doc, "k", "1"]));
    }
    std::fs::write(d.join(".a.json.0123456789abcdef.tmp"), "torn").unwrap();
    std::fs::create_dir(d.join("empty")).unwrap();
    assert_eq!(run_ok(confine(d).arg("ls")), "Z.json\na.json\nb.json\n", "no lock, temp file or directory");
    assert_eq!(run_ok(confine(d).args(["ls", "sub"])), "sub/x.json\n");
    assert_eq!(run_ok(confine(d).args(["ls", "sub/deeper"])), "sub/deeper/y.json\n");
    assert_eq!(run_ok(confine(d).args(["ls", "empty"])), "");
    assert_eq!(
        json_of(&run_ok(confine(d).args(["--json", "ls"]))),
        json!({"ok": true, "documents": ["Z.json", "a.json", "b.json"]})
    );
    let stderr = run_fails(confine(d).args(["ls", "missing"]), 3);
    assert!(stderr.contains("missing") && stderr.contains("no such document"), "{stderr}");
    let stderr = run_fails(confine(d).args(["ls", "../"]), 2);
    assert!(stderr.contains("`.` and `..` are not allowed"), "{stderr}");
    let failed =
        json_of(&String::from_utf8(confine(d).args(["--json", "ls", "/etc"]).output().unwrap().stdout).unwrap());
    assert_eq!((failed["ok"].clone(), failed["exit"].clone()), (json!(false), json!(2)), "{failed}");
}

#[test]
fn rm_removes_under_the_lock_and_keeps_the_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(confine(d).args(["set", "app.json", "k", "1"]));
    run_ok(confine(d).args(["rm", "app.json"]));
    assert!(!d.join("app.json").exists() && d.join("app.json.lock").is_file(), "removed, the lock file stays");
    let stderr = run_fails(confine(d).args(["rm", "app.json"]), 3);
    assert!(stderr.contains("app.json") && stderr.contains("no such document"), "{stderr}");
    let failed =
        json_of(&String::from_utf8(confine(d).args(["--json", "rm", "app.json"]).output().unwrap().stdout).unwrap());
    assert_eq!(failed["error"]["kind"], json!("not-found"), "{failed}");
    let before = snapshot(d);
    let stderr = run_fails(confine(d).args(["rm", "../app.json"]), 2);
    assert!(stderr.contains("../app.json"), "{stderr}");
    assert_eq!(snapshot(d), before, "a refused name removes nothing");

    // Under the lock: while another program holds it, rm waits for it (or times out),
    // and removes nothing meanwhile.
    run_ok(confine(d).args(["set", "app.json", "k", "2"]));
    let (mut holder, pid) = other_locker::holder(&d.join("app.json.lock"));
    let stderr = run_fails(confine(d).args(["--timeout", "100ms", "rm", "app.json"]), 4);
    assert!(stderr.contains(&pid.to_string()), "the timeout names the holder: {stderr}");
    assert!(d.join("app.json").is_file(), "nothing removed while the lock is held");
    let waiting = confine(d).args(["--timeout", "10s", "rm", "app.json"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(d.join("app.json").is_file(), "rm waits for the holder");
    let released = Instant::now();
    drop(holder.stdin.take());
    holder.wait().unwrap();
    assert!(waiting.wait_with_output().unwrap().status.success());
    assert!(!d.join("app.json").exists(), "removed once the lock was free ({:?} after)", released.elapsed());
    assert_eq!(json_of(&run_ok(confine(d).args(["--json", "set", "app.json", "k", "3"]))), json!({"ok": true}));
    assert_eq!(json_of(&run_ok(confine(d).args(["--json", "rm", "app.json"]))), json!({"ok": true}));
}

#[test]
fn completions_and_the_manual_come_from_the_same_definition_as_help() {
    let nowhere = std::path::Path::new("/nonexistent/confine-dir");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = run_ok(confine(nowhere).args(["completions", shell]));
        for command in ["set", "incr", "lock-status", "ls", "rm", "completions"] {
            assert!(script.contains(command), "{shell} completions lack {command}");
        }
    }
    let stderr = run_fails(confine(nowhere).args(["completions", "tcsh"]), 2);
    assert!(stderr.contains("tcsh"), "{stderr}");
    let manual = run_ok(confine(nowhere).arg("man"));
    assert!(manual.starts_with(".ie") || manual.starts_with(".TH"), "roff: {}", &manual[..40.min(manual.len())]);
    assert!(
        manual.contains("confine") && manual.contains("lock\\-status") && manual.contains("Exit status"),
        "{manual}"
    );
}
