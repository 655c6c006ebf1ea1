//! An example confine plugin: a validator that refuses a change that would break a rule.
//!
//! - `run(["set", DOC, KEY, VALUE])` sets KEY to VALUE in DOC inside one session, and
//!   commits only if the resulting document satisfies every rule. Otherwise it aborts the
//!   session: DOC stays byte for byte as it was (or absent), and the error names the rule.
//!   KEY is a dotted path of object keys (`server.port`; missing objects are created, no
//!   array indexes, no quoting). VALUE is JSON (`8080`, `"debug"`, `{"a":1}`), or else
//!   taken as a string (`debug`).
//! - `run(["check", DOC...])` reads each DOC without a lock and reports whether it
//!   satisfies the rules; an error names each document that does not, or cannot be read.
//!
//! The rules, each checked when its key is present:
//! - `server.port` is an integer from 1 to 65535;
//! - `log.level` is one of `debug`, `info`, `warn`, `error`.

#[allow(unsafe_code, unreachable_pub, missing_docs)]
mod bindings {
    wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });
    use super::Validate;
    export!(Validate);
}

use bindings::confine::config::config_repository::{self as port, Session};
use serde_json::{Map, Value};

/// A rule on the value at `key`, checked when the key is present.
struct Rule {
    key: &'static str,
    must_be: &'static str,
    holds: fn(&Value) -> bool,
}

const RULES: [Rule; 2] = [
    Rule {
        key: "server.port",
        must_be: "an integer from 1 to 65535",
        holds: |value| value.as_u64().is_some_and(|port| (1..=65535).contains(&port)),
    },
    Rule {
        key: "log.level",
        must_be: "one of debug, info, warn, error",
        holds: |value| matches!(value.as_str(), Some("debug" | "info" | "warn" | "error")),
    },
];

struct Validate;

impl bindings::Guest for Validate {
    fn run(args: Vec<String>) -> Result<(), String> {
        match args.as_slice() {
            [command, doc, key, value] if command == "set" => set(doc, key, value),
            [command, docs @ ..] if command == "check" => {
                let broken: Vec<String> = docs.iter().filter_map(|doc| check(doc).err()).collect();
                if broken.is_empty() { Ok(()) } else { Err(broken.join("; ")) }
            }
            _ => Err("usage: validate set DOC KEY VALUE | validate check DOC...".to_owned()),
        }
    }
}

fn set(doc: &str, key: &str, value: &str) -> Result<(), String> {
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    let session = Session::open(doc, None).map_err(|e| format!("{doc}: {e:?}"))?;
    let mut root = match session.current().map_err(|e| format!("{doc}: {e:?}"))? {
        Some(snapshot) => serde_json::from_str(&snapshot.content).map_err(|e| format!("{doc}: {e}"))?,
        None => Value::Object(Map::new()),
    };
    set_path(&mut root, key, value).map_err(|e| format!("{doc}: {e}"))?;
    if let Some(broken) = violation(&root) {
        session.abort();
        return Err(format!("{doc}: refused, {broken}; the document is unchanged"));
    }
    let text = serde_json::to_string_pretty(&root).map_err(|e| e.to_string())? + "\n";
    session.commit(&text).map_err(|e| format!("{doc}: {e:?}"))?;
    println!("{doc}: set {key}");
    Ok(())
}

fn check(doc: &str) -> Result<(), String> {
    let snapshot = port::read(doc).map_err(|e| format!("{doc}: {e:?}"))?;
    let root: Value = serde_json::from_str(&snapshot.content).map_err(|e| format!("{doc}: {e}"))?;
    match violation(&root) {
        Some(broken) => Err(format!("{doc}: {broken}")),
        None => {
            println!("{doc}: ok");
            Ok(())
        }
    }
}

/// The first rule `root` breaks, in words.
fn violation(root: &Value) -> Option<String> {
    RULES.iter().find_map(|rule| {
        let value = rule.key.split('.').try_fold(root, |here, part| here.get(part))?;
        (!(rule.holds)(value)).then(|| format!("rule `{}`: must be {}, not {value}", rule.key, rule.must_be))
    })
}

fn set_path(root: &mut Value, key: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    let (Some((last, parents)), false) = (parts.split_last(), parts.contains(&"")) else {
        return Err(format!("{key:?} is not a dotted path of keys"));
    };
    let mut here = root;
    for part in parents {
        let object = here.as_object_mut().ok_or_else(|| not_an_object(key, part))?;
        here = object.entry(*part).or_insert_with(|| Value::Object(Map::new()));
    }
    here.as_object_mut().ok_or_else(|| not_an_object(key, last))?.insert((*last).to_owned(), value);
    Ok(())
}

fn not_an_object(key: &str, part: &str) -> String {
    format!("{key}: `{part}` would go inside a value that is not an object")
}
