//! Unit tests of `service.rs`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::json;

use super::*;

/// An in-memory repository, and the host's part of a change done the way the host does
/// it: read the current text, `apply`, write the splice's result (counting the writes, or
/// failing them on request).
#[derive(Default, Clone)]
struct Memory {
    docs: Rc<RefCell<BTreeMap<String, String>>>,
    commits: Rc<Cell<usize>>,
    fail_commit: Rc<Cell<bool>>,
}

impl Repository for Memory {
    fn read(&self, name: &str) -> Result<String, Error> {
        self.docs.borrow().get(name).cloned().ok_or_else(|| Error::new(ErrorKind::NotFound, name))
    }
}

fn change(repo: &Memory, document: &str, change: Change) -> Result<String, Error> {
    let current = repo.docs.borrow().get(document).cloned();
    let (splice, answer) = apply(document, current.as_deref(), change)?;
    let content = splice.apply_to(current.as_deref().unwrap_or_default()).expect("the splice fits");
    if repo.fail_commit.get() {
        return Err(Error::new(ErrorKind::Io, "disk full"));
    }
    repo.commits.set(repo.commits.get() + 1);
    repo.docs.borrow_mut().insert(document.to_owned(), content);
    Ok(answer)
}

fn set(repo: &Memory, document: &str, key: &str, value: &str) -> Result<(), Error> {
    change(repo, document, Change::Set { key: key.into(), value: value.into() }).map(drop)
}

fn unset(repo: &Memory, document: &str, key: &str) -> Result<(), Error> {
    change(repo, document, Change::Unset { key: key.into() }).map(drop)
}

fn incr(repo: &Memory, document: &str, key: &str, delta: &str) -> Result<String, Error> {
    change(repo, document, Change::Incr { key: key.into(), delta: delta.into() })
}

fn merge(repo: &Memory, document: &str, key: &str, patch: &str) -> Result<(), Error> {
    change(repo, document, Change::Merge { key: key.into(), patch: patch.into() }).map(drop)
}

fn stored(repo: &Memory, name: &str) -> Value {
    serde_json::from_str(&repo.docs.borrow()[name]).unwrap()
}

#[test]
fn first_change_creates_the_document() {
    let repo = Memory::default();
    set(&repo, "app.json", "server.port", "8080").unwrap();
    assert_eq!(stored(&repo, "app.json"), json!({"server": {"port": 8080}}));
    assert_eq!(get(&repo, "app.json", "server.port").unwrap(), "8080");
    assert_eq!(get(&repo, "app.json", "").unwrap(), r#"{"server":{"port":8080}}"#);
}

#[test]
fn incr_returns_the_new_value() {
    let repo = Memory::default();
    assert_eq!(incr(&repo, "c.json", "n", "1").unwrap(), "1");
    assert_eq!(incr(&repo, "c.json", "n", "41").unwrap(), "42");
    assert_eq!(repo.commits.get(), 2);
}

#[test]
fn failed_change_writes_nothing() {
    let repo = Memory::default();
    set(&repo, "a.json", "s", "\"text\"").unwrap();
    let before = repo.docs.borrow().clone();
    for (result, kind) in [
        (incr(&repo, "a.json", "s", "1").map(drop), ErrorKind::TypeMismatch),
        (set(&repo, "a.json", "s.x", "1"), ErrorKind::TypeMismatch),
        (set(&repo, "a.json", "x", "{oops"), ErrorKind::InvalidValue),
        (set(&repo, "a.json", "a..b", "1"), ErrorKind::InvalidKey),
        (unset(&repo, "a.json", "missing"), ErrorKind::NotFound),
        (merge(&repo, "a.json", "", "[1]"), ErrorKind::InvalidValue),
    ] {
        let err = result.unwrap_err();
        assert_eq!(err.kind, kind, "{err}");
        assert!(err.detail.starts_with("a.json: "), "{err}");
    }
    assert_eq!(*repo.docs.borrow(), before);
    assert_eq!(repo.commits.get(), 1);
}

#[test]
fn a_corrupt_document_is_reported_and_left_alone() {
    let repo = Memory::default();
    repo.docs.borrow_mut().insert("bad.json".into(), "{\"a\": 1,,}".into());
    let err = set(&repo, "bad.json", "a", "2").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidDocument);
    assert!(err.detail.contains("bad.json: not valid JSON at line 1, column 9"), "{err}");
    assert_eq!(repo.docs.borrow()["bad.json"], "{\"a\": 1,,}");
    assert_eq!(get(&repo, "bad.json", "a").unwrap_err().kind, ErrorKind::InvalidDocument);
}

