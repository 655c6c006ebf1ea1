//! RFC 7396, section 2, as written there: the reference the merge of `edit.rs` is checked
//! against, by the property tests and by the `merge` fuzz target.

use serde_json::{Map, Value};

/// Merges `patch` into `target`. `Null` stands for an absent target.
pub(crate) fn reference_merge(target: &Value, patch: &Value) -> Value {
    let Value::Object(patch) = patch else { return patch.clone() };
    let mut target = match target {
        Value::Object(members) => members.clone(),
        _ => Map::new(),
    };
    for (name, value) in patch {
        if value.is_null() {
            target.shift_remove(name);
        } else {
            let merged = reference_merge(target.get(name).unwrap_or(&Value::Null), value);
            target.insert(name.clone(), merged);
        }
    }
    Value::Object(target)
}
