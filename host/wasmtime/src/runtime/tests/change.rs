#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use super::*;

fn applied(start: u64, end: u64, text: &str) -> Answered {
    Answered::from(Applied { start, end, text: text.to_owned(), answer: "7".to_owned() })
}

fn checked(text: &str) -> Option<Checked<'_>> {
    Some(Checked::new("d.json", text).unwrap())
}

#[test]
fn a_guest_splice_is_made_on_the_current_text() {
    let current = "{\"n\": 6}";
    let (made, answers) = splice_into(checked(current), applied(6, 7, "7")).unwrap();
    assert_eq!(answers, vec!["7".to_owned()]);
    let NewContent::Spliced(spliced) = made else { panic!("a number for a number is shown to keep a document") };
    assert!(spliced.is_of(current), "the splice is of the current text, for the store to make in place");
    assert_eq!(spliced.into_text().as_str(), "{\"n\": 7}");
    let created = splice_into(None, applied(0, 0, "{}\n")).unwrap();
    assert_eq!(created.0, NewContent::from("{}\n".to_owned()), "a new document is left to the store's check");
}

#[test]
fn a_guest_splice_not_shown_to_keep_a_document_is_left_to_the_store_to_check() {
    // One value for a number, but with a second member that repeats the key.
    let (made, _) = splice_into(checked("{\"n\": 6}"), applied(6, 7, "7, \"n\": 8")).unwrap();
    assert_eq!(made, NewContent::from("{\"n\": 7, \"n\": 8}".to_owned()));
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
        let refused = splice_into(current.and_then(checked), applied(start, end, "x")).unwrap_err();
        assert!(matches!(&refused, ServiceError::Guest(m) if m.contains("do not fit")), "{refused}");
    }
}

#[test]
fn a_change_waits_for_a_guest_slot_before_it_takes_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let root = cap_std::fs::Dir::open_ambient_dir(dir.path(), cap_std::ambient_authority()).unwrap();
    let repository = Repository::new(root, confine_store::Options::default());
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
