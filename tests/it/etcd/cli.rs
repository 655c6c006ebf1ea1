//! Every command on etcd, from the shell: the CLI, the domain guest and a plugin reading and
//! changing documents there, processes through different members, a cluster that is down,
//! and documents over the backend's limit.

use std::process::Command;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use super::{Cluster, confine};
use crate::support::{add_to_figure, probe_plugin, run_fails, run_ok, run_with_input};

#[test]
fn every_command_works_on_etcd() {
    every_command_works(&Cluster::start(1));
}

/// The tour of every command on `cluster` (plain or TLS), under the prefix `tour`.
pub(crate) fn every_command_works(cluster: &Cluster) {
    let c = || confine(cluster, "tour");
    run_ok(c().args(["set", "app.json", "server.port", "8080"]));
    run_ok(c().args(["set", "services/web.json", "replicas", "2", "image", "web:1"]));
    assert_eq!(run_ok(c().args(["incr", "app.json", "restarts"])).trim(), "1");
    run_ok(c().args(["merge", "app.json", r#"{"log": {"level": "debug"}}"#]));
    run_ok(c().args(["unset", "app.json", "log.level"]));
    assert_eq!(run_ok(c().args(["get", "app.json"])).trim(), r#"{"server":{"port":8080},"restarts":1,"log":{}}"#);
    let (out, err, code) =
        run_with_input(c().args(["apply", "app.json"]), "{\"op\":\"incr\",\"key\":\"restarts\",\"by\":2}\n");
    assert_eq!((out.trim(), code), ("3", Some(0)), "{err}");
    assert!(run_ok(c().args(["cat", "app.json"])).contains("\"port\": 8080"));
    // A TOML document, its layout kept, by name.
    run_ok(c().args(["set", "Cargo.toml", "package.name", "\"demo\"", "package.version", "\"0.1.0\""]));
    run_ok(c().args(["set", "Cargo.toml", "package.version", "\"0.2.0\""]));
    assert_eq!(run_ok(c().args(["incr", "Cargo.toml", "package.builds"])).trim(), "1");
    assert_eq!(
        run_ok(c().args(["cat", "Cargo.toml"])),
        "[package]\nname = \"demo\"\nversion = \"0.2.0\"\nbuilds = 1\n"
    );
    run_ok(c().args(["rm", "Cargo.toml"]));
    assert_eq!(run_ok(c().args(["ls"])), "app.json\n");
    assert_eq!(run_ok(c().args(["ls", "services"])), "services/web.json\n");
    assert_eq!(run_ok(c().args(["lock-status", "app.json"])), "app.json: free\n");
    let (out, err, code) = run_with_input(c().arg("batch"), "incr app.json restarts\nget app.json server.port\n");
    assert_eq!((out.as_str(), code), ("4\n8080\n", Some(0)), "{err}");
    // A plugin reads and changes documents on etcd through the same port.
    run_ok(c().arg("run").arg(probe_plugin()).args(["incr", "app.json", "restarts", "5"]));
    run_ok(c().arg("run").arg(probe_plugin()).args(["cas-incr", "app.json", "restarts", "5"]));
    assert_eq!(run_ok(c().arg("run").arg(probe_plugin()).args(["list", ""])), "app.json\n");
    assert_eq!(run_ok(c().args(["get", "app.json", "restarts"])).trim(), "14");
    // The same names are refused as on disk, with the same words.
    let stderr = run_fails(c().args(["get", "../secret.json"]), 2);
    assert!(stderr.contains("\"../secret.json\""), "{stderr}");
    run_ok(c().args(["rm", "app.json"]));
    run_fails(c().args(["get", "app.json"]), 3);
    // Another prefix is another store.
    assert_eq!(run_ok(confine(cluster, "elsewhere").arg("ls")), "");
}

#[derive(Default)]
struct Counts {
    processes: usize,
    updates: usize,
}

static COUNTS: Mutex<Counts> = Mutex::new(Counts { processes: 0, updates: 0 });

#[test]
fn processes_through_different_members_lose_no_update() {
    const PROCESSES: usize = 6;
    const UPDATES: usize = 20;
    let cluster = Cluster::start(3);
    run_ok(confine(&cluster, "race").args(["set", "count.json", "n", "0"]));
    thread::scope(|s| {
        for p in 0..PROCESSES {
            let member = &cluster.members[p % cluster.members.len()];
            s.spawn(move || {
                // Each writer talks to one member only: the others forward to the leader.
                let url = format!("etcd://{}/race", member.endpoint);
                for _ in 0..UPDATES {
                    run_ok(Command::new(env!("CARGO_BIN_EXE_confine")).arg("--store").arg(&url).args([
                        "--timeout",
                        "20s",
                        "incr",
                        "count.json",
                        "n",
                    ]));
                }
            });
        }
    });
    let total = run_ok(confine(&cluster, "race").args(["get", "count.json", "n"]));
    assert_eq!(total.trim(), (PROCESSES * UPDATES).to_string());
    add_to_figure("etcd-processes", &COUNTS, |counts| {
        counts.processes += PROCESSES;
        counts.updates += PROCESSES * UPDATES;
        format!(
            "{} confine incr processes through 3 different members, {} updates, the count exact",
            counts.processes, counts.updates
        )
    });
}

#[test]
fn a_cluster_that_is_down_fails_every_command_fast_naming_the_endpoint() {
    // A port nobody listens on: the cluster is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let url = format!("etcd://127.0.0.1:{port}/down");
    let commands: [&[&str]; 9] = [
        &["get", "app.json"],
        &["set", "app.json", "a", "1"],
        &["incr", "app.json", "n"],
        &["unset", "app.json", "a"],
        &["cat", "app.json"],
        &["ls"],
        &["rm", "app.json"],
        &["lock-status", "app.json"],
        &["watch", "app.json"],
    ];
    for args in commands {
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_confine"))
            .args(["--store", &url, "--timeout", "2s"])
            .args(args)
            .env("CONFINE_CACHE_DIR", crate::support::cache_dir())
            .output()
            .expect("spawn");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(5), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("etcd at 127.0.0.1:{port}")) && stderr.contains("unreachable"),
            "{args:?}: {stderr}"
        );
        // Functional bound: the 2 s timeout held (a hang would take minutes).
        assert!(started.elapsed() < Duration::from_secs(30), "{args:?} took {:?}", started.elapsed());
    }
}

#[test]
fn documents_over_the_limit_are_refused_naming_it() {
    let cluster = Cluster::start(1);
    let c = || confine(&cluster, "limits");
    run_ok(c().args(["set", "big.json", "a", "1"]));
    // Over 128 KiB an argument is too long for exec: the change comes on stdin.
    let blob = format!("{{\"op\":\"set\",\"key\":\"blob\",\"value\":\"{}\"}}\n", "x".repeat(1 << 20));
    let (_, stderr, code) = run_with_input(c().args(["apply", "big.json"]), &blob);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("over the size limit of 1048576 bytes"), "{stderr}");
    let stderr = run_fails(c().args(["--max-size", "100", "set", "big.json", "blob", &"y".repeat(200)]), 2);
    assert!(stderr.contains("over the size limit of 100 bytes"), "{stderr}");
    assert_eq!(run_ok(c().args(["get", "big.json"])).trim(), r#"{"a":1}"#);
}

#[test]
fn copy_moves_documents_from_a_directory_to_etcd_keeping_revisions() {
    let cluster = Cluster::start(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let local = || crate::support::confine(dir.path());
    run_ok(local().args(["set", "app.json", "server.port", "8080"]));
    std::fs::create_dir(dir.path().join("services")).expect("mkdir");
    run_ok(local().args(["set", "services/web.json", "replicas", "2"]));
    let url = cluster.url("moved");
    let copied = run_ok(local().args(["copy", "--to", &url, "", "services"]));
    // The same bytes there, so the same revision on both stores.
    let here = crate::support::repository(dir.path()).read("app.json").expect("read here");
    let there = super::repository(&cluster, "moved", confine_etcd::EtcdOptions::default())
        .read("app.json")
        .expect("read there");
    assert_eq!((&there.content, &there.revision), (&here.content, &here.revision));
    assert!(copied.contains(&format!("copied app.json {}", here.revision)), "{copied}");
    assert!(copied.contains("copied services/web.json "), "{copied}");
    assert_eq!(run_ok(confine(&cluster, "moved").args(["get", "services/web.json", "replicas"])).trim(), "2");
    // Again: each is already there, the same.
    let again = run_ok(local().args(["copy", "--to", &url, "", "services"]));
    assert!(again.starts_with("same app.json "), "{again}");
    // A document changed on one side is refused, never overwritten.
    run_ok(confine(&cluster, "moved").args(["set", "app.json", "server.port", "9090"]));
    let (out, _, code) = run_with_input(local().args(["copy", "--to", &url]), "");
    assert_eq!(code, Some(4), "{out}");
    assert!(out.contains("refused") && out.contains("nothing overwritten"), "{out}");
    assert_eq!(run_ok(confine(&cluster, "moved").args(["get", "app.json", "server.port"])).trim(), "9090");
}

/// Where the documents are, when the command line and the environment both say: `--dir` on
/// the command line beats `CONFINE_STORE`, `CONFINE_STORE` beats `CONFINE_DIR`, and `--dir`
/// with `--store` is refused before anything is touched.
#[test]
fn the_command_line_says_where_the_documents_are_before_the_environment() {
    let cluster = Cluster::start(1);
    let dir = tempfile::tempdir().expect("temp dir");
    run_ok(crate::support::confine(dir.path()).args(["set", "app.json", "at", "\"disk\""]));
    run_ok(confine(&cluster, "where").args(["set", "app.json", "at", "\"etcd\""]));
    let plain = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_confine"));
        command.env("CONFINE_CACHE_DIR", crate::support::cache_dir()).env_remove("CONFINE_DIR");
        command.env("CONFINE_STORE", cluster.url("where"));
        command
    };
    assert_eq!(run_ok(plain().args(["get", "app.json", "at"])).trim(), "\"etcd\"");
    assert_eq!(run_ok(plain().env("CONFINE_DIR", dir.path()).args(["get", "app.json", "at"])).trim(), "\"etcd\"");
    assert_eq!(run_ok(plain().arg("--dir").arg(dir.path()).args(["get", "app.json", "at"])).trim(), "\"disk\"");
    let both =
        run_fails(plain().arg("--dir").arg(dir.path()).args(["--store", &cluster.url("where"), "get", "app.json"]), 2);
    assert!(both.contains("--dir and --store name two places"), "{both}");
}

#[test]
fn refused_credentials_are_named_and_right_ones_work() {
    let cluster = Cluster::start(1);
    cluster.enable_auth("s3cret");
    let endpoint = &cluster.members[0].endpoint;
    let with = |user: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_confine"));
        command.arg("--store").arg(format!("etcd://{user}@{endpoint}/auth")).args(["--timeout", "3s"]);
        command.env("CONFINE_CACHE_DIR", crate::support::cache_dir());
        command
    };
    let stderr = run_fails(with("root:wrong").args(["get", "app.json"]), 5);
    assert!(stderr.contains(&format!("etcd at {endpoint}")) && stderr.contains("credentials were refused"), "{stderr}");
    assert!(!stderr.contains("wrong"), "the password is never shown: {stderr}");
    let stderr = run_fails(
        Command::new(env!("CARGO_BIN_EXE_confine")).args([
            "--store",
            &format!("etcd://{endpoint}/auth"),
            "--timeout",
            "3s",
            "get",
            "app.json",
        ]),
        5,
    );
    assert!(stderr.contains(&format!("etcd at {endpoint}")), "{stderr}");
    run_ok(with("root:s3cret").args(["set", "app.json", "a", "1"]));
    assert_eq!(run_ok(with("root:s3cret").args(["incr", "app.json", "a"])).trim(), "2");
}
