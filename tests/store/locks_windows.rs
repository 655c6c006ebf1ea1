//! The filesystem lock across processes on Windows: confine and a program that locks the
//! lock file with the C runtime's `_locking(fd, LK_NBLCK, 1)`, which is what Python's
//! `msvcrt.locking` calls, exclude each other, and so do two confine processes; two confine
//! processes and a `_locking` writer incrementing one document at once lose no update. The
//! other processes are this test binary again, running `child` (ignored unless asked for).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine_store::{Error, Options, Repository};

fn repository(dir: &Path) -> Repository {
    Repository::new(
        Dir::open_ambient_dir(dir, ambient_authority()).unwrap(),
        Options::default(),
        confine_formats::Documents::default(),
    )
}

/// This binary as another process, doing `mode` (`hold`, `try` or `session`) on `target`.
fn spawn_child(mode: &str, target: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--ignored", "--exact", "locks::child", "--nocapture", "--test-threads=1"])
        .env("CONFINE_CHILD_MODE", mode)
        .env("CONFINE_CHILD_TARGET", target);
    command
}

/// A child that holds the lock once this returns (it printed `locked PID`); its pid.
fn holding(mode: &str, target: &Path) -> (Child, u32) {
    let mut child = spawn_child(mode, target).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let pid = lines
        .by_ref()
        .map_while(Result::ok)
        // The harness prints `test locks::child ... ` before it, on the same line.
        .find_map(|line| line.rsplit_once("locked ").and_then(|(_, pid)| pid.trim().parse().ok()))
        .unwrap_or_else(|| panic!("the {mode} child never said `locked PID`"));
    // The rest of what it prints, read so that it never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, pid)
}

fn release(mut child: Child) {
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success(), "the child failed");
}

/// Whether another process could take `_locking` on `lock_file` right now.
fn another_process_can_lock(lock_file: &Path) -> bool {
    match spawn_child("try", lock_file).stdout(Stdio::null()).status().unwrap().code() {
        Some(0) => true,
        Some(3) => false,
        other => panic!("the _locking probe failed: {other:?}"),
    }
}

#[test]
fn an_msvcrt_locking_holder_and_a_session_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let repository = repository(dir.path());
    let lock_file = dir.path().join("app.json.lock");
    let (holder, _pid) = holding("hold", &lock_file);
    match repository.open_session("app.json", Some(Duration::from_millis(100))) {
        Err(Error::LockTimeout { .. }) => {}
        other => panic!("want a lock timeout, got {:?}", other.map(|_| "a session")),
    }
    assert!(repository.lock_status("app.json").unwrap().held, "lock_status sees the _locking holder");
    release(holder);
    let session = repository.open_session("app.json", Some(Duration::from_secs(5))).unwrap();
    assert!(!another_process_can_lock(&lock_file), "a session excludes _locking users");
    session.commit("{}").unwrap();
    assert!(another_process_can_lock(&lock_file), "released on commit");
    assert!(!repository.lock_status("app.json").unwrap().held);
}

#[test]
fn sessions_in_two_processes_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let repository = repository(dir.path());
    let (holder, pid) = holding("session", dir.path());
    match repository.open_session("app.json", Some(Duration::from_millis(100))) {
        Err(Error::LockTimeout { holder, .. }) => assert_eq!(holder, Some(pid), "the stamp names the holder"),
        other => panic!("want a lock timeout, got {:?}", other.map(|_| "a session")),
    }
    let status = repository.lock_status("app.json").unwrap();
    assert!(status.held && status.holder == Some(pid), "{status:?}");
    release(holder);
    assert_eq!(repository.read("app.json").unwrap().content, "{\"by\": \"child\"}\n");
    repository.open_session("app.json", Some(Duration::from_secs(5))).unwrap().commit("{}").unwrap();
}

