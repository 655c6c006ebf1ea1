//! The service operations, written against the storage port as a plain trait so that they
//! run natively in unit tests with an in-memory repository.
//!
//! Reads (`get`, `cat`) take a lock-free snapshot through [`Repository`]. Changes are
//! [`apply`] (one change) and [`apply_all`] (several, as one update), which are pure: they
//! change a text given to them and touch no storage. The host reads the document under its
//! lock, runs them (in the guest), and writes the result with group commit; because it
//! holds the lock from the read to the write, no change can be lost, and a refused change
//! writes nothing.

use serde_json::Value;

use crate::checked::Checked;
use crate::document::{self, Root};
use crate::edit;
use crate::error::{Error, ErrorKind};
use crate::format::Format;
use crate::inplace;
use crate::keypath::{KeyPath, Segment};
use crate::splice::{Draft, Splice};
use crate::toml;

/// The storage port, as the domain's reads need it.
pub trait Repository {
    /// A lock-free read: the document's whole text, `NotFound` if it does not exist.
    fn read(&self, name: &str) -> Result<String, Error>;
}

/// The value at `key` in `document`, a document in `format`, as compact JSON. The key is
/// refused before the document is read.
///
/// `format` is decided once, by the caller ([`Format::chosen`]: an override, else the
/// name), and every function here takes it so: no step of a call guesses it again.
pub fn get(format: Format, repo: &impl Repository, document: &str, key: &str) -> Result<String, Error> {
    let path = parse_key(document, key)?;
    value_at(format, document, &repo.read(document)?, &path)
}

/// The value at `path` in `text`, the content of `document` in `format`, as compact JSON:
/// [`get`] for a host that read the text itself (with the key parsed first by
/// [`parse_key`], as `get` does, so that a bad key is refused before any read).
pub fn value_at(format: Format, document: &str, text: &str, path: &KeyPath) -> Result<String, Error> {
    let root = document::parse(format, document, text)?;
    if path.segments.is_empty() {
        return Ok(Value::Object(root).to_string());
    }
    edit::get(&root, path)
        .map(Value::to_string)
        .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("{document}: key `{path}` not found")))
}

/// The whole document in `format`: JSON pretty-printed, TOML as it is written (once
/// checked).
pub fn cat(format: Format, repo: &impl Repository, document: &str) -> Result<String, Error> {
    let text = repo.read(document)?;
    match format {
        Format::Json => document::render(document, &document::parse(Format::Json, document, &text)?),
        Format::Toml => document::check(Format::Toml, document, &text).map(|_| text),
    }
}

/// A change to a document's content, as the caller gave it (JSON as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Set `key` to the JSON `value`, creating missing parents.
    Set { key: String, value: String },
    /// Remove `key`.
    Unset { key: String },
    /// Add the JSON number `delta` to the number at `key`.
    Incr { key: String, delta: String },
    /// Apply the JSON Merge Patch `patch` at `key`.
    Merge { key: String, patch: String },
}

/// The changes that turn the document `old` into `new`, member by member: what a caller
/// that edited a parsed copy of a document (Python's `with store.update(...)`) changed, as
/// changes the text can take in place, so that everything else keeps its bytes. Removed
/// members are unset, added or changed ones set (an object changed in part is descended
/// into; any other changed value, arrays included, is set whole). Empty when they are
/// equal.
pub fn changes_between(old: &Root, new: &Root) -> Vec<Change> {
    let mut changes = Vec::new();
    diff(&mut Vec::new(), old, new, &mut changes);
    changes
}

fn diff(path: &mut Vec<Segment>, old: &Root, new: &Root, changes: &mut Vec<Change>) {
    let key_of = |path: &[Segment], key: &str| {
        let mut segments = path.to_vec();
        segments.push(Segment::Key(key.to_owned()));
        KeyPath { segments }.to_string()
    };
    for key in old.keys().filter(|key| !new.contains_key(*key)) {
        changes.push(Change::Unset { key: key_of(path, key) });
    }
    for (key, now) in new {
        match (old.get(key), now) {
            (Some(was), _) if was == now => {}
            (Some(Value::Object(was)), Value::Object(now)) => {
                path.push(Segment::Key(key.clone()));
                diff(path, was, now, changes);
                path.pop();
            }
            _ => changes.push(Change::Set { key: key_of(path, key), value: now.to_string() }),
        }
    }
}

