//! Unit tests of `known.rs`.

use super::*;
use crate::testing::Braces;

fn name(text: &str) -> DocumentName {
    DocumentName::parse(text).unwrap()
}

#[test]
fn only_the_text_remembered_is_known() {
    let known = Known::default();
    let (doc, other) = (name("d.json"), name("e.json"));
    let text = "{\"n\": [1]}";
    assert_eq!(known.depth_of(&doc, text), None, "nothing is known at first");
    known.remember(&doc, blake3::hash(text.as_bytes()), 2);
    assert_eq!(known.depth_of(&doc, text), Some(2));
    assert_eq!(known.depth_of(&doc, "{\"n\": [2]}"), None, "another text of the document");
    assert_eq!(known.depth_of(&doc, "{\"n\": [1]} "), None, "one byte more");
    assert_eq!(known.depth_of(&other, text), None, "the same text is known of its document only");
    known.remember(&doc, blake3::hash(b"{}"), 1);
    assert_eq!(known.depth_of(&doc, text), None, "the last text written is the one known");
    assert_eq!(known.depth_of(&doc, "{}"), Some(1));
}

#[test]
fn past_the_limit_the_entries_start_again() {
    let known = Known::default();
    for i in 0..MAX_ENTRIES {
        known.remember(&name(&format!("d{i}.json")), blake3::hash(b"{}"), 1);
    }
    assert_eq!(known.depth_of(&name("d0.json"), "{}"), Some(1));
    known.remember(&name("d0.json"), blake3::hash(b"{}"), 1);
    assert_eq!(known.depth_of(&name("d1.json"), "{}"), Some(1), "a document remembered again adds none");
    known.remember(&name("new.json"), blake3::hash(b"{}"), 1);
    assert_eq!(known.depth_of(&name("d1.json"), "{}"), None);
    assert_eq!(known.depth_of(&name("new.json"), "{}"), Some(1));
}

#[test]
fn a_text_as_read_is_looked_up_once_and_only_when_asked() {
    let (known, doc, read) = (Known::default(), name("d.json"), ReadText::default());
    known.remember(&doc, blake3::hash(b"{}"), 1);
    let current = Current::read("{}", &doc, &Braces, &known, &read);
    assert_eq!(current.text(), "{}");
    assert_eq!(read.recorded.get(), None, "nothing is looked up before a change asks");
    assert!(current.is_known());
    assert_eq!(read.recorded.get(), Some(&Some(1)));
    known.remember(&doc, blake3::hash(b"{\"other\": 1}"), 2);
    assert_eq!(current.check().unwrap(), 1, "the batch's lookup is kept");
    let unknown = ReadText::default();
    assert!(!Current::read("{\"n\": 1}", &doc, &Braces, &known, &unknown).is_known());
}

#[test]
fn a_text_as_read_is_known_to_the_batch_once_checked_and_only_then() {
    let (known, doc) = (Known::default(), name("d.json"));
    let read = ReadText::default();
    let current = Current::read("{\"a\": [1]}", &doc, &Braces, &known, &read);
    assert_eq!(read.depth(), None, "neither recorded nor checked");
    assert_eq!(current.check().unwrap(), 2);
    assert_eq!(read.depth(), Some(2), "the check is kept for the batch");
    assert!(current.is_known(), "and the batch's later changes are not walked again");

    let refused = ReadText::default();
    let error = Current::read("{\"refused\": 1}", &doc, &Braces, &known, &refused).check().unwrap_err();
    assert!(error.to_string().starts_with("d.json: not a document"), "{error}");
    assert_eq!(refused.depth(), None, "a text refused is not known");
}

#[test]
fn a_text_made_in_the_batch_is_not_walked() {
    let doc = name("d.json");
    // Were it walked, this text would be refused: so a made text is taken as made.
    let made = Current::made("{\"refused\": 1}", &doc, &Braces, 4);
    assert!(made.is_known());
    assert_eq!(made.check().unwrap(), 4);
    assert_eq!(made.text(), "{\"refused\": 1}");
}
