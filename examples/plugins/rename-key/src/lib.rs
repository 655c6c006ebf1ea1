//! An example confine plugin: a migration that renames a top-level key across documents.
//!
//! `run(["OLD", "NEW", DOC...])` renames the top-level key OLD to NEW in each DOC, or in
//! every document of the granted directory itself (`list-documents("")`, not its
//! subdirectories) when no DOC is given. OLD and NEW are plain key names, not key paths:
//! `server.port` is the key named `server.port`.
//!
//! Each document is changed in its own session (open, current, change, commit), so no
//! concurrent update is lost, and the key keeps its place among the others. A document
//! without OLD is left alone. A document that already has NEW, or that is missing, is
//! refused: it is left untouched, the other documents are still migrated, and `run`
//! returns an error naming every refused document. Running the migration again after
//! fixing them finishes the job, since migrated documents no longer have OLD.
//!
//! Prints one line per document: `app.json: renamed OLD to NEW` or
//! `app.json: no key OLD, unchanged`.

#[allow(unsafe_code, unreachable_pub, missing_docs)]
mod bindings {
    wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });
    use super::RenameKey;
    export!(RenameKey);
}

use bindings::confine::config::config_repository::{self as port, Session};
use serde_json::{Map, Value};

struct RenameKey;

impl bindings::Guest for RenameKey {
    fn run(args: Vec<String>) -> Result<(), String> {
        let [old, new, docs @ ..] = args.as_slice() else {
            return Err("usage: rename-key OLD NEW [DOC...]".to_owned());
        };
        if old == new {
            return Err(format!("OLD and NEW are the same key {old:?}"));
        }
        let docs = match docs {
            [] => port::list_documents("").map_err(|e| format!("cannot list the documents: {e:?}"))?,
            docs => docs.to_vec(),
        };
        let mut refused = Vec::new();
        for doc in &docs {
            match rename_in(doc, old, new) {
                Ok(true) => println!("{doc}: renamed {old} to {new}"),
                Ok(false) => println!("{doc}: no key {old}, unchanged"),
                Err(why) => refused.push(format!("{doc}: {why}")),
            }
        }
        if refused.is_empty() { Ok(()) } else { Err(format!("refused, left unchanged: {}", refused.join("; "))) }
    }
}

/// Renames `old` to `new` in `doc` inside one session. `Ok(false)`: `doc` has no `old`.
fn rename_in(doc: &str, old: &str, new: &str) -> Result<bool, String> {
    let session = Session::open(doc, None).map_err(|e| format!("{e:?}"))?;
    let Some(snapshot) = session.current().map_err(|e| format!("{e:?}"))? else {
        return Err("no such document".to_owned());
    };
    let root: Map<String, Value> = serde_json::from_str(&snapshot.content).map_err(|e| e.to_string())?;
    if !root.contains_key(old) {
        session.abort();
        return Ok(false);
    }
    if root.contains_key(new) {
        session.abort();
        return Err(format!("key {new} already exists"));
    }
    let renamed: Map<String, Value> =
        root.into_iter().map(|(key, value)| if key == old { (new.to_owned(), value) } else { (key, value) }).collect();
    let text = serde_json::to_string_pretty(&renamed).map_err(|e| e.to_string())? + "\n";
    session.commit(&text).map_err(|e| format!("{e:?}"))?;
    Ok(true)
}
