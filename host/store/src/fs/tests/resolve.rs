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

/// What `is_escape` tells apart by its shape, pinned on every platform (no symlink needed):
/// a dependency that changed how it refuses would fail here, not change behaviour quietly.
#[test]
fn an_escape_is_refused_as_leading_outside_on_every_platform() {
    let (_tmp, dir) = root();
    dir.create_dir("sub").unwrap();
    for path in ["..", "sub/../.."] {
        let refusal = dir.open_dir(path).map(drop).unwrap_err();
        assert!(is_escape(&refusal), "{path}: cap-std's refusal is not told apart: {refusal:?}");
    }
    match open_parents(&dir, "up/app.json", &[".."]) {
        Err(Error::InvalidPath { name, reason }) => {
            assert_eq!(name, "up/app.json");
            assert_eq!(reason, "`..` leads outside the granted directory");
        }
        other => panic!("expected invalid-path, got {:?}", other.map(drop)),
    }
}

#[test]
fn a_permission_the_system_denies_is_not_an_escape() {
    #[cfg(unix)]
    let denied = io::Error::from_raw_os_error(rustix::io::Errno::ACCESS.raw_os_error());
    #[cfg(windows)]
    let denied = io::Error::from_raw_os_error(windows_sys::Win32::Foundation::ERROR_ACCESS_DENIED as i32);
    assert_eq!(denied.kind(), io::ErrorKind::PermissionDenied);
    assert!(!is_escape(&denied), "{denied}");
    assert!(!is_escape(&io::Error::from_raw_os_error(2)), "not found is not an escape either");
}

#[test]
fn missing_parent_is_not_found() {
    let (_tmp, dir) = root();
    assert!(matches!(at(&dir, "nope/app.json"), Err(Error::NotFound { .. })));
}
