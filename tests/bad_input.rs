//! Bad input gets a clear error, exit status 2 (3 when something is simply missing), and
//! changes nothing: the directory, and anything outside it, stay byte-for-byte the same,
//! with no temp file left.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod support;

use std::os::unix::fs::symlink;
use std::path::Path;

use confine::{Error, Options};
use support::{assert_no_temp_files, confine, repository, repository_with, run_fails, run_ok, snapshot};

/// A directory with a document, a subdirectory, and symlinks that lead out and loop.
fn populated() -> (tempfile::TempDir, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.json"), "{\"secret\": true}\n").unwrap();
    run_ok(confine(dir.path()).args(["set", "app.json", "a", "1"]));
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::create_dir(dir.path().join("dir.json")).unwrap();
    symlink(outside.path(), dir.path().join("out")).unwrap();
    symlink(outside.path().join("secret.json"), dir.path().join("link.json")).unwrap();
    symlink("app.json", dir.path().join("inlink.json")).unwrap();
    symlink("loop", dir.path().join("loop")).unwrap();
    (dir, outside)
}

const REFUSED_NAMES: &[&str] = &[
    "/etc/passwd",
    "/tmp/x.json",
    "../x.json",
    "../../x.json",
    "sub/../../x.json",
    "sub/..",
    "..",
    ".",
    "./app.json",
    "sub/./a.json",
    "sub//a.json",
    "sub/",
    "app.json.lock",
    "sub/x.lock",
    ".app.json.0123456789abcdef.tmp",
    ".x.tmp",
    "out/secret.json",
    "out/new.json",
    "link.json",
    "inlink.json",
    "loop/x.json",
    "dir.json",
];

#[test]
fn hostile_names_are_refused_by_the_cli_and_change_nothing() {
    let (dir, outside) = populated();
    let long = "x".repeat(confine::MAX_FILE_NAME + 1);
    let names = REFUSED_NAMES.iter().copied().chain([long.as_str()]);
    let (before, outside_before) = (snapshot(dir.path()), snapshot(outside.path()));
    for name in names {
        for args in
            [vec!["set", name, "k", "1"], vec!["get", name, "k"], vec!["incr", name, "k"], vec!["merge", name, "{}"]]
        {
            let stderr = run_fails(confine(dir.path()).args(&args), 2);
            assert!(stderr.starts_with("confine: "), "{args:?}: {stderr}");
            let shown = if name.len() > 40 { &name[..40] } else { name };
            assert!(stderr.contains(shown), "{args:?}: the error names the document: {stderr}");
        }
        assert_eq!(snapshot(dir.path()), before, "{name:?} changed the directory");
    }
    assert_eq!(snapshot(outside.path()), outside_before);
}

#[test]
fn hostile_names_are_refused_by_the_library() {
    let (dir, outside) = populated();
    let repo = repository(dir.path());
    let (before, outside_before) = (snapshot(dir.path()), snapshot(outside.path()));
    for name in REFUSED_NAMES.iter().copied().chain(["", "a\0b.json"]) {
        assert!(matches!(repo.read(name), Err(Error::InvalidPath { .. })), "read {name:?}");
        assert!(matches!(repo.save(name, "{}", None), Err(Error::InvalidPath { .. })), "save {name:?}");
        assert!(matches!(repo.remove(name), Err(Error::InvalidPath { .. })), "remove {name:?}");
    }
    for directory in ["..", "/", "out", "../x", "loop"] {
        assert!(matches!(repo.list(directory), Err(Error::InvalidPath { .. })), "list {directory:?}");
    }
    assert_eq!(snapshot(dir.path()), before);
    assert_eq!(snapshot(outside.path()), outside_before);
}

#[test]
fn missing_directory_is_not_found_and_creates_nothing() {
    let (dir, _outside) = populated();
    let before = snapshot(dir.path());
    run_fails(confine(dir.path()).args(["set", "nope/app.json", "k", "1"]), 3);
    run_fails(confine(dir.path()).args(["get", "missing.json"]), 3);
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn planted_lock_symlink_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    symlink(&victim, dir.path().join("app.json.lock")).unwrap();
    let stderr = run_fails(confine(dir.path()).args(["set", "app.json", "k", "1"]), 2);
    assert!(stderr.contains("symlink"), "{stderr}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(!dir.path().join("app.json").exists());
}

fn rejects_document(content: &[u8], args: &[&str], status: i32, says: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("doc.json"), content).unwrap();
    let before = snapshot(dir.path());
    let stderr = run_fails(confine(dir.path()).args(args), status);
    assert!(stderr.contains(says), "{args:?}: expected {says:?} in {stderr}");
    assert!(stderr.contains("doc.json"), "{stderr}");
    let mut after = snapshot(dir.path());
    after.remove(Path::new("doc.json.lock")); // the lock file may have been created
    assert_eq!(after, before);
    assert_no_temp_files(dir.path());
}

