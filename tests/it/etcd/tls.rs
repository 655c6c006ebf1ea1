//! etcd as production runs it: TLS to every member, client certificates required, TLS
//! between members. Every command, `copy`, plugins and the standard components over
//! `etcds://` (the conformance suite over it is in `conformance`); each way a handshake can fail
//! answered within the timeout in words that say what to fix; the certificate's name as
//! the etcd user; and a watch that outlives the member it was on.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use super::certs::{Certs, Pair};
use super::faults::tls_cluster;
use super::proxy::Proxy;
use super::server::Tls;
use super::{Cluster, confine, confine_at};
use crate::support::{config_reader, figure, keyvalue_probe, run_fails, run_ok};

#[test]
fn every_command_plugins_and_standard_components_work_over_etcds() {
    let certs = Certs::make();
    let cluster = tls_cluster(1, &certs);
    assert!(cluster.url("tour").starts_with("etcds://"));
    super::cli::every_command_works(&cluster);
    let c = || confine(&cluster, "components");
    run_ok(c().args(["set", "app.json", "server.port", "8080"]));
    // A wasi:config component and a wasi:keyvalue one, unchanged.
    let mut reader = c();
    reader.args(["run", "--config", "app.json"]).arg(config_reader()).args(["get", "server.port"]);
    assert_eq!(run_ok(&mut reader), "8080\n");
    let mut kv = c();
    kv.args(["run", "--keyvalue", "kv.json"]).arg(keyvalue_probe()).args(["set", "", "k", "v"]);
    assert_eq!(run_ok(&mut kv), "ok\n");
    assert_eq!(run_ok(c().args(["get", "kv.json", "k"])).trim(), "\"v\"");
    // copy from a directory to the TLS cluster, with the files from the environment.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut local = crate::support::confine(dir.path());
    run_ok(local.args(["set", "moved.json", "a", "1"]));
    let tls = cluster.tls.as_ref().expect("tls");
    let client = tls.client.as_ref().expect("client");
    let copied = run_ok(
        crate::support::confine(dir.path())
            .args(["copy", "--to", &cluster.url("components")])
            .env("CONFINE_ETCD_CACERT", &tls.ca)
            .env("CONFINE_ETCD_CERT", &client.cert)
            .env("CONFINE_ETCD_KEY", &client.key),
    );
    assert!(copied.starts_with("copied moved.json "), "{copied}");
    assert_eq!(run_ok(c().args(["get", "moved.json", "a"])).trim(), "1");
    assert!(run_ok(c().args(["lock-status", "moved.json"])).contains("free"));
    figure(
        "etcd-tls-tour",
        "every command, a plugin, a wasi:config and a wasi:keyvalue component, and copy, over etcds:// with a client certificate",
    );
}

/// `confine --timeout 3s --store URL [FLAGS] get app.json`: its stderr and how long it took,
/// once it failed with `code`.
fn fails(url: &str, flags: &[&std::ffi::OsStr], code: i32) -> (String, Duration) {
    let started = Instant::now();
    let stderr = run_fails(confine_at(url, flags).args(["--timeout", "3s", "get", "app.json"]), code);
    (stderr, started.elapsed())
}

