//! What each `wasi:keyvalue` call does to a document, over the repository: plain functions
//! that the sync and the async bindings both run. See the module docs of `wasi_keyvalue`
//! for the mapping.

use std::collections::HashSet;

use confine_domain::document::{self, Root};
use confine_domain::format::Format;
use confine_domain::keypath::{KeyPath, Segment};
use confine_domain::service::{self, Change};
use confine_store::{Current, Error, NewContent, Repository};
use serde_json::Value;

/// Why a `wasi:keyvalue` call failed, in the interface's terms.
#[derive(Debug)]
pub(crate) enum KvError {
    /// `no-such-store`.
    NoSuchStore,
    /// `access-denied`.
    AccessDenied,
    /// `other`, with a sentence naming the document, the key and the cause.
    Other(String),
}

/// The one mapping from the store's errors.
impl From<Error> for KvError {
    fn from(e: Error) -> KvError {
        match e {
            Error::InvalidPath { .. } => KvError::AccessDenied,
            other => KvError::Other(other.to_string()),
        }
    }
}

macro_rules! spell_store_error {
    ($store:path) => {
        impl From<KvError> for $store {
            fn from(e: KvError) -> $store {
                use $store as E;
                match e {
                    KvError::NoSuchStore => E::NoSuchStore,
                    KvError::AccessDenied => E::AccessDenied,
                    KvError::Other(text) => E::Other(text),
                }
            }
        }
    };
}

// The two generated types are the same WIT type spelled twice; one spelling serves both.
spell_store_error!(crate::generated::wasi_keyvalue::sync::wasi::keyvalue::store::Error);
spell_store_error!(crate::generated::wasi_keyvalue::asynchronous::wasi::keyvalue::store::Error);

/// A bucket's document: its name, and the format it is read and changed in, decided once
/// when the bucket is opened (the grant's, else the one the name says).
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub(crate) name: String,
    pub(crate) format: Format,
}

/// The document a bucket `identifier` names (`""`: the default), if the component may have
/// it. Creates nothing.
pub(crate) fn open(
    repository: &Repository,
    default: Option<&str>,
    format: Option<Format>,
    identifier: &str,
) -> Result<Document, KvError> {
    let name = match identifier {
        "" => default.ok_or(KvError::NoSuchStore)?,
        name => name,
    };
    // The name's rules, then the backend's (a symlink out, a planted directory) and the
    // existence of its directory: what resolving it for a lock status tells, without
    // reading the document or creating anything.
    match repository.lock_status(name) {
        Ok(_) => Ok(Document { name: name.to_owned(), format: Format::chosen(format, name) }),
        Err(Error::NotFound { .. }) => Err(KvError::NoSuchStore),
        Err(e) => Err(e.into()),
    }
}

/// The document's members now (none if it does not exist): one lock-free snapshot.
fn members(repository: &Repository, document: &Document) -> Result<Root, KvError> {
    match repository.read(&document.name) {
        Ok(snapshot) => parse(document, &snapshot.content),
        Err(Error::NotFound { .. }) => Ok(Root::new()),
        Err(e) => Err(e.into()),
    }
}

fn parse(document: &Document, text: &str) -> Result<Root, KvError> {
    document::parse(document.format, &document.name, text).map_err(|e| KvError::Other(e.detail))
}

/// A member's value as bytes: a string as itself, anything else as compact JSON.
fn bytes_of(value: &Value) -> Vec<u8> {
    match value {
        Value::String(text) => text.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    }
}

pub(crate) fn get(repository: &Repository, document: &Document, key: &str) -> Result<Option<Vec<u8>>, KvError> {
    Ok(members(repository, document)?.get(key).map(bytes_of))
}

pub(crate) fn exists(repository: &Repository, document: &Document, key: &str) -> Result<bool, KvError> {
    Ok(members(repository, document)?.contains_key(key))
}

pub(crate) fn list_keys(
    repository: &Repository,
    document: &Document,
    cursor: Option<u64>,
) -> Result<Vec<String>, KvError> {
    let skip = cursor.map_or(0, |offset| usize::try_from(offset).unwrap_or(usize::MAX));
    Ok(members(repository, document)?.keys().skip(skip).cloned().collect())
}

/// A key and its value, as `batch` passes them.
pub(crate) type Pair = (String, Vec<u8>);

pub(crate) fn get_many(
    repository: &Repository,
    document: &Document,
    keys: Vec<String>,
) -> Result<Vec<Option<Pair>>, KvError> {
    let members = members(repository, document)?;
    Ok(keys.into_iter().map(|key| members.get(&key).map(bytes_of).map(|value| (key, value))).collect())
}

/// The key path of the top-level member `key`, taken literally.
fn member(key: &str) -> String {
    KeyPath { segments: vec![Segment::Key(key.to_owned())] }.to_string()
}

/// Sets every pair in one write, or none: a value that is not UTF-8 refuses the batch.
pub(crate) fn set_many(repository: &Repository, document: &Document, pairs: Vec<Pair>) -> Result<(), KvError> {
    let mut changes = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        let text = String::from_utf8(value).map_err(|e| {
            KvError::Other(format!(
                "{}: key {key:?}: the value is not UTF-8 (invalid byte at offset {}); confine stores \
                 text, so nothing was written",
                document.name,
                e.utf8_error().valid_up_to()
            ))
        })?;
        changes.push((key, Some(Value::String(text).to_string())));
    }
    write(repository, document, changes)
}

