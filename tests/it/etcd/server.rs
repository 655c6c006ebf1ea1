//! Real etcd servers for the tests: Debian's `etcd` binary on free loopback ports, with a
//! temporary data directory, stopped by pid when dropped. Nothing listens on a fixed port
//! and nothing outlives the test.
//!
//! A TLS cluster (`Cluster::start_tls`) speaks TLS to clients (with `--client-cert-auth`)
//! and between its members (with `--peer-client-cert-auth`), with certificates the test
//! made (`certs`). Each of its members also listens in plain text on a second loopback
//! port that only the tests' own control calls use (status, authentication, leases): what
//! confine is tested on is the TLS port alone.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use super::certs::Pair;

/// The TLS of a cluster: the CA its members trust, the members' certificate, and the
/// client certificate confine presents (`None`: none).
#[derive(Debug, Clone)]
pub(crate) struct Tls {
    pub(crate) ca: PathBuf,
    pub(crate) member: Pair,
    pub(crate) client: Option<Pair>,
}

/// Ports handed out by this process, never handed out twice.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A loopback port that is free now and stays free until etcd binds it. It is taken below
/// the kernel's ephemeral range (`ip_local_port_range`): a port from that range, released
/// for etcd to bind, can meanwhile become the local end of any outgoing connection (the
/// other tests' clients, or the members dialling each other), and the member that should
/// have listened on it exits. Below the range only a listener takes a port, and the
/// listeners here are the members, whose ports this process hands out once each.
fn free_port() -> u16 {
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low = 10_000.min(ephemeral / 2);
    let span = u32::from(ephemeral - low);
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let handed_out = handed_out.get_or_insert_with(HashSet::new);
    // Start where another test process (a second `cargo test` at once) is unlikely to.
    let start = std::process::id() * 7919 % span;
    for step in 0..span {
        let port = low + ((start + step) % span) as u16;
        if !handed_out.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            handed_out.insert(port);
            return port;
        }
    }
    panic!("no free loopback port in {low}..{ephemeral}");
}

/// One member of a cluster.
pub(crate) struct Member {
    pub(crate) name: String,
    /// `127.0.0.1:PORT` of its client URL.
    pub(crate) endpoint: String,
    /// `127.0.0.1:PORT` where it answers the tests' control calls in plain text: the client
    /// URL itself, or for a TLS member a second one.
    control: String,
    tls: Option<Tls>,
    peer_port: u16,
    data: PathBuf,
    /// etcd's own log (errors only), appended to on each start.
    log: PathBuf,
    cluster: String,
    child: Option<Child>,
}

/// A cluster of `n` members (one for most tests), each on its own ports and data directory.
pub(crate) struct Cluster {
    pub(crate) members: Vec<Member>,
    /// The TLS of every member, if they speak it.
    pub(crate) tls: Option<Tls>,
    _data: tempfile::TempDir,
}

impl Cluster {
    /// Starts `n` members and waits until the cluster has a leader and answers.
    pub(crate) fn start(n: usize) -> Cluster {
        Cluster::start_with(n, None)
    }

    /// The same with TLS to clients and between members, client certificates required.
    pub(crate) fn start_tls(n: usize, tls: Tls) -> Cluster {
        Cluster::start_with(n, Some(tls))
    }

