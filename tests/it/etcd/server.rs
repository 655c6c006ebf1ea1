//! Real etcd servers for the tests: Debian's `etcd` binary on free loopback ports, with a
//! temporary data directory, stopped by pid when dropped. Nothing listens on a fixed port
//! and nothing outlives the test.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

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
    _data: tempfile::TempDir,
}

impl Cluster {
    /// Starts `n` members and waits until the cluster has a leader and answers.
    pub(crate) fn start(n: usize) -> Cluster {
        let data = tempfile::tempdir().expect("etcd data directory");
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let cluster = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer))| format!("m{i}=http://127.0.0.1:{peer}"))
            .collect::<Vec<_>>()
            .join(",");
        let members = ports
            .iter()
            .enumerate()
            .map(|(i, (client, peer))| Member {
                name: format!("m{i}"),
                endpoint: format!("127.0.0.1:{client}"),
                peer_port: *peer,
                data: data.path().join(format!("m{i}")),
                log: data.path().join(format!("m{i}.log")),
                cluster: cluster.clone(),
                child: None,
            })
            .collect();
        let mut cluster = Cluster { members, _data: data };
        for member in &mut cluster.members {
            member.start();
        }
        cluster.wait_for_leader(Duration::from_secs(30));
        cluster
    }

    /// The store's address over every member, under `prefix`.
    pub(crate) fn url(&self, prefix: &str) -> String {
        let endpoints: Vec<&str> = self.members.iter().map(|m| m.endpoint.as_str()).collect();
        format!("etcd://{}/{prefix}", endpoints.join(","))
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
        let client = format!("http://{}", self.endpoint);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let child = Command::new("etcd")
            .args(["--name", &self.name, "--data-dir"])
            .arg(&self.data)
            .args(["--listen-client-urls", &client, "--advertise-client-urls", &client])
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
        let body = http(&self.endpoint, "POST", "/v3/maintenance/status", "{}")?;
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
        let endpoint = &self.members[0].endpoint;
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
    /// Revokes every lease the cluster has, as their TTLs running out would: what a
    /// process that kept a lease while paused, or cut off, finds when it comes back.
    pub(crate) fn revoke_every_lease(&self) -> usize {
        let endpoint = &self.members[0].endpoint;
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
