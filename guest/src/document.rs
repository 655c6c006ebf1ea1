//! Documents: parsing stored text into a JSON object and writing it back.

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};

/// A document's root: always a JSON object.
pub type Root = Map<String, Value>;

/// Parses the stored text of `name`. The root must be an object; a syntax error is
/// reported with its line and column.
pub fn parse(name: &str, text: &str) -> Result<Root, Error> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(root)) => Ok(root),
        Ok(other) => Err(Error::new(
            ErrorKind::InvalidDocument,
            format!("{name}: the root must be a JSON object, found {}", type_name(&other)),
        )),
        Err(e) => Err(Error::new(
            ErrorKind::InvalidDocument,
            format!("{name}: not valid JSON at line {}, column {}: {}", e.line(), e.column(), reason(&e)),
        )),
    }
}

/// Parses a value given by a caller (`set`, `merge`, `incr`); `what` names it in errors.
pub fn parse_value(what: &str, text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| {
        Error::new(
            ErrorKind::InvalidValue,
            format!("{what} is not valid JSON at line {}, column {}: {}", e.line(), e.column(), reason(&e)),
        )
    })
}

/// The text a document is stored as: pretty-printed with two spaces, keys in their
/// original order, ending in a newline, so that people can read and diff it.
pub fn render(root: &Root) -> String {
    let mut text = serde_json::to_string_pretty(root).unwrap_or_else(|_| String::from("{}"));
    text.push('\n');
    text
}

/// The name of a JSON value's type, for error messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde_json's message without its own " at line L column C" suffix, which we say
/// ourselves.
fn reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_root_parses() {
        let root = parse("app.json", r#"{"a": 1}"#).unwrap();
        assert_eq!(root["a"], 1);
    }

    #[test]
    fn syntax_error_names_document_line_and_column() {
        let err = parse("app.json", "{\n  \"a\": 1,\n  oops\n}").unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidDocument);
        assert!(err.detail.starts_with("app.json: not valid JSON at line 3, column 3"), "{}", err.detail);
    }

    #[test]
    fn non_object_root_is_refused() {
        for text in ["[]", "1", "\"s\"", "null"] {
            let err = parse("d.json", text).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidDocument, "{text}");
            assert!(err.detail.contains("root must be a JSON object"));
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse("deep.json", &text).unwrap_err().kind, ErrorKind::InvalidDocument);
    }

    #[test]
    fn render_keeps_key_order_and_ends_in_newline() {
        let root = parse("d", r#"{"z": 1, "a": {"y": 2, "b": 3}}"#).unwrap();
        let text = render(&root);
        assert!(text.ends_with("}\n"));
        assert!(text.find("\"z\"").unwrap() < text.find("\"a\"").unwrap());
        assert_eq!(parse("d", &text).unwrap(), root);
    }
}
