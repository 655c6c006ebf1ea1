//! Unit tests of `buckets.rs`: the mapping from `wasi:keyvalue` to documents, without wasm.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine_store::{Memory, Options};

use super::*;

fn memory() -> Repository {
    Repository::with_backend(Memory::new(), Options::default(), crate::Documents::default())
}

/// The bucket of the document `name`, in the format its name says.
fn doc(name: &str) -> Document {
    Document { name: name.into(), format: Format::of(name) }
}

fn other(result: Result<impl std::fmt::Debug, KvError>) -> String {
    match result {
        Err(KvError::Other(text)) => text,
        unexpected => panic!("want other, got {unexpected:?}"),
    }
}

#[test]
fn utf8_values_round_trip_byte_for_byte_as_json_strings() {
    let repo = memory();
    for value in ["", "web-1", "é ☃ \"quoted\" \\ \n\t", "{not json}", "8080"] {
        set_many(&repo, &doc("kv.json"), vec![("k".into(), value.as_bytes().to_vec())]).unwrap();
        assert_eq!(get(&repo, &doc("kv.json"), "k").unwrap().unwrap(), value.as_bytes());
        let stored: Value = serde_json::from_str(&repo.read("kv.json").unwrap().content).unwrap();
        assert_eq!(stored["k"], Value::String(value.into()), "stored as a JSON string");
    }
}

#[test]
fn members_that_are_not_strings_read_as_compact_json() {
    let repo = memory();
    repo.save("kv.json", r#"{"port": 8080, "tls": {"on": true}, "none": null, "a.b": [1, 2]}"#, None).unwrap();
    assert_eq!(get(&repo, &doc("kv.json"), "port").unwrap().unwrap(), b"8080");
    assert_eq!(get(&repo, &doc("kv.json"), "tls").unwrap().unwrap(), br#"{"on":true}"#);
    assert_eq!(get(&repo, &doc("kv.json"), "none").unwrap().unwrap(), b"null");
    assert_eq!(get(&repo, &doc("kv.json"), "a.b").unwrap().unwrap(), b"[1,2]", "a key is a literal member name");
    assert_eq!(get(&repo, &doc("kv.json"), "missing").unwrap(), None);
    assert_eq!(get(&repo, &doc("none.json"), "k").unwrap(), None, "a missing document is an empty bucket");
}

#[test]
fn a_value_that_is_not_utf8_is_refused_naming_the_key_and_nothing_is_written() {
    let repo = memory();
    repo.save("kv.json", "{\"a\": \"1\"}", None).unwrap();
    let pairs = vec![("b".into(), b"ok".to_vec()), ("bad".into(), vec![0x66, 0xff])];
    let text = other(set_many(&repo, &doc("kv.json"), pairs));
    assert!(text.contains("\"bad\"") && text.contains("not UTF-8"), "{text}");
    assert_eq!(repo.read("kv.json").unwrap().content, "{\"a\": \"1\"}", "nothing of the batch is written");
}

#[test]
fn batches_are_one_write_and_keep_the_layout() {
    let repo = memory();
    repo.save("kv.json", "{\n    \"keep\": 1\n}\n", None).unwrap();
    set_many(&repo, &doc("kv.json"), vec![("x".into(), b"1".to_vec()), ("y".into(), b"2".to_vec())]).unwrap();
    assert_eq!(repo.read("kv.json").unwrap().content, "{\n    \"keep\": 1,\n    \"x\": \"1\",\n    \"y\": \"2\"\n}\n");
    let got = get_many(&repo, &doc("kv.json"), vec!["y".into(), "nope".into(), "keep".into()]).unwrap();
    assert_eq!(got, vec![Some(("y".into(), b"2".to_vec())), None, Some(("keep".into(), b"1".to_vec()))]);
    delete_many(&repo, &doc("kv.json"), vec!["x".into(), "nope".into(), "y".into()]).unwrap();
    assert_eq!(repo.read("kv.json").unwrap().content, "{\n    \"keep\": 1\n}\n");
}

#[test]
fn deleting_what_is_not_there_writes_nothing() {
    let repo = memory();
    delete_many(&repo, &doc("none.json"), vec!["k".into()]).unwrap();
    assert!(matches!(repo.read("none.json"), Err(Error::NotFound { .. })), "no document is created");
    repo.save("kv.json", "{\"a\":1}", None).unwrap();
    let before = repo.read("kv.json").unwrap().revision;
    delete_many(&repo, &doc("kv.json"), vec!["b".into()]).unwrap();
    assert_eq!(repo.read("kv.json").unwrap().revision, before);
}

#[test]
fn increment_is_exact_creates_at_zero_and_refuses_what_is_not_an_integer() {
    let repo = memory();
    assert_eq!(increment(&repo, &doc("c.json"), "n", 5).unwrap(), 5);
    assert_eq!(increment(&repo, &doc("c.json"), "n", 2).unwrap(), 7);
    let revision = repo.read("c.json").unwrap().revision;
    let numbers = r#"{"digits": "41", "neg": -3, "big": 18446744073709551615, "s": "abc", "f": 1.5}"#;
    repo.save("c.json", numbers, Some(&revision)).unwrap();
    assert_eq!(increment(&repo, &doc("c.json"), "digits", 1).unwrap(), 42);
    assert_eq!(increment(&repo, &doc("c.json"), "neg", 3).unwrap(), 0);
    let stored: Value = serde_json::from_str(&repo.read("c.json").unwrap().content).unwrap();
    assert_eq!(stored["digits"], Value::from(42), "an integer is left in the document");
    let before = repo.read("c.json").unwrap().content;
    assert!(other(increment(&repo, &doc("c.json"), "big", 1)).contains("outside"));
    assert!(other(increment(&repo, &doc("c.json"), "s", 1)).contains("\"s\""));
    assert!(other(increment(&repo, &doc("c.json"), "f", 1)).contains("not an integer"));
    assert_eq!(repo.read("c.json").unwrap().content, before, "refusals write nothing");
}

#[test]
fn list_keys_is_in_document_order_and_a_cursor_is_an_offset() {
    let repo = memory();
    repo.save("kv.json", r#"{"z": 1, "a": 2, "m": 3}"#, None).unwrap();
    assert_eq!(list_keys(&repo, &doc("kv.json"), None).unwrap(), ["z", "a", "m"]);
    assert_eq!(list_keys(&repo, &doc("kv.json"), Some(2)).unwrap(), ["m"]);
    assert!(list_keys(&repo, &doc("kv.json"), Some(u64::MAX)).unwrap().is_empty());
    assert!(exists(&repo, &doc("kv.json"), "a").unwrap() && !exists(&repo, &doc("kv.json"), "b").unwrap());
}

#[test]
fn open_refuses_names_outside_the_grant_and_missing_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), tmp.path().join("out")).unwrap();
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    let repo = Repository::new(
        Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap(),
        Options::default(),
        crate::Json,
    );
    assert_eq!(open(&repo, Some("app.json"), None, "").unwrap().name, "app.json");
    assert_eq!(open(&repo, None, None, "sub/new.json").unwrap().name, "sub/new.json");
    for name in ["../x.json", "/etc/passwd", "a.json.lock", ".a.json.0123456789abcdef.tmp", "out/x.json", "a//b"] {
        assert!(matches!(open(&repo, None, None, name), Err(KvError::AccessDenied)), "{name}");
    }
    assert!(matches!(open(&repo, None, None, "nodir/x.json"), Err(KvError::NoSuchStore)));
    assert!(matches!(open(&repo, None, None, ""), Err(KvError::NoSuchStore)), "no default document");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2, "nothing created");
}

