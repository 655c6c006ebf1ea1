//! Hostile plugins cannot hurt the host. One runtime and one repository in this process run
//! plugins that loop forever, allocate without bound, trap inside a session, return
//! without committing, offer invalid or oversized documents, or hoard sessions; every run
//! is stopped within its limits, writes nothing, releases every lock (to this process and
//! to an outside `lockf`), and the same runtime serves the next call.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{assert_no_temp_files, cache_dir, documents, figure, probe_plugin, repository_with};
use confine::{MAX_OPEN_SESSIONS, Options, PluginError, Repository, Runtime, RuntimeOptions};

const LOCK_TIMEOUT: Duration = Duration::from_millis(300);
const CALL_BUDGET: Duration = Duration::from_millis(200);
/// Every run must end within its deadline plus this; generous, so a loaded machine passes.
const MARGIN: Duration = Duration::from_secs(2);
const MAX_DOCUMENT_SIZE: u64 = 64 << 10;
const MEMORY_LIMIT: usize = 32 << 20;

/// How a hostile run must end.
enum Expect {
    /// `run` returned `Ok` (and still wrote nothing).
    Returned,
    /// The host stopped the plugin; the message contains this.
    Stopped(&'static str),
    /// The plugin reported an error that contains each of these.
    Reported(Vec<String>),
}

struct Hostile {
    args: Vec<String>,
    /// Documents whose locks the plugin takes, or tries to take.
    touches: Vec<String>,
    expect: Expect,
}

fn hostile(args: &[&str], touches: &[&str], expect: Expect) -> Hostile {
    Hostile {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        touches: touches.iter().map(|d| (*d).to_owned()).collect(),
        expect,
    }
}

/// The content refusal every `commit-*` command must report, for `save` and `commit` alike.
fn refused(variant: &str) -> Expect {
    Expect::Reported(vec![
        format!("save: Err(Error::{variant}("),
        format!("commit: Err(Error::{variant}("),
        "reopen: Ok(())".to_owned(),
    ])
}

fn hostiles() -> Vec<Hostile> {
    let deadline = "ran past its deadline";
    let huge = (MAX_DOCUMENT_SIZE + 1).to_string();
    let many = (MAX_OPEN_SESSIONS + 36).to_string();
    let hoarded: Vec<String> = (0..MAX_OPEN_SESSIONS).map(|i| format!("many{i}.json")).collect();
    let hoarded: Vec<&str> = hoarded.iter().map(String::as_str).collect();
    vec![
        hostile(&["spin"], &[], Expect::Stopped(deadline)),
        hostile(&["hold", "app.json"], &["app.json"], Expect::Stopped(deadline)),
        hostile(&["self-deadlock", "app.json"], &["app.json"], Expect::Stopped(deadline)),
        hostile(&["hog", "app.json"], &["app.json"], Expect::Stopped("grow its memory past the limit")),
        hostile(&["trap-in-session", "app.json"], &["app.json"], Expect::Stopped("trapped (panicked or aborted)")),
        hostile(&["leave-uncommitted", "app.json"], &["app.json"], Expect::Returned),
        hostile(&["leave-uncommitted", "new.json"], &["new.json"], Expect::Returned),
        hostile(&["commit-invalid", "app.json"], &["app.json"], refused("InvalidDocument")),
        hostile(&["commit-array", "new.json"], &["new.json"], refused("InvalidDocument")),
        hostile(&["commit-huge", "app.json", &huge], &["app.json"], refused("TooLarge")),
        hostile(
            &["many-sessions", "many", &many],
            &hoarded,
            Expect::Reported(vec![
                format!("opened {MAX_OPEN_SESSIONS} sessions, then Error::Io("),
                "too many open sessions".to_owned(),
            ]),
        ),
    ]
}

fn runtime() -> Runtime {
    Runtime::new(RuntimeOptions {
        call_budget: CALL_BUDGET,
        memory_limit: MEMORY_LIMIT,
        cache_dir: Some(cache_dir()),
        plugin_stdio: false,
        ..RuntimeOptions::default()
    })
    .unwrap()
}

fn hostile_repository(dir: &Path) -> Repository {
    std::fs::write(dir.join("app.json"), "{\"n\": 1}\n").unwrap();
    repository_with(dir, Options::default().with_lock_timeout(LOCK_TIMEOUT).with_max_document_size(MAX_DOCUMENT_SIZE))
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

fn check_outcome(hostile: &Hostile, outcome: Result<(), PluginError>) {
    let args = &hostile.args;
    match (&hostile.expect, outcome) {
        (Expect::Returned, Ok(())) => {}
        (Expect::Stopped(text), Err(PluginError::Trap(message))) => {
            assert!(message.contains(text), "{args:?}: stopped for another reason: {message}");
        }
        (Expect::Reported(texts), Err(PluginError::Reported(message))) => {
            for text in texts {
                assert!(message.contains(text.as_str()), "{args:?}: expected {text:?} in the report: {message}");
            }
        }
        (_, outcome) => panic!("{args:?} ended another way than expected: {outcome:?}"),
    }
}

/// Like `crate::support::OTHER_LOCKER` in mode `try`, for many lock files in one process (a
/// Python start costs ~100 ms): prints those it could not `lockf(LOCK_EX | LOCK_NB)`.
/// Each file is closed before the next, which releases the lock taken on it.
const PYTHON_LOCKF_EACH: &str = r#"
import fcntl, sys
busy = []
for path in sys.argv[1:]:
    with open(path, "a+") as f:
        try:
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            busy.append(path)
print("\n".join(busy))
"#;

/// The lock files of `docs` that an outside process finds locked.
fn locked_to_outside(dir: &Path, docs: &[String]) -> Vec<String> {
    if docs.is_empty() {
        return Vec::new();
    }
    let output = Command::new("python3")
        .args(["-c", PYTHON_LOCKF_EACH])
        .args(docs.iter().map(|doc| dir.join(format!("{doc}.lock"))))
        .output()
        .expect("python3 is needed for the lockf interoperability tests");
    assert!(output.status.success(), "python3: {}", String::from_utf8_lossy(&output.stderr));
    let busy = String::from_utf8(output.stdout).unwrap();
    busy.lines().filter(|line| !line.is_empty()).map(str::to_owned).collect()
}

/// Each of `docs` can be locked at once, in this process and by an outside one. "At once"
/// in this process allows a moment: the other test of this binary spawns processes, and a
/// child between fork and exec briefly shares this process's lock descriptors (lock.rs).
fn assert_locks_released(repository: &Repository, dir: &Path, docs: &[String], context: &[String]) {
    for doc in docs {
        if let Err(e) = repository.open_session(doc, Some(Duration::from_secs(1))) {
            panic!("{context:?}: {doc} is still locked in this process: {e}");
        }
    }
    let busy = locked_to_outside(dir, docs);
    assert!(busy.is_empty(), "{context:?}: an outside lockf found these locked: {busy:?}");
}

#[test]
fn hostile_plugins_are_stopped_write_nothing_release_every_lock_and_the_host_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let repository = hostile_repository(dir.path());
    let runtime = runtime();
    let wasm = std::fs::read(probe_plugin()).unwrap();
    let deadline = LOCK_TIMEOUT + CALL_BUDGET;
    let hostiles = hostiles();
    let rounds = crate::support::trials(3);
    let (mut runs, mut served, mut latest) = (0, 0, Duration::ZERO);
    for _ in 0..rounds {
        for hostile in &hostiles {
            let before = documents(dir.path());
            let started = Instant::now();
            let outcome = runtime.run_plugin(&repository, &wasm, &hostile.args);
            let took = started.elapsed();
            check_outcome(hostile, outcome);
            assert!(took < deadline + MARGIN, "{:?}: stopped only after {took:?}", hostile.args);
            if matches!(hostile.expect, Expect::Stopped(text) if text.contains("deadline")) {
                latest = latest.max(took.saturating_sub(deadline));
            }
            assert!(documents(dir.path()) == before, "{:?} changed the directory", hostile.args);
            assert_no_temp_files(dir.path());
            assert_locks_released(&repository, dir.path(), &hostile.touches, &hostile.args);
            runs += 1;

            // The same runtime serves the domain guest and a well-behaved plugin at once.
            served += 1;
            assert_eq!(runtime.incr(&repository, "served.json", "n", "1").unwrap(), served.to_string());
            runtime.run_plugin(&repository, &wasm, &args(&["incr", "served.json", "plugin", "1"])).unwrap();
            assert_eq!(runtime.get(&repository, "served.json", "plugin").unwrap(), served.to_string());
        }
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("app.json")).unwrap(), "{\"n\": 1}\n");
    figure(
        "hostile_guests",
        &format!(
            "{} hostile behaviours x {rounds} rounds = {runs} runs on one runtime, each stopped within its limits \
             (deadline {deadline:?}; latest stop {} ms past it), \
             nothing written, every lock released, the next call served",
            hostiles.len(),
            latest.as_millis()
        ),
    );
}

/// The lock checks above can fail: while `hold` runs, both this process and an outside
/// `lockf` find the document locked; once the host stops it, both get the lock.
#[test]
fn a_held_session_is_seen_by_the_lock_checks_until_the_host_stops_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let repository = hostile_repository(dir.path());
    let runtime = runtime();
    let wasm = std::fs::read(probe_plugin()).unwrap();
    let held = args(&["app.json"]);
    std::thread::scope(|scope| {
        let holder = scope.spawn(|| runtime.run_plugin(&repository, &wasm, &args(&["hold", "app.json"])));
        let started = Instant::now();
        while repository.open_session("app.json", Some(Duration::ZERO)).is_ok() {
            assert!(started.elapsed() < Duration::from_secs(60), "the plugin never took the lock");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(locked_to_outside(dir.path(), &held).len(), 1, "an outside lockf must find the held lock busy");
        let outcome = holder.join().unwrap();
        assert!(matches!(&outcome, Err(PluginError::Trap(m)) if m.contains("deadline")), "{outcome:?}");
    });
    assert_locks_released(&repository, dir.path(), &held, &args(&["hold", "app.json"]));
}