    fn start_with(n: usize, tls: Option<Tls>) -> Cluster {
        let data = tempfile::tempdir().expect("etcd data directory");
        let ports: Vec<(u16, u16, u16)> = (0..n).map(|_| (free_port(), free_port(), free_port())).collect();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let cluster = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer, _))| format!("m{i}={scheme}://127.0.0.1:{peer}"))
            .collect::<Vec<_>>()
            .join(",");
        let members = ports
            .iter()
            .enumerate()
            .map(|(i, (client, peer, control))| Member {
                name: format!("m{i}"),
                endpoint: format!("127.0.0.1:{client}"),
                control: format!("127.0.0.1:{}", if tls.is_some() { *control } else { *client }),
                tls: tls.clone(),
                peer_port: *peer,
                data: data.path().join(format!("m{i}")),
                log: data.path().join(format!("m{i}.log")),
                cluster: cluster.clone(),
                child: None,
            })
            .collect();
        let mut cluster = Cluster { members, tls, _data: data };
        for member in &mut cluster.members {
            member.start();
        }
        cluster.wait_for_leader(Duration::from_secs(30));
        cluster
    }

    /// The store's address over every member, under `prefix`: etcds:// for a TLS cluster.
    pub(crate) fn url(&self, prefix: &str) -> String {
        let endpoints: Vec<&str> = self.members.iter().map(|m| m.endpoint.as_str()).collect();
        let scheme = if self.tls.is_some() { "etcds" } else { "etcd" };
        format!("{scheme}://{}/{prefix}", endpoints.join(","))
    }

    /// `options` with the cluster's TLS files (its CA, the client certificate) set.
    pub(crate) fn options(&self, options: confine_etcd::EtcdOptions) -> confine_etcd::EtcdOptions {
        let Some(tls) = &self.tls else { return options };
        let files = confine_etcd::TlsFiles {
            ca_cert: Some(tls.ca.clone()),
            client_cert: tls.client.as_ref().map(|pair| pair.cert.clone()),
            client_key: tls.client.as_ref().map(|pair| pair.key.clone()),
        };
        confine_etcd::EtcdOptions { tls: files, ..options }
    }

    /// The command-line flags of the cluster's TLS files, for `confine`.
    pub(crate) fn tls_args(&self) -> Vec<std::ffi::OsString> {
        let Some(tls) = &self.tls else { return Vec::new() };
        let mut args = vec!["--etcd-cacert".into(), tls.ca.clone().into_os_string()];
        if let Some(client) = &tls.client {
            args.extend(["--etcd-cert".into(), client.cert.clone().into_os_string()]);
            args.extend(["--etcd-key".into(), client.key.clone().into_os_string()]);
        }
        args
    }

    /// Waits until a running member reports a leader; returns the leader's index.
    pub(crate) fn wait_for_leader(&self, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            if let Some(leader) = self.leader() {
                return leader;
            }
            assert!(Instant::now() < deadline, "etcd has no leader after {within:?}:\n{}", self.report());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The index of the member that leads now, as a running member reports it.
    pub(crate) fn leader(&self) -> Option<usize> {
        let ids: Vec<Option<String>> = self
            .members
            .iter()
            .map(|m| m.status().and_then(|s| s["header"]["member_id"].as_str().map(str::to_owned)))
            .collect();
        let leader = self.members.iter().filter_map(Member::status).find_map(|s| {
            let leader = s["leader"].as_str()?.to_owned();
            (leader != "0").then_some(leader)
        })?;
        ids.iter().position(|id| id.as_deref() == Some(leader.as_str()))
    }

    /// For a failure's message: each member's address, whether it still runs, and what it
    /// logged last.
    fn report(&self) -> String {
        let mut report = String::new();
        for member in &self.members {
            let log = std::fs::read_to_string(&member.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            report += &format!(
                "{} (client {}, peer {}): {}\n{}\n",
                member.name,
                member.endpoint,
                member.peer_port,
                member.state(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        report
    }
}

impl Member {
    /// Starts (or restarts, on the same data directory and ports) this member.
    pub(crate) fn start(&mut self) {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let client = format!("{scheme}://{}", self.endpoint);
        let peer = format!("{scheme}://127.0.0.1:{}", self.peer_port);
        let listen = match self.tls {
            Some(_) => format!("{client},http://{}", self.control),
            None => client.clone(),
        };
        let mut command = Command::new("etcd");
        if let Some(tls) = &self.tls {
            command
                .arg("--cert-file")
                .arg(&tls.member.cert)
                .arg("--key-file")
                .arg(&tls.member.key)
                .arg("--trusted-ca-file")
                .arg(&tls.ca)
                .arg("--client-cert-auth")
                .arg("--peer-cert-file")
                .arg(&tls.member.cert)
                .arg("--peer-key-file")
                .arg(&tls.member.key)
                .arg("--peer-trusted-ca-file")
                .arg(&tls.ca)
                .arg("--peer-client-cert-auth");
        }
        let child = command
            .args(["--name", &self.name, "--data-dir"])
            .arg(&self.data)
            .args(["--listen-client-urls", &listen, "--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer, "--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &self.cluster, "--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", "confine-tests"])
            // Elections in half a second, so the fault tests do not wait long.
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .args(["--logger", "zap", "--log-level", "error"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(self.open_log())
            .spawn()
            .expect("start etcd (Debian: apt-get install etcd-server)");
        self.child = Some(child);
    }

    fn open_log(&self) -> File {
        OpenOptions::new().create(true).append(true).open(&self.log).expect("etcd's log file")
    }

    /// Whether the process runs, has exited, or was stopped here.
    fn state(&self) -> String {
        let Some(child) = &self.child else { return "stopped".into() };
        match rustix::process::waitid(
            rustix::process::WaitId::Pid(Pid::from_raw(child.id() as i32).expect("pid")),
            rustix::process::WaitIdOptions::EXITED
                | rustix::process::WaitIdOptions::NOHANG
                | rustix::process::WaitIdOptions::NOWAIT,
        ) {
            Ok(Some(_)) => "exited".into(),
            _ => "running".into(),
        }
    }

    /// SIGKILL, and wait for it to be gone.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = kill_process(Pid::from_raw(child.id() as i32).expect("pid"), Signal::KILL);
            let _ = child.wait();
        }
    }

    /// What `/v3/maintenance/status` answers (etcd's JSON gateway), if it answers.
    pub(crate) fn status(&self) -> Option<serde_json::Value> {
        self.child.as_ref()?;
        let body = http(&self.control, "POST", "/v3/maintenance/status", "{}")?;
        serde_json::from_str(&body).ok()
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.1 request over loopback; the response's body.
fn http(endpoint: &str, method: &str, path: &str, body: &str) -> Option<String> {
    let mut stream = TcpStream::connect(endpoint).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {endpoint}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    // The JSON object, whether the body came with a length or in chunks.
    let json = &body[body.find('{')?..=body.rfind('}')?];
    head.starts_with("HTTP/1.1 200").then(|| json.to_owned())
}

impl Cluster {
    /// Turns etcd's authentication on, with the user `root` and `password`, through its
    /// JSON gateway (the same calls `etcdctl user add`, `role add` and `auth enable` make).
    pub(crate) fn enable_auth(&self, password: &str) {
        let endpoint = &self.members[0].control;
        let calls = [
            ("/v3/auth/role/add", r#"{"name":"root"}"#.to_owned()),
            ("/v3/auth/user/add", format!(r#"{{"name":"root","password":"{password}"}}"#)),
            ("/v3/auth/user/grant", r#"{"user":"root","role":"root"}"#.to_owned()),
            ("/v3/auth/enable", "{}".to_owned()),
        ];
        for (path, body) in calls {
            assert!(http(endpoint, "POST", path, &body).is_some(), "etcd refused {path}");
        }
    }
}

impl Cluster {
    /// Compacts the cluster's history up to its newest revision, as a cluster with
    /// `--auto-compaction` does in time.
    pub(crate) fn compact_to_now(&self) {
        let endpoint = &self.members[0].control;
        // Any range answers with the store's revision in its header ("eA==": the key "x").
        let range = http(endpoint, "POST", "/v3/kv/range", r#"{"key":"eA=="}"#).expect("range");
        let range: serde_json::Value = serde_json::from_str(&range).expect("json");
        let revision = range["header"]["revision"].as_str().expect("a revision");
        let body = format!(r#"{{"revision":"{revision}","physical":true}}"#);
        assert!(http(endpoint, "POST", "/v3/kv/compaction", &body).is_some(), "compact to {revision}");
    }

    /// Revokes every lease the cluster has, as their TTLs running out would: what a
    /// process that kept a lease while paused, or cut off, finds when it comes back.
    pub(crate) fn revoke_every_lease(&self) -> usize {
        let endpoint = &self.members[0].control;
        let listed = http(endpoint, "POST", "/v3/lease/leases", "{}").expect("list leases");
        let listed: serde_json::Value = serde_json::from_str(&listed).expect("json");
        let ids: Vec<String> = listed["leases"]
            .as_array()
            .map(|leases| leases.iter().filter_map(|l| l["ID"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        for id in &ids {
            assert!(
                http(endpoint, "POST", "/v3/lease/revoke", &format!(r#"{{"ID":"{id}"}}"#)).is_some(),
                "revoke {id}"
            );
        }
        ids.len()
    }
}