#[test]
fn a_document_that_is_not_an_object_answers_other_and_is_left_alone() {
    let repo = memory();
    repo.save("kv.json", "{}", None).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bad.json"), "{\"a\": 1,,}").unwrap();
    let fs = Repository::new(
        Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap(),
        Options::default(),
        crate::Json,
    );
    assert!(other(get(&fs, &doc("bad.json"), "a")).contains("line 1, column 9"));
    assert!(other(set_many(&fs, &doc("bad.json"), vec![("a".into(), b"2".to_vec())])).contains("bad.json"));
    assert_eq!(std::fs::read(tmp.path().join("bad.json")).unwrap(), b"{\"a\": 1,,}");
}

/// A batch is one update of the domain's: each key once, keys that are not there skipped
/// (twice named, or never there), and a document whose name says TOML changed as JSON when
/// the grant says so.
#[test]
fn a_batch_is_one_update_with_absent_keys_skipped() {
    let repo = memory();
    let kv = doc("kv.json");
    set_many(&repo, &kv, vec![("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec()), ("a".into(), b"3".to_vec())])
        .unwrap();
    assert_eq!(repo.read("kv.json").unwrap().content, "{\n  \"a\": \"3\",\n  \"b\": \"2\"\n}\n");
    delete_many(&repo, &kv, vec!["a".into(), "nope".into(), "a".into()]).unwrap();
    assert_eq!(repo.read("kv.json").unwrap().content, "{\n  \"b\": \"2\"\n}\n");
    let before = repo.read("kv.json").unwrap().revision;
    delete_many(&repo, &kv, vec!["nope".into()]).unwrap();
    assert_eq!(repo.read("kv.json").unwrap().revision, before, "nothing to delete writes nothing");

    let repo = Repository::with_backend(Memory::new(), Options::default(), crate::Documents::all(Format::Json));
    let odd = Document { name: "odd.toml".into(), format: Format::Json };
    repo.save("odd.toml", "{\"x\": 1}\n", None).unwrap();
    set_many(&repo, &odd, vec![("y".into(), b"2".to_vec())]).unwrap();
    delete_many(&repo, &odd, vec!["x".into(), "nope".into()]).unwrap();
    assert_eq!(repo.read("odd.toml").unwrap().content, "{\"y\": \"2\"}\n");
    assert_eq!(get(&repo, &odd, "y").unwrap().unwrap(), b"2");
    assert_eq!(open(&repo, Some("odd.toml"), Some(Format::Json), "").unwrap().format, Format::Json);
}
