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

#[test]
fn documents_are_checked_in_the_format_their_name_says() {
    let documents = Documents::default();
    assert_eq!(documents.check("d.json", "{\"a\": {}}"), Ok(2));
    assert_eq!(documents.check("Cargo.toml", "[a]\nb = { c = 1 }\n"), Ok(3));
    assert!(documents.check("d.json", "a = 1").is_err());
    let refused = documents.check("d.toml", "a = 1\na = 2\n").unwrap_err();
    assert!(refused.contains("line 2"), "{refused}");
    assert_eq!(Documents::all(Format::Toml).check("config", "a = 1"), Ok(1));
    let splice = Splice { range: 4..5, text: "2".to_owned() };
    assert_eq!(documents.splice_keeps("d.toml", "a = 1", 1, &splice), None, "a TOML text is checked whole");
}