#[test]
fn two_confine_processes_and_an_msvcrt_locking_writer_lose_no_update() {
    const TIMES: u64 = 20;
    let dir = tempfile::tempdir().unwrap();
    let writers: Vec<Child> = ["incr", "incr", "locking-incr"]
        .into_iter()
        .map(|mode| {
            spawn_child(mode, dir.path())
                .env("CONFINE_CHILD_TIMES", TIMES.to_string())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut writer in writers {
        assert!(writer.wait().unwrap().success(), "a writer failed");
    }
    let content = repository(dir.path()).read("app.json").unwrap().content;
    assert_eq!(count_in(&content), 3 * TIMES, "{content}");
}

/// The counter of a document `{"n": N}`, the form both kinds of writer give it.
fn count_in(content: &str) -> u64 {
    let digits = content.trim().trim_start_matches("{\"n\": ").trim_end_matches('}');
    digits.parse().unwrap_or_else(|_| panic!("not a counter document: {content:?}"))
}

fn counted(content: Option<&str>) -> String {
    format!("{{\"n\": {}}}", content.map_or(0, count_in) + 1)
}

/// The other process of the tests above.
#[test]
#[ignore = "a child process of the tests above"]
fn child() {
    let mode = std::env::var("CONFINE_CHILD_MODE").unwrap();
    let target = std::path::PathBuf::from(std::env::var_os("CONFINE_CHILD_TARGET").unwrap());
    let times = || std::env::var("CONFINE_CHILD_TIMES").unwrap().parse::<u64>().unwrap();
    let wait_for_stdin_to_close = || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    };
    match mode.as_str() {
        "hold" | "try" => {
            let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&target);
            if !msvcrt::lock_byte_zero(file.unwrap()) {
                std::process::exit(3);
            }
            if mode == "hold" {
                println!("locked {}", std::process::id());
                wait_for_stdin_to_close();
            }
        }
        "session" => {
            let session = repository(&target).open_session("app.json", None).unwrap();
            println!("locked {}", std::process::id());
            wait_for_stdin_to_close();
            session.commit("{\"by\": \"child\"}\n").unwrap();
        }
        "incr" => {
            let repository = repository(&target);
            for _ in 0..times() {
                repository
                    .update("app.json", |content| Ok::<_, std::convert::Infallible>(counted(content)))
                    .unwrap()
                    .unwrap();
            }
        }
        // A program of another kind on the same convention: `_locking` on byte 0 of the lock
        // file (waiting as msvcrt's LK_LOCK does, by retrying), read, temp file, flush,
        // replace (retried while refused, see `replace_patiently`), unlock.
        "locking-incr" => {
            let (document, temp) = (target.join("app.json"), target.join("app.json.locking.partial"));
            for _ in 0..times() {
                let lock = msvcrt::Locked::wait(&target.join("app.json.lock"));
                let content = std::fs::read_to_string(&document).ok();
                let mut file = std::fs::File::create(&temp).unwrap();
                std::io::Write::write_all(&mut file, counted(content.as_deref()).as_bytes()).unwrap();
                file.sync_all().unwrap();
                drop(file);
                replace_patiently(&temp, &document);
                drop(lock);
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

/// Replaces `to` with `from` as a careful Windows program does, retrying for up to 2 s while
/// the replace is refused with access denied or a sharing violation, as confine's own replace
/// does. Under Wine 8 a replace right after another process wrote the document is refused
/// so for a few milliseconds in about a third of runs, although every writer has closed the
/// document and released the lock by then (timestamps of both writers showed it); on Windows
/// virus scanners and indexers hold files the same way.
fn replace_patiently(from: &Path, to: &Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        match std::fs::rename(from, to) {
            Ok(()) => return,
            // ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION
            Err(e) if matches!(e.raw_os_error(), Some(5 | 32)) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("replace {} with {}: {e}", to.display(), from.display()),
        }
    }
}

/// The C runtime's `_locking`, as Python's `msvcrt.locking` calls it.
#[allow(unsafe_code)]
mod msvcrt {
    use std::os::windows::io::IntoRawHandle;

    unsafe extern "C" {
        fn _open_osfhandle(handle: isize, flags: i32) -> i32;
        fn _locking(fd: i32, mode: i32, bytes: i32) -> i32;
        fn _close(fd: i32) -> i32;
    }

    /// `_LK_UNLCK`: unlock the range.
    const LK_UNLCK: i32 = 0;
    /// `_LK_NBLCK`: lock, failing at once if another holds the range.
    const LK_NBLCK: i32 = 2;

    /// `_locking(fd, LK_NBLCK, 1)` held on a lock file's byte 0; unlocked and closed on drop.
    pub(super) struct Locked(i32);

    impl Locked {
        /// Opens `path` and retries `_locking` every millisecond until it has the lock.
        pub(super) fn wait(path: &std::path::Path) -> Locked {
            let file =
                std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).unwrap();
            // SAFETY: the handle is open and owned from here on by the C runtime's descriptor.
            let fd = unsafe { _open_osfhandle(file.into_raw_handle() as isize, 0) };
            assert!(fd >= 0, "_open_osfhandle failed");
            // SAFETY: `fd` is an open descriptor, at position 0.
            while unsafe { _locking(fd, LK_NBLCK, 1) } != 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Locked(fd)
        }
    }

    impl Drop for Locked {
        fn drop(&mut self) {
            // SAFETY: `self.0` is open, locked at position 0, and closed only here.
            unsafe {
                assert_eq!(_locking(self.0, LK_UNLCK, 1), 0, "_locking(LK_UNLCK)");
                _close(self.0);
            }
        }
    }

    /// `msvcrt.locking(fd, LK_NBLCK, 1)` on a freshly opened file (position 0): whether it
    /// took the lock. The descriptor stays open (and locked) until the process exits.
    pub(super) fn lock_byte_zero(file: std::fs::File) -> bool {
        // SAFETY: the handle is open and owned from here on by the C runtime's descriptor.
        let fd = unsafe { _open_osfhandle(file.into_raw_handle() as isize, 0) };
        assert!(fd >= 0, "_open_osfhandle failed");
        // SAFETY: `fd` is an open descriptor.
        unsafe { _locking(fd, LK_NBLCK, 1) == 0 }
    }
}
