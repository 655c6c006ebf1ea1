//! `confine apply` and its changes: JSON lines, one change a line, each an object with an
//! `op` and the change's fields:
//!
//! ```text
//! {"op": "set", "key": "server.port", "value": 8080}
//! {"op": "unset", "key": "legacy"}
//! {"op": "incr", "key": "stats.restarts", "by": 2}
//! {"op": "merge", "key": "log", "patch": {"level": "debug"}}
//! ```
//!
//! `key` may be left out for the whole document; `by` defaults to 1. A field's JSON is
//! passed on as written, so the domain's rules (no duplicate keys, exact integers) judge
//! it exactly as they judge a value given on the command line.

use std::fmt;
use std::path::Path;

use confine::{Change, ServiceError};
use confine_store::name::DocumentName;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::context::Context;
use crate::report::{Failure, Outcome, repository_failure, service_failure, status};

/// `confine apply DOC [FILE|-]`: the changes of FILE (stdin without it, or for `-`) made to
/// DOC as one update; each incr's answer, or the refusal naming the line that refused.
pub(crate) fn apply(context: &Context, doc: &str, file: Option<&Path>) -> Result<Outcome, Failure> {
    // A name that is refused is refused before any change is read.
    DocumentName::parse(doc).map_err(repository_failure)?;
    let (source, text) = read(file)?;
    let numbered = parse(&text)
        .map_err(|reason| Failure::new(status::BAD_INPUT, "invalid-value", format!("{source}: {reason}")))?;
    let lines: Vec<usize> = numbered.iter().map(|n| n.line).collect();
    let changes = numbered.into_iter().map(|n| n.change).collect();
    match context.runtime()?.apply(&context.repository, doc, changes) {
        Ok(answers) => Ok(Outcome::Answers(answers)),
        // The refusal names the line of the changes' text, not the change's position.
        Err(ServiceError::Refused { index, error }) => {
            let line = lines.get(index).copied().unwrap_or_default();
            let failure = service_failure(*error);
            let message = format!("{} ({source} line {line}; none of the changes was made)", failure.message);
            Err(context.stopped(Failure { message, ..failure }))
        }
        Err(e) => Err(context.stopped(service_failure(e))),
    }
}

/// The text of the changes and where it came from, as an error names it.
fn read(file: Option<&Path>) -> Result<(String, String), Failure> {
    let (source, read) = match file {
        Some(path) if path != Path::new("-") => (path.display().to_string(), std::fs::read_to_string(path)),
        _ => ("stdin".to_owned(), std::io::read_to_string(std::io::stdin())),
    };
    let text = read.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            Failure::new(status::NOT_FOUND, "not-found", format!("cannot read {source}: {e}"))
        }
        _ => Failure::new(status::IO, "io", format!("cannot read {source}: {e}")),
    })?;
    Ok((source, text))
}

/// One change and the line it was read from (from 1).
struct Numbered {
    line: usize,
    change: Change,
}

/// The changes of `text`, in order; blank lines are skipped. Refuses the first line that
/// is not a change, naming it and why. No changes at all is left to the update to refuse,
/// after the document's name (which the backend judges).
fn parse(text: &str) -> Result<Vec<Numbered>, String> {
    let mut changes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let change = parse_line(line).map_err(|reason| format!("line {}: {reason}", index + 1))?;
        changes.push(Numbered { line: index + 1, change });
    }
    Ok(changes)
}

fn parse_line(line: &str) -> Result<Change, String> {
    let mut deserializer = serde_json::Deserializer::from_str(line);
    let fields = deserializer.deserialize_map(FieldsVisitor).map_err(|e| format!("not a change object: {e}"))?;
    deserializer.end().map_err(|e| format!("text after the change object: {e}"))?;
    let mut fields = Fields(fields);
    let op = fields.take("op").ok_or("no \"op\" (set, unset, incr or merge)")?;
    let op: String = serde_json::from_str(op.get()).map_err(|_| format!("\"op\" is {}, not a string", op.get()))?;
    let key = match fields.take("key") {
        None => String::new(),
        Some(key) => serde_json::from_str(key.get()).map_err(|_| format!("\"key\" is {}, not a string", key.get()))?,
    };
    let needed = |fields: &mut Fields, name: &str| {
        fields.take(name).map(|raw| raw.get().to_owned()).ok_or_else(|| format!("\"{op}\" needs \"{name}\""))
    };
    let change = match op.as_str() {
        "set" => Change::Set { key, value: needed(&mut fields, "value")? },
        "unset" => Change::Unset { key },
        "incr" => {
            Change::Incr { key, delta: fields.take("by").map_or_else(|| "1".to_owned(), |by| by.get().to_owned()) }
        }
        "merge" => Change::Merge { key, patch: needed(&mut fields, "patch")? },
        other => return Err(format!("unknown \"op\" {other:?}: use set, unset, incr or merge")),
    };
    match fields.0.first() {
        Some((name, _)) => Err(format!("\"{op}\" takes no field {name:?}")),
        None => Ok(change),
    }
}

/// A change object's fields, each JSON value as it was written.
struct Fields(Vec<(String, Box<RawValue>)>);

impl Fields {
    fn take(&mut self, name: &str) -> Option<Box<RawValue>> {
        let at = self.0.iter().position(|(field, _)| field == name)?;
        Some(self.0.remove(at).1)
    }
}

/// Collects an object's fields in order, refusing one given twice (which of the two was
/// meant cannot be known).
struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Vec<(String, Box<RawValue>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut fields: Vec<(String, Box<RawValue>)> = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            if fields.iter().any(|(field, _)| *field == name) {
                return Err(de::Error::custom(format!("the field {name:?} is given twice")));
            }
            fields.push((name, map.next_value()?));
        }
        Ok(fields)
    }
}
