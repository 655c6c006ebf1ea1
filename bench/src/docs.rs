//! The documents every case updates, and the update itself.

use confine::Repository;
use serde_json::{Map, Value};

use crate::Result;

/// The document's name in every case.
pub(crate) const DOC: &str = "app.json";

/// A configuration-like JSON object of about `size` bytes: a counter `n` and `size / 64`
/// string settings.
pub(crate) fn of_size(size: usize) -> String {
    let mut settings = Map::new();
    let mut length = 16;
    let mut i = 0;
    while length + 64 <= size {
        settings.insert(format!("setting{i:06}"), Value::String(format!("{:x<44}", i)));
        length += 64;
        i += 1;
    }
    serde_json::json!({ "n": 0, "settings": settings }).to_string()
}

/// The same document as [`of_size`] written as TOML: the counter `n` at the top, the
/// settings as a table of `key = "value"` lines, about `size` bytes.
pub(crate) fn toml_of_size(size: usize) -> String {
    let mut text = String::from("# a configuration\nn = 0\n\n[settings]\n");
    let mut i = 0;
    while text.len() + 64 <= size {
        text.push_str(&format!("setting{i:06} = \"{:x<44}\"\n", i));
        i += 1;
    }
    text
}

/// The counter `n` of the TOML document [`toml_of_size`] made, as its line says.
pub(crate) fn toml_counter(text: &str) -> Result<u64> {
    let line = text.lines().find_map(|line| line.strip_prefix("n = ")).ok_or("the TOML document has no counter")?;
    Ok(line.trim().parse()?)
}

/// `text` with its counter `n` bumped, as a library user would: parse, change, serialize.
pub(crate) fn bumped(text: Option<&str>) -> Result<String> {
    let mut doc: Value = match text {
        Some(text) => serde_json::from_str(text)?,
        None => Value::Object(Map::new()),
    };
    let n = doc.get("n").and_then(Value::as_u64).unwrap_or(0);
    doc["n"] = Value::from(n + 1);
    Ok(doc.to_string())
}

/// `text` with its counter bumped by a user who edits the text: the digits after `"n":`
/// are replaced, and nothing else is parsed. What this costs beyond the new text is
/// confine's own share of an update.
pub(crate) fn bumped_in_text(text: Option<&str>) -> Result<String> {
    let text = text.ok_or("the document is missing")?;
    let at = text.find("\"n\":").ok_or("the document has no counter")? + 4;
    let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
    let n: u64 = text[at..at + digits].parse()?;
    Ok(format!("{}{}{}", &text[..at], n + 1, &text[at + digits..]))
}

/// One host-library update: lock, read, bump (with [`bumped`]), atomic replace.
pub(crate) fn host_update(repository: &Repository) -> Result<()> {
    session_update(repository, bumped)
}

/// [`host_update`] with the counter bumped in the text ([`bumped_in_text`]).
pub(crate) fn host_update_in_text(repository: &Repository) -> Result<()> {
    session_update(repository, bumped_in_text)
}

fn session_update(repository: &Repository, bump: fn(Option<&str>) -> Result<String>) -> Result<()> {
    let session = repository.open_session(DOC, None)?;
    let next = bump(session.current()?.as_ref().map(|s| s.content.as_str()))?;
    session.commit(&next)?;
    Ok(())
}

/// The same update through `Repository::update`, which group-commits concurrent callers.
pub(crate) fn grouped_update(repository: &Repository) -> Result<()> {
    repository.update(DOC, |current| bumped(current).map_err(|e| e.to_string()))?.map_err(|e| e.into()).map(drop)
}

/// The counter `n` of the document in `text`.
pub(crate) fn counter(text: &str) -> Result<u64> {
    let doc: Value = serde_json::from_str(text)?;
    doc.get("n").and_then(Value::as_u64).ok_or_else(|| "the document has no counter".into())
}

/// Fails loudly unless the counter is exactly `expected`.
pub(crate) fn check_counter(case: &str, text: &str, expected: usize) -> Result<()> {
    let found = counter(text)?;
    if found != expected as u64 {
        return Err(format!("{case}: counter is {found}, expected {expected}: updates were lost").into());
    }
    Ok(())
}
