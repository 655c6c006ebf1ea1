//! The filesystem backend's lock across threads and processes, with the lock of this
//! platform, or with the other Unix systems' (`--features classic-locks`, which `make test`
//! runs too): `lock_status` sees a holder without disturbing it, and a `lockf` holder in
//! another process and confine exclude each other.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine_store::{Error, Options, Repository};

const PYTHON_LOCKF: &str = include_str!("../it/support/lockf_holder.py");

fn repository(dir: &Path) -> Repository {
    Repository::new(Dir::open_ambient_dir(dir, ambient_authority()).unwrap(), Options::default())
}

/// Whether another process finds the lock file busy (`lockf` without waiting).
fn busy_to_another_process(lock_file: &Path) -> bool {
    let status = Command::new("python3")
        .args(["-c", PYTHON_LOCKF])
        .arg(lock_file)
        .arg("try")
        .stdout(Stdio::null())
        .status()
        .expect("python3 is needed for the lockf interoperability tests");
    match status.code() {
        Some(3) => true,
        Some(0) => false,
        other => panic!("the lockf probe failed: {other:?}"),
    }
}

/// A Python process holding `lockf` on `lock_file` until its stdin closes, and its pid.
fn lockf_holder(lock_file: &Path) -> (Child, u32) {
    let mut child = Command::new("python3")
        .args(["-c", PYTHON_LOCKF])
        .arg(lock_file)
        .arg("hold")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the lockf interoperability tests");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let pid = line.trim().strip_prefix("locked ").and_then(|pid| pid.parse().ok()).expect("locked PID");
    (child, pid)
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
    assert!(busy_to_another_process(&dir.path().join("app.json.lock")), "lock_status dropped the session's lock");
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
    let (mut child, pid) = lockf_holder(&dir.path().join("app.json.lock"));
    let status = repository.lock_status("app.json").unwrap();
    drop(child.stdin.take());
    child.wait().unwrap();
    assert!(status.held, "{status:?}");
    assert_eq!(status.holder, Some(pid), "the kernel names the lockf holder");
    assert!(!repository.lock_status("app.json").unwrap().held, "released when the holder exits");
}

#[test]
fn a_lockf_holder_and_a_session_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let repository = repository(dir.path());
    let lock_file = dir.path().join("app.json.lock");
    let (mut child, pid) = lockf_holder(&lock_file);
    match repository.open_session("app.json", Some(Duration::from_millis(100))) {
        Err(Error::LockTimeout { holder, .. }) => assert_eq!(holder, Some(pid)),
        other => panic!("want a lock timeout naming {pid}, got {:?}", other.map(|_| "a session")),
    }
    drop(child.stdin.take());
    child.wait().unwrap();
    let session = repository.open_session("app.json", Some(Duration::from_secs(2))).unwrap();
    assert!(busy_to_another_process(&lock_file), "a session excludes lockf users");
    session.commit("{}").unwrap();
    assert!(!busy_to_another_process(&lock_file), "released on commit");
}
