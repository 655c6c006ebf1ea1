//! Unit tests of `atomic.rs`.

use super::*;
use crate::name::DocumentName;
use crate::testing::root;

fn located(dir: &cap_std::fs::Dir, name: &str) -> Location {
    resolve::document(dir, &DocumentName::parse(name).unwrap()).unwrap()
}

fn names(path: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(path).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

#[test]
fn replace_writes_and_leaves_no_temp_file() {
    let (tmp, dir) = root();
    let location = located(&dir, "a.json");
    replace(&location, b"{}\n", &Seam::default()).unwrap();
    replace(&location, b"{\"a\":1}\n", &Seam::default()).unwrap();
    assert_eq!(std::fs::read(tmp.path().join("a.json")).unwrap(), b"{\"a\":1}\n");
    assert_eq!(names(tmp.path()), ["a.json"]);
}

#[cfg(unix)]
#[test]
fn replace_keeps_the_document_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let (tmp, dir) = root();
    let path = tmp.path().join("a.json");
    std::fs::write(&path, "{}").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    replace(&located(&dir, "a.json"), b"{\"a\":1}", &Seam::default()).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn leftover_temp_files_of_the_document_are_swept() {
    let (tmp, dir) = root();
    std::fs::write(tmp.path().join(".a.json.0123456789abcdef.tmp"), "torn").unwrap();
    std::fs::write(tmp.path().join(".b.json.0123456789abcdef.tmp"), "other document").unwrap();
    replace(&located(&dir, "a.json"), b"{}", &Seam::default()).unwrap();
    assert_eq!(names(tmp.path()), [".b.json.0123456789abcdef.tmp", "a.json"]);
}

#[test]
#[cfg_attr(windows, ignore = "needs symlinks, which Wine 8 does not make: run with --ignored on Windows")]
fn symlink_planted_after_resolution_is_refused() {
    let (tmp, dir) = root();
    let location = located(&dir, "a.json");
    std::fs::write(tmp.path().join("real.json"), "{}").unwrap();
    crate::testing::symlink_file("real.json", tmp.path().join("a.json"));
    let err = replace(&location, b"{\"x\":1}", &Seam::default()).unwrap_err();
    assert!(matches!(err, Error::InvalidPath { .. }), "{err}");
    assert_eq!(std::fs::read(tmp.path().join("real.json")).unwrap(), b"{}");
    assert!(std::fs::symlink_metadata(tmp.path().join("a.json")).unwrap().file_type().is_symlink());
}

#[cfg(windows)]
#[test]
fn a_reader_without_share_delete_fails_the_replace_after_retrying_and_nothing_is_left() {
    use std::os::windows::fs::OpenOptionsExt as _;
    const FILE_SHARE_READ: u32 = 1;
    let (tmp, dir) = root();
    let location = located(&dir, "a.json");
    replace(&location, b"{}", &Seam::default()).unwrap();
    let reader =
        std::fs::OpenOptions::new().read(true).share_mode(FILE_SHARE_READ).open(tmp.path().join("a.json")).unwrap();
    let started = std::time::Instant::now();
    let err = replace(&location, b"{\"a\":1}", &Seam::default()).unwrap_err();
    let waited = started.elapsed();
    drop(reader);
    let message = err.to_string();
    assert!(message.starts_with("a.json: rename temp file over document failed"), "{message}");
    assert!(message.contains("FILE_SHARE_DELETE"), "{message}");
    assert!(waited >= super::sys::REPLACE_PATIENCE, "gave up after {waited:?}");
    assert_eq!(std::fs::read(tmp.path().join("a.json")).unwrap(), b"{}", "the document is unchanged");
    assert_eq!(names(tmp.path()), ["a.json"], "the temp file is removed");
    replace(&location, b"{\"a\":1}", &Seam::default()).unwrap();
    assert_eq!(std::fs::read(tmp.path().join("a.json")).unwrap(), b"{\"a\":1}", "replaced once the reader is gone");
}