/// A change whose key and JSON parsed ([`prepare`]): what a host keeps from before the
/// document's lock until the change is applied under it, so that neither is parsed twice.
#[derive(Debug, Clone)]
pub struct Prepared(Parsed, Format);

#[derive(Debug, Clone)]
enum Parsed {
    Set(KeyPath, Value),
    Unset(KeyPath),
    Incr(KeyPath, Value),
    Merge(KeyPath, Value),
}

impl Parsed {
    /// Where the change is made.
    fn path(&self) -> &KeyPath {
        match self {
            Parsed::Set(path, _) | Parsed::Unset(path) | Parsed::Incr(path, _) | Parsed::Merge(path, _) => path,
        }
    }

    /// How deep a document nests at most once the change is made, beside what it nested
    /// before: the change's path, and the depth of the value it puts there (the root is
    /// level 1, as [`edit::depth`] and the check count).
    fn reach(&self) -> usize {
        match self {
            Parsed::Set(path, value) | Parsed::Merge(path, value) => path.segments.len() + edit::depth(value),
            Parsed::Incr(path, _) => path.segments.len(),
            Parsed::Unset(_) => 0,
        }
    }

    /// Applies the change to a parsed tree: for a new document, and for what
    /// `inplace` leaves to the tree (refusals, and documents nested near the limit).
    fn apply_to_tree(&self, root: &mut Root) -> Result<String, Error> {
        match self {
            Parsed::Set(path, value) => edit::set(root, path, value.clone()).map(|()| String::new()),
            Parsed::Unset(path) => edit::unset(root, path).map(|_| String::new()),
            Parsed::Incr(path, delta) => edit::incr(root, path, delta).map(|n| n.to_string()),
            Parsed::Merge(path, patch) => edit::merge(root, path, patch.clone()).map(|()| String::new()),
        }
    }

    /// Applies the change to the text itself; `None` where `inplace` leaves it to the tree.
    fn apply_to_text(&self, doc: inplace::Text<'_>) -> Option<Result<(Splice, String), Error>> {
        let unanswered = |splice: Splice| Ok((splice, String::new()));
        match self {
            Parsed::Set(path, value) => inplace::set(doc, path, value).map(unanswered),
            Parsed::Unset(path) => inplace::unset(doc, path).map(unanswered),
            Parsed::Incr(path, delta) => {
                inplace::incr(doc, path, delta).map(|done| done.map(|(splice, n)| (splice, n.to_string())))
            }
            Parsed::Merge(path, patch) => inplace::merge(doc, path, patch).map(unanswered),
        }
    }
}

/// Parses the key and the JSON of `change` to `document`, a document in `format`, before
/// any document is read or locked: a bad change is refused here, with the words [`apply`]
/// would use. The change keeps `format`, and is applied in it.
///
/// # Errors
/// `InvalidKey` or `InvalidValue`, naming `document`.
pub fn prepare(format: Format, document: &str, change: Change) -> Result<Prepared, Error> {
    let json = |what: &str, text: &str| document::parse_value(what, text).map_err(|e| in_document(document, e));
    Ok(Prepared(
        match change {
            Change::Set { key, value } => Parsed::Set(parse_key(document, &key)?, json("the value", &value)?),
            Change::Unset { key } => Parsed::Unset(parse_key(document, &key)?),
            Change::Incr { key, delta } => Parsed::Incr(parse_key(document, &key)?, json("the increment", &delta)?),
            Change::Merge { key, patch } => Parsed::Merge(parse_key(document, &key)?, json("the patch", &patch)?),
        },
        format,
    ))
}

