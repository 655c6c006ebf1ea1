#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use super::*;

fn applied(start: u64, end: u64, text: &str) -> Answered {
    Answered::from(Applied { start, end, text: text.to_owned(), answer: "7".to_owned() })
}

#[test]
fn a_guest_splice_is_made_on_the_current_text() {
    let made = splice_into(Some("{\"n\": 6}"), applied(6, 7, "7")).unwrap();
    assert_eq!(made, ("{\"n\": 7}".to_owned(), vec!["7".to_owned()]));
    let created = splice_into(None, applied(0, 0, "{}\n")).unwrap();
    assert_eq!(created.0, "{}\n");
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
        let refused = splice_into(current, applied(start, end, "x")).unwrap_err();
        assert!(matches!(&refused, ServiceError::Guest(m) if m.contains("do not fit")), "{refused}");
    }
}
