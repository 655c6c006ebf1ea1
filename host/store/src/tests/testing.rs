//! Helpers for the unit tests.

use cap_std::ambient_authority;
use cap_std::fs::Dir;

/// A fresh temporary directory and a capability for it.
pub(crate) fn root() -> (tempfile::TempDir, Dir) {
    let tmp = tempfile::tempdir().expect("create temp dir");
    let dir = Dir::open_ambient_dir(tmp.path(), ambient_authority()).expect("open temp dir");
    (tmp, dir)
}
