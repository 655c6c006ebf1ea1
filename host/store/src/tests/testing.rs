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

/// A stand-in for a format, for the store's own tests (the store knows none): a document is
/// a text in braces that does not say `refused`; it nests as deep as its brackets do.
#[derive(Debug)]
pub(crate) struct Braces;

impl crate::Check for Braces {
    fn check(&self, _name: &str, text: &str) -> Result<usize, String> {
        let trimmed = text.trim();
        if !(trimmed.starts_with('{') && trimmed.ends_with('}')) || text.contains("refused") {
            return Err(format!("not a document: {text:?}"));
        }
        let (mut depth, mut deepest) = (0usize, 0usize);
        for byte in text.bytes() {
            match byte {
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
            deepest = deepest.max(depth);
        }
        Ok(deepest)
    }
}
