//! Group commit ([`Repository::update`](crate::Repository::update)): changes of many threads
//! batched into shared writes, each caller told its own outcome.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::panic::resume_unwind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use super::{Fresh, Kind, Port, check, content, counter, counter_of, join, kind, ok, refused};
use crate::{Current, Error, NewContent, Splice, revision};

const DOC: &str = "counter.json";

/// Threads that update at once.
const THREADS: u64 = 8;

/// How many of the concurrent `results` were written; those whose id is `to_refuse` must
/// have been refused as `refusal` says, and the others written.
fn written<T>(
    results: Vec<(u64, crate::Result<Result<T, Infallible>>)>,
    to_refuse: impl Fn(u64) -> bool,
    refusal: impl Fn(&Error) -> bool,
    what: &str,
) -> u64 {
    let mut written = 0;
    for (id, outcome) in results {
        match outcome {
            Err(e) if to_refuse(id) && refusal(&e) => {}
            Ok(Ok(_)) if !to_refuse(id) => written += 1,
            Ok(Ok(_)) => panic!("{what} {id}, which should be refused, was told it was written"),
            Ok(Err(never)) => match never {},
            Err(e) => panic!("{what} {id} was refused with {e}, not its own outcome"),
        }
    }
    written
}

/// Runs `each` calls of `call` on each of [`THREADS`] threads at once, each thread through
/// its own clone of the repository; returns every call's result with its number.
pub(super) fn concurrently<T: Send>(port: &Port, each: u64, call: impl Fn(&Port, u64) -> T + Sync) -> Vec<(u64, T)> {
    let start = Barrier::new(THREADS as usize);
    thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (port, start, call) = (port.clone(), &start, &call);
                s.spawn(move || {
                    start.wait();
                    (t * each..(t + 1) * each).map(|id| (id, call(&port, id))).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(join).collect()
    })
}

/// Adds one to the counter, recording the value it wrote in `wrote`.
fn bump(wrote: &Arc<AtomicU64>) -> impl FnMut(Option<&str>) -> Result<String, Infallible> + Send + 'static {
    let wrote = Arc::clone(wrote);
    move |current| {
        let value = current.map_or(0, counter_of) + 1;
        wrote.store(value, Ordering::SeqCst);
        Ok(counter(value))
    }
}

/// Updates of one counter by 8 threads at once, through clones of one repository, lose
/// none: it ends at exactly their number. Each caller is told the revision of what its
/// batch wrote: the callers told one revision applied, in turn, the values up to the one
/// that revision holds.
pub fn group_commit_loses_no_update(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("group_commit_loses_no_update", fresh, |_, port| {
        const EACH: u64 = 25;
        let results = concurrently(port, EACH, |port, _| {
            let wrote = Arc::new(AtomicU64::new(0));
            let revision = ok(port.update(DOC, bump(&wrote)), "updating the counter");
            (wrote.load(Ordering::SeqCst), revision.unwrap_or_else(|never| match never {}))
        });
        let total = THREADS * EACH;
        assert_eq!(content(port, DOC).map(|text| counter_of(&text)), Some(total), "updates were lost");
        let value_of: HashMap<String, u64> = (1..=total).map(|v| (revision::of(counter(v).as_bytes()), v)).collect();
        // The values each written revision's callers applied.
        let mut batches: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for (_, (own, returned)) in results {
            let Some(&written) = value_of.get(&returned) else {
                panic!("a caller was told revision {returned}, which is of no content any caller made");
            };
            assert!(written >= own, "a caller who wrote {own} was told the revision of {written}, written before it");
            batches.entry(written).or_default().push(own);
        }
        let mut next = 1;
        for (written, mut applied) in batches {
            applied.sort_unstable();
            let expected: Vec<u64> = (next..=written).collect();
            assert_eq!(
                applied, expected,
                "the callers told the revision of {written} did not apply the values up to it"
            );
            next = written + 1;
        }
        assert_eq!(next, total + 1, "the last batch is not the document");
    })
}

