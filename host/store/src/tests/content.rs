//! Unit tests of `content.rs`.

use super::*;
use crate::testing::Braces;

#[test]
fn documents_within_the_limit_pass() {
    assert_eq!(check(&Braces, "a", " {\"a\": [1, 2]}\n", 100).unwrap(), 2);
}

#[test]
fn refusals_name_the_document_and_give_the_cause() {
    let err = check(&Braces, "d.json", "{}", 1).unwrap_err();
    assert!(matches!(err, Error::TooLarge { size: 2, limit: 1, .. }), "{err:?}");
    assert_eq!(err.to_string(), "d.json: 2 bytes is over the size limit of 1 bytes");
    // The check's reason, whole, after the document's name.
    for (content, message) in [
        ("[1]", r#"d.json: not a document: "[1]""#),
        ("{\"refused\": 1}", r#"d.json: not a document: "{\"refused\": 1}""#),
        ("", r#"d.json: not a document: """#),
    ] {
        let err = check(&Braces, "d.json", content, 100).unwrap_err();
        assert!(matches!(&err, Error::InvalidDocument { name, .. } if name == "d.json"), "{err:?}");
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn stored_bytes_are_within_the_limit_and_utf8() {
    let err = decode("d.json", b"{\"a\":\"\xff\"}".to_vec(), 100).unwrap_err();
    assert!(matches!(err, Error::InvalidDocument { .. }), "{err:?}");
    assert_eq!(err.to_string(), "d.json: not UTF-8 (invalid byte at offset 6)");
    let err = decode("d.json", b"{\"a\": 1}".to_vec(), 4).unwrap_err();
    assert!(matches!(err, Error::TooLarge { size: 8, limit: 4, .. }), "{err}");
    assert_eq!(decode("d.json", b"{}".to_vec(), 2).unwrap(), "{}");
}

#[test]
fn a_splice_is_made_only_where_it_fits_and_within_the_limit() {
    let mut held = String::from("{\"n\": 1}");
    let splice = |range, text: &str| Splice { range, text: text.to_owned() };
    assert!(splice_in_place("d.json", &mut held, &splice(6..7, "42"), 10).is_ok());
    assert_eq!(held, "{\"n\": 42}");
    assert!(matches!(splice_in_place("d.json", &mut held, &splice(6..8, "123"), 9), Err(Error::TooLarge { .. })));
    let err = splice_in_place("d.json", &mut held, &splice(8..20, ""), 100).unwrap_err();
    assert!(matches!(err, Error::InvalidDocument { .. }), "{err:?}");
    assert_eq!(err.to_string(), "d.json: a splice of the bytes 8..20 does not fit the document's text");
    assert_eq!(held, "{\"n\": 42}", "a refused splice leaves the text");
}
