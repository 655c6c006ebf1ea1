//! The filesystem backend's lock across threads and processes, with the lock of this
//! platform, the other Unix systems' (`--features classic-locks`) or macOS's and FreeBSD's
//! (`--features flock-locks`; `make test` runs all three): `lock_status` sees a holder
//! without disturbing it, and a holder in another process of each kind the lock excludes
//! (`lockf`, `flock`) and confine exclude each other.

use std::path::Path;
use std::time::Duration;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine_store::{Error, Options, Repository};

use crate::other_locker::{another_process_can_lock, another_process_can_lock_by, holder_by, release};

/// The calls of other programs that the lock excludes: on Linux both of its lock lists;
/// with one of the other systems' locks, the one that lock meets on Linux.
const EXCLUDED: &[&str] = if cfg!(feature = "classic-locks") {
    &["lockf"]
} else if cfg!(feature = "flock-locks") {
    &["flock"]
} else {
    &["lockf", "flock"]
};

/// Whether the lock names another program's holder: Linux names `fcntl` holders
/// (`F_GETLK`) and `flock` holders (`/proc/locks`); macOS's lock, run on Linux, asks only
/// `F_GETLK`, and the other program stamps no pid.
const NAMES_OTHER_HOLDERS: bool = !cfg!(feature = "flock-locks");

fn repository(dir: &Path) -> Repository {
    Repository::new(
        Dir::open_ambient_dir(dir, ambient_authority()).unwrap(),
        Options::default(),
        confine_formats::Documents::default(),
    )
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
    // The lock belongs to the open file description: a process that another test of this
    // binary forks while the session's descriptor is open shares it until it execs, so the
    // lock can outlive the session by that fork-to-exec window (host/store/src/fs/lock.rs).
    // Seen once in a clean-clone CI run under `flock-locks`: lock_status found it held by
    // this process right after the commit. The window ends when that child execs.
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    let mut status = repository.lock_status("app.json").unwrap();
    while status.held && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        status = repository.lock_status("app.json").unwrap();
    }
    assert!(!status.held, "nobody holds the lock a second after the session: {status:?}");
}

#[test]
fn lock_status_names_a_holder_of_each_kind_in_another_process() {
    for &locker in EXCLUDED {
        let dir = tempfile::tempdir().unwrap();
        let repository = repository(dir.path());
        let (child, pid) = holder_by(locker, &dir.path().join("app.json.lock"));
        let status = repository.lock_status("app.json").unwrap();
        release(child);
        assert!(status.held, "{locker}: {status:?}");
        assert_eq!(status.holder, NAMES_OTHER_HOLDERS.then_some(pid), "{locker}: the kernel names the holder");
        assert!(!repository.lock_status("app.json").unwrap().held, "{locker}: released when the holder exits");
    }
}

#[test]
fn a_holder_of_each_kind_and_a_session_exclude_each_other() {
    for &locker in EXCLUDED {
        let dir = tempfile::tempdir().unwrap();
        let repository = repository(dir.path());
        let lock_file = dir.path().join("app.json.lock");
        let (child, pid) = holder_by(locker, &lock_file);
        match repository.open_session("app.json", Some(Duration::from_millis(100))) {
            Err(Error::LockTimeout { holder, .. }) => {
                assert_eq!(holder, NAMES_OTHER_HOLDERS.then_some(pid), "{locker}")
            }
            other => panic!("{locker}: want a lock timeout naming {pid}, got {:?}", other.map(|_| "a session")),
        }
        release(child);
        let session = repository.open_session("app.json", Some(Duration::from_secs(2))).unwrap();
        for &other in EXCLUDED {
            assert!(!another_process_can_lock_by(other, &lock_file), "a session excludes {other} users");
        }
        session.commit("{}").unwrap();
        for &other in EXCLUDED {
            assert!(another_process_can_lock_by(other, &lock_file), "released on commit, for {other} users too");
        }
    }
}

/// Linux takes two locks: a writer that finds the second (`flock`) held gives the first (OFD)
/// back while it waits, so it never holds one half against a `lockf` user.
#[test]
#[cfg(not(any(feature = "classic-locks", feature = "flock-locks")))]
fn a_writer_waiting_for_the_flock_holds_no_lockf_lock_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let repository = repository(dir.path());
    let lock_file = dir.path().join("app.json.lock");
    let (child, _pid) = holder_by("flock", &lock_file);
    let waiter = {
        let repository = repository.clone();
        std::thread::spawn(move || repository.open_session("app.json", Some(Duration::from_secs(20))).map(drop))
    };
    std::thread::sleep(Duration::from_millis(100));
    // The waiter holds the OFD lock for two system calls per try; a `lockf` user trying
    // now and then finds it free.
    assert!(
        (0..20).any(|_| another_process_can_lock_by("lockf", &lock_file)),
        "a writer waiting for the flock kept its OFD lock"
    );
    assert!(!waiter.is_finished(), "the writer waits while the flock is held");
    release(child);
    waiter.join().unwrap().unwrap();
}
