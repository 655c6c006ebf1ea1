//! The filesystem backend's lock across threads and processes, with the lock of this
//! platform, the other Unix systems' (`--features classic-locks`) or macOS's and FreeBSD's
//! (`--features flock-locks`; `make test` runs all three): `lock_status` sees a holder
//! without disturbing it, and a `lockf` (or `flock`) holder in another process and
//! confine exclude each other.

use std::path::Path;
use std::time::Duration;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine_store::{Error, Options, Repository};

use crate::lockf::{another_process_can_lock, holder};

/// Whether the lock names another program's holder: `fcntl` locks do (`F_GETLK`); no
/// system names a `flock` holder, and the other program stamps no pid.
const NAMES_OTHER_HOLDERS: bool = !cfg!(feature = "flock-locks");

fn repository(dir: &Path) -> Repository {
    Repository::new(Dir::open_ambient_dir(dir, ambient_authority()).unwrap(), Options::default())
}

#[test]
fn lock_status_from_another_thread_leaves_the_lock_held() {
    let dir = tempfile::tempdir().unwrap();
    let repository = repository(dir.path());
    let session = repository.open_session("app.json", None).unwrap();
    let probe = repository.clone();
    let status = std::thread::spawn(move || probe.lock_status("app.json").unwrap()).join().unwrap();
    assert!(status.held, "{status:?}");
    assert_eq!(status.holder, Some(std::process::id()));
    assert!(!another_process_can_lock(&dir.path().join("app.json.lock")), "lock_status dropped the session's lock");
    session.commit("{}").unwrap();
}

#[test]
fn lock_status_of_a_free_lock_is_free() {
    let dir = tempfile::tempdir().unwrap();
    let repository = repository(dir.path());
    repository.open_session("app.json", None).unwrap().commit("{}").unwrap();
    assert!(dir.path().join("app.json.lock").is_file(), "the lock file stays");
    let status = repository.lock_status("app.json").unwrap();
    assert!(!status.held, "nobody holds the lock: {status:?}");
}

#[test]
fn lock_status_names_a_lockf_holder_in_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let repository = repository(dir.path());
    let (mut child, pid) = holder(&dir.path().join("app.json.lock"));
    let status = repository.lock_status("app.json").unwrap();
    drop(child.stdin.take());
    child.wait().unwrap();
    assert!(status.held, "{status:?}");
    assert_eq!(status.holder, NAMES_OTHER_HOLDERS.then_some(pid), "the kernel names a lockf holder");
    assert!(!repository.lock_status("app.json").unwrap().held, "released when the holder exits");
}

#[test]
fn a_lockf_holder_and_a_session_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let repository = repository(dir.path());
    let lock_file = dir.path().join("app.json.lock");
    let (mut child, pid) = holder(&lock_file);
    match repository.open_session("app.json", Some(Duration::from_millis(100))) {
        Err(Error::LockTimeout { holder, .. }) => assert_eq!(holder, NAMES_OTHER_HOLDERS.then_some(pid)),
        other => panic!("want a lock timeout naming {pid}, got {:?}", other.map(|_| "a session")),
    }
    drop(child.stdin.take());
    child.wait().unwrap();
    let session = repository.open_session("app.json", Some(Duration::from_secs(2))).unwrap();
    assert!(!another_process_can_lock(&lock_file), "a session excludes lockf users");
    session.commit("{}").unwrap();
    assert!(another_process_can_lock(&lock_file), "released on commit");
}
