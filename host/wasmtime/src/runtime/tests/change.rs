#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use super::*;

fn applied(start: u64, end: u64, text: &str) -> Applied {
    Applied { start, end, text: text.to_owned(), answers: vec!["7".to_owned()] }
}

#[test]
fn a_guest_splice_is_handed_to_the_store_as_a_splice_of_the_current_text() {
    let (made, answers) = splice_of(Some("{\"n\": 6}"), applied(6, 7, "7")).unwrap();
    assert_eq!(answers, vec!["7".to_owned()]);
    assert_eq!(made, NewContent::Splice(Splice { range: 6..7, text: "7".to_owned() }));
    let (created, _) = splice_of(None, applied(0, 0, "{}\n")).unwrap();
    assert_eq!(created, NewContent::Splice(Splice { range: 0..0, text: "{}\n".to_owned() }));
}

#[test]
fn a_guest_splice_that_does_not_fit_is_refused_not_made() {
    for (current, start, end) in [
        (Some("{}"), 1, 9),               // past the end
        (Some("{}"), 2, 1),               // reversed
        (Some("{\"é\": 1}"), 3, 3),       // inside a character
        (None, 0, 1),                     // no text to splice
        (Some("{}"), u64::MAX, u64::MAX), // beyond any offset
    ] {
        let refused = splice_of(current, applied(start, end, "x")).unwrap_err();
        assert!(matches!(&refused, ServiceError::Guest(m) if m.contains("do not fit")), "{refused}");
    }
}

#[test]
fn a_change_waits_for_a_guest_slot_before_it_takes_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let root = cap_std::fs::Dir::open_ambient_dir(dir.path(), cap_std::ambient_authority()).unwrap();
    let repository = Repository::new(root, confine_store::Options::default(), confine_formats::Documents::default());
    let runtime = Runtime::new(crate::RuntimeOptions::default()).unwrap();
    // Every slot of the pool taken, as by as many calls in flight.
    let taken: Vec<_> = (0..super::super::engine::DOMAIN_SLOTS).map(|_| runtime.core.slots.take()).collect();
    std::thread::scope(|s| {
        let writer = s.spawn(|| runtime.incr(&repository, "n.json", "n", "1"));
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(!writer.is_finished(), "a change ran without a slot");
        let status = repository.lock_status("n.json").unwrap();
        assert!(!status.held, "a change waits for a guest's slot holding the document's lock");
        drop(taken);
        assert_eq!(writer.join().unwrap().unwrap(), "1");
    });
}