/// Applies `change` to `current` (the text of `document` in `format`, `None` if it does
/// not exist), touching no storage. Returns the change as a [`Splice`] of `current` (of
/// `""` for a new document), and the change's answer.
///
/// The change is made on the text in place (the crate's `inplace` module): the rest of the file keeps its
/// bytes, and no tree of the whole document is built. Refusals come from the tree, with
/// the same words as ever.
pub fn apply(format: Format, document: &str, current: Option<&str>, change: Change) -> Result<(Splice, String), Error> {
    let change = prepare(format, document, change)?;
    let current = current.map(|text| check_current(format, document, text)).transpose()?;
    let (splice, mut answers) = apply_all_prepared(document, current, std::slice::from_ref(&change))?;
    Ok((splice, answers.pop().unwrap_or_default()))
}

/// `text`, the content of `document`, checked as a change needs it: a JSON text by the
/// strict check; a TOML one is taken as it is, since its edit parses it whole and refuses
/// it with the same words (a second parse would be the same walk again).
fn check_current<'t>(format: Format, document: &str, text: &'t str) -> Result<Checked<'t>, Error> {
    match format {
        Format::Json => Checked::new(format, document, text),
        Format::Toml => Ok(Checked::trusted(text, 0)),
    }
}

/// Why [`apply_all`] refused an update: the position of the change that refused (from 0),
/// `None` when the refusal is not one change's (no changes, or the current text is not a
/// document), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The change that refused.
    pub index: Option<usize>,
    /// Why, in the words a single change would have used.
    pub error: Error,
}

/// Applies `changes` to `current` in order, each to the result of the one before, as one
/// update: either every change is made, or the update is refused (by the first change that
/// refuses) and nothing is. Returns the one [`Splice`] of `current` they amount to, and
/// each change's answer in order. Every change's key and JSON are checked before any is
/// applied.
pub fn apply_all(
    format: Format,
    document: &str,
    current: Option<&str>,
    changes: Vec<Change>,
) -> Result<(Splice, Vec<String>), Refusal> {
    let prepared = prepare_all(format, document, changes)?;
    let current = current.map(|text| check_current(format, document, text)).transpose().map_err(whole)?;
    apply_all_prepared(document, current, &prepared)
}

/// [`apply_all`] of changes already [`prepare`]d, to a text its host checked: the guest's,
/// whose host checks every text before it gives it (`current`, nesting at most `depth`
/// levels deep), so that a large document is walked once per update. The splice answered
/// proves nothing to its writer, which checks it as every splice (confine's store by its
/// own record and check).
///
/// # Errors
/// As [`apply_all`]'s.
pub fn apply_prepared_to_checked(
    document: &str,
    current: Option<&str>,
    depth: usize,
    prepared: &[Prepared],
) -> Result<(Splice, Vec<String>), Refusal> {
    if prepared.is_empty() {
        return Err(no_changes(document));
    }
    apply_all_prepared(document, current.map(|text| Checked::trusted(text, depth)), prepared)
}

/// A refusal that is no one change's.
fn whole(error: Error) -> Refusal {
    Refusal { index: None, error }
}

/// [`prepare`] of each of `changes` to `document` in `format`, for
/// [`apply_prepared_to_checked`].
///
/// # Errors
/// The first change that does not parse, with its position; no changes at all.
pub fn prepare_all(format: Format, document: &str, changes: Vec<Change>) -> Result<Vec<Prepared>, Refusal> {
    if changes.is_empty() {
        return Err(no_changes(document));
    }
    changes
        .into_iter()
        .enumerate()
        .map(|(index, change)| prepare(format, document, change).map_err(|error| Refusal { index: Some(index), error }))
        .collect()
}

/// A refusal as the error it carries, for a caller that does not report positions.
impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Error {
        refusal.error
    }
}

/// The refusal of an update with no changes.
fn no_changes(document: &str) -> Refusal {
    whole(Error::new(ErrorKind::InvalidValue, format!("{document}: the update has no changes")))
}