#[test]
fn each_failed_handshake_is_named_within_the_timeout() {
    let certs = Certs::make();
    let good = tls_cluster(1, &certs);
    let endpoint = good.members[0].endpoint.clone();
    let misnamed = Cluster::start_tls(
        1,
        Tls { ca: certs.ca.clone(), member: certs.misnamed_member.clone(), client: Some(certs.client.clone()) },
    );
    let expired = Cluster::start_tls(
        1,
        Tls { ca: certs.ca.clone(), member: certs.expired_member.clone(), client: Some(certs.client.clone()) },
    );
    let plain = Cluster::start(1);
    let os = |path: &std::path::Path| path.as_os_str().to_owned();
    let flags = |ca: &std::path::Path, client: Option<&Pair>| {
        let mut flags = vec!["--etcd-cacert".into(), os(ca)];
        if let Some(client) = client {
            flags.extend(["--etcd-cert".into(), os(&client.cert), "--etcd-key".into(), os(&client.key)]);
        }
        flags
    };
    let etcds = |cluster: &Cluster| format!("etcds://{}/e", cluster.members[0].endpoint);
    let cases: Vec<(&str, String, Vec<std::ffi::OsString>, i32, &str)> = vec![
        (
            "unknown CA",
            etcds(&good),
            flags(&certs.other_ca, Some(&certs.client)),
            5,
            "not signed by a CA confine trusts",
        ),
        ("hostname mismatch", etcds(&misnamed), flags(&certs.ca, Some(&certs.client)), 5, "not valid for the name"),
        ("expired", etcds(&expired), flags(&certs.ca, Some(&certs.client)), 5, "has expired"),
        ("no client certificate", etcds(&good), flags(&certs.ca, None), 5, "requires a client certificate"),
        (
            "refused client certificate",
            etcds(&good),
            flags(&certs.ca, Some(&certs.foreign_client)),
            5,
            "refused the client certificate",
        ),
        ("TLS to a plain endpoint", etcds(&plain), flags(&certs.ca, Some(&certs.client)), 5, "does not speak TLS"),
        ("plain text to a TLS endpoint", format!("etcd://{endpoint}/e"), vec![], 5, "speaks TLS"),
        ("TLS files for a plain-text store", format!("etcd://{endpoint}/e"), flags(&certs.ca, None), 2, "use etcds://"),
    ];
    let mut timings = Vec::new();
    for (case, url, flags, code, words) in cases {
        let flags: Vec<&std::ffi::OsStr> = flags.iter().map(|f| f.as_os_str()).collect();
        let (stderr, took) = fails(&url, &flags, code);
        assert!(stderr.contains(words), "{case}: {stderr}");
        if code == 5 {
            let host = url.split("://").nth(1).and_then(|rest| rest.split('/').next()).expect("endpoint");
            assert!(stderr.contains(host), "{case}: the endpoint is named: {stderr}");
        }
        // Functional bound: the 3 s timeout held (a hang would take minutes).
        assert!(took < Duration::from_secs(10), "{case} took {took:?}");
        timings.push(format!("{case} {} ms", took.as_millis()));
    }
    // Files that cannot be read are named; no key's content ever appears.
    let key_text = std::fs::read_to_string(&certs.client.key).expect("key");
    let secret_line = key_text.lines().nth(1).expect("a line of the key");
    for (missing, flag) in [("/nonexistent/ca.pem", "--etcd-cacert"), ("/nonexistent/key.pem", "--etcd-key")] {
        let mut flags = flags(&certs.ca, Some(&certs.client));
        let at = flags.iter().position(|f| f == flag).expect("flag") + 1;
        flags[at] = missing.into();
        let flags: Vec<&std::ffi::OsStr> = flags.iter().map(|f| f.as_os_str()).collect();
        let (stderr, _) = fails(&etcds(&good), &flags, 5);
        assert!(stderr.contains(missing) && stderr.contains("cannot read"), "{stderr}");
    }
    let mut flags = flags(&certs.ca, Some(&certs.client));
    let swapped = flags.iter().position(|f| f == "--etcd-key").expect("flag") + 1;
    flags[swapped] = os(&certs.client.cert);
    let at = flags.iter().position(|f| f == "--etcd-cert").expect("flag") + 1;
    flags[at] = os(&certs.client.key);
    let flags: Vec<&std::ffi::OsStr> = flags.iter().map(|f| f.as_os_str()).collect();
    let (stderr, _) = fails(&etcds(&good), &flags, 5);
    // Swapped: the certificate file holds a key, named as such; its content is not shown.
    assert!(stderr.contains("holds no PEM block") && stderr.contains("client-key.pem"), "{stderr}");
    assert!(!stderr.contains(secret_line), "{stderr}");
    figure("etcd-tls-errors", &format!("each named within the 3 s timeout: {}", timings.join(", ")));
}

