//! Faults injected at every filesystem step of a write, SQLite's way: fail the k-th step
//! with ENOSPC, EIO, EACCES, EXDEV or EINTR, for k = 1, 2, ... until a write completes
//! without reaching the k-th step. After each fault: the error reaches the caller with the
//! document's name and the failed step; the document is exactly as before (or, when only
//! the directory fsync failed, the caller is told the change may not be durable); no temp
//! file is left; the lock is free. A one-time fault is never retried into a success, so an
//! fsync that failed once fails the write.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::support::{SOON, assert_no_temp_files, cache_dir, figure, gated, other_locker, repository};
use confine::{Repository, Runtime, RuntimeOptions};
use confine_store::{Step, StepGate};
use rustix::io::Errno;

const DOC: &str = "app.json";
const OLD: &str = "{\n  \"n\": 1\n}\n";

/// Fails the `target`-th step it sees; with `persistent`, every step after it too (the
/// disk stays full), cleanup included.
struct FailAt {
    target: usize,
    errno: Errno,
    persistent: bool,
    seen: AtomicUsize,
    failed: Mutex<Vec<String>>,
}

/// The step whose failure decides the outcome: the first failed one that is not best effort.
struct Hit {
    step: String,
    best_effort: bool,
    follows_the_change: bool,
}

impl StepGate for FailAt {
    fn before(&self, step: &Step<'_>) -> io::Result<()> {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.target || (self.persistent && n > self.target) {
            self.failed.lock().unwrap().push(format!("{step:?}"));
            return Err(io::Error::from_raw_os_error(self.errno.raw_os_error()));
        }
        Ok(())
    }
}

impl FailAt {
    fn hit(&self) -> Option<Hit> {
        let failed = self.failed.lock().unwrap();
        let is_best_effort =
            |step: &String| ["StampLock", "ListDirectory", "RemoveStaleTemp"].iter().any(|s| step.starts_with(s));
        let step = failed.iter().find(|step| !is_best_effort(step)).or(failed.first())?.clone();
        let follows_the_change = step.starts_with("OpenDirectory") || step.starts_with("SyncDirectory");
        Some(Hit { best_effort: is_best_effort(&step), step, follows_the_change })
    }
}

/// The writes under test, each from a known starting state to a known result.
#[derive(Clone, Copy, Debug)]
enum Write {
    /// Compare-and-swap save over an existing document.
    Save,
    /// A session that creates the document.
    Create,
    /// Removing the document.
    Remove,
    /// `config-service.incr` through the guest component.
    GuestIncr,
    /// `Repository::update`, the group-commit path.
    Update,
}

impl Write {
    /// The document before (`None`: absent) and after the write.
    fn states(self) -> (Option<&'static str>, Option<&'static str>) {
        const NEW: &str = "{\"n\": 2}";
        match self {
            Write::Save | Write::Update => (Some(OLD), Some(NEW)),
            Write::Create => (None, Some(NEW)),
            Write::Remove => (Some(OLD), None),
            Write::GuestIncr => (Some(OLD), Some("{\n  \"n\": 2\n}\n")),
        }
    }