/// Removes every key in one write; keys that are not there are skipped.
pub(crate) fn delete_many(repository: &Repository, document: &Document, keys: Vec<String>) -> Result<(), KvError> {
    write(repository, document, keys.into_iter().map(|key| (key, None)).collect())
}

/// Adds `delta` to the integer at `key` (0 if missing), exactly, in one write.
pub(crate) fn increment(repository: &Repository, document: &Document, key: &str, delta: u64) -> Result<u64, KvError> {
    let (document, key) = (document.clone(), key.to_owned());
    update(repository, &document.name.clone(), move |current| {
        let members = current.map(|text| parse(&document, text)).transpose()?.unwrap_or_default();
        let name = &document.name;
        let refuse = |reason: String| Unwritten::Refused(KvError::Other(reason));
        let now = match members.get(&key) {
            None => 0,
            Some(value) => integer(value)
                .ok_or_else(|| refuse(format!("{name}: key {key:?} holds {value}, not an integer to increment")))?,
        };
        let new = u64::try_from(now + i128::from(delta)).map_err(|_| {
            refuse(format!("{name}: key {key:?}: {now} + {delta} is outside 0..=2^64-1; nothing was written"))
        })?;
        match apply(&document, current, vec![(key.clone(), Some(new.to_string()))]) {
            Ok(text) => Ok((text, new)),
            // Adding 0 to an integer written as it would be: no write, and its value.
            Err(Unwritten::Unchanged(())) => Err(Unwritten::Unchanged(new)),
            Err(Unwritten::Refused(e)) => Err(Unwritten::Refused(e)),
        }
    })
}

/// A member's integer: a JSON integer, or a string of decimal digits.
fn integer(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)),
        Value::String(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse::<u64>().ok().map(i128::from)
        }
        _ => None,
    }
}

/// Why a change wrote nothing.
enum Unwritten<T = ()> {
    /// It changes nothing (only keys that are not there to delete): not an error, and
    /// still its answer.
    Unchanged(T),
    /// It is refused.
    Refused(KvError),
}

impl<T> From<KvError> for Unwritten<T> {
    fn from(e: KvError) -> Unwritten<T> {
        Unwritten::Refused(e)
    }
}

/// A top-level member to set to a JSON value (`Some`), or to remove (`None`).
type Edit = (String, Option<String>);

/// Makes `changes` in the document in one locked write (group commit).
fn write(repository: &Repository, document: &Document, changes: Vec<Edit>) -> Result<(), KvError> {
    let doc = document.clone();
    update(repository, &document.name, move |current| apply(&doc, current, changes.clone()).map(|text| (text, ())))
}

/// The answer of `change`, once its text is written (or when it changes nothing).
fn update<T: Send + 'static>(
    repository: &Repository,
    document: &str,
    mut change: impl FnMut(Option<&str>) -> Result<(String, T), Unwritten<T>> + Send + 'static,
) -> Result<T, KvError> {
    let updated = repository.update_in_place(document, move |current| {
        change(current.map(Current::text)).map(|(text, answer)| (NewContent::Text(text), answer))
    })?;
    match updated {
        Ok((_, answer)) | Err(Unwritten::Unchanged(answer)) => Ok(answer),
        Err(Unwritten::Refused(e)) => Err(e),
    }
}

/// The text `changes` make of `current`, as one update of the domain's (`apply_all`: one
/// draft, the rest of the file keeping its layout, the text walked once to check it and
/// once per change to find its place). Removing a key that is not there is no change: such
/// keys are left out first, by one read of the members. The store checks the result, as
/// it checks every whole text it is handed.
fn apply(document: &Document, current: Option<&str>, edits: Vec<Edit>) -> Result<String, Unwritten> {
    let refused = |detail: String| Unwritten::Refused(KvError::Other(detail));
    let removes = edits.iter().any(|(_, value)| value.is_none());
    let mut present: HashSet<String> = match current {
        Some(text) if removes => parse(document, text)?.into_iter().map(|(key, _)| key).collect(),
        _ => HashSet::new(),
    };
    let changes: Vec<Change> = edits
        .into_iter()
        .filter_map(|(key, value)| match value {
            Some(value) => Some(Change::Set { key: member(&key), value }),
            // Each key is removed once, if it is there.
            None => present.remove(&key).then(|| Change::Unset { key: member(&key) }),
        })
        .collect();
    if changes.is_empty() {
        return Err(Unwritten::Unchanged(()));
    }
    let (splice, _answers) = service::apply_all(document.format, &document.name, current, changes)
        .map_err(|refusal| refused(refusal.error.detail))?;
    let base = current.unwrap_or_default();
    let text = splice.apply_to(base).ok_or_else(|| refused(service::unfit(&document.name).detail))?;
    if current == Some(text.as_str()) { Err(Unwritten::Unchanged(())) } else { Ok(text) }
}

#[cfg(test)]
#[path = "tests/buckets.rs"]
mod tests;
