//! Plugin components update configuration through the host, reach nothing outside their
//! directory, and cannot hurt the host: a trap, a runaway loop or a memory hog writes
//! nothing, releases every lock, and is stopped within its limits.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

use crate::support::{confine, documents, probe_plugin, run_fails, run_ok, snapshot};

#[test]
fn plugin_updates_a_document_through_the_host() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(confine(dir.path()).arg("run").arg(probe_plugin()).args(["incr", "app.json", "n", "5"]));
    run_ok(confine(dir.path()).arg("run").arg(probe_plugin()).args(["cas-incr", "app.json", "n", "5"]));
    assert_eq!(run_ok(confine(dir.path()).args(["get", "app.json", "n"])).trim(), "10");
    let listed = run_ok(confine(dir.path()).arg("run").arg(probe_plugin()).args(["list", ""]));
    assert_eq!(listed, "app.json\n");
}

#[test]
fn plugin_cannot_reach_outside_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.json"), "{\"secret\": 1}").unwrap();
    symlink(outside.path(), dir.path().join("out")).unwrap();
    let secret = outside.path().join("secret.json");
    let secret = secret.to_str().unwrap();
    let before = (snapshot(dir.path()), snapshot(outside.path()));
    for args in [
        vec!["read", "../secret.json"],
        vec!["read", secret],
        vec!["read", "out/secret.json"],
        vec!["list", ".."],
        vec!["list", "out"],
        vec!["incr", "out/secret.json", "secret", "1"],
    ] {
        let stderr = run_fails(confine(dir.path()).arg("run").arg(probe_plugin()).args(&args), 1);
        assert!(stderr.contains("InvalidPath"), "{args:?}: {stderr}");
        assert!(!stderr.contains("\"secret\": 1"), "{args:?} leaked the file: {stderr}");
    }
    assert_eq!((snapshot(dir.path()), snapshot(outside.path())), before);
}

#[test]
fn trap_inside_a_session_writes_nothing_and_releases_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(confine(dir.path()).args(["set", "app.json", "n", "1"]));
    let before = documents(dir.path());
    let stderr = run_fails(confine(dir.path()).arg("run").arg(probe_plugin()).args(["trap-in-session", "app.json"]), 1);
    assert!(stderr.contains("trapped"), "{stderr}");
    assert_eq!(documents(dir.path()), before);
    run_ok(confine(dir.path()).args(["--timeout", "200ms", "set", "app.json", "n", "2"]));
}

#[test]
fn runaway_plugin_is_stopped_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let stderr = run_fails(
        confine(dir.path()).args(["--timeout", "100ms", "--budget", "300ms", "run"]).arg(probe_plugin()).arg("spin"),
        1,
    );
    assert!(stderr.contains("ran past its deadline"), "{stderr}");
    // Functional bound only (the default budget would be 15 s): the loop was interrupted.
    assert!(started.elapsed() < Duration::from_secs(8), "stopped after {:?}", started.elapsed());
}

#[test]
fn memory_hog_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = run_fails(confine(dir.path()).args(["--memory", "32", "run"]).arg(probe_plugin()).arg("hog"), 1);
    assert!(stderr.contains("grow its memory past the limit"), "{stderr}");
}

#[test]
fn a_file_that_is_not_a_plugin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let not_wasm = dir.path().join("not.wasm");
    std::fs::write(&not_wasm, b"\0asm garbage").unwrap();
    let stderr = run_fails(confine(dir.path()).arg("run").arg(&not_wasm), 2);
    assert!(stderr.contains("cannot load the plugin"), "{stderr}");
    let stderr = run_fails(confine(dir.path()).arg("run").arg(dir.path().join("missing.wasm")), 5);
    assert!(stderr.contains("missing.wasm"), "{stderr}");
}
