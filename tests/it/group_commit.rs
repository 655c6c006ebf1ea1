//! Group commit (`Repository::update`): threads of one process updating one document at
//! once share lock holds and fsyncs, yet every change is applied exactly once, in turn, on
//! the latest state, and each caller hears of success only once its change is durable.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use crate::support::{assert_no_temp_files, cache_dir, figure, gated, repository};
use confine::{Error, Repository, Runtime, RuntimeOptions};
use confine_store::{Step, StepGate};

const DOC: &str = "n.json";

/// Counts fsyncs of temp files, and fails the `fail_dir_sync`-th directory fsync.
#[derive(Default)]
struct Counter {
    temp_syncs: AtomicUsize,
    dir_syncs: AtomicUsize,
    fail_dir_sync: Option<usize>,
}

impl StepGate for Counter {
    fn before(&self, step: &Step<'_>) -> io::Result<()> {
        match step {
            Step::SyncTemp { .. } => drop(self.temp_syncs.fetch_add(1, Ordering::SeqCst)),
            Step::SyncDirectory => {
                let n = self.dir_syncs.fetch_add(1, Ordering::SeqCst) + 1;
                if Some(n) == self.fail_dir_sync {
                    return Err(io::Error::from_raw_os_error(rustix::io::Errno::IO.raw_os_error()));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn counter_of(content: Option<&str>) -> u64 {
    content.map_or(0, |text| serde_json::from_str::<serde_json::Value>(text).unwrap()["n"].as_u64().unwrap())
}

fn bump(content: Option<&str>) -> Result<String, String> {
    Ok(format!("{{\"n\": {}}}", counter_of(content) + 1))
}

/// Runs `per` updates on each of `threads` threads at once; returns each thread's results.
fn concurrently<T: Send + 'static>(
    threads: usize,
    per: usize,
    repository: &Repository,
    update: impl Fn(&Repository, usize) -> T + Send + Sync + 'static,
) -> Vec<Vec<T>> {
    let start = Arc::new(Barrier::new(threads));
    let update = Arc::new(update);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (repository, start, update) = (repository.clone(), Arc::clone(&start), Arc::clone(&update));
            std::thread::spawn(move || {
                start.wait();
                (0..per).map(|i| update(&repository, t * per + i)).collect::<Vec<T>>()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn concurrent_updates_are_all_applied_with_fewer_fsyncs_than_updates() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(Counter::default());
    let repository = gated(dir.path(), gate.clone());
    let (threads, per) = (8, crate::support::trials(100));
    let results = concurrently(threads, per, &repository, |r, _| r.update(DOC, bump).unwrap().unwrap());
    let updates = threads * per;
    assert_eq!(counter_of(Some(&repository.read(DOC).unwrap().content)), updates as u64);
    assert!(results.iter().flatten().all(|revision| revision.len() == 32));
    let syncs = gate.temp_syncs.load(Ordering::SeqCst);
    assert!(syncs < updates, "no batch formed: {syncs} fsyncs for {updates} updates");
    assert_no_temp_files(dir.path());
    figure(
        "group_commit",
        &format!(
            "{updates} concurrent updates from {threads} threads, all applied, in {syncs} writes \
             ({:.1} updates per fsync pair)",
            updates as f64 / syncs as f64
        ),
    );
}

#[test]
fn concurrent_guest_calls_share_writes_too() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(Counter::default());
    let repository = gated(dir.path(), gate.clone());
    let runtime =
        Arc::new(Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir()), ..RuntimeOptions::default() }).unwrap());
    let (threads, per) = (8, crate::support::trials(25));
    let results = concurrently(threads, per, &repository, move |r, _| runtime.incr(r, DOC, "n", "1").unwrap());
    let updates = threads * per;
    // Each caller's answer is the value its own change produced: all distinct, 1..=updates.
    let mut answers: Vec<u64> = results.into_iter().flatten().map(|n| n.parse().unwrap()).collect();
    answers.sort_unstable();
    assert_eq!(answers, (1..=updates as u64).collect::<Vec<_>>());
    assert_eq!(counter_of(Some(&repository.read(DOC).unwrap().content)), updates as u64);
    let syncs = gate.temp_syncs.load(Ordering::SeqCst);
    assert!(syncs < updates, "no batch formed: {syncs} fsyncs for {updates} guest updates");
    figure(
        "group_commit_guest",
        &format!(
            "{updates} concurrent guest incr calls from {threads} threads, all applied, each answer its own, \
             in {syncs} writes"
        ),
    );
}

#[test]
fn a_refused_failed_or_panicking_change_leaves_the_others_standing() {
    let dir = tempfile::tempdir().unwrap();
    let repository = repository(dir.path());
    let results = concurrently(6, 30, &repository, |r, i| {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            r.update(DOC, move |current| match i % 5 {
                1 => Err(format!("change {i} refuses")),
                2 => Ok("[not an object]".to_owned()),
                3 if i % 3 == 0 => panic!("change {i} panics"),
                _ => bump(current),
            })
        }));
        match outcome {
            Ok(Ok(Ok(_))) => "applied",
            Ok(Ok(Err(reason))) => {
                assert_eq!(reason, format!("change {i} refuses"));
                "refused"
            }
            Ok(Err(Error::InvalidDocument { .. })) => "invalid",
            Ok(Err(e)) => panic!("unexpected error: {e}"),
            Err(_) => "panicked",
        }
    });
    let all: Vec<&str> = results.into_iter().flatten().collect();
    let count = |what: &str| all.iter().filter(|o| **o == what).count();
    assert_eq!(count("refused"), 36);
    assert_eq!(count("invalid"), 36);
    assert_eq!(count("panicked"), 12);
    assert_eq!(counter_of(Some(&repository.read(DOC).unwrap().content)), count("applied") as u64);
    assert_eq!(count("applied"), 180 - 36 - 36 - 12);
}

