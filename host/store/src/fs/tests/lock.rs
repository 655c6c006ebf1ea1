//! Unit tests of `lock.rs`.

use super::*;
use crate::fs::resolve;
use crate::name::DocumentName;
use crate::testing::root;

fn located(dir: &cap_std::fs::Dir, name: &str) -> Location {
    resolve::document(dir, &DocumentName::parse(name).unwrap()).unwrap()
}

#[test]
fn second_holder_in_the_same_process_times_out() {
    let (_tmp, dir) = root();
    let location = located(&dir, "a.json");
    let held = DocumentLock::acquire(&location, Duration::ZERO, &Seam::default()).unwrap();
    let again = located(&dir, "a.json");
    let err = DocumentLock::acquire(&again, Duration::from_millis(30), &Seam::default()).err().unwrap();
    assert!(matches!(err, Error::LockTimeout { holder: Some(pid), .. } if pid == std::process::id()), "{err}");
    drop(held);
    DocumentLock::acquire(&again, Duration::ZERO, &Seam::default()).unwrap();
}

#[test]
fn lock_file_is_created_and_kept() {
    let (tmp, dir) = root();
    let location = located(&dir, "a.json");
    drop(DocumentLock::acquire(&location, Duration::ZERO, &Seam::default()).unwrap());
    assert!(tmp.path().join("a.json.lock").is_file());
}

#[test]
#[cfg_attr(windows, ignore = "needs symlinks, which Wine 8 does not make: run with --ignored on Windows")]
fn symlinked_lock_file_is_refused_and_its_target_untouched() {
    let (tmp, dir) = root();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    crate::testing::symlink_file(&victim, tmp.path().join("a.json.lock"));
    let location = located(&dir, "a.json");
    let err = DocumentLock::acquire(&location, Duration::ZERO, &Seam::default()).err().unwrap();
    assert!(matches!(err, Error::InvalidPath { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[cfg(unix)]
#[test]
fn fifo_at_the_lock_name_is_refused_without_blocking() {
    let (tmp, dir) = root();
    nix::unistd::mkfifo(&tmp.path().join("a.json.lock"), nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let location = located(&dir, "a.json");
    let err = DocumentLock::acquire(&location, Duration::ZERO, &Seam::default()).err().unwrap();
    assert!(matches!(err, Error::InvalidPath { .. }), "{err}");
}