/// A change that refuses is told its own reason, writes nothing and changes nothing of
/// the others: alone, the document keeps its revision; among 8 threads of updates, every
/// other change stands and the counter ends at their number.
pub fn group_commit_refusal_is_its_callers_alone(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("group_commit_refusal_is_its_callers_alone", fresh, |_, port| {
        const EACH: u64 = 12;
        let revision = ok(port.save(DOC, &counter(0), None), "creating the counter");
        let refusal = ok(port.update(DOC, |_| Err::<String, _>("refused alone")), "a refused update");
        assert_eq!(refusal, Err("refused alone"), "a refusing change's caller was told otherwise");
        assert_eq!(ok(port.read(DOC), "reading").revision, revision, "a refused change wrote");
        let refusal = ok(port.update("missing.json", |_| Err::<String, _>("refused new")), "a refused update");
        assert_eq!(refusal, Err("refused new"), "a refusing change's caller was told otherwise");
        assert_eq!(content(port, "missing.json"), None, "a refused change created its document");

        let refuses = |id: u64| id.is_multiple_of(3);
        let results = concurrently(port, EACH, |port, id| {
            let wrote = Arc::new(AtomicU64::new(0));
            let outcome = if refuses(id) {
                port.update(DOC, move |_| Err::<String, _>(format!("refused {id}")))
            } else {
                let mut bump = bump(&wrote);
                port.update(DOC, move |current| bump(current).map_err(|never| match never {}))
            };
            (ok(outcome, "updating the counter"), wrote.load(Ordering::SeqCst))
        });
        let mut written = Vec::new();
        for (id, (outcome, wrote)) in &results {
            match outcome {
                Err(reason) if refuses(*id) => {
                    assert_eq!(reason, &format!("refused {id}"), "a caller got another reason")
                }
                Ok(_) if !refuses(*id) => written.push(*wrote),
                Ok(_) => panic!("the refusing change {id} was told it was written"),
                Err(reason) => panic!("the change {id} was refused with {reason:?}, not its own outcome"),
            }
        }
        written.sort_unstable();
        let accepted = results.iter().filter(|(id, _)| !refuses(*id)).count() as u64;
        assert_eq!(written, (1..=accepted).collect::<Vec<_>>(), "changes did not apply in turn");
        assert_eq!(content(port, DOC).map(|text| counter_of(&text)), Some(accepted), "a refusal cost an update");
    })
}

/// A change that returns content that is not a document is refused with
/// [`Error::InvalidDocument`](crate::Error::InvalidDocument), for its caller only: nothing
/// of it is written and the changes batched with it stand.
pub fn group_commit_refuses_a_non_document_for_its_caller_only(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("group_commit_refuses_a_non_document_for_its_caller_only", fresh, |_, port| {
        const EACH: u64 = 12;
        let revision = ok(port.save(DOC, &counter(0), None), "creating the counter");
        for text in ["not json", "[1]", r#"{"a": 1, "a": 2}"#, ""] {
            let update = port.update(DOC, move |_| Ok::<_, Infallible>(text.to_owned()));
            refused(update, Kind::InvalidDocument, &format!("updating to {text:?}"));
        }
        assert_eq!(ok(port.read(DOC), "reading").revision, revision, "a non-document was written");

        let broken = |id: u64| id % 4 == 1;
        let results = concurrently(port, EACH, |port, id| {
            if broken(id) {
                port.update(DOC, move |_| Ok::<_, Infallible>(format!("[{id}]")))
            } else {
                port.update(DOC, bump(&Arc::new(AtomicU64::new(0))))
            }
        });
        let good = written(results, broken, |e| matches!(e, Error::InvalidDocument { .. }), "the change");
        assert_eq!(content(port, DOC).map(|text| counter_of(&text)), Some(good), "a non-document cost an update");
    })
}

/// The last member's value, in the text `text` (a counter's), replaced by `with`: a splice
/// of one value by another, which a JSON check shows to keep a document.
fn value_splice(text: &str, with: String) -> NewContent {
    let start = text.rfind(": ").map_or(0, |colon| colon + 2);
    NewContent::Splice(Splice { range: start..text.len().saturating_sub(1), text: with })
}