/// [`apply_all`] of changes already prepared, each in the format it was prepared in (one
/// update's changes are prepared together, in one format).
fn apply_all_prepared(
    document: &str,
    current: Option<Checked<'_>>,
    prepared: &[Prepared],
) -> Result<(Splice, Vec<String>), Refusal> {
    let format = prepared.first().map_or(Format::Json, |Prepared(_, format)| *format);
    if format == Format::Toml {
        return apply_all_to_toml(document, current.map(Checked::text), prepared);
    }
    let mut draft = Draft::new(current.map_or("", Checked::text));
    let mut depth = current.map_or(0, |checked| checked.shape().depth);
    let mut answers = Vec::with_capacity(prepared.len());
    for (index, Prepared(change, _)) in prepared.iter().enumerate() {
        let refused = |error| Refusal { index: Some(index), error };
        // The first change sees the text as given; each later one the text the changes
        // before it made: a document again (each edit makes one), as deep as the changes
        // can have made it at most, so that it is not walked whole again per change. (The
        // store checks the text the update makes, as every text it is handed.)
        let text = if index == 0 { current } else { Some(Checked::trusted(draft.text(), depth)) };
        let (splice, answer) = apply_prepared(document, text, change).map_err(refused)?;
        draft.splice(splice);
        depth = depth.max(change.reach());
        answers.push(answer);
    }
    let unfit = || whole(unfit(document));
    Ok((draft.finish().ok_or_else(unfit)?, answers))
}

/// [`apply_all_prepared`] of a TOML document: each change's rule runs on the tree its
/// text maps to, and [`toml::Edit`] makes the difference in the text.
fn apply_all_to_toml(
    document: &str,
    current: Option<&str>,
    prepared: &[Prepared],
) -> Result<(Splice, Vec<String>), Refusal> {
    let mut edit = toml::Edit::new(document, current).map_err(whole)?;
    let mut answers = Vec::with_capacity(prepared.len());
    for (index, Prepared(change, _)) in prepared.iter().enumerate() {
        let refused_by_rule = std::cell::Cell::new(false);
        let rule = |root: &mut Root| change.apply_to_tree(root).inspect_err(|_| refused_by_rule.set(true));
        let answer = edit.change(change.path(), rule).map_err(|mut error| {
            // An increment's sum that TOML cannot hold is beyond its integers: an overflow.
            let unwritable = !refused_by_rule.get() && error.kind == ErrorKind::InvalidValue;
            if matches!(change, Parsed::Incr(..)) && unwritable {
                error.kind = ErrorKind::TypeMismatch;
            }
            Refusal { index: Some(index), error: in_document(document, error) }
        })?;
        answers.push(answer);
    }
    Ok((edit.finish(document, current.unwrap_or("")).map_err(whole)?, answers))
}

/// One change to a JSON document's text (`current`; `None`: a new document).
fn apply_prepared(document: &str, current: Option<Checked<'_>>, change: &Parsed) -> Result<(Splice, String), Error> {
    let Some(checked) = current else {
        let mut root = Root::new();
        let answer = change.apply_to_tree(&mut root).map_err(|e| in_document(document, e))?;
        return Ok((Splice { start: 0, end: 0, text: document::render(document, &root)? }, answer));
    };
    let text = checked.text();
    if let Some(done) = change.apply_to_text(inplace::Text::new(text, checked.shape())) {
        return done.map_err(|e| in_document(document, e));
    }
    let mut root = document::parse(Format::Json, document, text)?;
    let answer = change.apply_to_tree(&mut root).map_err(|e| in_document(document, e))?;
    Ok((Splice::between(text, &document::render(document, &root)?), answer))
}

/// The refusal of an update whose edits did not fit the text they were made for: confine's
/// bug, never the user's.
pub fn unfit(document: &str) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("{document}: an edit did not fit the document's text (a bug in confine: please report it)"),
    )
}

/// Parses `key`, a key path of `document`, with the refusal every operation gives.
///
/// # Errors
/// `InvalidKey`, naming `document`.
pub fn parse_key(document: &str, key: &str) -> Result<KeyPath, Error> {
    KeyPath::parse(key).map_err(|e| Error::new(ErrorKind::InvalidKey, format!("{document}: {e}")))
}

fn in_document(document: &str, e: Error) -> Error {
    Error::new(e.kind, format!("{document}: {}", e.detail))
}

#[cfg(test)]
#[path = "tests/service.rs"]
mod tests;
