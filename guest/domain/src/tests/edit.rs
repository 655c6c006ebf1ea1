//! Unit tests of `edit.rs`.

use serde_json::json;

use super::*;

fn doc(value: Value) -> Root {
    match value {
        Value::Object(map) => map,
        _ => panic!("test documents are objects"),
    }
}

fn path(text: &str) -> KeyPath {
    KeyPath::parse(text).unwrap()
}

#[test]
fn get_follows_keys_and_indexes() {
    let root = doc(json!({"a": {"b": [10, {"c": true}]}}));
    assert_eq!(get(&root, &path("a.b[1].c")), Some(&json!(true)));
    assert_eq!(get(&root, &path("a.b[2]")), None);
    assert_eq!(get(&root, &path("a.x")), None);
    assert_eq!(get(&root, &path("a.b.c")), None);
}

#[test]
fn set_creates_missing_parents() {
    let mut root = doc(json!({}));
    set(&mut root, &path("server.tls.port"), json!(443)).unwrap();
    set(&mut root, &path("plugins[0].name"), json!("x")).unwrap();
    assert_eq!(Value::Object(root), json!({"server": {"tls": {"port": 443}}, "plugins": [{"name": "x"}]}));
}

#[test]
fn set_appends_at_array_length_only() {
    let mut root = doc(json!({"a": [1]}));
    set(&mut root, &path("a[1]"), json!(2)).unwrap();
    assert_eq!(Value::Object(root.clone()), json!({"a": [1, 2]}));
    let err = set(&mut root, &path("a[5]"), json!(3)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[test]
fn set_through_a_scalar_is_a_type_mismatch() {
    let mut root = doc(json!({"a": 1}));
    let err = set(&mut root, &path("a.b"), json!(2)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TypeMismatch);
    assert!(err.detail.contains("key `a` holds a number, not an object"), "{}", err.detail);
}

#[test]
fn set_at_root_must_be_an_object() {
    let mut root = doc(json!({"a": 1}));
    assert_eq!(set(&mut root, &path(""), json!([1])).unwrap_err().kind, ErrorKind::InvalidValue);
    set(&mut root, &path(""), json!({"b": 2})).unwrap();
    assert_eq!(Value::Object(root), json!({"b": 2}));
}

#[test]
fn set_keeps_the_position_of_an_existing_key() {
    let mut root = doc(json!({"a": 1, "b": 2, "c": 3}));
    set(&mut root, &path("a"), json!(9)).unwrap();
    assert_eq!(root.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
}

#[test]
fn unset_removes_keys_and_elements_in_order() {
    let mut root = doc(json!({"a": 1, "b": [1, 2, 3], "c": 3}));
    assert_eq!(unset(&mut root, &path("a")).unwrap(), json!(1));
    assert_eq!(unset(&mut root, &path("b[0]")).unwrap(), json!(1));
    assert_eq!(Value::Object(root.clone()), json!({"b": [2, 3], "c": 3}));
    assert_eq!(root.keys().collect::<Vec<_>>(), ["b", "c"]);
    assert_eq!(unset(&mut root, &path("zz")).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(unset(&mut root, &path("b[7]")).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(unset(&mut root, &path("q.r")).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(unset(&mut root, &path("")).unwrap_err().kind, ErrorKind::InvalidKey);
}

#[test]
fn incr_adds_integers_exactly_and_starts_missing_at_zero() {
    let mut root = doc(json!({"n": 9007199254740993_i64}));
    assert_eq!(incr(&mut root, &path("n"), &json!(1)).unwrap(), Number::from(9007199254740994_i64));
    assert_eq!(incr(&mut root, &path("m.k"), &json!(-5)).unwrap(), Number::from(-5));
    assert_eq!(Value::Object(root), json!({"n": 9007199254740994_i64, "m": {"k": -5}}));
}

#[test]
fn incr_crosses_from_signed_to_unsigned_range() {
    let mut root = doc(json!({"n": i64::MAX}));
    assert_eq!(incr(&mut root, &path("n"), &json!(1)).unwrap(), Number::from(i64::MAX as u64 + 1));
}

#[test]
fn incr_refuses_overflow_and_non_numbers() {
    let mut root = doc(json!({"n": u64::MAX, "s": "x"}));
    assert_eq!(incr(&mut root, &path("n"), &json!(1)).unwrap_err().kind, ErrorKind::TypeMismatch);
    assert_eq!(incr(&mut root, &path("s"), &json!(1)).unwrap_err().kind, ErrorKind::TypeMismatch);
    assert_eq!(incr(&mut root, &path("n"), &json!("1")).unwrap_err().kind, ErrorKind::InvalidValue);
}

#[test]
fn incr_with_a_fraction_is_a_double() {
    let mut root = doc(json!({"n": 1}));
    assert_eq!(incr(&mut root, &path("n"), &json!(0.5)).unwrap().as_f64(), Some(1.5));
}

#[test]
fn merge_follows_rfc_7396() {
    // The example of RFC 7396, section 3.
    let mut root = doc(json!({
        "title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"], "content": "This will be unchanged"
    }));
    let patch = json!({
        "title": "Hello!", "phoneNumber": "+01-123-456-7890",
        "author": {"familyName": null}, "tags": ["example"]
    });
    merge(&mut root, &path(""), patch).unwrap();
    assert_eq!(
        Value::Object(root),
        json!({
            "title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
            "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"
        })
    );
}

#[test]
fn merge_at_a_key_creates_and_removes() {
    let mut root = doc(json!({"a": {"x": 1}}));
    merge(&mut root, &path("a"), json!({"y": 2, "x": null})).unwrap();
    merge(&mut root, &path("b.c"), json!({"d": 1})).unwrap();
    merge(&mut root, &path("gone"), Value::Null).unwrap();
    assert_eq!(Value::Object(root.clone()), json!({"a": {"y": 2}, "b": {"c": {"d": 1}}}));
    merge(&mut root, &path("a"), Value::Null).unwrap();
    assert_eq!(Value::Object(root), json!({"b": {"c": {"d": 1}}}));
}

#[test]
fn merge_at_root_needs_an_object() {
    let mut root = doc(json!({"a": 1}));
    assert_eq!(merge(&mut root, &path(""), json!(3)).unwrap_err().kind, ErrorKind::InvalidValue);
}

#[test]
fn nesting_past_the_limit_is_refused() {
    let mut deep = json!(1);
    for _ in 0..MAX_DEPTH {
        deep = json!([deep]);
    }
    let mut root = doc(json!({"a": 1}));
    assert_eq!(set(&mut root, &path("x"), deep).unwrap_err().kind, ErrorKind::InvalidValue);
}

#[test]
fn a_document_at_the_depth_limit_reads_back() {
    let mut deep = json!(1);
    for _ in 0..MAX_DEPTH - 2 {
        deep = json!([deep]);
    }
    let mut root = doc(json!({}));
    set(&mut root, &path("x"), deep).unwrap();
    let text = crate::document::render("d", &root).unwrap();
    assert_eq!(crate::document::parse(crate::format::Format::Json, "d", &text).unwrap(), root);
}
