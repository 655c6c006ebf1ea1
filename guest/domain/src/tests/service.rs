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
    let (splice, answer) = apply(Format::of(document), document, current.as_deref(), change)?;
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
    assert_eq!(get(Format::Json, &repo, "app.json", "server.port").unwrap(), "8080");
    assert_eq!(get(Format::Json, &repo, "app.json", "").unwrap(), r#"{"server":{"port":8080}}"#);
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
    assert_eq!(get(Format::Json, &repo, "bad.json", "a").unwrap_err().kind, ErrorKind::InvalidDocument);
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
    assert_eq!(get(Format::Json, &repo, "none.json", "a").unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(cat(Format::Json, &repo, "none.json").unwrap_err().kind, ErrorKind::NotFound);
}

#[test]
fn cat_pretty_prints() {
    let repo = Memory::default();
    merge(&repo, "m.json", "", r#"{"a": {"b": 1}}"#).unwrap();
    assert_eq!(cat(Format::Json, &repo, "m.json").unwrap(), "{\n  \"a\": {\n    \"b\": 1\n  }\n}\n");
}

#[test]
fn apply_changes_a_given_text_and_touches_no_storage() {
    let apply = |current: Option<&str>, change: Change| {
        let (splice, answer) = apply(Format::Json, "d.json", current, change).unwrap();
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
    let (splice, answer) =
        apply(Format::Json, "d.json", Some(&big), Change::Incr { key: "n".into(), delta: "1".into() }).unwrap();
    assert_eq!((splice.start, splice.end, splice.text.as_str(), answer.as_str()), (6, 7, "2", "2"));
}

#[test]
fn apply_refuses_with_the_kind_of_each_cause() {
    let kind = |current: Option<&str>, change: Change| apply(Format::Json, "d.json", current, change).unwrap_err().kind;
    assert_eq!(kind(None, Change::Unset { key: "a..b".into() }), ErrorKind::InvalidKey);
    assert_eq!(kind(None, Change::Incr { key: "n".into(), delta: "x".into() }), ErrorKind::InvalidValue);
    assert_eq!(kind(Some("[1]"), Change::Unset { key: "a".into() }), ErrorKind::InvalidDocument);
    assert_eq!(
        kind(Some(r#"{"s":"x"}"#), Change::Incr { key: "s".into(), delta: "1".into() }),
        ErrorKind::TypeMismatch
    );
    assert_eq!(kind(Some("{}"), Change::Unset { key: "gone".into() }), ErrorKind::NotFound);
    let e = apply(Format::Json, "d.json", Some("{}"), Change::Unset { key: "gone".into() }).unwrap_err();
    assert!(e.detail.starts_with("d.json: "), "{}", e.detail);
}

fn set_change(key: &str, value: &str) -> Change {
    Change::Set { key: key.into(), value: value.into() }
}

fn incr_change(key: &str) -> Change {
    Change::Incr { key: key.into(), delta: "1".into() }
}

#[test]
fn apply_all_makes_every_change_in_order_as_one_splice() {
    let text = "{\n  \"a\": 1,\n  \"pad\": \"keep\",\n  \"b\": 2\n}\n";
    let changes = vec![incr_change("a"), incr_change("b"), set_change("a", "10"), incr_change("a")];
    let (splice, answers) = apply_all(Format::Json, "d.json", Some(text), changes).unwrap();
    let content = splice.apply_to(text).unwrap();
    assert_eq!(content, "{\n  \"a\": 11,\n  \"pad\": \"keep\",\n  \"b\": 3\n}\n");
    assert_eq!(answers, ["2", "3", "", "11"]);
    // One splice from the first changed byte to the last: the rest is the original's.
    assert_eq!((splice.start, &text[splice.end..]), (text.find('1').unwrap(), "\n}\n"));
}

#[test]
fn apply_all_creates_a_document_and_builds_on_it() {
    let changes =
        vec![set_change("server.port", "80"), incr_change("server.port"), Change::Unset { key: "server.port".into() }];
    let (splice, answers) = apply_all(Format::Json, "d.json", None, changes).unwrap();
    assert_eq!((splice.start, splice.end), (0, 0));
    assert_eq!(serde_json::from_str::<Value>(&splice.text).unwrap(), json!({"server": {}}));
    assert_eq!(answers, ["", "81", ""]);
}

#[test]
fn apply_all_refuses_the_whole_update_and_names_the_change() {
    let text = r#"{"a": 1}"#;
    // A refusal while applying: the first two changes would have applied.
    let changes = vec![incr_change("a"), set_change("b", "2"), Change::Unset { key: "gone".into() }, incr_change("a")];
    let refusal = apply_all(Format::Json, "d.json", Some(text), changes).unwrap_err();
    assert_eq!((refusal.index, refusal.error.kind), (Some(2), ErrorKind::NotFound));
    assert!(refusal.error.detail.starts_with("d.json: "), "{}", refusal.error.detail);
    // A change whose JSON does not parse is refused before any is applied.
    let refusal =
        apply_all(Format::Json, "d.json", Some(text), vec![incr_change("a"), set_change("b", "{")]).unwrap_err();
    assert_eq!((refusal.index, refusal.error.kind), (Some(1), ErrorKind::InvalidValue));
    // What is no change's: an empty update, a stored text that is not a document.
    let refusal = apply_all(Format::Json, "d.json", Some(text), Vec::new()).unwrap_err();
    assert_eq!((refusal.index, refusal.error.kind), (None, ErrorKind::InvalidValue));
    let refusal = apply_all(Format::Json, "d.json", Some("[1]"), vec![incr_change("a")]).unwrap_err();
    assert_eq!((refusal.index, refusal.error.kind), (None, ErrorKind::InvalidDocument));
}

#[test]
fn apply_all_of_one_change_is_apply() {
    let text = r#"{"n": 1, "m": {"x": [1, 2]}}"#;
    for change in
        [incr_change("n"), set_change("m.x[2]", "3"), Change::Merge { key: "m".into(), patch: r#"{"x":null}"#.into() }]
    {
        let one = apply(Format::Json, "d.json", Some(text), change.clone()).unwrap();
        let (splice, answers) = apply_all(Format::Json, "d.json", Some(text), vec![change]).unwrap();
        assert_eq!((splice, answers), (one.0, vec![one.1]));
    }
}

#[test]
fn changes_between_two_documents_make_one_from_the_other_in_place() {
    let old = "{\n  \"a\": 1, // kept\n  \"server\": {\"port\": 80, \"host\": \"x\"},\n  \"gone\": [1],\n  \"list\": [1, 2],\n  \"odd.key\": {\"n\": 1}\n}\n"
        .replace(" // kept", "");
    let new_value = serde_json::json!({
        "a": 1,
        "server": {"port": 8080, "host": "x", "tls": true},
        "list": [1, 2, 3],
        "odd.key": {"n": 2},
        "added": {"deep": null}
    });
    let Value::Object(new) = new_value else { unreachable!() };
    let root = document::parse(Format::Json, "d.json", &old).unwrap();
    let changes = changes_between(&root, &new);
    let keys: Vec<String> = changes
        .iter()
        .map(|change| match change {
            Change::Set { key, .. } => format!("set {key}"),
            Change::Unset { key } => format!("unset {key}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        keys,
        ["unset gone", "set server.port", "set server.tls", "set list", "set [\"odd.key\"].n", "set added"]
    );
    let (splice, _) = apply_all(Format::Json, "d.json", Some(&old), changes).unwrap();
    let made = splice.apply_to(&old).unwrap();
    assert_eq!(Value::Object(document::parse(Format::Json, "d.json", &made).unwrap()), Value::Object(new));
    assert!(made.starts_with("{\n  \"a\": 1,\n  \"server\": {\"port\": 8080, \"host\": \"x\""), "{made}");
    assert!(changes_between(&root, &root).is_empty(), "a document equal to itself needs no change");
}

/// The format decided once (a command's `--format`) holds at every step of a call: a
/// second change is checked, a missing key found missing, and a read parsed, in that
/// format, never in the one the name would say.
#[test]
fn a_chosen_format_is_kept_through_every_step() {
    let text = "{\"x\": 0}\n";
    let changes = vec![set_change("a", "1"), set_change("b", "2")];
    let (splice, _) = apply_all(Format::Json, "odd.toml", Some(text), changes).unwrap();
    assert_eq!(splice.apply_to(text).unwrap(), "{\"x\": 0, \"a\": 1, \"b\": 2}\n");

    let e = apply(Format::Json, "odd.toml", Some(text), Change::Unset { key: "nope".into() }).unwrap_err();
    assert_eq!((e.kind, e.detail.as_str()), (ErrorKind::NotFound, "odd.toml: key `nope` not found"));

    let prepared = prepare_all(Format::Json, "odd.toml", vec![incr_change("x"), incr_change("x")]).unwrap();
    let (splice, answers) = apply_prepared_to_checked("odd.toml", Some(text), 1, &prepared).unwrap();
    assert_eq!((splice.apply_to(text).unwrap().as_str(), answers), ("{\"x\": 2}\n", vec!["1".into(), "2".into()]));

    let repo = Memory::default();
    repo.docs.borrow_mut().insert("odd.toml".into(), text.into());
    assert_eq!(get(Format::Json, &repo, "odd.toml", "x").unwrap(), "0");
    assert_eq!(cat(Format::Json, &repo, "odd.toml").unwrap(), "{\n  \"x\": 0\n}\n");
    let toml = "x = 0\n";
    repo.docs.borrow_mut().insert("odd.json".into(), toml.into());
    assert_eq!(get(Format::Toml, &repo, "odd.json", "x").unwrap(), "0");
    assert_eq!(cat(Format::Toml, &repo, "odd.json").unwrap(), toml);
    let five = Change::Incr { key: "x".into(), delta: "5".into() };
    let (splice, _) = apply(Format::Toml, "odd.json", Some(toml), five).unwrap();
    assert_eq!(splice.apply_to(toml).unwrap(), "x = 5\n");
}

/// An edit that confine made wrong is its own bug, reported as such: never an I/O error
/// (a storage failure) nor bad input.
#[test]
fn an_edit_that_does_not_fit_is_an_internal_error() {
    let e = unfit("d.json");
    assert_eq!(e.kind, ErrorKind::Internal);
    assert!(e.detail.starts_with("d.json: ") && e.detail.contains("a bug in confine"), "{}", e.detail);
}

/// The nesting limit holds for each change of an update as for a change alone: a change
/// that goes past it on the text a change before it made is refused, as it would be alone
/// on that text.
#[test]
fn a_later_change_of_an_update_meets_the_nesting_limit() {
    let deep = |levels: usize| "{\"a\":".repeat(levels) + "1" + &"}".repeat(levels);
    let text = "{\"top\": 1}";
    let n = crate::edit::MAX_DEPTH - 2;
    let first = Change::Set { key: "x".into(), value: deep(n) };
    let second = Change::Set { key: format!("x{}.b", ".a".repeat(n - 1)), value: deep(2) };
    let (splice, _) = apply(Format::Json, "d.json", Some(text), first.clone()).unwrap();
    let made = splice.apply_to(text).unwrap();
    let alone = apply(Format::Json, "d.json", Some(&made), second.clone()).unwrap_err();
    assert_eq!(alone.kind, ErrorKind::InvalidValue, "{}", alone.detail);
    let refusal = apply_all(Format::Json, "d.json", Some(text), vec![first.clone(), second]).unwrap_err();
    assert_eq!((refusal.index, refusal.error), (Some(1), alone));
    let within = Change::Set { key: format!("x{}.b", ".a".repeat(n - 1)), value: "{}".into() };
    assert!(apply_all(Format::Json, "d.json", Some(text), vec![first, within]).is_ok());
}