#[test]
fn a_failed_directory_fsync_reaches_every_caller_of_its_batch_and_no_one_hears_success() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(Counter { fail_dir_sync: Some(3), ..Counter::default() });
    let repository = gated(dir.path(), gate.clone());
    let results = concurrently(8, 20, &repository, |r, _| r.update(DOC, bump).map(|refusal| refusal.unwrap()));
    let not_durable = results.iter().flatten().filter(|r| matches!(r, Err(Error::NotDurable { .. }))).count();
    let written = results.iter().flatten().filter(|r| r.is_ok()).count();
    assert!(not_durable >= 1, "the failed fsync was not reported");
    assert_eq!(written + not_durable, 160, "other errors: {results:?}");
    // Not durable is not "not written": those changes are in place, like any NotDurable.
    assert_eq!(counter_of(Some(&repository.read(DOC).unwrap().content)), 160);
}

#[test]
fn a_text_that_another_writer_put_in_place_is_checked_again() {
    let dir = tempfile::tempdir().unwrap();
    let repository = repository(dir.path());
    let runtime = Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir()), ..RuntimeOptions::default() }).unwrap();
    let path = dir.path().join(DOC);
    assert_eq!(runtime.incr(&repository, DOC, "n", "1").unwrap(), "1");
    // The next update finds the text it wrote, so its check of it is skipped.
    assert_eq!(runtime.incr(&repository, DOC, "n", "1").unwrap(), "2");
    // Another writer, bypassing every lock and check: what it leaves is walked again.
    for bad in ["{\"n\": 2, \"n\": 3}", "{\"n\": 2", "[2]"] {
        std::fs::write(&path, bad).unwrap();
        let refused = runtime.incr(&repository, DOC, "n", "1").unwrap_err();
        assert_eq!(refused.kind(), Some(confine::ServiceErrorKind::InvalidDocument), "{bad}: {refused}");
        assert!(refused.to_string().contains(DOC), "{refused}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), bad, "a refused update changed the file");
    }
    std::fs::write(&path, "{\"n\": 41}").unwrap();
    assert_eq!(runtime.incr(&repository, DOC, "n", "1").unwrap(), "42", "the other writer's text is the one updated");
    assert_eq!(runtime.incr(&repository, DOC, "n", "1").unwrap(), "43");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"n\": 43}");
}
