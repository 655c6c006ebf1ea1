//! Unit tests of `content.rs`.

use super::*;

#[test]
fn objects_within_the_limit_pass() {
    check("a", " {\"a\": [1, 2]}\n", 100).unwrap();
}

#[test]
fn refusals_name_the_document() {
    for (content, limit) in [
        ("{}", 1),
        ("[1]", 100),
        ("{\"a\":", 100),
        ("{} {}", 100),
        ("", 100),
        ("{\"a\":1,\"a\":1}", 100),
        ("{\"n\":1e400}", 100),
        ("{\"n\":99999999999999999999}", 100),
    ] {
        let err = check("d.json", content, limit).unwrap_err();
        assert!(err.to_string().starts_with("d.json: "), "{err}");
    }
}

#[test]
fn invalid_utf8_names_the_offset() {
    let err = decode("d.json", b"{\"a\":\"\xff\"}".to_vec()).unwrap_err();
    assert!(err.to_string().contains("offset 6"), "{err}");
}
