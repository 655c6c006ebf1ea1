//! Faults of a cluster, on real etcd processes: the leader killed while 8 writers update,
//! a session holder paused past its lease (with the fence and, to show why it is there,
//! without), counted and printed like the other suites. The leader and fence tests run
//! once in plain text and once over TLS with client certificates.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use confine_etcd::{Address, Etcd, EtcdOptions};
use confine_store::{Options, Repository};
use rustix::process::{Pid, Signal, kill_process};

use super::certs::Certs;
use super::server::Tls;
use super::{Cluster, confine};
use crate::support::{figure, run_ok};

/// What the writers of the leader test saw.
#[derive(Default)]
struct Seen {
    acknowledged: usize,
    /// Refused with an error that says the cluster could not answer (no leader, unreachable),
    /// or that the lock stayed held.
    failed: usize,
    /// Errors that say the outcome is unknown: each may or may not have been made.
    unknown: usize,
    /// Errors that name no endpoint or cause: there must be none.
    unclear: Vec<String>,
}

/// A TLS cluster of `n` members that requires the client certificate confine presents.
pub(crate) fn tls_cluster(n: usize, certs: &Certs) -> Cluster {
    Cluster::start_tls(
        n,
        Tls { ca: certs.ca.clone(), member: certs.member.clone(), client: Some(certs.client.clone()) },
    )
}

#[test]
fn killing_the_leader_under_eight_writers_loses_no_acknowledged_update() {
    kill_the_leader_under_eight_writers(Cluster::start(3), "etcd-leader-kill");
}

#[test]
fn killing_the_leader_under_eight_writers_over_tls_loses_no_acknowledged_update() {
    let certs = Certs::make();
    kill_the_leader_under_eight_writers(tls_cluster(3, &certs), "etcd-leader-kill-tls");
}

