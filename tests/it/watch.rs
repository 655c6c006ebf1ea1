//! `confine watch`: a watcher process beside writer processes prints committed values only,
//! in commit order, and ends on the current one; removal, invalid content and recreation
//! are reported and the watch goes on; SIGINT ends it with status 0.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{confine, figure, repository, run_ok};

/// A `confine watch` process and the lines it has printed so far.
struct Watcher {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: std::thread::JoinHandle<()>,
}

impl Watcher {
    fn start(dir: &Path, args: &[&str]) -> Watcher {
        let mut child = confine(dir).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (stdout, collected) = (child.stdout.take().unwrap(), Arc::clone(&lines));
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                collected.lock().unwrap().push(line.unwrap());
            }
        });
        Watcher { child, lines, reader }
    }

    /// Waits (up to 10 s) until the last line printed is `want`.
    fn wait_for(&self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.lines.lock().unwrap().last().map(String::as_str) != Some(want) {
            assert!(Instant::now() < deadline, "the watch did not print {want:?}: {:?}", self.lines.lock().unwrap());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops it with SIGINT; its lines, once it has exited with status 0.
    fn stop(mut self) -> Vec<String> {
        let pid = rustix::process::Pid::from_raw(i32::try_from(self.child.id()).unwrap()).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut self.child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(0), "SIGINT ends a watch with status 0: {stderr}");
        self.reader.join().unwrap();
        self.lines.lock().unwrap().clone()
    }
}

#[test]
fn a_watcher_beside_writer_processes_prints_committed_values_in_order_and_ends_on_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let watcher = Watcher::start(d, &["--json", "watch", "counter.json", "n"]);
    watcher.wait_for("{\"ok\":true,\"absent\":true}");
    let (singles, single_updates, batch_lines) = (4, 50, 200);
    std::thread::scope(|s| {
        for _ in 0..singles {
            s.spawn(|| {
                for _ in 0..single_updates {
                    run_ok(confine(d).args(["incr", "counter.json", "n"]));
                }
            });
        }
        s.spawn(|| {
            let mut child = confine(d).arg("batch").stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
            child.stdin.take().unwrap().write_all("incr counter.json n\n".repeat(batch_lines).as_bytes()).unwrap();
            assert!(child.wait().unwrap().success());
        });
    });
    let total = singles * single_updates + batch_lines;
    let current = repository(d).read("counter.json").unwrap();
    let last = format!("{{\"ok\":true,\"value\":{total},\"revision\":\"{}\"}}", current.revision);
    watcher.wait_for(&last);
    let lines = watcher.stop();
    let values: Vec<u64> =
        lines[1..].iter().map(|line| serde_json::from_str::<Value>(line).unwrap()["value"].as_u64().unwrap()).collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "values in commit order, each once: {values:?}");
    assert!(values.iter().all(|v| (1..=total as u64).contains(v)), "only committed values: {values:?}");
    assert_eq!(values.last(), Some(&(total as u64)));
    figure(
        "watch",
        &format!(
            "a watcher process beside {singles} x {single_updates} confine incr and a batch of {batch_lines}: \
             {} lines for {total} commits, all committed values in commit order, the last the final value",
            values.len()
        ),
    );
}

#[test]
fn removal_invalid_content_and_recreation_are_reported_and_the_watch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(confine(d).args(["set", "app.json", "port", "80"]));
    let watcher = Watcher::start(d, &["watch", "app.json", "port"]);
    watcher.wait_for("80");
    // A change elsewhere in the document is not a change of the key.
    run_ok(confine(d).args(["set", "app.json", "name", "web"]));
    run_ok(confine(d).args(["set", "app.json", "port", "81"]));
    watcher.wait_for("81");
    run_ok(confine(d).args(["rm", "app.json"]));
    watcher.wait_for("absent");
    // Another program's atomic writes (a plain write would show its empty file first).
    let plant = |content: &str| {
        std::fs::write(d.join("planted"), content).unwrap();
        std::fs::rename(d.join("planted"), d.join("app.json")).unwrap();
    };
    plant("{\"port\": 82,}");
    watcher.wait_for("error: app.json: not valid JSON at line 1, column 13: trailing comma");
    plant("{\"other\": 1}");
    watcher.wait_for("error: app.json: key `port` not found");
    run_ok(confine(d).args(["set", "app.json", "port", "{\"tls\": 443}"]));
    watcher.wait_for("{\"tls\":443}");
    let lines = watcher.stop();
    assert_eq!(
        lines,
        [
            "80",
            "81",
            "absent",
            "error: app.json: not valid JSON at line 1, column 13: trailing comma",
            "error: app.json: key `port` not found",
            "{\"tls\":443}"
        ]
    );
}

#[test]
fn watch_refuses_what_it_cannot_watch_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = confine(d).args(["--json", "watch", "../app.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["error"]["kind"], json!("invalid-path"));
    let out = confine(d).args(["watch", "missing/app.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_watch_follows_a_toml_document_and_one_given_as_toml() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("app.toml"), "# kept\n[server]\nport = 8080 # the default\n").unwrap();
    std::fs::write(d.join("settings"), "level = 'info'\n").unwrap();
    let by_name = Watcher::start(d, &["watch", "app.toml", "server.port"]);
    let given = Watcher::start(d, &["--format", "toml", "watch", "settings", "level"]);
    by_name.wait_for("8080");
    given.wait_for("\"info\"");
    run_ok(confine(d).args(["set", "app.toml", "server.port", "8443"]));
    run_ok(confine(d).args(["--format", "toml", "set", "settings", "level", "debug"]));
    by_name.wait_for("8443");
    given.wait_for("\"debug\"");
    assert_eq!(by_name.stop(), ["8080", "8443"]);
    assert_eq!(given.stop(), ["\"info\"", "\"debug\""]);
    assert_eq!(std::fs::read_to_string(d.join("app.toml")).unwrap(), "# kept\n[server]\nport = 8443 # the default\n");
}
