//! Guarantees that hold across processes: fcntl locks belong to processes, so these are
//! shown with real processes, not threads.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::process::Stdio;
use std::time::Duration;

use crate::support::other_locker::{another_process_can_lock, first_line, spawn_holder};
use crate::support::{confine, probe_plugin, repository, run_fails, run_ok};

const WORKERS: usize = 8;
const INCREMENTS: usize = 25;

#[test]
fn lost_update_is_impossible_across_cli_processes() {
    let dir = tempfile::tempdir().unwrap();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let path = dir.path().to_owned();
            std::thread::spawn(move || {
                for _ in 0..INCREMENTS {
                    run_ok(confine(&path).args(["--timeout", "60s", "incr", "counter.json", "n"]));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let total = run_ok(confine(dir.path()).args(["get", "counter.json", "n"]));
    assert_eq!(total.trim(), (WORKERS * INCREMENTS).to_string());
    crate::support::assert_no_temp_files(dir.path());
}

#[test]
fn cli_sessions_and_compare_and_swap_plugins_mix_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = probe_plugin();
    let mut children = Vec::new();
    for mode in ["incr", "incr", "cas-incr", "cas-incr"] {
        children.push(
            confine(dir.path())
                .args(["--timeout", "60s", "--budget", "120s", "run"])
                .arg(&plugin)
                .args([mode, "mixed.json", "n", "40"])
                .spawn()
                .unwrap(),
        );
    }
    for _ in 0..40 {
        run_ok(confine(dir.path()).args(["--timeout", "60s", "incr", "mixed.json", "n"]));
    }
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let total = run_ok(confine(dir.path()).args(["get", "mixed.json", "n"]));
    assert_eq!(total.trim(), (4 * 40 + 40).to_string());
}

#[test]
fn lockf_holder_in_another_process_blocks_confine() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(confine(dir.path()).args(["set", "app.json", "v", "1"]));
    let before = std::fs::read(dir.path().join("app.json")).unwrap();
    let mut holder = spawn_holder(&dir.path().join("app.json.lock"));
    let line = first_line(&mut holder);
    let pid: u32 = line.trim().strip_prefix("locked ").expect("holder reports the lock").parse().unwrap();

    let stderr = run_fails(confine(dir.path()).args(["--timeout", "300ms", "set", "app.json", "v", "2"]), 4);
    assert!(stderr.contains("app.json.lock still held"), "{stderr}");
    assert!(stderr.contains(&format!("held by process {pid}")), "{stderr}");
    assert_eq!(std::fs::read(dir.path().join("app.json")).unwrap(), before);

    drop(holder.stdin.take()); // the holder exits, and the kernel releases its lock
    holder.wait().unwrap();
    run_ok(confine(dir.path()).args(["--timeout", "5s", "set", "app.json", "v", "2"]));
    assert_eq!(run_ok(confine(dir.path()).args(["get", "app.json", "v"])).trim(), "2");
}

#[test]
fn confine_session_blocks_a_lockf_caller_in_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path());
    let session = repo.open_session("app.json", None).unwrap();
    let lock_file = dir.path().join("app.json.lock");

    assert!(!another_process_can_lock(&lock_file), "lockf(LOCK_NB) must find the lock busy");

    let mut waiter = spawn_holder(&lock_file);
    std::thread::sleep(Duration::from_millis(300));
    assert!(waiter.try_wait().unwrap().is_none(), "a blocking lockf must wait while confine holds the lock");

    session.commit("{\"by\": \"confine\"}").unwrap();
    let line = first_line(&mut waiter);
    assert!(line.starts_with("locked"), "the lockf caller gets the lock once confine releases it: {line:?}");
    drop(waiter.stdin.take());
    waiter.wait().unwrap();
}

#[test]
fn killed_lock_holder_releases_its_lock() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(confine(dir.path()).args(["set", "app.json", "v", "1"]));
    let mut holder = confine(dir.path())
        .args(["--budget", "120s", "run"])
        .arg(probe_plugin())
        .args(["hold", "app.json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(first_line(&mut holder).trim(), "holding app.json");
    run_fails(confine(dir.path()).args(["--timeout", "200ms", "set", "app.json", "v", "2"]), 4);

    holder.kill().unwrap(); // SIGKILL: no destructor runs; the kernel drops the lock
    holder.wait().unwrap();
    run_ok(confine(dir.path()).args(["--timeout", "5s", "set", "app.json", "v", "3"]));
    assert_eq!(run_ok(confine(dir.path()).args(["get", "app.json", "v"])).trim(), "3");
}

#[test]
fn readers_never_see_a_torn_document_while_processes_write() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!("\"{}\"", "x".repeat(100 << 10)); // under the 128 KiB limit of one argument
    run_ok(confine(dir.path()).args(["set", "big.json", "v", &big]));
    let writers: Vec<_> = (0..4)
        .map(|i| {
            let (path, value) = (dir.path().to_owned(), format!("\"{}\"", i.to_string().repeat(100 << 10)));
            std::thread::spawn(move || {
                for _ in 0..10 {
                    run_ok(confine(&path).args(["--timeout", "60s", "set", "big.json", "v", &value]));
                }
            })
        })
        .collect();
    let repo = repository(dir.path());
    let mut reads = 0;
    while !writers.iter().all(|w| w.is_finished()) {
        let snapshot = repo.read("big.json").unwrap();
        let doc: serde_json::Value = serde_json::from_str(&snapshot.content).expect("a whole document");
        let value = doc["v"].as_str().unwrap();
        let first = value.as_bytes()[0];
        assert!(value.len() == 100 << 10 && value.bytes().all(|b| b == first), "mixed content");
        reads += 1;
    }
    for writer in writers {
        writer.join().unwrap();
    }
    assert!(reads > 0);
}
