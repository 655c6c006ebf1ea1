//! Unit tests of `known.rs`.

use super::*;

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
    let (known, doc, found) = (Known::default(), name("d.json"), OnceCell::new());
    known.remember(&doc, blake3::hash(b"{}"), 1);
    let read = Current::read("{}", &known, &doc, &found);
    assert_eq!(read.text(), "{}");
    assert_eq!(found.get(), None, "nothing is looked up before a change asks");
    assert!(read.is_known());
    assert_eq!(found.get(), Some(&Some(1)));
    known.remember(&doc, blake3::hash(b"{\"other\": 1}"), 2);
    assert_eq!(read.checked("d.json").unwrap().shape().depth, 1, "the batch's lookup is kept");
    let unknown = OnceCell::new();
    assert!(!Current::read("{\"n\": 1}", &known, &doc, &unknown).is_known());
}

#[test]
fn a_known_text_is_not_walked_and_any_other_is_checked() {
    // Were it walked, this text would be refused: so a known text is taken as said.
    let trusted = Current::made("{\"a\": 1, \"a\": 2}", Some(4)).checked("d.json").unwrap();
    assert_eq!(trusted.shape().depth, 4);
    let checked = Current::made("{\"a\": [1]}", None).checked("d.json").unwrap();
    assert_eq!(checked.shape().depth, 2);
    let refused = Current::made("{\"a\": 1, \"a\": 2}", None).checked("d.json").unwrap_err();
    assert!(refused.to_string().contains("d.json"), "{refused}");
    assert!(!Current::made("{}", None).is_known());
    assert_eq!(Current::made("{}", Some(1)).text(), "{}");
}
