//! Everything at once on the same documents: CLI processes, threads of this process
//! (sessions, guest calls, compare-and-swap savers), plugin components in other processes,
//! and an outside Python program that takes `lockf` on the lock file and rewrites the
//! document itself. The final counters are exact, and every failed compare-and-swap is
//! reported as a conflict, never dropped. A lock held by one party is not released by
//! anything another descriptor or another component of the same process does.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::other_locker::another_process_can_lock;
use crate::support::{OTHER_LOCKER, cache_dir, confine, figure, probe_plugin, repository_with, run_ok, trials};
use confine::{Error, Options, Repository, Runtime, RuntimeOptions};

fn counter(repository: &Repository, doc: &str) -> u64 {
    let text = repository.read(doc).unwrap().content;
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["n"].as_u64().unwrap()
}

fn bumped(content: Option<&str>) -> String {
    let n = content.map_or(0, |text| serde_json::from_str::<serde_json::Value>(text).unwrap()["n"].as_u64().unwrap());
    format!("{{\"n\": {}}}", n + 1)
}

#[test]
fn every_kind_of_writer_at_once_loses_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let options = Options::default().with_lock_timeout(Duration::from_secs(60));
    let repository = repository_with(&path, options);
    let runtime =
        Arc::new(Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir()), ..RuntimeOptions::default() }).unwrap());
    let per = trials(25) as u64;
    let conflicts = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(11));
    let mut writers: Vec<JoinHandle<u64>> = Vec::new();
    let mut spawn = |writer: Box<dyn FnOnce() -> u64 + Send>| {
        let start = Arc::clone(&start);
        writers.push(std::thread::spawn(move || {
            start.wait();
            writer()
        }));
    };
    for doc in ["a.json", "b.json"] {
        // A thread of this process with sessions.
        let r = repository.clone();
        spawn(Box::new(move || {
            for _ in 0..per {
                let session = r.open_session(doc, None).unwrap();
                let current = session.current().unwrap();
                session.commit(&bumped(current.as_ref().map(|s| s.content.as_str()))).unwrap();
            }
            per
        }));
        // A compare-and-swap saver of this process: a conflict is reported, then retried.
        let (r, conflicts) = (repository.clone(), Arc::clone(&conflicts));
        spawn(Box::new(move || {
            for _ in 0..per {
                loop {
                    let current = match r.read(doc) {
                        Ok(snapshot) => Some(snapshot),
                        Err(Error::NotFound { .. }) => None,
                        Err(e) => panic!("{e}"),
                    };
                    let expected = current.as_ref().map(|s| s.revision.as_str());
                    match r.save(doc, &bumped(current.as_ref().map(|s| s.content.as_str())), expected) {
                        Ok(_) => break,
                        Err(Error::Conflict { .. }) => drop(conflicts.fetch_add(1, Ordering::Relaxed)),
                        Err(e) => panic!("a failed compare-and-swap must be a conflict, got: {e}"),
                    }
                }
            }
            per
        }));
        // The guest component, in this process.
        let (r, rt) = (repository.clone(), Arc::clone(&runtime));
        spawn(Box::new(move || {
            (0..per).for_each(|_| drop(rt.incr(&r, doc, "n", "1").unwrap()));
            per
        }));
        // CLI processes, one per update.
        let p = path.clone();
        spawn(Box::new(move || {
            (0..per).for_each(|_| drop(run_ok(confine(&p).args(["--timeout", "60s", "incr", doc, "n"]))));
            per
        }));
        // The outside program, taking lockf on the lock file.
        let p = path.join(doc);
        spawn(Box::new(move || {
            let status = Command::new("python3")
                .args(["-c", OTHER_LOCKER, "write", "lockf"])
                .arg(&p)
                .arg(per.to_string())
                .stdout(Stdio::null())
                .status();
            assert!(status.unwrap().success());
            per
        }));
    }
    // Plugins in other processes: one with sessions, one with compare-and-swap.
    let p = path.clone();
    spawn(Box::new(move || {
        let plugin = probe_plugin();
        for (doc, mode) in [("a.json", "incr"), ("b.json", "cas-incr")] {
            run_ok(confine(&p).args(["--timeout", "60s", "run"]).arg(&plugin).args([mode, doc, "n", &per.to_string()]));
        }
        2 * per
    }));
    let total: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    let (a, b) = (counter(&repository, "a.json"), counter(&repository, "b.json"));
    assert_eq!(a + b, total, "a.json {a} + b.json {b}");
    assert_eq!((a, b), (total / 2, total / 2));
    crate::support::assert_no_temp_files(&path);
    let conflicts = conflicts.load(Ordering::Relaxed);
    figure(
        "stress",
        &format!(
            "{total} updates from 11 writers of 6 kinds (CLI processes, threads, guest calls, compare-and-swap, \
             plugins, a Python lockf writer) on 2 documents: counters exact, {conflicts} compare-and-swap conflicts \
             all reported"
        ),
    );
}