#[test]
fn with_client_certificate_auth_the_certificates_name_is_the_user() {
    let certs = Certs::make();
    let cluster = tls_cluster(1, &certs);
    cluster.enable_auth("s3cret");
    // The client certificate's common name is `root`: no password.
    run_ok(confine(&cluster, "auth").args(["set", "app.json", "a", "1"]));
    assert_eq!(run_ok(confine(&cluster, "auth").args(["incr", "app.json", "a"])).trim(), "2");
    // A certificate the CA signed for `nobody`, who is no etcd user: refused, and said so.
    let endpoint = &cluster.members[0].endpoint;
    let stranger =
        [("--etcd-cacert", &certs.ca), ("--etcd-cert", &certs.stranger.cert), ("--etcd-key", &certs.stranger.key)]
            .map(|(flag, path)| [std::ffi::OsString::from(flag), path.clone().into_os_string()]);
    let mut stranger = confine_at(&format!("etcds://{endpoint}/auth"), stranger.into_iter().flatten());
    let stderr = run_fails(stranger.args(["--timeout", "3s", "get", "app.json", "a"]), 5);
    assert!(stderr.contains(&format!("etcd at {endpoint}")) && stderr.contains("denied"), "{stderr}");
    assert!(run_ok(confine(&cluster, "auth").args(["get", "app.json", "a"])).trim() == "2");
    assert!(!stderr.contains("s3cret"), "{stderr}");
    // A user and password work over TLS as over plain text.
    let mut with_password = confine_at(&format!("etcds://root:s3cret@{endpoint}/auth"), cluster.tls_args());
    assert_eq!(run_ok(with_password.args(["get", "app.json", "a"])).trim(), "2");
}

/// A child process that is killed when dropped, also when a test fails; `true` once it
/// was waited for (its pid may then be another process's).
struct Running(std::process::Child, bool);

