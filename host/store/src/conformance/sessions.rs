//! Many threads at once: whole versions for readers, exclusive sessions, and their locks
//! released as soon as they end.

use std::convert::Infallible;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use super::{Fresh, Kind, Port, check, content, counter, counter_of, join, ok, refused};
use crate::revision;

const DOC: &str = "app.json";

/// How long a writer waits for a lock that must stay held.
const SHORT: Duration = Duration::from_millis(50);

/// How long a session stays open while another thread waits for it.
const HOLD: Duration = Duration::from_millis(50);

/// Threads that write at once.
const THREADS: u64 = 8;

/// Runs its function when dropped, even by a panic: tells the other threads to stop.
struct Defer<F: FnMut()>(F);

impl<F: FnMut()> Drop for Defer<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// A document of about `size` bytes, filled with `fill`.
fn large(fill: char, size: usize, tail: &str) -> String {
    format!("{{\"fill\": \"{}\"{tail}}}", fill.to_string().repeat(size))
}

/// Every read sees one whole committed version while a writer replaces a document of tens
/// of kilobytes over and over (by save, session and update in turn): one of the two
/// versions written, whole, with that version's revision.
pub fn reads_see_whole_versions_while_writers_write(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("reads_see_whole_versions_while_writers_write", fresh, |fresh, port| {
        let rest = fresh.reader_rest;
        let versions = [large('a', 48 << 10, ""), large('b', 40 << 10, ", \"other\": [1, 2, 3]")];
        let revisions = versions.each_ref().map(|version| revision::of(version.as_bytes()));
        let (done, reads, readers_left) = (AtomicBool::new(false), AtomicU64::new(0), AtomicU64::new(2));
        let first = ok(port.save(DOC, &versions[0], None), "creating the document");
        thread::scope(|s| {
            let read = || {
                let _left = Defer(|| {
                    readers_left.fetch_sub(1, Ordering::Release);
                });
                while reads.load(Ordering::Relaxed) == 0 || !done.load(Ordering::Acquire) {
                    let snapshot = ok(port.read(DOC), "reading while a writer writes");
                    let whole = (0..2).any(|i| snapshot.content == versions[i] && snapshot.revision == revisions[i]);
                    assert!(
                        whole,
                        "a read saw neither version whole: {} bytes, beginning {:?}, revision {}",
                        snapshot.content.len(),
                        snapshot.content.chars().take(12).collect::<String>(),
                        snapshot.revision,
                    );
                    reads.fetch_add(1, Ordering::Relaxed);
                    if !rest.is_zero() {
                        thread::sleep(rest);
                    }
                }
            };
            let readers = [s.spawn(read), s.spawn(read)];
            let writer = s.spawn(|| {
                let _done = Defer(|| done.store(true, Ordering::Release));
                let mut expected = first;
                let mut written = 0;
                let reading = || reads.load(Ordering::Relaxed) < 200 && readers_left.load(Ordering::Acquire) > 0;
                while written < 60 || reading() {
                    let next = &versions[(written + 1) % 2];
                    expected = match written % 3 {
                        0 => ok(port.save(DOC, next, Some(&expected)), "saving while readers read"),
                        1 => {
                            let session = ok(port.open_session(DOC, None), "opening a session while readers read");
                            ok(port.commit(session, next), "committing while readers read")
                        }
                        _ => {
                            let next = next.clone();
                            let updated = port.update(DOC, move |_| Ok::<_, Infallible>(next.clone()));
                            ok(updated, "updating while readers read").unwrap_or_else(|never| match never {})
                        }
                    };
                    written += 1;
                }
            });
            join(writer);
            readers.into_iter().for_each(join);
        });
    })
}

