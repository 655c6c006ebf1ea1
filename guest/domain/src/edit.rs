//! The changes a caller can make to a document: set, unset, incr and merge, on a key path.
//!
//! Errors here name the key; the service adds the document's name in front.

use serde_json::{Number, Value};

use crate::document::{Root, type_name};
use crate::error::{Error, ErrorKind};
use crate::keypath::{KeyPath, Segment};

/// How deep a document may nest. The JSON parser refuses deeper text, so a change that
/// would nest deeper is refused before it is written: what is stored can always be read.
pub const MAX_DEPTH: usize = 100;

/// The value at `path`, if there is one.
pub fn get<'a>(root: &'a Root, path: &KeyPath) -> Option<&'a Value> {
    let Some((first, rest)) = path.segments.split_first() else {
        return None; // the root itself is not a `Value`; callers render `root` directly
    };
    let mut value = match first {
        Segment::Key(k) => root.get(k)?,
        Segment::Index(_) => return None,
    };
    for segment in rest {
        value = match (segment, value) {
            (Segment::Key(k), Value::Object(map)) => map.get(k)?,
            (Segment::Index(i), Value::Array(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Sets the value at `path`, creating missing parents (objects, or an array for index 0).
/// At the root, `value` must be an object and replaces the whole document.
pub fn set(root: &mut Root, path: &KeyPath, value: Value) -> Result<(), Error> {
    with_root(root, |doc| {
        let Some((parents, last)) = path.split_last() else {
            return match value {
                Value::Object(_) => {
                    *doc = value;
                    Ok(())
                }
                other => Err(invalid_value(format!("the whole document must be an object, not {}", type_name(&other)))),
            };
        };
        let parent = descend(doc, path, parents, Some(last))?;
        match (last, parent) {
            (Segment::Key(k), Value::Object(map)) => {
                map.insert(k.clone(), value);
                Ok(())
            }
            (Segment::Index(i), Value::Array(items)) => {
                if let Some(slot) = items.get_mut(*i) {
                    *slot = value;
                    Ok(())
                } else if *i == items.len() {
                    items.push(value);
                    Ok(())
                } else {
                    Err(out_of_range(path, *i, items.len()))
                }
            }
            (_, parent) => Err(mismatch(path, parents.len(), parent, last)),
        }
    })
}

/// Removes the value at `path` and returns it. Removing an array element shifts the ones
/// after it down.
pub fn unset(root: &mut Root, path: &KeyPath) -> Result<Value, Error> {
    let Some((parents, last)) = path.split_last() else {
        return Err(Error::new(
            ErrorKind::InvalidKey,
            "the empty key is the whole document, which cannot be unset (set it to {} instead)",
        ));
    };
    with_root(root, |doc| {
        let parent = descend_existing(doc, path, parents)?;
        match (last, parent) {
            (Segment::Key(k), Value::Object(map)) => map.shift_remove(k).ok_or_else(|| not_found(path)),
            (Segment::Index(i), Value::Array(items)) if *i < items.len() => Ok(items.remove(*i)),
            (Segment::Index(_), Value::Array(_)) => Err(not_found(path)),
            (_, parent) => Err(mismatch(path, parents.len(), parent, last)),
        }
    })
}

/// Adds `delta` to the number at `path` (missing counts as 0) and returns the sum.
/// Two integers add exactly; an integer result outside the 64-bit range is refused.
/// Otherwise the sum is a finite double.
pub fn incr(root: &mut Root, path: &KeyPath, delta: &Value) -> Result<Number, Error> {
    let Value::Number(delta) = delta else {
        return Err(invalid_value(format!("the increment must be a number, not {}", type_name(delta))));
    };
    if path.segments.is_empty() {
        return Err(Error::new(ErrorKind::TypeMismatch, "the whole document is an object, not a number"));
    }
    let sum = match get(root, path) {
        None => delta.clone(),
        Some(Value::Number(current)) => add(path, current, delta)?,
        Some(other) => {
            return Err(Error::new(
                ErrorKind::TypeMismatch,
                format!("key {} holds {}, not a number", quote(path), type_name(other)),
            ));
        }
    };
    set(root, path, Value::Number(sum.clone()))?;
    Ok(sum)
}

/// Applies `patch` to the value at `path` as an RFC 7396 JSON Merge Patch: an object
/// patch merges member by member (recursively), a `null` member removes that member, any
/// other patch replaces the value. A `null` patch removes the value at `path` (if there).
/// Missing parents are created as by [`set`].
pub fn merge(root: &mut Root, path: &KeyPath, patch: Value) -> Result<(), Error> {
    let Some((parents, last)) = path.split_last() else {
        if !patch.is_object() {
            return Err(invalid_value(format!(
                "a merge patch for the whole document must be an object, not {}",
                type_name(&patch)
            )));
        }
        return with_root(root, |doc| {
            merge_patch(doc, patch);
            Ok(())
        });
    };
    if patch.is_null() {
        return if get(root, path).is_some() { unset(root, path).map(drop) } else { Ok(()) };
    }
    with_root(root, |doc| {
        let parent = descend(doc, path, parents, Some(last))?;
        let target = match (last, parent) {
            (Segment::Key(k), Value::Object(map)) => map.entry(k.clone()).or_insert(Value::Null),
            (Segment::Index(i), Value::Array(items)) => {
                if *i == items.len() {
                    items.push(Value::Null);
                }
                let len = items.len();
                items.get_mut(*i).ok_or_else(|| out_of_range(path, *i, len))?
            }
            (_, parent) => return Err(mismatch(path, parents.len(), parent, last)),
        };
        merge_patch(target, patch);
        Ok(())
    })
}

/// How deeply `value` nests: a scalar is 0, `[]` and `{}` are 1.
pub fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// RFC 7396, section 2.
fn merge_patch(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.shift_remove(&key);
            } else {
                merge_patch(map.entry(key).or_insert(Value::Null), value);
            }
        }
    }
}

/// Runs `change` on the document as a `Value`, puts it back, and checks that it is still an
/// object within [`MAX_DEPTH`]. On an error the in-memory document may be partly changed
/// (e.g. parents created before an index was found out of range): callers drop it
/// unwritten (a session that is not committed writes nothing), so no copy is kept.
fn with_root<T>(root: &mut Root, change: impl FnOnce(&mut Value) -> Result<T, Error>) -> Result<T, Error> {
    let mut doc = Value::Object(std::mem::take(root));
    let result = change(&mut doc);
    let Value::Object(map) = doc else {
        return Err(invalid_value(format!("the whole document must be an object, not {}", type_name(&doc))));
    };
    *root = map;
    let out = result?;
    if root.values().map(depth).max().unwrap_or(0) + 1 > MAX_DEPTH {
        return Err(invalid_value(format!("the document would nest deeper than {MAX_DEPTH} levels")));
    }
    Ok(out)
}

/// Walks to the value addressed by `parents`, creating what is missing; `next` is the
/// segment that will be used on the result, which decides what a missing one becomes.
fn descend<'a>(
    doc: &'a mut Value,
    path: &KeyPath,
    parents: &[Segment],
    next: Option<&Segment>,
) -> Result<&'a mut Value, Error> {
    let mut value = doc;
    for (depth, segment) in parents.iter().enumerate() {
        let following = parents.get(depth + 1).or(next);
        let empty = || match following {
            Some(Segment::Index(_)) => Value::Array(Vec::new()),
            _ => Value::Object(Default::default()),
        };
        value = match (segment, value) {
            (Segment::Key(k), Value::Object(map)) => map.entry(k.clone()).or_insert_with(empty),
            (Segment::Index(i), Value::Array(items)) => {
                if *i == items.len() {
                    items.push(empty());
                }
                let len = items.len();
                items.get_mut(*i).ok_or_else(|| out_of_range(path, *i, len))?
            }
            (_, value) => return Err(mismatch(path, depth, value, segment)),
        };
    }
    Ok(value)
}

