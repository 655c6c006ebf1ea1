//! Another program's `lockf` on a lock file (the Python script `lockf_holder.py`), for the
//! tests that show confine and `lockf` users exclude each other. Used by tests/it (as
//! `support::lockf`) and tests/store (by path); the module above it names the call the
//! script makes (`LOCK_CALL`: `lockf`, or `flock` where confine locks with it).
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The script: `try` takes `lockf(LOCK_EX)` once without waiting (exit 3 if busy); `hold`
/// waits for it, prints `locked PID` and holds it until stdin closes.
pub const PYTHON_LOCKF: &str = include_str!("lockf_holder.py");

fn python(lock_file: &Path, mode: &str) -> Command {
    let mut command = Command::new("python3");
    command.args(["-c", PYTHON_LOCKF]).arg(lock_file).arg(mode).arg(super::LOCK_CALL);
    command
}

/// Whether another process could take `lockf` on `lock_file` right now (it lets go at once).
pub fn another_process_can_lock(lock_file: &Path) -> bool {
    let status = python(lock_file, "try")
        .stdout(Stdio::null())
        .status()
        .expect("python3 is needed for the lockf interoperability tests");
    match status.code() {
        Some(0) => true,
        Some(3) => false,
        other => panic!("the lockf probe failed: {other:?}"),
    }
}

/// A Python process that waits for `lockf` on `lock_file` and holds it until its stdin
/// closes; it prints `locked PID` once it has it (see [`first_line`]).
pub fn spawn_holder(lock_file: &Path) -> Child {
    python(lock_file, "hold")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the lockf interoperability tests")
}

/// The first line `child` printed, waiting for it.
pub fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("a piped stdout")).read_line(&mut line).expect("read the child's line");
    line
}

/// A Python process that holds `lockf` on `lock_file` (once this returns), and its pid.
pub fn holder(lock_file: &Path) -> (Child, u32) {
    let mut child = spawn_holder(lock_file);
    let line = first_line(&mut child);
    let pid = line.trim().strip_prefix("locked ").and_then(|pid| pid.parse().ok());
    (child, pid.unwrap_or_else(|| panic!("the lockf holder said {line:?}, not `locked PID`")))
}