/// A change that answers with a splice of the content it was given
/// ([`Repository::update_in_place`](crate::Repository::update_in_place)) has it made in the
/// content the batch holds: batched splices lose no update, each made on the result of the
/// one before, and a splice over its caller's size limit is refused for that caller alone,
/// leaving the content as it was for the others.
pub fn group_commit_makes_splices_in_place(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("group_commit_makes_splices_in_place", fresh, |_, port| {
        const EACH: u64 = 12;
        ok(port.save(DOC, &counter(0), None), "creating the counter");
        let next = |current: Option<&str>| (current.map_or(0, counter_of) + 1).to_string();
        let small = port.with(|options| options.with_max_document_size(64));
        let too_large = |id: u64| id % 4 == 1;
        let results = concurrently(port, EACH, |port, id| {
            if too_large(id) {
                let long = format!("\"{}\"", "x".repeat(64));
                small.count(small.repository.update_in_place(DOC, move |current| {
                    Ok::<_, Infallible>((value_splice(current.map_or("", Current::text), long.clone()), ()))
                }))
            } else {
                port.count(port.repository.update_in_place(DOC, move |current| {
                    let text = current.map_or("", Current::text);
                    Ok::<_, Infallible>((value_splice(text, next(Some(text))), ()))
                }))
            }
        });
        let good = written(results, too_large, |e| matches!(e, Error::TooLarge { .. }), "the splice");
        assert_eq!(content(port, DOC), Some(counter(good)), "a splice was lost, or one over its limit made");
    })
}

/// A splice is made without a walk only where the repository knows the text (its own
/// check, or its record of what it wrote) and its check shows that the splice keeps it a
/// document; every other splice's text is checked whole. So no change can have a
/// non-document written, whether or not it checked the content first: a splice that makes
/// a key twice, or that does not fit the text, is refused and nothing is written; and the
/// depth the repository knows after a splice is its check's, at least the new text's.
pub fn an_update_checks_every_splice_it_cannot_show(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("an_update_checks_every_splice_it_cannot_show", fresh, |_, port| {
        let deep = "{\"a\": {\"b\": {\"c\": 1}}, \"n\": 0}";
        let revision = ok(port.save(DOC, deep, None), "creating the document");
        for checked_first in [false, true] {
            let twice = port.count(port.repository.update_in_place(DOC, move |current| {
                let current = current.expect("the document exists");
                if checked_first {
                    ok(current.check(), "checking the document");
                }
                // The key `"a"` renamed `"n"`: a key twice, not a document.
                Ok::<_, Infallible>((NewContent::Splice(Splice { range: 1..4, text: "\"n\"".into() }), ()))
            }));
            refused(twice.map(|never| never.unwrap_or_else(|e| match e {})), Kind::InvalidDocument, "a key twice");
            assert_eq!(ok(port.read(DOC), "reading").revision, revision, "a splice making a key twice was written");
        }
        let unfit = port.count(port.repository.update_in_place(DOC, move |current| {
            let end = current.map_or(0, |current| current.text().len()) + 1;
            Ok::<_, Infallible>((NewContent::Splice(Splice { range: 3..end, text: "1".into() }), ()))
        }));
        refused(unfit.map(|never| never.unwrap_or_else(|e| match e {})), Kind::InvalidDocument, "an unfit splice");
        assert_eq!(ok(port.read(DOC), "reading").revision, revision, "a splice that does not fit was written");

        // The text read is checked, and known from then on: `n` made deeper is made in
        // place, and the depth known after it is the new value's reach.
        let depth_then_splice = |port: &Port, with: &'static str| {
            let updated = port.repository.update_in_place(DOC, move |current| {
                let current = current.expect("the document exists");
                let depth = ok(current.check(), "checking the document");
                Ok::<_, Infallible>((value_splice(current.text(), with.to_owned()), depth))
            });
            ok(port.count(updated), "splicing `n`").unwrap_or_else(|never| match never {}).1
        };
        assert_eq!(depth_then_splice(port, "[[[1]]]"), 3, "the text read is checked");
        assert_eq!(depth_then_splice(port, "0"), 4, "the depth known after a splice is the new value's reach");
        assert_eq!(content(port, DOC).as_deref(), Some("{\"a\": {\"b\": {\"c\": 1}}, \"n\": 0}"));
    })
}

