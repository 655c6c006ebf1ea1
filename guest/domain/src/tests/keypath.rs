//! Unit tests of `keypath.rs`.

use super::*;

fn key(k: &str) -> Segment {
    Segment::Key(k.to_owned())
}

#[test]
fn empty_path_is_the_root() {
    assert_eq!(KeyPath::parse("").unwrap().segments, vec![]);
}

#[test]
fn dotted_keys_and_indexes_parse() {
    let path = KeyPath::parse("plugins[2].name").unwrap();
    assert_eq!(path.segments, vec![key("plugins"), Segment::Index(2), key("name")]);
    let path = KeyPath::parse("[0][1].a").unwrap();
    assert_eq!(path.segments, vec![Segment::Index(0), Segment::Index(1), key("a")]);
}

#[test]
fn quoted_keys_may_hold_dots_brackets_and_quotes() {
    let path = KeyPath::parse(r#"hosts["eu.west"]["a[0]\"b"].port"#).unwrap();
    assert_eq!(path.segments, vec![key("hosts"), key("eu.west"), key("a[0]\"b"), key("port")]);
    assert_eq!(KeyPath::parse(r#"[""]"#).unwrap().segments, vec![key("")]);
}

#[test]
fn unicode_keys_are_bare() {
    assert_eq!(KeyPath::parse("héllo.wörld").unwrap().segments, vec![key("héllo"), key("wörld")]);
}

#[test]
fn malformed_paths_are_refused_with_an_offset() {
    for bad in ["a.", ".a", "a..b", "a[", "a[]", "a[x]", "a[01]", "a]", "a.[0]", r#"a["x"#, r#"a"b"#, "a[1"] {
        let err = KeyPath::parse(bad).unwrap_err();
        assert_eq!(err.path, bad);
        assert!(err.offset <= bad.len(), "{bad}: {err}");
    }
}

#[test]
fn huge_index_is_refused_not_wrapped() {
    assert!(KeyPath::parse("a[99999999999999999999999999]").is_err());
}

#[test]
fn display_round_trips() {
    for text in ["", "a", "a.b", "a[0].b", r#"["a.b"].c"#, r#"x[""]"#, "[3]"] {
        let path = KeyPath::parse(text).unwrap();
        assert_eq!(KeyPath::parse(&path.to_string()).unwrap(), path, "{text}");
    }
}