/// A session excludes every other session on the same document, from this thread and
/// others: they wait, and time out with [`Error::LockTimeout`](crate::Error::LockTimeout)
/// after the timeout given; one that waits gets the document once the first commits, and
/// sees that commit. Other documents and reads are not held up.
pub fn a_session_excludes_other_sessions(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("a_session_excludes_other_sessions", fresh, |_, port| {
        let first = ok(port.open_session(DOC, None), "opening a session");
        let timed_out = |doing: &str| {
            let start = Instant::now();
            refused(port.open_session(DOC, Some(SHORT)), Kind::LockTimeout, doing);
            assert!(start.elapsed() >= SHORT, "{doing}: timed out after {:?}, before {SHORT:?}", start.elapsed());
        };
        timed_out("opening a second session from the same thread");
        thread::scope(|s| {
            join(s.spawn(|| timed_out("opening a second session from another thread")));
            let other = ok(port.open_session("other.json", Some(SHORT)), "opening a session on another document");
            port.abort(other);
            refused(port.read(DOC), Kind::NotFound, "reading while a session is open (reads take no lock)");
            let waiter = s.spawn(|| {
                let second = ok(port.open_session(DOC, None), "waiting for a session on another thread");
                let seen = ok(port.current(&second), "reading in the second session").map(|snapshot| snapshot.content);
                ok(port.commit(second, &counter(2)), "committing the second session");
                seen
            });
            thread::sleep(HOLD);
            ok(port.commit(first, &counter(1)), "committing the first session");
            let seen = join(waiter);
            assert_eq!(seen, Some(counter(1)), "the second session did not see the first one's commit");
        });
        assert_eq!(content(port, DOC), Some(counter(2)), "the last commit is not the document");
    })
}

/// Read-modify-write in sessions loses no update: 8 threads each add one to a counter
/// several times (open, current, commit), and it ends at exactly their number of updates,
/// each thread having written values nobody else wrote.
pub fn sessions_across_threads_lose_no_update(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("sessions_across_threads_lose_no_update", fresh, |_, port| {
        const EACH: u64 = 8;
        let start = Barrier::new(THREADS as usize);
        let mut written: Vec<u64> = thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        (0..EACH)
                            .map(|_| {
                                let session = ok(port.open_session(DOC, None), "opening a session");
                                let current = ok(port.current(&session), "reading in the session");
                                let value = current.map_or(0, |snapshot| counter_of(&snapshot.content)) + 1;
                                ok(port.commit(session, &counter(value)), "committing in the session");
                                value
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(join).collect()
        });
        let total = THREADS * EACH;
        assert_eq!(content(port, DOC).map(|text| counter_of(&text)), Some(total), "updates were lost");
        written.sort_unstable();
        assert_eq!(written, (1..=total).collect::<Vec<_>>(), "two sessions read the same value");
    })
}

/// A session excludes saves, updates and removes of its document, from any thread: they
/// wait and time out while it is open; one that waits runs after the commit and sees it (a
/// save expecting the old revision is refused, an update applies its change to the
/// committed content, a remove removes the committed document).
pub fn a_session_excludes_saves_updates_and_removes(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("a_session_excludes_saves_updates_and_removes", fresh, |_, port| {
        let short = port.with(|options| options.with_lock_timeout(SHORT));
        let old = ok(port.save(DOC, &counter(0), None), "creating the document");
        let session = ok(port.open_session(DOC, None), "opening a session");
        thread::scope(|s| {
            let excluded = || {
                refused(short.save(DOC, &counter(9), Some(&old)), Kind::LockTimeout, "saving while a session is open");
                refused(short.remove(DOC), Kind::LockTimeout, "removing while a session is open");
                let update = short.update(DOC, |_| Ok::<_, Infallible>(counter(9)));
                refused(update, Kind::LockTimeout, "updating while a session is open");
            };
            excluded();
            join(s.spawn(excluded));
            assert_eq!(content(port, DOC), Some(counter(0)), "a save or remove changed a document held by a session");
            let saver = s.spawn(|| port.save(DOC, &counter(9), Some(&old)));
            thread::sleep(HOLD);
            ok(port.commit(session, &counter(1)), "committing the session");
            refused(join(saver), Kind::Conflict, "a save that waited for a session, expecting the revision before it");
        });
        assert_eq!(content(port, DOC), Some(counter(1)), "a save overwrote a session's commit");
        let session = ok(port.open_session(DOC, None), "opening a session again");
        thread::scope(|s| {
            let add = |current: Option<&str>| Ok::<_, Infallible>(counter(current.map_or(0, counter_of) + 10));
            let updater = s.spawn(move || port.update(DOC, add));
            thread::sleep(HOLD);
            ok(port.commit(session, &counter(2)), "committing the session");
            let updated = ok(join(updater), "an update that waited for a session");
            updated.unwrap_or_else(|never| match never {});
        });
        assert_eq!(content(port, DOC), Some(counter(12)), "an update did not apply to a session's commit");
        let session = ok(port.open_session(DOC, None), "opening a session again");
        thread::scope(|s| {
            let remover = s.spawn(|| port.remove(DOC));
            thread::sleep(HOLD);
            ok(port.commit(session, &counter(3)), "committing the session");
            ok(join(remover), "a remove that waited for a session");
        });
        assert_eq!(content(port, DOC), None, "a remove ran before a session's commit, not after");
    })
}