/// An update's change is told that its content is known to be a document
/// ([`Current::is_known`]), and its check skipped, only where it is: the text this
/// repository's group commit wrote last, or one an earlier change of the same batch made.
/// A text that anybody else wrote, here a save and another session's commit, is not known,
/// and is checked.
pub fn an_update_knows_only_the_texts_it_wrote(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("an_update_knows_only_the_texts_it_wrote", fresh, |_, port| {
        const EACH: u64 = 10;
        let written_by_others = [counter(0), counter(10), counter(20)];
        // Every run's content, and whether it was known.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let bump = |port: &Port| {
            let seen = Arc::clone(&seen);
            let bumped = port.repository.update_in_place(DOC, move |current| {
                let current = current.expect("the counter exists");
                seen.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((current.text().to_owned(), current.is_known()));
                current.check().unwrap_or_else(|e| panic!("the counter is not a document: {e}"));
                let value = counter_of(current.text()) + 1;
                Ok::<_, Infallible>((value_splice(current.text(), value.to_string()), ()))
            });
            ok(port.count(bumped), "bumping the counter").unwrap_or_else(|never| match never {});
        };
        ok(port.save(DOC, &written_by_others[0], None), "creating the counter");
        bump(port);
        bump(port);
        ok(port.save(DOC, &written_by_others[1], Some(&revision::of(counter(2).as_bytes()))), "another write");
        bump(port);
        thread::scope(|s| {
            let held = ok(port.open_session(DOC, None), "holding the counter");
            let updates = s.spawn(|| concurrently(port, EACH, |port, _| bump(port)));
            // The updates queue behind the session meanwhile (what is asserted holds either way).
            thread::sleep(Duration::from_millis(50));
            ok(port.commit(held, &written_by_others[2]), "another session's commit");
            join(updates)
        });
        assert_eq!(content(port, DOC), Some(counter(20 + THREADS * EACH)), "an update was lost");
        let seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        for (text, known) in seen.iter() {
            let ours = !written_by_others.contains(text);
            assert_eq!(*known, ours, "{text} was {}known", if *known { "" } else { "not " });
        }
        assert!(seen.len() as u64 >= 3 + THREADS * EACH, "every update ran");
    })
}

/// A write that lands while an update's change runs is not lost: either the update holds
/// the document and the write waits (here it times out), or the update finds the document
/// changed before its own write and runs its change again, on the content the other
/// writer wrote (a backend that tries updates without the lock first, etcd). A change runs
/// at most twice, and its caller is told the revision of what its last run made, and that
/// run's answer.
pub fn an_update_keeps_a_write_made_while_its_change_runs(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("an_update_keeps_a_write_made_while_its_change_runs", fresh, |_, port| {
        let first = ok(port.save(DOC, &counter(0), None), "creating the counter");
        let other = port.with(|options| options.with_lock_timeout(Duration::from_millis(200)));
        let (runs, saved) = (Arc::new(AtomicU64::new(0)), Arc::new(Mutex::new(None)));
        let (counted, outcome) = (Arc::clone(&runs), Arc::clone(&saved));
        let updated = port.count(port.repository.update_in_place(DOC, move |current| {
            let run = counted.fetch_add(1, Ordering::SeqCst) + 1;
            if run == 1 {
                // Another writer, on another thread, writes while the change runs.
                let (other, first) = (other.clone(), first.clone());
                let saving = thread::spawn(move || other.save(DOC, &counter(10), Some(&first)));
                let result = saving.join().unwrap_or_else(|payload| resume_unwind(payload));
                *outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
            }
            let new = counter(current.map_or(0, |current| counter_of(current.text())) + 1);
            Ok::<_, Infallible>((NewContent::Text(new), run))
        }));
        let (revision, answer) =
            ok(updated, "updating while another writer saves").unwrap_or_else(|never| match never {});
        let saved = saved.lock().unwrap_or_else(PoisonError::into_inner).take();
        let runs = runs.load(Ordering::SeqCst);
        let expected = match saved {
            Some(Ok(_)) => {
                assert_eq!(runs, 2, "the change ran {runs} times, though the document changed while it ran");
                counter(11)
            }
            Some(Err(e)) if kind(&e) == Kind::LockTimeout => {
                assert_eq!(runs, 1, "the change ran {runs} times, though the update held the document");
                counter(1)
            }
            Some(Err(e)) => panic!("the other writer's save failed otherwise than by waiting for the lock: {e}"),
            None => panic!("the change did not run"),
        };
        assert_eq!(content(port, DOC), Some(expected.clone()), "a write was lost");
        assert_eq!(revision, revision::of(expected.as_bytes()), "the caller was told another revision");
        assert_eq!(answer, runs, "the caller was told the answer of run {answer} of {runs}");
    })
}
