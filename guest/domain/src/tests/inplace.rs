use super::*;
use crate::strict;

fn edited(text: &str, change: impl FnOnce(Text<'_>) -> Option<Splice>) -> String {
    let doc = Text::new(text, strict::check(text).unwrap());
    change(doc).expect("made in place").apply_to(text).unwrap()
}

fn path(key: &str) -> KeyPath {
    KeyPath::parse(key).unwrap()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn a_hand_formatted_file_keeps_its_layout() {
    let text = "{\n    \"name\" :  \"web\",   \"port\": 80,\n\t\"tags\": [ \"a\" ]\n}\n";
    assert_eq!(
        edited(text, |d| set(d, &path("port"), &json("8080"))),
        "{\n    \"name\" :  \"web\",   \"port\": 8080,\n\t\"tags\": [ \"a\" ]\n}\n"
    );
    assert_eq!(
        edited(text, |d| set(d, &path("tags[1]"), &json("\"b\""))),
        "{\n    \"name\" :  \"web\",   \"port\": 80,\n\t\"tags\": [ \"a\", \"b\" ]\n}\n"
    );
    assert_eq!(
        edited(text, |d| set(d, &path("debug"), &json("true"))),
        "{\n    \"name\" :  \"web\",   \"port\": 80,\n\t\"tags\": [ \"a\" ],\n\t\"debug\": true\n}\n"
    );
    assert_eq!(edited(text, |d| unset(d, &path("name"))), "{\n    \"port\": 80,\n\t\"tags\": [ \"a\" ]\n}\n");
    assert_eq!(
        edited(text, |d| unset(d, &path("tags[0]"))),
        "{\n    \"name\" :  \"web\",   \"port\": 80,\n\t\"tags\": []\n}\n"
    );
}

#[test]
fn a_file_on_one_line_stays_on_one_line() {
    let text = r#"{"a":{"b":1},"c":[]}"#;
    assert_eq!(edited(text, |d| set(d, &path("a.d.e"), &json("[1,2]"))), r#"{"a":{"b":1,"d":{"e":[1,2]}},"c":[]}"#);
    assert_eq!(edited(text, |d| set(d, &path("c[0]"), &json(r#"{"x":null}"#))), r#"{"a":{"b":1},"c":[{"x":null}]}"#);
    assert_eq!(edited(text, |d| merge(d, &path(""), &json(r#"{"a":{"b":null},"z":2}"#))), r#"{"a":{},"c":[],"z":2}"#);
}

#[test]
fn a_one_line_file_that_spaces_its_colons_gets_a_spaced_comma() {
    assert_eq!(edited(r#"{"a": 1}"#, |d| set(d, &path("b"), &json("2"))), r#"{"a": 1, "b": 2}"#);
    assert_eq!(edited(r#"{"a":1}"#, |d| set(d, &path("b"), &json("2"))), r#"{"a":1,"b":2}"#);
    assert_eq!(edited(r#"{ "a": 1 }"#, |d| set(d, &path("b"), &json("2"))), r#"{ "a": 1, "b": 2 }"#);
}

#[test]
fn confines_own_layout_comes_out_as_a_full_render_would() {
    let text = "{\n  \"a\": {\n    \"b\": [\n      1\n    ]\n  }\n}\n";
    assert_eq!(
        edited(text, |d| set(d, &path("a.c"), &json(r#"{"d": [true]}"#))),
        "{\n  \"a\": {\n    \"b\": [\n      1\n    ],\n    \"c\": {\n      \"d\": [\n        true\n      ]\n    }\n  }\n}\n"
    );
    assert_eq!(edited("{}\n", |d| set(d, &path("x"), &json("{}"))), "{\n  \"x\": {}\n}\n");
    assert_eq!(edited("{\n  \"x\": {}\n}\n", |d| unset(d, &path("x"))), "{}\n");
}

#[test]
fn incr_replaces_the_number_alone() {
    let text = "{\"n\": 41 , \"f\": 1.5}";
    let doc = Text::new(text, strict::check(text).unwrap());
    let (splice, n) = incr(doc, &path("n"), &json("1")).unwrap().unwrap();
    assert_eq!((splice.apply_to(text).unwrap().as_str(), n.to_string().as_str()), ("{\"n\": 42 , \"f\": 1.5}", "42"));
    let overflow = incr(doc, &path("n"), &json("18446744073709551615")).unwrap().unwrap_err();
    assert!(overflow.detail.contains("overflows"), "{}", overflow.detail);
}

#[test]
fn refusals_are_left_to_the_tree() {
    let text = r#"{"s": "x", "a": [1]}"#;
    let doc = Text::new(text, strict::check(text).unwrap());
    assert!(unset(doc, &path("gone")).is_none());
    assert!(set(doc, &path("s.t"), &json("1")).is_none(), "through a string");
    assert!(set(doc, &path("a[5]"), &json("1")).is_none(), "past the append slot");
    assert!(set(doc, &path("new[1]"), &json("1")).is_none(), "a new array can only start at 0");
    assert!(incr(doc, &path("s"), &json("1")).is_none(), "not a number");
    assert!(set(doc, &path(""), &json("[]")).is_none(), "the root must stay an object");
}

#[test]
fn documents_near_the_depth_limit_are_left_to_the_tree() {
    let deep = format!("{{\"a\": {}1{}}}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    let doc = Text::new(&deep, strict::check(&deep).unwrap());
    assert!(set(doc, &path("b"), &json("1")).is_some(), "at the limit, a shallow change is fine");
    let too_deep = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(set(doc, &path("b"), &json(&too_deep)).is_none());
}