#[test]
fn invalid_json_is_reported_with_line_and_column_and_left_alone() {
    let text = b"{\n  \"a\": 1,\n  oops\n}\n";
    rejects_document(text, &["set", "doc.json", "a", "2"], 2, "not valid JSON at line 3, column 3");
    rejects_document(text, &["get", "doc.json", "a"], 2, "line 3, column 3");
}

#[test]
fn non_object_root_is_refused() {
    rejects_document(b"[1, 2]", &["incr", "doc.json", "n"], 2, "root must be a JSON object");
}

#[test]
fn non_utf8_document_is_refused() {
    rejects_document(b"{\"a\": \"\xff\"}", &["set", "doc.json", "a", "1"], 2, "not UTF-8");
}

#[test]
fn oversized_document_is_refused() {
    let big = format!("{{\"a\": \"{}\"}}", "x".repeat(2000));
    rejects_document(big.as_bytes(), &["--max-size", "1000", "set", "doc.json", "b", "1"], 2, "over the size limit");
    rejects_document(big.as_bytes(), &["--max-size", "1000", "get", "doc.json", "a"], 2, "over the size limit");
}

#[test]
fn a_change_that_would_grow_past_the_limit_is_refused() {
    let value = "y".repeat(500);
    rejects_document(b"{}", &["--max-size", "200", "set", "doc.json", "big", &value], 2, "over the size limit");
}

#[test]
fn bad_values_keys_and_types_are_refused() {
    let doc = b"{\"s\": \"text\", \"n\": 18446744073709551615}";
    rejects_document(doc, &["merge", "doc.json", "{oops"], 2, "the patch is not valid JSON");
    rejects_document(doc, &["merge", "doc.json", "[1]"], 2, "must be an object");
    rejects_document(doc, &["incr", "doc.json", "n", "abc"], 2, "the increment is not valid JSON");
    rejects_document(doc, &["incr", "doc.json", "s"], 2, "holds a string, not a number");
    rejects_document(doc, &["incr", "doc.json", "n"], 2, "overflows");
    rejects_document(doc, &["set", "doc.json", "s.x", "1"], 2, "holds a string, not an object");
    rejects_document(doc, &["set", "doc.json", "a..b", "1"], 2, "key path");
    rejects_document(doc, &["unset", "doc.json", "missing"], 3, "not found");
    rejects_document(doc, &["set", "doc.json", "x", "{oops"], 2, "the value is not valid JSON");
    let too_deep_to_parse = format!("{}{}", "[".repeat(200), "]".repeat(200));
    rejects_document(doc, &["set", "doc.json", "deep", &too_deep_to_parse], 2, "the value is not valid JSON");
    let too_deep_to_store = format!("{}{}", "[".repeat(120), "]".repeat(120));
    rejects_document(doc, &["set", "doc.json", "deep", &too_deep_to_store], 2, "nest deeper than 100 levels");
}

#[test]
fn library_refuses_content_that_is_not_a_json_object() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository_with(dir.path(), Options { max_document_size: 64, ..Options::default() });
    for content in ["", "[]", "{", "{} trailing", "nul\0"] {
        assert!(matches!(repo.save("d.json", content, None), Err(Error::InvalidDocument { .. })), "{content:?}");
    }
    assert!(matches!(
        repo.save("d.json", &format!("{{\"a\":\"{}\"}}", "x".repeat(64)), None),
        Err(Error::TooLarge { .. })
    ));
    assert!(snapshot(dir.path()).keys().all(|p| p.to_str() == Some("d.json.lock")));
}

#[test]
fn non_utf8_name_is_refused_by_the_cli() {
    use std::os::unix::ffi::OsStrExt;
    let (dir, _outside) = populated();
    let before = snapshot(dir.path());
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.json");
    let stderr = run_fails(confine(dir.path()).arg("set").arg(name).args(["k", "1"]), 2);
    assert!(stderr.contains("UTF-8"), "{stderr}");
    assert_eq!(snapshot(dir.path()), before);
}
