//! Watching a document: every state it takes reaches the watch, in order, and the last
//! one reported is the document as it is.

use std::time::Duration;

use super::{Fresh, Kind, check, counter, counter_of, join, ok};
use crate::WatchEvent;

const DOC: &str = "watched.json";

/// How long a watch may take to report a change before the promise counts as broken.
const PATIENCE: Duration = Duration::from_secs(10);

/// A watch reports the document's state at once (absent, here), then each change: its
/// creation, a burst of 200 updates from another thread (coalesced, but every value
/// reported was committed, in commit order, and the last one is the final value), its
/// removal, its recreation, and content that cannot be read (over the watch's size limit);
/// it never ends on a stale state.
pub fn a_watch_reports_each_state_and_ends_on_the_last(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("a_watch_reports_each_state_and_ends_on_the_last", fresh, |_, port| {
        let mut watch = ok(port.watch(DOC), "watching a document that does not exist");
        let mut next = |doing: &str| -> String {
            let event = ok(watch.next(PATIENCE), doing)
                .unwrap_or_else(|| panic!("{doing}: no state reported within {PATIENCE:?}"));
            match event {
                WatchEvent::Present(snapshot) => snapshot.content.clone(),
                WatchEvent::Absent => "absent".to_owned(),
                WatchEvent::Unreadable(e) => format!("unreadable: {e}"),
            }
        };
        assert_eq!(next("the first state"), "absent", "the first state of a missing document");

        ok(port.save(DOC, &counter(0), None), "creating the document");
        assert_eq!(next("the creation"), counter(0), "the state after the creation");

        let updates = 200;
        std::thread::scope(|s| {
            let writer = s.spawn(|| {
                for _ in 0..updates {
                    let session = ok(port.open_session(DOC, None), "opening a session");
                    let now = counter_of(&ok(port.current(&session), "reading in a session").expect("exists").content);
                    ok(port.commit(session, &counter(now + 1)), "committing");
                }
            });
            let mut seen = 0;
            while seen < updates {
                let value = counter_of(&next("a change of the burst"));
                assert!(value > seen, "the watch went from {seen} to {value}: not in commit order");
                seen = value;
            }
            join(writer);
        });

        ok(port.remove(DOC), "removing the document");
        assert_eq!(next("the removal"), "absent", "the state after the removal");
        ok(port.save(DOC, &counter(7), None), "recreating the document");
        assert_eq!(next("the recreation"), counter(7), "the state after the recreation");

        let small = port.with(|options| options.with_max_document_size(64));
        let mut narrow = ok(small.watch(DOC), "watching with a 64-byte limit");
        let first =
            ok(narrow.next(PATIENCE), "the first state under the limit").map(|e| matches!(e, WatchEvent::Present(_)));
        assert_eq!(first, Some(true), "a document under the limit is present");
        let big = format!("{{\"counter\": 8, \"pad\": \"{}\"}}", "x".repeat(100));
        let current = ok(port.read(DOC), "reading before the big save").revision;
        ok(port.save(DOC, &big, Some(&current)), "saving a document over the watch's limit");
        let event = ok(narrow.next(PATIENCE), "the state over the limit");
        let over = matches!(event, Some(WatchEvent::Unreadable(e)) if super::kind(e) == Kind::TooLarge);
        assert!(over, "a document over the watch's limit must be reported unreadable (too large): {event:?}");
        assert_eq!(next("the big document"), big, "the wide watch sees the big document");
        assert!(
            ok(watch.next(Duration::from_millis(50)), "waiting with nothing changing").is_none(),
            "a state reported twice"
        );
    })
}
