//! Unit tests of `group.rs`: a backend that panics while group commit writes with it.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use crate::testing::Braces;
use crate::{
    Backend, BackendSession, BackendWatch, DirectoryName, DocumentName, Error, LockStatus, Memory, Options, Repository,
    Result,
};

/// Where [`Breaking`] panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Fault {
    Nowhere,
    OpenSession,
    Read,
    Write,
}

/// Memory, with a planted bug: it panics at the step set in `fault` (a write: its session's
/// commit, and so its save).
#[derive(Clone, Default)]
struct Breaking {
    memory: Memory,
    fault: Arc<AtomicU8>,
}

impl Breaking {
    fn set(&self, fault: Fault) {
        self.fault.store(fault as u8, Ordering::SeqCst);
    }

    fn panic_at(fault: &AtomicU8, step: Fault) {
        if fault.load(Ordering::SeqCst) == step as u8 {
            panic!("a planted bug at {step:?}");
        }
    }
}

impl Backend for Breaking {
    fn read(&self, name: &DocumentName, limit: u64) -> Result<Option<Vec<u8>>> {
        self.memory.read(name, limit)
    }

    fn open_session(&self, name: &DocumentName, timeout: Duration, limit: u64) -> Result<Box<dyn BackendSession>> {
        Breaking::panic_at(&self.fault, Fault::OpenSession);
        let inner = self.memory.open_session(name, timeout, limit)?;
        Ok(Box::new(BreakingSession { inner, fault: Arc::clone(&self.fault) }))
    }

    fn remove(&self, name: &DocumentName, timeout: Duration) -> Result<()> {
        self.memory.remove(name, timeout)
    }

    fn list(&self, directory: &DirectoryName) -> Result<Vec<String>> {
        self.memory.list(directory)
    }

    fn lock_status(&self, name: &DocumentName) -> Result<LockStatus> {
        self.memory.lock_status(name)
    }

    fn watch(&self, name: &DocumentName) -> Result<Box<dyn BackendWatch>> {
        self.memory.watch(name)
    }
}

struct BreakingSession {
    inner: Box<dyn BackendSession>,
    fault: Arc<AtomicU8>,
}

impl BackendSession for BreakingSession {
    fn current(&self) -> Result<Option<Vec<u8>>> {
        Breaking::panic_at(&self.fault, Fault::Read);
        self.inner.current()
    }

    fn commit(self: Box<Self>, content: &str) -> Result<()> {
        Breaking::panic_at(&self.fault, Fault::Write);
        self.inner.commit(content)
    }
}

fn repository(backend: &Breaking) -> Repository {
    Repository::with_backend(backend.clone(), Options::default().with_lock_timeout(Duration::from_secs(10)), Braces)
}

/// A change that adds one `[]` to a document `{...}` (`{}` where there is none).
fn add_one(current: Option<&str>) -> std::result::Result<String, ()> {
    let inside = current.map_or("", |text| &text[1..text.len() - 1]);
    Ok(format!("{{{inside}[]}}"))
}

#[test]
fn a_backend_panic_is_an_internal_error_naming_the_document() {
    for fault in [Fault::OpenSession, Fault::Read, Fault::Write] {
        let backend = Breaking::default();
        backend.set(fault);
        let err = repository(&backend).update("app.json", add_one).unwrap_err();
        let Error::Internal { name, reason } = &err else { panic!("{fault:?}: expected internal, got {err:?}") };
        assert_eq!(name, "app.json");
        assert_eq!(
            reason,
            &format!("the backend panicked while it wrote a batch of updates: a planted bug at {fault:?}")
        );
        assert!(err.to_string().ends_with("(a bug in confine: please report it)"), "{err}");
        assert!(backend.memory.documents().is_empty(), "{fault:?}: nothing was written");
        assert!(
            matches!(err.duplicate(), Error::Internal { name: again, reason: same } if again == *name && same == *reason)
        );
    }
}

#[test]
fn group_commit_stays_usable_after_a_backend_panic() {
    const THREADS: usize = 8;
    let backend = Breaking::default();
    let repository = repository(&backend);
    repository.update("app.json", add_one).unwrap().unwrap();

    // Every caller of every batch the backend breaks hears of it, none waits forever.
    backend.set(Fault::Write);
    let start = Barrier::new(THREADS);
    thread::scope(|threads| {
        let callers: Vec<_> = (0..THREADS)
            .map(|_| {
                threads.spawn(|| {
                    start.wait();
                    repository.update("app.json", add_one)
                })
            })
            .collect();
        for caller in callers {
            let outcome = caller.join().unwrap();
            assert!(matches!(outcome, Err(Error::Internal { .. })), "{outcome:?}");
        }
    });
    assert_eq!(repository.read("app.json").unwrap().content, "{[]}", "no broken batch was written");
    assert!(!repository.lock_status("app.json").unwrap().held, "the broken session let the document go");

    // Then the queue is led as before: no update lost.
    backend.set(Fault::Nowhere);
    thread::scope(|threads| {
        for _ in 0..THREADS {
            threads.spawn(|| repository.update("app.json", add_one).unwrap().unwrap());
        }
    });
    assert_eq!(repository.read("app.json").unwrap().content, format!("{{{}}}", "[]".repeat(THREADS + 1)));
}
