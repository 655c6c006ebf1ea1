//! Unit tests of `resolve.rs`.

use super::*;
use crate::testing::root;

fn at(dir: &Dir, name: &str) -> Result<Location> {
    document(dir, &DocumentName::parse(name)?)
}

fn refused(dir: &Dir, name: &str) -> String {
    match at(dir, name) {
        Err(Error::InvalidPath { reason, .. }) => reason,
        Err(other) => panic!("{name:?}: expected invalid-path, got {other}"),
        Ok(_) => panic!("{name:?}: expected invalid-path, got a location"),
    }
}

#[test]
fn plain_names_resolve() {
    let (_tmp, dir) = root();
    dir.create_dir("sub").unwrap();
    let location = at(&dir, "sub/app.json").unwrap();
    assert_eq!(location.file, "app.json");
    assert_eq!(location.lock_file(), "app.json.lock");
    assert_eq!(location.temp_prefix(), ".app.json.");
}

#[test]
#[cfg_attr(windows, ignore = "needs symlinks, which Wine 8 does not make: run with --ignored on Windows")]
fn symlink_out_of_root_is_refused() {
    let (tmp, dir) = root();
    let outside = tempfile::tempdir().unwrap();
    crate::testing::symlink_dir(outside.path(), tmp.path().join("out"));
    let reason = refused(&dir, "out/app.json");
    assert!(reason.contains("leads outside"), "{reason}");
}

#[test]
fn missing_parent_is_not_found() {
    let (_tmp, dir) = root();
    assert!(matches!(at(&dir, "nope/app.json"), Err(Error::NotFound { .. })));
}
