//! confine beside every locker the design names, on one document at once: Python processes
//! that update it under `fcntl.lockf`, `fasteners`, `filelock` or `portalocker` (the real
//! libraries, which `make test` installs from PyPI into a virtual environment), or under
//! `fcntl.flock`, while confine's CLI processes, guest calls and library threads update it
//! too (with all four at once, each kind on its own document, since they do not exclude
//! each other). Each writer adds one per update, so the final count is exact only if every kind of
//! lock excluded every other writer. `lock-status` names a holder of each kind, and a
//! writer killed holding its locks frees all of them at once.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crate::support::other_locker::{self, LOCKERS, another_process_can_lock_by, first_line, holder_by, release};
use crate::support::{add_to_figure, cache_dir, confine, probe_plugin, repository_with, run_fails, run_ok, trials};
use confine::{Options, Runtime, RuntimeOptions};

const DOC: &str = "app.json";

/// What every race of this suite made, for its figure line.
static TOTALS: std::sync::Mutex<(u64, usize)> = std::sync::Mutex::new((0, 0));

/// Updates of each writer in a race.
fn per_writer() -> u64 {
    trials(20) as u64
}

fn counter(dir: &Path, doc: &str) -> u64 {
    let text = std::fs::read_to_string(dir.join(doc)).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["n"].as_u64().unwrap()
}

fn bumped(content: Option<&str>) -> String {
    let n = content.map_or(0, |text| serde_json::from_str::<serde_json::Value>(text).unwrap()["n"].as_u64().unwrap());
    format!("{{\"n\": {}}}", n + 1)
}

/// One document per locker in `lockers` (`lockf.json`, ...), each updated by two Python
/// processes under that locker's lock, while two confine CLI loops (a process per update),
/// a thread of guest calls and two library threads update every one of them in turn: each
/// final count must be every update made to it. (Python lockers of different kinds do not
/// exclude each other on Linux, so each kind has a document of its own; confine must
/// exclude all of them at once.)
fn race(lockers: &[&'static str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let per = per_writer();
    let docs: Arc<Vec<String>> = Arc::new(lockers.iter().map(|locker| format!("{locker}.json")).collect());
    let options = Options::default().with_lock_timeout(Duration::from_secs(120));
    let repository = repository_with(&path, options);
    let runtime =
        Arc::new(Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir()), ..RuntimeOptions::default() }).unwrap());

    let pythons: Vec<_> = lockers
        .iter()
        .flat_map(|&locker| [locker, locker])
        .map(|locker| {
            let child = other_locker::python()
                .args(["write", locker])
                .arg(path.join(format!("{locker}.json")))
                .arg(per.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("python is needed for the locker interoperability tests");
            (locker, child)
        })
        .collect();
    let mut writers = Vec::new();
    for _ in 0..2 {
        let (p, docs) = (path.clone(), Arc::clone(&docs));
        writers.push(std::thread::spawn(move || {
            for _ in 0..per {
                docs.iter().for_each(|doc| drop(run_ok(confine(&p).args(["--timeout", "120s", "incr", doc, "n"]))));
            }
        }));
    }
    let (r, rt, d) = (repository.clone(), Arc::clone(&runtime), Arc::clone(&docs));
    writers.push(std::thread::spawn(move || {
        for _ in 0..per {
            d.iter().for_each(|doc| drop(rt.incr(&r, doc, "n", "1").unwrap()));
        }
    }));
    for _ in 0..2 {
        let (r, d) = (repository.clone(), Arc::clone(&docs));
        writers.push(std::thread::spawn(move || {
            for _ in 0..per {
                for doc in d.iter() {
                    r.update(doc, |content| Ok::<_, std::convert::Infallible>(bumped(content))).unwrap().unwrap();
                }
            }
        }));
    }
    for writer in writers {
        writer.join().unwrap();
    }
    for (locker, child) in pythons {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "the {locker} writer failed: {}", String::from_utf8_lossy(&output.stderr));
    }

    let each = 7 * per; // 2 Python processes and 5 confine writers, `per` updates each
    for (locker, doc) in lockers.iter().zip(docs.iter()) {
        assert_eq!(counter(&path, doc), each, "beside {locker}: 7 writers x {per} updates");
    }
    crate::support::assert_no_temp_files(&path);
    add_to_figure("lockers", &TOTALS, |(updates, races)| {
        *updates += each * lockers.len() as u64;
        *races += 1;
        format!(
            "{updates} updates in {races} races of confine (CLI processes, guest calls, library threads) and Python \
             processes under lockf, flock, fasteners, filelock and portalocker: every count exact"
        )
    });
}