    fn run(self, repository: &Repository, runtime: &Runtime) -> Result<(), String> {
        let (_, new) = self.states();
        match self {
            Write::Save => {
                let expected = repository.read(DOC).map_err(|e| e.to_string())?.revision;
                repository.save(DOC, new.unwrap(), Some(&expected)).map(drop).map_err(|e| e.to_string())
            }
            Write::Create => {
                let session = repository.open_session(DOC, None).map_err(|e| e.to_string())?;
                assert!(session.current().map_err(|e| e.to_string())?.is_none());
                session.commit(new.unwrap()).map(drop).map_err(|e| e.to_string())
            }
            Write::Remove => repository.remove(DOC).map_err(|e| e.to_string()),
            Write::GuestIncr => runtime.incr(repository, DOC, "n", "1").map(drop).map_err(|e| e.to_string()),
            Write::Update => {
                let new = new.unwrap();
                let change = move |current: Option<&str>| {
                    assert_eq!(current, Some(OLD), "the change sees the document as it is");
                    Ok::<_, String>(new.to_owned())
                };
                match repository.update(DOC, change) {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(refusal)) => Err(refusal),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }
}

fn content(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(DOC)).ok()
}

fn set_state(dir: &Path, state: Option<&str>) {
    match state {
        Some(text) => std::fs::write(dir.join(DOC), text).unwrap(),
        None => drop(std::fs::remove_file(dir.join(DOC))),
    }
}

/// The lock is free: this process takes it within [`SOON`] (an open-file-description lock,
/// so a lock leaked by the failed write would conflict and never be released), and, when
/// `also_outside`, another program's `lockf` too.
fn assert_lock_free(dir: &Path, clean: &Repository, also_outside: bool, context: &str) {
    drop(clean.open_session(DOC, Some(SOON)).unwrap_or_else(|e| panic!("{context}: lock still held: {e}")));
    if !also_outside {
        return;
    }
    assert!(
        other_locker::another_process_can_lock(&dir.join(format!("{DOC}.lock"))),
        "{context}: another process could not take the lock"
    );
}

/// Runs `write` with the k-th step failing, for every k, and checks each outcome.
/// Returns the number of faults injected.
fn every_step_fails_cleanly(write: Write, errno: Errno, persistent: bool, runtime: &Runtime) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clean = repository(dir);
    let (old, new) = write.states();
    let errno_text = io::Error::from_raw_os_error(errno.raw_os_error()).to_string();
    let errno_text = errno_text.split(" (os error").next().unwrap().to_owned();
    for k in 1.. {
        set_state(dir, old);
        let gate = Arc::new(FailAt { target: k, errno, persistent, seen: 0.into(), failed: Mutex::new(Vec::new()) });
        let faulty = gated(dir, gate.clone());
        let outcome = write.run(&faulty, runtime);
        let context = format!("{write:?}, {errno:?}, persistent {persistent}, step {k}");
        let Some(hit) = gate.hit() else {
            // The write needed fewer than k steps: every step has been failed once.
            outcome.unwrap_or_else(|e| panic!("{context}: the write without faults failed: {e}"));
            assert_eq!(content(dir).as_deref(), new, "{context}");
            assert_no_temp_files(dir);
            return k - 1;
        };
        let context = format!("{context} ({})", hit.step);
        if hit.best_effort {
            // Diagnostics and sweeping: their failure does not fail the write.
            outcome.unwrap_or_else(|e| panic!("{context}: a best-effort step failed the write: {e}"));
            assert_eq!(content(dir).as_deref(), new, "{context}");
        } else {
            let error = outcome.expect_err(&format!("{context}: the fault was swallowed"));
            assert!(error.contains(DOC) && error.contains(&errno_text), "{context}: error lacks context: {error}");
            if hit.follows_the_change {
                assert!(error.contains("durable"), "{context}: not told about durability: {error}");
                assert_eq!(content(dir).as_deref(), new, "{context}");
            } else {
                assert_eq!(content(dir).as_deref(), old, "{context}: the document changed");
            }
        }
        assert_lock_free(dir, &clean, errno == Errno::NOSPC && !persistent, &context);
        if persistent {
            // The cleanup may have failed too: the next writer's sweep removes the temp file.
            set_state(dir, Some(OLD));
            clean.save(DOC, "{}", Some(&clean.read(DOC).unwrap().revision)).unwrap();
        }
        assert_no_temp_files(dir);
    }
    unreachable!()
}

#[test]
fn a_fault_at_any_step_of_any_write_loses_nothing() {
    let runtime = Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir()), ..RuntimeOptions::default() }).unwrap();
    let mut faults = 0;
    let mut runs = 0;
    for write in [Write::Save, Write::Create, Write::Remove, Write::GuestIncr, Write::Update] {
        for errno in [Errno::NOSPC, Errno::IO, Errno::ACCESS, Errno::XDEV, Errno::INTR] {
            for persistent in [false, true] {
                faults += every_step_fails_cleanly(write, errno, persistent, &runtime);
                runs += 1;
            }
        }
    }
    figure(
        "faults",
        &format!(
            "{faults} faults injected (5 kinds of write x 5 errnos x one-time/persistent, at each of their steps): \
             document old or new as reported, no temp file, lock free, {runs} loops"
        ),
    );
}