/// A session's lock is released as soon as it ends: committed, committed with content that
/// is refused, aborted or dropped. A session, a save and a remove then get the document at
/// once (with a zero timeout), from this thread and another.
pub fn the_lock_is_released_on_commit_abort_and_drop(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("the_lock_is_released_on_commit_abort_and_drop", fresh, |_, port| {
        let at_once = port.with(|options| options.with_lock_timeout(Duration::ZERO));
        for how in ["committed", "refused at commit", "aborted", "dropped"] {
            let session = ok(port.open_session(DOC, None), "opening a session");
            refused(
                port.open_session(DOC, Some(SHORT)),
                Kind::LockTimeout,
                "opening a second session while one is open",
            );
            match how {
                "committed" => drop(ok(port.commit(session, &counter(1)), "committing")),
                "refused at commit" => {
                    refused(port.commit(session, "[]"), Kind::InvalidDocument, "committing an array")
                }
                "aborted" => port.abort(session),
                _ => drop(session),
            }
            let doing = format!("opening a session at once after one was {how}");
            port.abort(ok(at_once.open_session(DOC, Some(Duration::ZERO)), &doing));
            thread::scope(|s| {
                join(s.spawn(|| port.abort(ok(at_once.open_session(DOC, Some(Duration::ZERO)), &doing))));
            });
            let current = ok(at_once.read(DOC), "reading").revision;
            let saved = ok(at_once.save(DOC, &counter(2), Some(&current)), &format!("saving at once after {how}"));
            ok(at_once.remove(DOC), &format!("removing at once after {how}"));
            ok(at_once.save(DOC, &counter(1), None), "creating the document again");
            assert_eq!(saved, revision::of(counter(2).as_bytes()), "the save's revision");
        }
    })
}

/// [`Repository::lock_status`](crate::Repository::lock_status) reports a document held
/// while a session is open on it (to every thread; with a time no later than now, if any)
/// and free before, after each way a session ends, and for other documents.
pub fn lock_status_is_held_during_a_session_and_free_after(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("lock_status_is_held_during_a_session_and_free_after", fresh, |_, port| {
        let held = |port: &Port, name: &str| ok(port.lock_status(name), "asking for the lock status").held;
        assert!(!held(port, DOC), "a document never locked is reported held");
        ok(port.save(DOC, &counter(0), None), "creating the document");
        assert!(!held(port, DOC), "a document is reported held after a save");
        for how in ["committed", "aborted", "dropped"] {
            for name in [DOC, "missing.json"] {
                let session = ok(port.open_session(name, None), "opening a session");
                let status = ok(port.lock_status(name), "asking for the lock status");
                assert!(status.held, "{name} is reported free while a session is open");
                if let Some(since) = status.since {
                    assert!(since <= SystemTime::now(), "{name} is reported held since the future: {since:?}");
                }
                thread::scope(|s| {
                    assert!(join(s.spawn(|| held(port, name))), "{name} is reported free to another thread");
                });
                assert!(!held(port, "other.json"), "another document is reported held");
                match how {
                    "committed" => drop(ok(port.commit(session, &counter(1)), "committing")),
                    "aborted" => port.abort(session),
                    _ => drop(session),
                }
                assert!(!held(port, name), "{name} is reported held after its session was {how}");
                if name == "missing.json" && how == "committed" {
                    ok(port.remove(name), "removing it again");
                    assert!(!held(port, name), "{name} is reported held after a remove");
                }
            }
        }
        assert_eq!(ok(port.list(""), "listing"), vec![DOC.to_owned()], "asking for lock status created a document");
    })
}