#[test]
fn no_update_is_lost_beside_python_lockf_writers() {
    race(&["lockf"]);
}

#[test]
fn no_update_is_lost_beside_python_flock_writers() {
    race(&["flock"]);
}

#[test]
fn no_update_is_lost_beside_fasteners_writers() {
    race(&["fasteners"]);
}

#[test]
fn no_update_is_lost_beside_filelock_writers() {
    race(&["filelock"]);
}

#[test]
fn no_update_is_lost_beside_portalocker_writers() {
    race(&["portalocker"]);
}

#[test]
fn no_update_is_lost_beside_all_four_python_lockers_at_once() {
    race(&["lockf", "fasteners", "filelock", "portalocker"]);
}

#[test]
fn lock_status_names_a_holder_of_each_kind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(confine(d).args(["set", DOC, "n", "1"]));
    for locker in LOCKERS {
        let (child, pid) = holder_by(locker, &d.join("app.json.lock"));
        let status = run_ok(confine(d).args(["lock-status", DOC]));
        let stderr = run_fails(confine(d).args(["--timeout", "200ms", "incr", DOC, "n"]), 4);
        release(child);
        assert_eq!(status, format!("{DOC}: held by process {pid}\n"), "a {locker} holder");
        assert!(stderr.contains(&format!("held by process {pid}")), "a {locker} holder: {stderr}");
    }

    // The shell's flock(1), which holds the lock while its command runs.
    let mut shell = Command::new("flock")
        .arg(d.join("app.json.lock"))
        .args(["sh", "-c", "echo locked; exec cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("flock(1), from util-linux");
    assert_eq!(first_line(&mut shell), "locked\n");
    let status = run_ok(confine(d).args(["lock-status", DOC]));
    let flock_pid = shell.id(); // flock takes the lock itself, then starts its command
    release(shell);
    assert_eq!(status, format!("{DOC}: held by process {flock_pid}\n"), "a flock(1) holder");

    // A confine holder: its pid, and since when (the time it stamped).
    let mut holder = confine(d)
        .args(["--budget", "120s", "run"])
        .arg(probe_plugin())
        .args(["hold", DOC])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(first_line(&mut holder).trim(), "holding app.json");
    let status = run_ok(confine(d).args(["lock-status", DOC]));
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(status.starts_with(&format!("{DOC}: held by process {} for ", holder.id())), "{status}");
    assert_eq!(run_ok(confine(d).args(["lock-status", DOC])), format!("{DOC}: free\n"));
}

#[test]
fn a_writer_killed_holding_both_locks_frees_both_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let lock_file = dir.path().join("app.json.lock");
    let mut holder = confine(dir.path())
        .args(["--budget", "120s", "run"])
        .arg(probe_plugin())
        .args(["hold", DOC])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(first_line(&mut holder).trim(), "holding app.json");
    for locker in ["lockf", "flock"] {
        assert!(!another_process_can_lock_by(locker, &lock_file), "a confine holder excludes {locker} users");
    }
    holder.kill().unwrap(); // SIGKILL: no destructor runs; the kernel drops every lock
    holder.wait().unwrap();
    for locker in ["lockf", "flock"] {
        assert!(another_process_can_lock_by(locker, &lock_file), "the {locker} lock is free at once");
    }
}
