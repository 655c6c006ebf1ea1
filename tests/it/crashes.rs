//! Crashes of real processes. Writers are killed with SIGKILL at random moments, and at
//! each step of the write protocol in turn (lock, read, temp create, write, fsync, rename,
//! directory fsync). After each: the document parses and is the last acknowledged state or
//! the one in flight; the next writer takes the lock at once (it is run with a zero lock
//! timeout); no temp file survives the next write. SIGINT and SIGTERM stop a write before
//! its rename: the temp file is removed and the document left as it was.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::support::{SOON, assert_no_temp_files, confine, figure, gated, repository, run_ok, trials};
use confine_store::{Step, StepGate};

const DOC: &str = "app.json";
/// Padding that makes each write a few pages, so a kill can land inside it.
const PADDING: usize = 64 << 10;

/// The counter `n` of the document on disk, which must always parse.
fn counter(dir: &Path) -> i64 {
    let text = std::fs::read_to_string(dir.join(DOC)).unwrap();
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("torn document ({e}): {text:.200}"));
    value["n"].as_i64().unwrap()
}

fn padded_document(dir: &Path, n: i64) {
    run_ok(confine(dir).args(["set", DOC, "pad", &"x".repeat(PADDING / 2)]));
    run_ok(confine(dir).args(["set", DOC, "n", &n.to_string()]));
}

/// xorshift64, seeded from the clock; the seed is printed so that a failure can be rerun.
struct Random(u64);

impl Random {
    fn new() -> Random {
        let seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
        eprintln!("random seed {seed}");
        Random(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// The median wall time of an uninterrupted `confine incr`, to spread kills over it.
fn typical_incr(dir: &Path) -> Duration {
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            run_ok(confine(dir).args(["incr", DOC, "n"]));
            start.elapsed()
        })
        .collect();
    times.sort();
    times[2]
}

#[test]
fn writers_killed_at_random_moments_lose_nothing_and_leave_no_lock() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    padded_document(dir, 0);
    let window = typical_incr(dir).mul_f64(1.5);
    let mut acknowledged = counter(dir);
    let mut random = Random::new();
    let (mut killed, mut completed, mut landed_unacknowledged) = (0, 0, 0);
    let rounds = trials(400);
    for trial in 0..rounds {
        // A zero lock timeout: if a killed writer's lock outlived it, this one fails with 4.
        let mut child = confine(dir)
            .args(["--timeout", "0", "incr", DOC, "n"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(random.below(window.as_micros() as u64)));
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        let now = counter(dir);
        if output.status.success() {
            let printed: i64 = String::from_utf8(output.stdout).unwrap().trim().parse().unwrap();
            assert_eq!((printed, now), (acknowledged + 1, acknowledged + 1), "trial {trial}: acknowledged write lost");
            assert_no_temp_files(dir);
            completed += 1;
        } else {
            assert_eq!(
                output.status.signal(),
                Some(9),
                "trial {trial}: the writer failed by itself: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(now == acknowledged || now == acknowledged + 1, "trial {trial}: {now} after {acknowledged}");
            landed_unacknowledged += usize::from(now == acknowledged + 1);
            killed += 1;
        }
        acknowledged = now;
    }
    run_ok(confine(dir).args(["--timeout", "0", "incr", DOC, "n"]));
    assert_eq!(counter(dir), acknowledged + 1);
    assert_no_temp_files(dir);
    assert!(killed > 0 && completed > 0, "kills spread badly: {killed} killed, {completed} completed");
    figure(
        "crash_random",
        &format!(
            "{rounds} CLI writers SIGKILLed at random moments: {killed} killed ({landed_unacknowledged} of them \
             after their change landed), {completed} finished first; every document whole, no lock left held"
        ),
    );
}

/// In the child: kills this process with SIGKILL just before the `target`-th step.
struct KillAt {
    target: usize,
    seen: AtomicUsize,
    steps: Mutex<Vec<String>>,
}

impl StepGate for KillAt {
    fn before(&self, step: &Step<'_>) -> io::Result<()> {
        self.steps.lock().unwrap().push(format!("{step:?}"));
        if self.seen.fetch_add(1, Ordering::SeqCst) + 1 == self.target {
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL)?;
        }
        Ok(())
    }
}

/// Not a test by itself: the body of the child processes of
/// `writers_killed_at_each_step_lose_nothing`, which run this test binary again with
/// `--ignored --exact crashes::kill_at_step_child` and `CONFINE_KILL_AT` set.
#[test]
#[ignore = "a child process of writers_killed_at_each_step_lose_nothing, run only by it"]
fn kill_at_step_child() {
    let (Some(dir), Some(target)) = (std::env::var_os("CONFINE_KILL_DIR"), std::env::var("CONFINE_KILL_AT").ok())
    else {
        panic!("run only by writers_killed_at_each_step_lose_nothing, with CONFINE_KILL_DIR and CONFINE_KILL_AT set");
    };
    let gate = Arc::new(KillAt { target: target.parse().unwrap(), seen: 0.into(), steps: Mutex::new(Vec::new()) });
    let repository = gated(Path::new(&dir), gate.clone());
    let session = repository.open_session(DOC, Some(SOON)).unwrap();
    let text = session.current().unwrap().unwrap().content;
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["n"] = (value["n"].as_i64().unwrap() + 1).into();
    session.commit(&value.to_string()).unwrap();
    // Reached only if no step was the target: say how many steps there were.
    println!("completed after {} steps: {:?}", gate.seen.load(Ordering::SeqCst), gate.steps.lock().unwrap());
}

#[test]
fn writers_killed_at_each_step_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    padded_document(dir, 0);
    let check_after = repository(dir);
    let mut acknowledged = counter(dir);
    let mut kills = 0;
    let mut steps = 0;
    let rounds = trials(10);
    for _ in 0..rounds {
        for target in 1.. {
            let output = Command::new(std::env::current_exe().unwrap())
                .args(["--ignored", "--exact", "crashes::kill_at_step_child", "--nocapture", "--test-threads=1"])
                .env("CONFINE_KILL_DIR", dir)
                .env("CONFINE_KILL_AT", target.to_string())
                .output()
                .unwrap();
            let now = counter(dir);
            let stdout = String::from_utf8_lossy(&output.stdout);
            if output.status.success() && stdout.contains("completed after") {
                assert_eq!(now, acknowledged + 1, "a completed write was lost: {stdout}");
                assert_no_temp_files(dir);
                acknowledged = now;
                steps = target - 1;
                break;
            }
            assert_eq!(output.status.signal(), Some(9), "step {target}: {}", String::from_utf8_lossy(&output.stderr));
            assert!(now == acknowledged || now == acknowledged + 1, "step {target}: {now} after {acknowledged}");
            acknowledged = now;
            kills += 1;
            // The next writer takes the lock at once, and its write sweeps the dead one's temp file.
            let session = check_after.open_session(DOC, Some(SOON)).expect("lock left held by the dead writer");
            let content = session.current().unwrap().unwrap().content;
            session.commit(&content).unwrap();
            assert_no_temp_files(dir);
        }
    }
    assert!(steps >= 10, "the write protocol has more steps than {steps}");
    figure(
        "crash_at_each_step",
        &format!(
            "{kills} writers SIGKILLed at each of the {steps} steps of a write, {rounds} rounds: \
             document old or new, lock free at once, temp files swept"
        ),
    );
}