impl Running {
    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.0.id()).expect("pid")).expect("pid")
    }

    /// Whether it still runs; then SIGTERM, and wait for it.
    fn stop(&mut self) -> bool {
        let running = self.0.try_wait().expect("wait").is_none();
        let _ = kill_process(self.pid(), Signal::TERM);
        let _ = self.0.wait();
        self.1 = true;
        running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.1 {
            return;
        }
        let _ = kill_process(self.pid(), Signal::CONT);
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `confine watch count.json n` on `store` (the address of `cluster`'s members, or of
/// proxies in front of them): the process, its lines as they come, and its stderr once it
/// ended.
fn watch(cluster: &Cluster, store: &str) -> (Running, mpsc::Receiver<String>, std::thread::JoinHandle<String>) {
    let mut child = confine_at(store, cluster.tls_args())
        .args(["--timeout", "20s", "watch", "count.json", "n"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the watch");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut stderr = child.stderr.take().expect("stderr");
    let (lines, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    (Running(child, false), receive, errors)
}

/// A TLS cluster with `confine watch count.json n` running on it, and what it showed.
struct Watched {
    child: Running,
    lines: mpsc::Receiver<String>,
    errors: std::thread::JoinHandle<String>,
    seen: Vec<String>,
    /// The proxies the watch reaches the members through, if it does.
    proxies: Vec<Proxy>,
    /// Dropped after the watch and before the certificates.
    cluster: Cluster,
    _certs: Certs,
}

impl Watched {
    /// `members` members, `n` set to 0, and the watch once it showed it.
    fn start(members: usize) -> Watched {
        Watched::start_with(members, false)
    }

    /// The same; with `through_proxies`, the watch reaches each member through a [`Proxy`].
    fn start_with(members: usize, through_proxies: bool) -> Watched {
        let certs = Certs::make();
        let cluster = tls_cluster(members, &certs);
        set(&cluster, 0);
        let (proxies, store) = if through_proxies {
            let proxies: Vec<Proxy> = cluster.members.iter().map(|member| Proxy::start(&member.endpoint)).collect();
            let endpoints: Vec<&str> = proxies.iter().map(|proxy| proxy.endpoint.as_str()).collect();
            let store = format!("etcds://{}/watched", endpoints.join(","));
            (proxies, store)
        } else {
            (Vec::new(), cluster.url("watched"))
        };
        let (child, lines, errors) = watch(&cluster, &store);
        let mut watched = Watched { child, lines, errors, seen: Vec::new(), proxies, cluster, _certs: certs };
        watched.until("0");
        watched
    }

    /// Lines from the watch until one shows at least `value`, or until `writers` have all
    /// ended (they may have made fewer increments: some can be refused while a member dies).
    fn until_at_least(&mut self, value: u64, writers: &[std::thread::JoinHandle<usize>]) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let shown = |seen: &[String]| seen.last().and_then(|line| line.parse::<u64>().ok()).unwrap_or(0);
        while shown(&self.seen) < value && !writers.iter().all(std::thread::JoinHandle::is_finished) {
            assert!(Instant::now() < deadline, "the watch never showed {value} or more: it showed {:?}", self.seen);
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(line);
            }
        }
    }

    /// Lines from the watch until one is `value`.
    fn until(&mut self, value: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.seen.last().map(String::as_str) != Some(value) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("the watch never showed {value}: it showed {:?}", self.seen),
            }
        }
    }

    /// Stops the watch, which must still have been running; what it said on stderr.
    fn stop(mut self) -> String {
        let still_running = self.child.stop();
        let stderr = self.errors.join().unwrap_or_default();
        assert!(still_running, "the watch ended: {stderr}");
        stderr
    }
}

/// `confine set count.json n N` on `cluster`, waiting out elections.
fn set(cluster: &Cluster, n: usize) {
    run_ok(confine(cluster, "watched").args(["--timeout", "20s", "set", "count.json", "n", &n.to_string()]));
}

#[test]
fn a_watch_outlives_each_member_in_turn() {
    let mut watched = Watched::start(3);
    // Each member dies in turn, so the one the watch is on dies at least once; a value is
    // written while it is down and another once it is back.
    let mut n = 0;
    for member in 0..3 {
        watched.cluster.members[member].kill();
        n += 1;
        set(&watched.cluster, n);
        watched.until(&n.to_string());
        watched.cluster.members[member].start();
        watched.cluster.wait_for_leader(Duration::from_secs(30));
        n += 1;
        set(&watched.cluster, n);
        watched.until(&n.to_string());
    }
    let seen = watched.seen.clone();
    watched.stop();
    let expected: Vec<String> = (0..=n).map(|v| v.to_string()).collect();
    assert_eq!(seen, expected, "every value, in order, once");
    figure(
        "etcd-watch-failover",
        &format!(
            "a watch over TLS on 3 members, each SIGKILLed in turn and restarted: all {} values shown in order",
            n + 1
        ),
    );
}

/// `writers` threads, each running `confine incr count.json n` `each` times on `cluster`, one
/// process after another: how many increments each had acknowledged.
fn incr_in_background(cluster: &Cluster, writers: usize, each: usize) -> Vec<std::thread::JoinHandle<usize>> {
    let (store, tls) = (cluster.url("watched"), cluster.tls_args());
    (0..writers)
        .map(|_| {
            let (store, tls) = (store.clone(), tls.clone());
            std::thread::spawn(move || {
                let incr = || {
                    confine_at(&store, &tls)
                        .args(["--timeout", "20s", "incr", "count.json", "n"])
                        .output()
                        .is_ok_and(|output| output.status.success())
                };
                (0..each).filter(|_| incr()).count()
            })
        })
        .collect()
}

/// After `writers` ended: the watch shows the document's last value, every value it showed
/// was larger than the one before, and no acknowledged increment is missing. Stops the watch;
/// (how many it acknowledged, the last value, how many lines the watch printed).
fn ends_on_the_last_value(mut watched: Watched, writers: Vec<std::thread::JoinHandle<usize>>) -> (usize, u64, usize) {
    let acknowledged: usize = writers.into_iter().map(|writer| writer.join().expect("a writer thread")).sum();
    let last = run_ok(confine(&watched.cluster, "watched").args(["--timeout", "20s", "get", "count.json", "n"]));
    let last: u64 = last.trim().parse().expect("the count");
    watched.until(&last.to_string());
    let seen: Vec<u64> = watched.seen.iter().map(|line| line.parse().expect("a count")).collect();
    watched.stop();
    assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "the watch's values did not only grow: {seen:?}");
    assert!(last >= acknowledged as u64, "{acknowledged} increments acknowledged, but the count is {last}");
    (acknowledged, last, seen.len())
}

