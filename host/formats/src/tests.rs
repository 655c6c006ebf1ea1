//! Unit tests of the checks: JSON alone ([`Json`]), and each document in the format its name
//! says ([`Documents`]).

use confine_store::{Error, Memory, Options, Repository};

use super::*;

#[test]
fn a_json_object_is_a_document_and_its_depth_is_counted() {
    assert_eq!(Json.check("d.json", "{\"a\": [1, {\"b\": 2}]}"), Ok(3));
    for (text, reason) in [
        ("[1]", "the root must be a JSON object, found an array"),
        ("{\"a\": 1, \"a\": 2}", "not valid JSON at line 1, column 12: duplicate key \"a\""),
        (
            "{\"n\": 99999999999999999999}",
            "not valid JSON at line 1, column 7: the integer 99999999999999999999 does not fit in 64 bits",
        ),
        ("{", "not valid JSON at line 1, column 1: EOF while parsing an object"),
    ] {
        let refused = Json.check("d.json", text).unwrap_err();
        assert_eq!(refused, reason, "{text}");
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
    // TOML in a document whose name says JSON is refused as JSON, where it stops being JSON.
    assert_eq!(
        documents.check("d.json", "a = 1"),
        Err("not valid JSON at line 1, column 1: expected value".to_owned())
    );
    assert_eq!(
        documents.check("d.toml", "a = 1\na = 2\n"),
        Err("not valid TOML at line 2, column 1: duplicate key".to_owned())
    );
    assert_eq!(Documents::all(Format::Toml).check("config", "a = 1"), Ok(1));
    let splice = Splice { range: 4..5, text: "2".to_owned() };
    assert_eq!(documents.splice_keeps("d.toml", "a = 1", 1, &splice), None, "a TOML text is checked whole");
}

#[test]
fn a_value_is_read_as_json_in_the_documents_format() {
    let documents = Documents::default();
    assert_eq!(documents.value_of("Cargo.toml", "[a]\nb = 1\n"), Ok(serde_json::json!({"a": {"b": 1}})));
    assert_eq!(documents.value_of("d.json", "{\"a\": [true]}"), Ok(serde_json::json!({"a": [true]})));
    // The domain's reason names the document.
    assert_eq!(
        documents.value_of("d.json", "[]"),
        Err("d.json: the root must be a JSON object, found an array".to_owned())
    );
}

/// What a repository makes of a refusal: [`Error::InvalidDocument`], naming the document,
/// with the check's reason whole; nothing written.
#[test]
fn a_repository_refuses_what_the_check_refuses_as_an_invalid_document() {
    let memory = Memory::new();
    let repository = Repository::with_backend(memory.clone(), Options::default(), Documents::default());
    for (name, text, message) in [
        ("app.json", "{\"a\": 1, \"a\": 2}", "app.json: not valid JSON at line 1, column 12: duplicate key \"a\""),
        ("Cargo.toml", "[a]\n[a]\n", "Cargo.toml: not valid TOML at line 2, column 2: duplicate key"),
    ] {
        let refused = repository.save(name, text, None).unwrap_err();
        assert!(matches!(&refused, Error::InvalidDocument { name: named, .. } if named == name), "{refused:?}");
        assert_eq!(refused.to_string(), message);
    }
    assert!(memory.documents().is_empty(), "nothing was written");
}
