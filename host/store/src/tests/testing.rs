//! Helpers for the unit tests.

use cap_std::ambient_authority;
use cap_std::fs::Dir;

/// A fresh temporary directory and a capability for it.
pub(crate) fn root() -> (tempfile::TempDir, Dir) {
    let tmp = tempfile::tempdir().expect("create temp dir");
    let dir = Dir::open_ambient_dir(tmp.path(), ambient_authority()).expect("open temp dir");
    (tmp, dir)
}

/// A symlink to the file `target` at `link`, on every platform.
pub(crate) fn symlink_file(target: impl AsRef<std::path::Path>, link: impl AsRef<std::path::Path>) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, link).expect("create symlink");
    #[cfg(windows)]
    std::os::windows::fs::symlink_file(target, link).expect("create file symlink");
}

/// A symlink to the directory `target` at `link`, on every platform.
pub(crate) fn symlink_dir(target: impl AsRef<std::path::Path>, link: impl AsRef<std::path::Path>) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, link).expect("create symlink");
    #[cfg(windows)]
    std::os::windows::fs::symlink_dir(target, link).expect("create directory symlink");
}