/// Walks to the value addressed by `parents`, which must all exist.
fn descend_existing<'a>(doc: &'a mut Value, path: &KeyPath, parents: &[Segment]) -> Result<&'a mut Value, Error> {
    let mut value = doc;
    for (depth, segment) in parents.iter().enumerate() {
        value = match (segment, value) {
            (Segment::Key(k), Value::Object(map)) => map.get_mut(k).ok_or_else(|| not_found(path))?,
            (Segment::Index(i), Value::Array(items)) => items.get_mut(*i).ok_or_else(|| not_found(path))?,
            (_, value) => return Err(mismatch(path, depth, value, segment)),
        };
    }
    Ok(value)
}

pub(crate) fn add(path: &KeyPath, current: &Number, delta: &Number) -> Result<Number, Error> {
    let exact = |n: &Number| n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    if let (Some(a), Some(b)) = (exact(current), exact(delta)) {
        let sum = a + b;
        return i64::try_from(sum).map(Number::from).or_else(|_| u64::try_from(sum).map(Number::from)).map_err(|_| {
            Error::new(ErrorKind::TypeMismatch, format!("key {}: {a} + {b} overflows a 64-bit integer", quote(path)))
        });
    }
    let sum = current.as_f64().unwrap_or(f64::NAN) + delta.as_f64().unwrap_or(f64::NAN);
    Number::from_f64(sum).ok_or_else(|| {
        Error::new(ErrorKind::TypeMismatch, format!("key {}: {current} + {delta} is not a finite number", quote(path)))
    })
}

fn quote(path: &KeyPath) -> String {
    format!("`{path}`")
}

fn prefix(path: &KeyPath, len: usize) -> String {
    let segments = path.segments.get(..len).unwrap_or(&path.segments).to_vec();
    let prefix = KeyPath { segments };
    if prefix.segments.is_empty() { String::from("the document root") } else { format!("key {}", quote(&prefix)) }
}

fn mismatch(path: &KeyPath, depth: usize, found: &Value, segment: &Segment) -> Error {
    let wanted = match segment {
        Segment::Key(_) => "an object",
        Segment::Index(_) => "an array",
    };
    Error::new(
        ErrorKind::TypeMismatch,
        format!("key {}: {} holds {}, not {wanted}", quote(path), prefix(path, depth), type_name(found)),
    )
}

fn not_found(path: &KeyPath) -> Error {
    Error::new(ErrorKind::NotFound, format!("key {} not found", quote(path)))
}

fn out_of_range(path: &KeyPath, index: usize, len: usize) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("key {}: index {index} is past the end of an array of length {len} (only {len} appends)", quote(path)),
    )
}

fn invalid_value(detail: String) -> Error {
    Error::new(ErrorKind::InvalidValue, detail)
}

#[cfg(test)]
#[path = "tests/edit.rs"]
mod tests;

#[cfg(test)]
#[path = "tests/edit_props.rs"]
mod props;