/// Sends `signal` (e.g. "-INT") to the process `pid` with kill(1).
fn send(signal: &str, pid: u32) {
    assert!(Command::new("kill").arg(signal).arg(pid.to_string()).status().unwrap().success());
}

#[test]
fn sigint_and_sigterm_while_waiting_for_the_lock_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    run_ok(confine(dir).args(["set", DOC, "n", "1"]));
    let before = std::fs::read(dir.join(DOC)).unwrap();
    let holder = repository(dir);
    for (signal, code, name) in [("-INT", 130, "SIGINT"), ("-TERM", 143, "SIGTERM")] {
        let session = holder.open_session(DOC, None).unwrap();
        let child =
            confine(dir).args(["--timeout", "60s", "set", DOC, "n", "2"]).stderr(Stdio::piped()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(300)); // past start-up, into the wait for the lock
        send(signal, child.id());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{name}: {stderr}");
        assert!(stderr.contains(&format!("stopped by {name}")) && stderr.contains(DOC), "{stderr}");
        drop(session);
        assert_eq!(std::fs::read(dir.join(DOC)).unwrap(), before);
        assert_no_temp_files(dir);
    }
}

#[test]
fn sigint_and_sigterm_during_large_writes_leave_old_or_new_and_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // An 8 MiB document: each rewrite parses, renders, writes and fsyncs it.
    let big = format!("{{\"n\": 0, \"pad\": \"{}\"}}", "x".repeat(8 << 20));
    std::fs::write(dir.join(DOC), &big).unwrap();
    let window = typical_incr(dir).mul_f64(1.2);
    let mut random = Random::new();
    let (mut stopped, mut completed, mut killed_early) = (0, 0, 0);
    let rounds = trials(16);
    for trial in 0..rounds {
        let before = counter(dir);
        let child = confine(dir).args(["incr", DOC, "n"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(random.below(window.as_micros() as u64)));
        send(if trial % 2 == 0 { "-INT" } else { "-TERM" }, child.id());
        let output = child.wait_with_output().unwrap();
        let now = counter(dir);
        match (output.status.code(), output.status.signal()) {
            (Some(0), _) => {
                assert_eq!(now, before + 1);
                completed += 1;
            }
            (Some(130 | 143), _) => {
                assert_eq!(now, before, "trial {trial}: stopped, yet changed");
                stopped += 1;
            }
            // The signal came before confine installed its handlers: the default action.
            (None, Some(2 | 15)) => {
                assert_eq!(now, before);
                killed_early += 1;
            }
            other => panic!("trial {trial}: {other:?}: {}", String::from_utf8_lossy(&output.stderr)),
        }
        assert_no_temp_files(dir);
    }
    assert!(stopped > 0, "no signal landed during a write: {completed} completed, {killed_early} before start-up");
    figure(
        "signals",
        &format!(
            "{rounds} large writes sent SIGINT/SIGTERM at random moments: {stopped} stopped cleanly (no temp file, \
             document unchanged), {completed} finished first, {killed_early} hit before start-up"
        ),
    );
}
