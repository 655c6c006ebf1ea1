//! Guarantees inside one process: threads exclude each other (OFD locks belong to the open
//! file description, not to the process), through the library and through the guest.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::{Arc, Barrier};
use std::time::Duration;

use crate::support::repository;
use confine::{Error, Runtime, RuntimeOptions};

#[test]
fn two_threads_cannot_both_hold_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path());
    let held = Arc::new(Barrier::new(2));
    let released = Arc::new(Barrier::new(2));
    let holder = {
        let (repo, held, released) = (repo.clone(), Arc::clone(&held), Arc::clone(&released));
        std::thread::spawn(move || {
            let session = repo.open_session("a.json", None).unwrap();
            held.wait();
            released.wait();
            drop(session);
        })
    };
    held.wait();
    let err = repo.open_session("a.json", Some(Duration::from_millis(100))).err().unwrap();
    assert!(matches!(err, Error::LockTimeout { .. }), "{err}");
    released.wait();
    holder.join().unwrap();
    repo.open_session("a.json", Some(Duration::from_secs(5))).unwrap();
}

#[test]
fn lost_update_is_impossible_across_threads() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let repo = repo.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let session = repo.open_session("n.json", Some(Duration::from_secs(60))).unwrap();
                    let n = session
                        .current()
                        .unwrap()
                        .map(|s| serde_json::from_str::<serde_json::Value>(&s.content).unwrap()["n"].as_i64().unwrap())
                        .unwrap_or(0);
                    session.commit(&format!("{{\"n\": {}}}", n + 1)).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(repo.read("n.json").unwrap().content, "{\"n\": 400}");
}

#[test]
fn lost_update_is_impossible_across_guest_calls_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path());
    let runtime = Arc::new(
        Runtime::new(RuntimeOptions { cache_dir: Some(crate::support::cache_dir()), ..RuntimeOptions::default() })
            .unwrap(),
    );
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (repo, runtime) = (repo.clone(), Arc::clone(&runtime));
            std::thread::spawn(move || {
                for _ in 0..25 {
                    runtime.incr(&repo, "g.json", "hits", "1").unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(runtime.get(&repo, "g.json", "hits").unwrap(), "100");
}

#[test]
fn compare_and_swap_detects_a_concurrent_change() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path());
    let first = repo.save("c.json", "{\"v\": 1}", None).unwrap();
    assert!(matches!(repo.save("c.json", "{\"v\": 9}", None), Err(Error::Conflict { .. })));
    let second = repo.save("c.json", "{\"v\": 2}", Some(&first)).unwrap();
    let err = repo.save("c.json", "{\"v\": 3}", Some(&first)).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    assert_eq!(repo.read("c.json").unwrap().revision, second);
    assert_eq!(repo.read("c.json").unwrap().content, "{\"v\": 2}");
}
