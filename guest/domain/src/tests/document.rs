//! Unit tests of `document.rs`.

use super::*;

#[test]
fn object_root_parses() {
    let root = parse(Format::Json, "app.json", r#"{"a": 1}"#).unwrap();
    assert_eq!(root["a"], 1);
}

#[test]
fn syntax_error_names_document_line_and_column() {
    let err = parse(Format::Json, "app.json", "{\n  \"a\": 1,\n  oops\n}").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidDocument);
    assert!(err.detail.starts_with("app.json: not valid JSON at line 3, column 3"), "{}", err.detail);
}

#[test]
fn a_byte_order_mark_is_refused_by_name_by_parse_and_check_alike() {
    let text = "\u{FEFF}{\"a\": 1}";
    for err in [parse(Format::Json, "app.json", text).unwrap_err(), check(Format::Json, "app.json", text).unwrap_err()]
    {
        assert_eq!(err.kind, ErrorKind::InvalidDocument);
        assert!(
            err.detail.starts_with(
                "app.json: not valid JSON at line 1, column 1: the text starts with a UTF-8 byte order mark"
            ),
            "{}",
            err.detail
        );
    }
    assert!(parse(Format::Json, "app.json", "{\"bom\": \"\u{FEFF}\"}").is_ok(), "U+FEFF inside a string is text");
}

#[test]
fn non_object_root_is_refused() {
    for text in ["[]", "1", "\"s\"", "null"] {
        let err = parse(Format::Json, "d.json", text).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidDocument, "{text}");
        assert!(err.detail.contains("root must be a JSON object"));
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(parse(Format::Json, "deep.json", &text).unwrap_err().kind, ErrorKind::InvalidDocument);
}

#[test]
fn render_keeps_key_order_and_ends_in_newline() {
    let root = parse(Format::Json, "d", r#"{"z": 1, "a": {"y": 2, "b": 3}}"#).unwrap();
    let text = render("d", &root).unwrap();
    assert!(text.ends_with("}\n"));
    assert!(text.find("\"z\"").unwrap() < text.find("\"a\"").unwrap());
    assert_eq!(parse(Format::Json, "d", &text).unwrap(), root);
}
