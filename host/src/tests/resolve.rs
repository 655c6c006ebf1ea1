//! Unit tests of `resolve.rs`.

use super::*;
use crate::testing::root;

fn refused(dir: &Dir, name: &str) -> String {
    match document(dir, name) {
        Err(Error::InvalidPath { reason, .. }) => reason,
        Err(other) => panic!("{name:?}: expected invalid-path, got {other}"),
        Ok(_) => panic!("{name:?}: expected invalid-path, got a location"),
    }
}

#[test]
fn plain_names_resolve() {
    let (_tmp, dir) = root();
    dir.create_dir("sub").unwrap();
    let location = document(&dir, "sub/app.json").unwrap();
    assert_eq!(location.file, "app.json");
    assert_eq!(location.lock_file(), "app.json.lock");
    assert_eq!(location.temp_prefix(), ".app.json.");
}

#[test]
fn escapes_and_reserved_names_are_refused() {
    let (_tmp, dir) = root();
    for name in [
        "",
        "/etc/passwd",
        "../x.json",
        "a/../../x.json",
        "a/..",
        "./a.json",
        "a//b",
        "a/",
        "a\0b",
        "app.json.lock",
        ".app.json.1234.tmp",
        &"x".repeat(MAX_FILE_NAME + 1),
    ] {
        refused(&dir, name);
    }
}

#[test]
fn symlink_out_of_root_is_refused() {
    let (tmp, dir) = root();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), tmp.path().join("out")).unwrap();
    let reason = refused(&dir, "out/app.json");
    assert!(reason.contains("leads outside"), "{reason}");
}

#[test]
fn missing_parent_is_not_found() {
    let (_tmp, dir) = root();
    assert!(matches!(document(&dir, "nope/app.json"), Err(Error::NotFound { .. })));
}
