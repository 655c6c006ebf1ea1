//! Documents: parsing stored text into a JSON object and writing it back.

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};
use crate::format::Format;
use crate::strict::{self, Shape};
use crate::toml;

/// A document's root: always a JSON object.
pub type Root = Map<String, Value>;

/// Parses the stored text of `name` in `format` (decided once by the caller, from the
/// name or an override: [`Format::chosen`]): JSON under the rules of [`strict`], whose
/// root must be an object; TOML as [`toml`] maps it. A syntax error is reported with its
/// line and column.
pub fn parse(format: Format, name: &str, text: &str) -> Result<Root, Error> {
    if format == Format::Toml {
        return toml::parse(name, text);
    }
    match strict::parse(text) {
        Ok(Value::Object(root)) => Ok(root),
        Ok(other) => Err(Error::new(
            ErrorKind::InvalidDocument,
            format!("{name}: the root must be a JSON object, found {}", type_name(&other)),
        )),
        Err(e) => Err(Error::new(ErrorKind::InvalidDocument, format!("{name}: {e}"))),
    }
}

/// Checks the stored text of `name` in `format` as [`parse`] does (the same errors),
/// without building it: for changes made on the text itself (the crate's `inplace`
/// module).
pub fn check(format: Format, name: &str, text: &str) -> Result<Shape, Error> {
    shape(format, text).map_err(|reason| Error::new(ErrorKind::InvalidDocument, format!("{name}: {reason}")))
}

/// [`check`] for a writer that names the document itself: the shape, or the reason alone.
/// A TOML document's root is always a table.
pub fn shape(format: Format, text: &str) -> Result<Shape, String> {
    match format {
        Format::Json => json_shape(text),
        Format::Toml => toml::check(text).map(|depth| Shape { is_object: true, depth }),
    }
}

fn json_shape(text: &str) -> Result<Shape, String> {
    match strict::check(text) {
        Ok(shape) if shape.is_object => Ok(shape),
        Ok(_) => {
            let found = text.trim_start().chars().next().map_or("nothing", |first| match first {
                '[' => "an array",
                '"' => "a string",
                't' | 'f' => "a boolean",
                'n' => "null",
                _ => "a number",
            });
            Err(format!("the root must be a JSON object, found {found}"))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Parses a value given by a caller (`set`, `merge`, `incr`); `what` names it in errors.
pub fn parse_value(what: &str, text: &str) -> Result<Value, Error> {
    strict::parse(text).map_err(|e| Error::new(ErrorKind::InvalidValue, format!("{what} is {e}")))
}

/// The text a new document is stored as, and what `cat` shows: pretty-printed with two
/// spaces, keys in their original order, ending in a newline, so that people can read and
/// diff it. Changes to an existing document keep its layout (the crate's `inplace` module).
///
/// # Errors
/// `Internal`, naming `name`, if serde_json could not write the tree: a JSON value always
/// can, so this is a bug to report, never a text silently written in its place.
pub fn render(name: &str, root: &Root) -> Result<String, Error> {
    let mut text = serde_json::to_string_pretty(root).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("{name}: the document could not be written as JSON ({e}): a bug in confine, please report it"),
        )
    })?;
    text.push('\n');
    Ok(text)
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

#[cfg(test)]
#[path = "tests/document.rs"]
mod tests;