fn kill_the_leader_under_eight_writers(mut cluster: Cluster, figure_name: &str) {
    const WRITERS: usize = 8;
    const UPDATES: usize = 30;
    let (url, tls_args) = (cluster.url("leader"), cluster.tls_args());
    run_ok(confine(&cluster, "leader").args(["set", "count.json", "n", "0"]));
    let seen = Mutex::new(Seen::default());
    let done = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..WRITERS {
            s.spawn(|| {
                for _ in 0..UPDATES {
                    let output = Command::new(env!("CARGO_BIN_EXE_confine"))
                        .args(["--store", &url])
                        .args(&tls_args)
                        .args(["--timeout", "3s", "incr", "count.json", "n"])
                        .env("CONFINE_CACHE_DIR", crate::support::cache_dir())
                        .output()
                        .expect("spawn");
                    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
                    let mut seen = seen.lock().expect("counts");
                    match output.status.code() {
                        Some(0) => seen.acknowledged += 1,
                        _ if stderr.contains("outcome is unknown") => seen.unknown += 1,
                        // A refusal: etcd's own cause, or a lock another writer held past the timeout.
                        _ if stderr.contains("etcd at ") || stderr.contains("still held after") => seen.failed += 1,
                        _ => seen.unclear.push(stderr),
                    }
                    drop(seen);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // A third of the way in, the leader dies; the two others elect a new one.
        wait_for(&done, WRITERS * UPDATES / 3);
        let leader = cluster.wait_for_leader(Duration::from_secs(10));
        cluster.members[leader].kill();
        let killed_at = done.load(Ordering::Relaxed);
        // Two thirds in, a second member dies: no quorum, every write must fail clearly.
        wait_for(&done, killed_at + WRITERS * UPDATES / 6);
        let second = (leader + 1) % 3;
        cluster.members[second].kill();
        thread::sleep(Duration::from_secs(2));
        // Then both come back, and the writers go on.
        cluster.members[leader].start();
        cluster.members[second].start();
    });
    cluster.wait_for_leader(Duration::from_secs(30));
    let seen = seen.into_inner().expect("counts");
    let total: usize = run_ok(confine(&cluster, "leader").args(["--timeout", "10s", "get", "count.json", "n"]))
        .trim()
        .parse()
        .expect("a count");
    assert!(seen.unclear.is_empty(), "errors that name no endpoint or cause: {:?}", seen.unclear);
    assert!(seen.acknowledged > WRITERS * UPDATES / 3, "the writers did not go on: {} acknowledged", seen.acknowledged);
    // Every acknowledged update is there; a refused one is not; an unknown one may be.
    assert!(
        (seen.acknowledged..=seen.acknowledged + seen.unknown).contains(&total),
        "count {total}, acknowledged {}, unknown {}",
        seen.acknowledged,
        seen.unknown
    );
    let over = if cluster.tls.is_some() { " over TLS with client certificates" } else { "" };
    figure(
        figure_name,
        &format!(
            "{} incr processes by {WRITERS} writers on 3 members{over}, the leader SIGKILLed and then quorum lost: {} acknowledged, all present (count {total}); {} refused naming etcd and the cause, {} outcome unknown",
            WRITERS * UPDATES,
            seen.acknowledged,
            seen.failed,
            seen.unknown
        ),
    );
}

fn wait_for(done: &AtomicUsize, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while done.load(Ordering::Relaxed) < count {
        assert!(Instant::now() < deadline, "the writers made no progress");
        thread::sleep(Duration::from_millis(10));
    }
}

/// The holder process: opens a session, reads, says `holding N`, waits for a line on
/// stdin, then commits N + 100 and says `committed` or `refused: ERROR`.
#[test]
#[ignore = "run by the paused-holder tests as their child process"]
fn paused_holder_child() {
    let url = std::env::var("CONFINE_HOLDER_STORE").expect("CONFINE_HOLDER_STORE");
    let address = Address::parse(&url).expect("address");
    let file = |name: &str| std::env::var_os(name).map(std::path::PathBuf::from);
    let tls = confine_etcd::TlsFiles {
        ca_cert: file("CONFINE_ETCD_CACERT"),
        client_cert: file("CONFINE_ETCD_CERT"),
        client_key: file("CONFINE_ETCD_KEY"),
    };
    let options = EtcdOptions { lease_ttl: Duration::from_secs(2), tls, ..EtcdOptions::default() };
    let etcd = if std::env::var_os("CONFINE_HOLDER_UNFENCED").is_some() {
        Etcd::without_fence_to_show_why_it_is_there(&address, options)
    } else {
        Etcd::connect(&address, options)
    }
    .expect("connect");
    let repository = Repository::with_backend(etcd, Options::default(), confine::Documents::default());
    let session = repository.open_session("count.json", None).expect("open a session");
    let current = session.current().expect("read").expect("the document exists").content;
    let n: u64 = serde_json::from_str::<serde_json::Value>(&current).expect("json")["n"].as_u64().expect("n");
    println!("holding {n}");
    std::io::stdout().flush().expect("flush");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).expect("stdin");
    match session.commit(&format!("{{\"n\": {}}}", n + 100)) {
        Ok(_) => println!("committed"),
        Err(e) => println!("refused: {e}"),
    }
}

/// Pauses a holder past its lease, lets another writer commit, resumes it: what the
/// holder's commit answers, the count at the end, and what lock-status said meanwhile.
fn pause_a_holder(cluster: &Cluster, unfenced: bool) -> (String, String, String) {
    let c = || confine(cluster, "fence");
    run_ok(c().args(["set", "count.json", "n", "0"]));
    let mut holder = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--ignored", "--exact", "etcd::faults::paused_holder_child", "--nocapture", "--test-threads=1"])
        .env("CONFINE_HOLDER_STORE", cluster.url("fence"))
        .envs(unfenced.then_some(("CONFINE_HOLDER_UNFENCED", "1")))
        .envs(cluster.tls.iter().flat_map(|tls| {
            let client = tls.client.as_ref().expect("the TLS clusters here want a client certificate");
            [("CONFINE_ETCD_CACERT", &tls.ca), ("CONFINE_ETCD_CERT", &client.cert), ("CONFINE_ETCD_KEY", &client.key)]
        }))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the holder");
    let mut lines = BufReader::new(holder.stdout.take().expect("stdout")).lines();
    // The test harness prints its own words before the child's on the same line.
    let mut next = || loop {
        let line = lines.next().expect("the holder said nothing").expect("read");
        if let Some(at) = ["holding", "committed", "refused"].iter().find_map(|word| line.find(word)) {
            return line[at..].to_owned();
        }
    };
    assert_eq!(next(), "holding 0");
    let status = run_ok(c().args(["lock-status", "count.json"]));
    let pid = Pid::from_raw(i32::try_from(holder.id()).expect("pid")).expect("pid");
    kill_process(pid, Signal::STOP).expect("SIGSTOP the holder");
    // Its lease runs out (2 s), etcd frees the lock, and another writer commits.
    run_ok(c().args(["--timeout", "20s", "incr", "count.json", "n"]));
    kill_process(pid, Signal::CONT).expect("SIGCONT the holder");
    holder.stdin.take().expect("stdin").write_all(b"commit\n").expect("tell the holder to commit");
    let answer = next();
    assert!(holder.wait().expect("wait").success());
    (answer, run_ok(c().args(["get", "count.json", "n"])).trim().to_owned(), status)
}

#[test]
fn a_paused_holder_whose_lease_ran_out_cannot_commit() {
    a_paused_holder_cannot_commit(&Cluster::start(1));
}

#[test]
fn over_tls_a_paused_holder_whose_lease_ran_out_cannot_commit() {
    let certs = Certs::make();
    a_paused_holder_cannot_commit(&tls_cluster(1, &certs));
}

fn a_paused_holder_cannot_commit(cluster: &Cluster) {
    let (answer, count, status) = pause_a_holder(cluster, false);
    assert!(status.contains("held by process") && status.contains("lease"), "{status}");
    assert!(answer.starts_with("refused:") && answer.contains("lost its lock"), "{answer}");
    assert!(answer.contains("nothing was written"), "{answer}");
    assert_eq!(count, "1", "the other writer's update is kept");
    if cluster.tls.is_some() {
        return figure("etcd-fence-tls", "the same over TLS with client certificates: the holder's commit refused");
    }
    figure(
        "etcd-fence",
        "a holder SIGSTOPped past its 2 s lease, another writer committed, SIGCONT: the holder's commit refused, the other's update kept; without the fence the holder overwrote it (shown by the test beside)",
    );
}

#[test]
fn without_the_fence_the_paused_holder_would_lose_an_update() {
    let (answer, count, _) = pause_a_holder(&Cluster::start(1), true);
    assert_eq!(answer, "committed");
    assert_eq!(count, "100", "without the fence, the other writer's update is lost: this is what the fence prevents");
}

#[test]
fn a_kept_lease_that_was_lost_meanwhile_is_replaced() {
    let cluster = Cluster::start(1);
    let repository = super::repository(&cluster, "kept", EtcdOptions::default());
    let incr = |repository: &Repository| {
        repository
            .update("count.json", |current| {
                let value: serde_json::Value =
                    serde_json::from_str(current.unwrap_or("{}")).map_err(|e| e.to_string())?;
                Ok::<_, String>(format!("{{\"n\": {}}}", value["n"].as_u64().unwrap_or(0) + 1))
            })
            .expect("update")
            .expect("the change")
    };
    incr(&repository);
    // The session's lease is kept for the next one; etcd loses it meanwhile.
    assert!(cluster.revoke_every_lease() >= 1, "a lease was kept");
    incr(&repository);
    let session = repository.open_session("count.json", None).expect("a session on a new lease");
    assert_eq!(session.current().expect("read").expect("exists").content, r#"{"n": 2}"#);
    assert!(run_ok(confine(&cluster, "kept").args(["lock-status", "count.json"])).contains("lease"));
    session.abort();
    assert_eq!(run_ok(confine(&cluster, "kept").args(["lock-status", "count.json"])), "count.json: free\n");
}
