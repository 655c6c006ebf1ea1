//! Unit tests of `wasi_config.rs`: the flattening and the errors, without wasm.

use super::*;
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine_store::{Filesystem, Options};

fn root() -> (tempfile::TempDir, Dir) {
    let tmp = tempfile::tempdir().expect("create temp dir");
    let dir = Dir::open_ambient_dir(tmp.path(), ambient_authority()).expect("open temp dir");
    (tmp, dir)
}
use store::Host as _;

fn view_of(document: &str) -> (tempfile::TempDir, WasiConfigCtx) {
    let (tmp, dir) = root();
    std::fs::write(tmp.path().join("app.json"), document).expect("write document");
    (tmp, WasiConfigCtx::new(Repository::new(dir, Options::default(), crate::Documents::default()), "app.json"))
}

fn get(ctx: &mut WasiConfigCtx, key: &str) -> Result<Option<String>, store::Error> {
    WasiConfigView { ctx }.get(key.to_owned()).expect("no trap")
}

fn get_all(ctx: &mut WasiConfigCtx) -> Result<Vec<(String, String)>, store::Error> {
    WasiConfigView { ctx }.get_all().expect("no trap")
}

const DOCUMENT: &str = r#"{
  "server": {"port": 8080, "name": "web", "tls": true, "proxy": null, "ratio": 0.5},
  "hosts": {"eu.west": "a", "": "empty", "q\"uote": "q"},
  "a.b": 1,
  "plugins": [{"name": "x"}, "y", [1]],
  "tags": [],
  "extra": {}
}"#;

#[test]
fn get_all_lists_every_leaf_under_its_canonical_key_in_document_order() {
    let (_tmp, mut ctx) = view_of(DOCUMENT);
    let pairs = get_all(&mut ctx).unwrap();
    let expected = [
        ("server.port", "8080"),
        ("server.name", "web"),
        ("server.tls", "true"),
        ("server.proxy", "null"),
        ("server.ratio", "0.5"),
        ("hosts[\"eu.west\"]", "a"),
        ("hosts[\"\"]", "empty"),
        ("hosts[\"q\\\"uote\"]", "q"),
        ("[\"a.b\"]", "1"),
        ("plugins[0].name", "x"),
        ("plugins[1]", "y"),
        ("plugins[2][0]", "1"),
        ("tags", "[]"),
        ("extra", "{}"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(pairs, expected);
}

#[test]
fn every_listed_key_gets_its_listed_value() {
    let (_tmp, mut ctx) = view_of(DOCUMENT);
    for (key, value) in get_all(&mut ctx).unwrap() {
        assert_eq!(get(&mut ctx, &key).unwrap(), Some(value), "{key}");
    }
}

#[test]
fn get_answers_containers_as_compact_json_and_missing_keys_as_none() {
    let (_tmp, mut ctx) = view_of(DOCUMENT);
    assert_eq!(get(&mut ctx, "server[\"port\"]").unwrap().as_deref(), Some("8080"));
    assert_eq!(get(&mut ctx, "plugins[0]").unwrap().as_deref(), Some(r#"{"name":"x"}"#));
    assert_eq!(get(&mut ctx, "plugins[2]").unwrap().as_deref(), Some("[1]"));
    assert_eq!(get(&mut ctx, "").unwrap().map(|all| all.starts_with(r#"{"server":{"port":8080,"#)), Some(true));
    for missing in ["nope", "server.port.deeper", "plugins[9]", "[0]", "a.b", "server.name[0]"] {
        assert_eq!(get(&mut ctx, missing).unwrap(), None, "{missing}");
    }
}

#[test]
fn a_key_that_does_not_parse_is_an_upstream_error_naming_it() {
    let (_tmp, mut ctx) = view_of(DOCUMENT);
    for bad in ["a..b", "x[", "[\"unterminated]"] {
        match get(&mut ctx, bad) {
            Err(store::Error::Upstream(text)) => assert!(text.contains(&format!("{bad:?}")), "{text}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn one_context_answers_from_one_snapshot() {
    let (tmp, mut ctx) = view_of(r#"{"n": 1}"#);
    assert_eq!(get(&mut ctx, "n").unwrap().as_deref(), Some("1"));
    std::fs::write(tmp.path().join("app.json"), r#"{"n": 2}"#).unwrap();
    assert_eq!(get(&mut ctx, "n").unwrap().as_deref(), Some("1"));
    let (_tmp2, mut fresh) = view_of(r#"{"n": 2}"#);
    assert_eq!(get(&mut fresh, "n").unwrap().as_deref(), Some("2"));
}

#[test]
fn bad_documents_are_upstream_errors_naming_the_document_and_are_not_remembered() {
    let (tmp, mut ctx) = view_of("{\"a\": 1,\n  \"a\": 2}");
    for answer in [get(&mut ctx, "a").map(|_| ()), get_all(&mut ctx).map(|_| ())] {
        match answer {
            Err(store::Error::Upstream(text)) => {
                assert!(text.starts_with("app.json: ") && text.contains("line 2"), "{text}")
            }
            other => panic!("{other:?}"),
        }
    }
    std::fs::write(tmp.path().join("app.json"), "[1]").unwrap();
    assert!(matches!(get(&mut ctx, "a"), Err(store::Error::Upstream(t)) if t.contains("object")));
    std::fs::remove_file(tmp.path().join("app.json")).unwrap();
    assert!(matches!(get_all(&mut ctx), Err(store::Error::Upstream(t)) if t == "app.json: no such document"));
    std::fs::write(tmp.path().join("app.json"), r#"{"a": 3}"#).unwrap();
    assert_eq!(get(&mut ctx, "a").unwrap().as_deref(), Some("3"));
}

#[test]
fn refused_names_are_upstream_errors() {
    let (tmp, dir) = root();
    let repository = Repository::new(dir, Options::default(), crate::Documents::default());
    std::fs::create_dir(tmp.path().join("dir.json")).unwrap();
    for name in ["../app.json", "/etc/passwd", "app.json.lock", "dir.json"] {
        let mut ctx = WasiConfigCtx::new(repository.clone(), name);
        assert!(matches!(get_all(&mut ctx), Err(store::Error::Upstream(t)) if t.contains(name)), "{name}");
    }
}

struct FailReads;

impl confine_store::StepGate for FailReads {
    fn before(&self, step: &confine_store::Step<'_>) -> std::io::Result<()> {
        match step {
            confine_store::Step::ReadDocument { .. } => Err(std::io::Error::from_raw_os_error(5)),
            _ => Ok(()),
        }
    }
}

#[test]
fn a_failed_read_is_an_io_error_naming_the_document() {
    let (tmp, dir) = root();
    std::fs::write(tmp.path().join("app.json"), "{}").unwrap();
    let repository = Repository::with_backend(
        Filesystem::new(dir).with_gate(std::sync::Arc::new(FailReads)),
        Options::default(),
        crate::Json,
    );
    let mut ctx = WasiConfigCtx::new(repository, "app.json");
    assert!(matches!(get(&mut ctx, "a"), Err(store::Error::Io(t)) if t.starts_with("app.json: ")));
}

#[test]
fn an_empty_context_has_no_keys() {
    let mut ctx = WasiConfigCtx::empty();
    assert_eq!(get_all(&mut ctx).unwrap(), Vec::new());
    assert_eq!(get(&mut ctx, "server.port").unwrap(), None);
    assert_eq!(ctx.document(), None);
}