#[test]
fn a_watch_beside_four_writers_outlives_the_member_it_is_on() {
    let mut watched = Watched::start(3);
    let writers = incr_in_background(&watched.cluster, 4, 50);
    // Each member is SIGKILLed midway in turn, and started again before the next, so the
    // member the watch's stream is on is killed while the writers write.
    for (member, at) in [(0, 25), (1, 75), (2, 125)] {
        watched.until_at_least(at, &writers);
        watched.cluster.members[member].kill();
        watched.until_at_least(at + 15, &writers);
        watched.cluster.members[member].start();
        watched.cluster.wait_for_leader(Duration::from_secs(30));
    }
    let (acknowledged, last, lines) = ends_on_the_last_value(watched, writers);
    figure(
        "etcd-watch-writers",
        &format!(
            "a watch over TLS beside 4 x 50 confine incr, each of 3 members SIGKILLed midway in turn: \
             {lines} lines, each larger than the last, ending on the count ({last}; {acknowledged} acknowledged)"
        ),
    );
}

#[test]
fn a_watch_beside_four_writers_outlives_cut_connections() {
    let mut watched = Watched::start_with(3, true);
    let writers = incr_in_background(&watched.cluster, 4, 50);
    // Three times midway, the watch's connection to every member is cut at the next answer
    // (a watch event on the way is lost with it), as a network cut would.
    for at in [40, 90, 140] {
        watched.until_at_least(at, &writers);
        for proxy in &watched.proxies {
            proxy.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let cuts: usize = watched.proxies.iter().map(|proxy| proxy.cuts.load(std::sync::atomic::Ordering::SeqCst)).sum();
    let (acknowledged, last, lines) = ends_on_the_last_value(watched, writers);
    assert!(cuts >= 3, "only {cuts} connections were cut");
    figure(
        "etcd-watch-cuts",
        &format!(
            "a watch over TLS beside 4 x 50 confine incr, {cuts} of its connections cut by a proxy: {lines} \
             lines, each larger than the last, ending on the count ({last}; {acknowledged} acknowledged)"
        ),
    );
}

#[test]
fn a_watch_that_cannot_resume_past_a_compaction_says_so_and_shows_the_value_now() {
    let mut watched = Watched::start(1);
    // The watch is paused while its member restarts and history moves on and is compacted.
    let pid = watched.child.pid();
    kill_process(pid, Signal::STOP).expect("SIGSTOP the watch");
    watched.cluster.members[0].kill();
    watched.cluster.members[0].start();
    watched.cluster.wait_for_leader(Duration::from_secs(30));
    for n in 1..=5 {
        set(&watched.cluster, n);
    }
    watched.cluster.compact_to_now();
    kill_process(pid, Signal::CONT).expect("SIGCONT the watch");
    watched.until("5");
    let seen = watched.seen.clone();
    let stderr = watched.stop();
    assert_eq!(seen, ["0", "5"]);
    assert!(stderr.contains("compacted its history past revision"), "{stderr}");
}