#[test]
fn commit_failure_reaches_the_caller() {
    let repo = Memory::default();
    repo.fail_commit.set(true);
    assert_eq!(set(&repo, "a.json", "k", "1").unwrap_err().kind, ErrorKind::Io);
    assert!(repo.docs.borrow().is_empty());
}

#[test]
fn reads_of_a_missing_document_are_not_found() {
    let repo = Memory::default();
    assert_eq!(get(&repo, "none.json", "a").unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(cat(&repo, "none.json").unwrap_err().kind, ErrorKind::NotFound);
}

#[test]
fn cat_pretty_prints() {
    let repo = Memory::default();
    merge(&repo, "m.json", "", r#"{"a": {"b": 1}}"#).unwrap();
    assert_eq!(cat(&repo, "m.json").unwrap(), "{\n  \"a\": {\n    \"b\": 1\n  }\n}\n");
}

#[test]
fn apply_changes_a_given_text_and_touches_no_storage() {
    let apply = |current: Option<&str>, change: Change| {
        let (splice, answer) = apply("d.json", current, change).unwrap();
        (splice.apply_to(current.unwrap_or_default()).unwrap(), answer)
    };
    let incr = |key: &str, delta: &str| Change::Incr { key: key.into(), delta: delta.into() };
    let (content, answer) = apply(None, incr("n", "2"));
    assert_eq!((content.as_str(), answer.as_str()), ("{\n  \"n\": 2\n}\n", "2"));
    let (content, answer) = apply(Some(&content), incr("n", "3"));
    assert_eq!(answer, "5");
    let set = Change::Set { key: "a.b".into(), value: "[1]".into() };
    let (content, answer) = apply(Some(&content), set);
    assert_eq!(
        (content.as_str(), answer.as_str()),
        ("{\n  \"n\": 5,\n  \"a\": {\n    \"b\": [\n      1\n    ]\n  }\n}\n", "")
    );
    let (content, _) = apply(Some(&content), Change::Merge { key: String::new(), patch: r#"{"a":null}"#.into() });
    let (content, _) = apply(Some(&content), Change::Unset { key: "n".into() });
    assert_eq!(content, "{}\n");
}

#[test]
fn apply_answers_with_a_splice_of_the_changed_bytes_only() {
    let big = format!("{{\"n\": 1, \"pad\": \"{}\"}}", "x".repeat(10_000));
    let (splice, answer) = apply("d.json", Some(&big), Change::Incr { key: "n".into(), delta: "1".into() }).unwrap();
    assert_eq!((splice.start, splice.end, splice.text.as_str(), answer.as_str()), (6, 7, "2", "2"));
}

#[test]
fn apply_refuses_with_the_kind_of_each_cause() {
    let kind = |current: Option<&str>, change: Change| apply("d.json", current, change).unwrap_err().kind;
    assert_eq!(kind(None, Change::Unset { key: "a..b".into() }), ErrorKind::InvalidKey);
    assert_eq!(kind(None, Change::Incr { key: "n".into(), delta: "x".into() }), ErrorKind::InvalidValue);
    assert_eq!(kind(Some("[1]"), Change::Unset { key: "a".into() }), ErrorKind::InvalidDocument);
    assert_eq!(
        kind(Some(r#"{"s":"x"}"#), Change::Incr { key: "s".into(), delta: "1".into() }),
        ErrorKind::TypeMismatch
    );
    assert_eq!(kind(Some("{}"), Change::Unset { key: "gone".into() }), ErrorKind::NotFound);
    let e = apply("d.json", Some("{}"), Change::Unset { key: "gone".into() }).unwrap_err();
    assert!(e.detail.starts_with("d.json: "), "{}", e.detail);
}
