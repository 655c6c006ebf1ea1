//! Unit tests of `content.rs`.

use super::*;
use crate::testing::Braces;

#[test]
fn documents_within_the_limit_pass() {
    assert_eq!(check(&Braces, "a", " {\"a\": [1, 2]}\n", 100).unwrap(), 2);
}

#[test]
fn refusals_name_the_document() {
    for (content, limit) in [("{}", 1), ("[1]", 100), ("{\"refused\": 1}", 100), ("", 100)] {
        let err = check(&Braces, "d.json", content, limit).unwrap_err();
        assert!(err.to_string().starts_with("d.json: "), "{err}");
    }
}

#[test]
fn stored_bytes_are_within_the_limit_and_utf8() {
    let err = decode("d.json", b"{\"a\":\"\xff\"}".to_vec(), 100).unwrap_err();
    assert!(err.to_string().contains("offset 6"), "{err}");
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
    assert!(splice_in_place("d.json", &mut held, &splice(8..20, ""), 100).is_err());
    assert_eq!(held, "{\"n\": 42}", "a refused splice leaves the text");
}