#[test]
fn closing_another_descriptor_of_the_lock_file_keeps_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let repository = repository_with(dir.path(), Options::default());
    let lock_file = dir.path().join("app.json.lock");
    let session = repository.open_session("app.json", None).unwrap();
    // With classic fcntl locks, closing any descriptor of the file drops the process's lock.
    drop(std::fs::File::open(&lock_file).unwrap());
    drop(std::fs::OpenOptions::new().append(true).open(&lock_file).unwrap());
    drop(repository.read("app.json").err()); // a read of the document, a lookup of its lock file
    assert!(!another_process_can_lock(&lock_file), "the lock was released by closing another descriptor");
    // A second session of this process is refused too, and its failed attempt releases nothing.
    assert!(matches!(repository.open_session("app.json", Some(Duration::ZERO)), Err(Error::LockTimeout { .. })));
    assert!(!another_process_can_lock(&lock_file), "the lock was released by a failed attempt");
    drop(session);
    assert!(another_process_can_lock(&lock_file));
}

#[test]
fn another_component_of_the_same_host_cannot_release_a_held_lock() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::default().with_lock_timeout(Duration::from_millis(200));
    let repository = repository_with(dir.path(), options);
    run_ok(confine(dir.path()).args(["set", "app.json", "n", "1"]));
    let lock_file = dir.path().join("app.json.lock");
    let runtime = Arc::new(
        Runtime::new(RuntimeOptions {
            cache_dir: Some(cache_dir()),
            call_budget: Duration::from_secs(4),
            plugin_stdio: false,
            ..RuntimeOptions::default()
        })
        .unwrap(),
    );
    let wasm = std::fs::read(probe_plugin()).unwrap();
    // One component holds the document's session until its deadline stops it.
    let holder = {
        let (runtime, repository, wasm) = (Arc::clone(&runtime), repository.clone(), wasm.clone());
        std::thread::spawn(move || runtime.run_plugin(&repository, &wasm, &["hold".into(), "app.json".into()]))
    };
    let start = Instant::now();
    while another_process_can_lock(&lock_file) {
        assert!(start.elapsed() < Duration::from_secs(30), "the holder never took the lock");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Other components of the same host touch the document and its lock, and end.
    let args = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    runtime.run_plugin(&repository, &wasm, &args(&["read", "app.json"])).unwrap();
    runtime.run_plugin(&repository, &wasm, &args(&["list", ""])).unwrap();
    let refused = runtime.run_plugin(&repository, &wasm, &args(&["incr", "app.json", "n", "1"])).unwrap_err();
    assert!(refused.to_string().contains("LockTimeout"), "{refused}");
    assert!(runtime.get(&repository, "app.json", "n").is_ok());
    assert!(runtime.incr(&repository, "app.json", "n", "1").is_err(), "the guest got a lock that is held");
    assert!(!another_process_can_lock(&lock_file), "another component released the held lock");
    assert!(holder.join().unwrap().is_err(), "the holder should be stopped by its deadline");
    assert!(another_process_can_lock(&lock_file), "the holder's lock outlived its instance");
    assert_eq!(runtime.get(&repository, "app.json", "n").unwrap(), "1");
}
