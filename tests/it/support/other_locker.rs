//! Another program's lock on a lock file (the Python script `other_locker.py`), for the
//! tests that show confine and other lockers exclude each other. Used by tests/it (as
//! `support::other_locker`) and tests/store (by path); the module above it names the call
//! the script makes by default (`LOCK_CALL`: `lockf`, or `flock` where confine locks with
//! it alone).
//!
//! The lockers (`lockf`, `flock`, `fasteners`, `filelock`, `portalocker`) are the script's;
//! the libraries among them are imported by the Python that `CONFINE_TEST_PYTHON` names,
//! which `make test` sets to a virtual environment it installs them into (`python3`
//! otherwise, which has `lockf` and `flock`).
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The script (see its head for its modes and lockers).
pub const SCRIPT: &str = include_str!("other_locker.py");

/// Every locker the script knows: the calls and the Python libraries that take them.
pub const LOCKERS: [&str; 5] = ["lockf", "flock", "fasteners", "filelock", "portalocker"];

/// `python -c SCRIPT` with the Python the tests were given.
pub fn python() -> Command {
    let python = std::env::var_os("CONFINE_TEST_PYTHON").unwrap_or_else(|| "python3".into());
    let mut command = Command::new(python);
    command.args(["-c", SCRIPT]);
    command
}

fn script(mode: &str, locker: &str, lock_file: &Path) -> Command {
    let mut command = python();
    command.arg(mode).arg(locker).arg(lock_file);
    command
}

/// Whether another process could take `LOCK_CALL` on `lock_file` right now (it lets go
/// at once).
pub fn another_process_can_lock(lock_file: &Path) -> bool {
    another_process_can_lock_by(super::LOCK_CALL, lock_file)
}

/// Whether another process could take `locker`'s lock on `lock_file` right now.
pub fn another_process_can_lock_by(locker: &str, lock_file: &Path) -> bool {
    let output =
        script("try", locker, lock_file).output().expect("python is needed for the locker interoperability tests");
    match output.status.code() {
        Some(0) => true,
        Some(3) => false,
        other => panic!("the {locker} probe failed ({other:?}): {}", String::from_utf8_lossy(&output.stderr)),
    }
}

/// A Python process that waits for `LOCK_CALL` on `lock_file` and holds it until its stdin
/// closes; it prints `locked PID` once it has it (see [`first_line`]).
pub fn spawn_holder(lock_file: &Path) -> Child {
    spawn_holder_by(super::LOCK_CALL, lock_file)
}

/// Like [`spawn_holder`], with `locker`'s lock.
pub fn spawn_holder_by(locker: &str, lock_file: &Path) -> Child {
    script("hold", locker, lock_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python is needed for the locker interoperability tests")
}

/// The first line `child` printed, waiting for it.
pub fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("a piped stdout")).read_line(&mut line).expect("read the child's line");
    line
}

/// A Python process that holds `LOCK_CALL` on `lock_file` (once this returns), and its pid.
pub fn holder(lock_file: &Path) -> (Child, u32) {
    holder_by(super::LOCK_CALL, lock_file)
}

/// Like [`holder`], with `locker`'s lock.
pub fn holder_by(locker: &str, lock_file: &Path) -> (Child, u32) {
    let mut child = spawn_holder_by(locker, lock_file);
    let line = first_line(&mut child);
    let pid = line.trim().strip_prefix("locked ").and_then(|pid| pid.parse().ok());
    (child, pid.unwrap_or_else(|| panic!("the {locker} holder said {line:?}, not `locked PID`")))
}

/// Lets a holder go: closes its stdin and waits for it to exit.
pub fn release(mut child: Child) {
    drop(child.stdin.take());
    assert!(child.wait().expect("wait for the holder").success(), "the holder failed");
}
