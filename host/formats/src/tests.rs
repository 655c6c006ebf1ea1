//! Unit tests of the JSON check.

use super::*;

#[test]
fn a_json_object_is_a_document_and_its_depth_is_counted() {
    assert_eq!(Json.check("d.json", "{\"a\": [1, {\"b\": 2}]}"), Ok(3));
    for (text, reason) in [
        ("[1]", "the root must be a JSON object, found an array"),
        ("{\"a\": 1, \"a\": 2}", "duplicate key"),
        ("{\"n\": 99999999999999999999}", "64"),
        ("{", "line 1"),
    ] {
        let refused = Json.check("d.json", text).unwrap_err();
        assert!(refused.contains(reason), "{text}: {refused}");
        assert!(!refused.contains("d.json"), "the repository names the document: {refused}");
    }
}

#[test]
fn a_value_for_a_value_keeps_a_document_and_nothing_else_is_shown() {
    let text = "{\"n\": 1, \"m\": [2]}";
    let splice = |range: std::ops::Range<usize>, with: &str| Splice { range, text: with.to_owned() };
    assert_eq!(Json.splice_keeps("d.json", text, 2, &splice(6..7, "[[3]]")), Some(3));
    assert_eq!(Json.splice_keeps("d.json", text, 2, &splice(1..4, "\"m\"")), None, "a key");
    assert_eq!(Json.splice_keeps("d.json", text, 2, &splice(6..7, "1, \"n\": 2")), None, "a member more");
    assert_eq!(Json.splice_keeps("d.json", text, 2, &splice(6..99, "1")), None, "out of the text");
}
