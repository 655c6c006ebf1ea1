use super::*;

fn spans<'t>(text: &'t str, items: Items<'_>) -> Vec<(Option<Cow<'t, str>>, &'t str)> {
    items.map(|item| (item.key.as_ref().map(|k| key(text, k)), &text[item.value])).collect()
}

#[test]
fn items_of_an_object_and_an_array_with_their_keys_and_values() {
    let text = r#"{ "a" : [1, {"x": "]}"}] ,"b\"c":"\\" , "": -2.5e3,"n":null}"#;
    let found = spans(text, items(text, 0));
    assert_eq!(
        found,
        vec![
            (Some("a".into()), r#"[1, {"x": "]}"}]"#),
            (Some("b\"c".into()), r#""\\""#),
            (Some("".into()), "-2.5e3"),
            (Some("n".into()), "null"),
        ]
    );
    let array = &text[text.find('[').unwrap()..];
    assert_eq!(spans(array, items(array, 0)), vec![(None, "1"), (None, r#"{"x": "]}"}"#)]);
    assert_eq!(items("{ }", 0).count(), 0);
    assert_eq!(items("[\n]", 0).count(), 0);
}

#[test]
fn value_end_skips_strings_and_nesting() {
    let text = r#"{"a": "}\"{", "b": [[], {}]} tail"#;
    assert_eq!(&text[..value_end(text.as_bytes(), 0)], r#"{"a": "}\"{", "b": [[], {}]}"#);
    assert_eq!(value_end(b"true,", 0), 4);
    assert_eq!(value_end(b"12", 0), 2);
}

#[test]
fn layout_helpers() {
    let text = "{\n\t  \"a\": 1,\n    \"b\": 2\n}";
    let b = text.find("\"b\"").unwrap();
    assert_eq!(line_indent(text, b), "    ");
    assert_eq!(whitespace_before(text, b), "\n    ");
    assert_eq!(line_indent(text, 0), "");
}

#[test]
fn broken_text_gives_offsets_but_never_panics() {
    for text in ["{", "{\"a", "{\"a\":", "[1,", "\"\\", "{\"a\" 1}", ""] {
        let _ = items(text, 0).count();
        let _ = value_end(text.as_bytes(), 0);
        let _ = value_end(text.as_bytes(), text.len() + 3);
    }
}
