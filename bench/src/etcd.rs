//! Case 8: the same 1 KiB counter update on etcd (crate confine-etcd), on one etcd member
//! the bench starts itself: on free loopback ports, with its data under the bench's
//! directory (so its WAL fsyncs reach the same disk as every other case), and killed when
//! the section ends, whether it succeeds or fails.
//!
//! What etcd users would otherwise write is the baseline: a Get, then a Txn that puts the
//! new content if the key's mod revision is unchanged, retried on conflict. Beside it, the
//! same `update()` on the filesystem shows what the network and etcd's consensus cost.
//!
//! Then the same over TLS (`etcds://`, a client certificate required, certificates made at
//! each run): `update()` in turn with plain text on a second member and with the direct
//! etcd-client update over the same TLS, and CLI processes, each of which makes its own
//! handshake.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use confine_etcd::{Address, Etcd, EtcdOptions};
use confine_store::{Options, Repository};
use etcd_client::{
    Certificate, Client, Compare, CompareOp, ConnectOptions, Identity, KvClient, TlsOptions, Txn, TxnOp,
};

use crate::docs::{self, DOC};
use crate::inprocess::{self, threads};
use crate::processes::run;
use crate::stats::{Row, sample_in_turn};
use crate::{Result, Setup};

/// The key the direct etcd-client baseline updates (apart from every confine prefix).
const DIRECT_KEY: &str = "/direct/app.json";

/// How many threads, and how many CLI processes, the contention rows run.
const WRITERS: usize = 8;

/// The `etcd` binary on PATH, if there is one; without it the section is skipped.
pub(crate) fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("etcd")).find(|etcd| etcd.is_file())
}

/// Every row of case 8, on a fresh etcd started from `binary` and stopped on return.
pub(crate) fn all(setup: &Setup, binary: &Path) -> Result<Vec<Row>> {
    let server = Server::start(setup, binary, None)?;
    let mut rows = single_writer(setup, &server)?;
    rows.extend(contention(setup, &server)?);
    rows.push(cli(setup, &server)?);
    let certs = Certs::make(&setup.dir("etcd-certs")?)?;
    let tls = Server::start(setup, binary, Some(certs))?;
    rows.extend(over_tls(setup, &server, &tls)?);
    Ok(rows)
}

/// One writer's `update()` on the plain member and on the TLS one, and the direct
/// etcd-client update over the same TLS, in turn; then the CLI processes over TLS, as
/// [`cli`] on plain text. The etcds row's ratios to both are in its name.
fn over_tls(setup: &Setup, plain: &Server, tls: &Server) -> Result<Vec<Row>> {
    let (warm, n) = (setup.n(50, 2), setup.n(1000, 10));
    let content = docs::of_size(1024);
    let (plain_repo, tls_repo) = (plain.repository("paired")?, tls.repository("paired")?);
    plain_repo.save(DOC, &content, None)?;
    tls_repo.save(DOC, &content, None)?;
    let mut direct = Direct::start(tls, &content)?;
    let mut calls: [&mut dyn FnMut() -> Result<()>; 3] =
        [&mut || docs::grouped_update(&plain_repo), &mut || docs::grouped_update(&tls_repo), &mut || direct.update()];
    let [plain_times, tls_times, direct_times]: [Vec<Duration>; 3] =
        sample_in_turn(warm, n, &mut calls)?.try_into().map_err(|_| "one list of times per case")?;
    drop(calls);
    docs::check_counter("etcd update() paired", &plain_repo.read(DOC)?.content, warm + n)?;
    docs::check_counter("etcds update() paired", &tls_repo.read(DOC)?.content, warm + n)?;
    direct.check("etcd-client over TLS", warm + n)?;
    let plain_row = Row::from_samples("8. etcd: update(), one writer, in turn with etcds", plain_times);
    let tls_row = Row::from_samples("8. etcds (TLS, client certificate): update(), one writer", tls_times);
    let direct_row = Row::from_samples("8. etcd-client over TLS: Get + Txn(mod_revision) Put", direct_times);
    let ratio = |row: &Row| tls_row.median.as_secs_f64() / row.median.as_secs_f64();
    let case = format!("{} = {:.2}x etcd-client, {:.2}x etcd", tls_row.case, ratio(&direct_row), ratio(&plain_row));
    Ok(vec![plain_row, Row { case, ..tls_row }, direct_row, cli(setup, tls)?])
}

/// One writer, measured in turn: `update()` on the filesystem, `update()` on etcd, and the
/// direct etcd-client update. The etcd row's ratio to the direct one is in its name.
fn single_writer(setup: &Setup, server: &Server) -> Result<Vec<Row>> {
    let (warm, n) = (setup.n(50, 2), setup.n(1000, 10));
    let content = docs::of_size(1024);
    let dir = setup.dir("etcd-filesystem")?;
    std::fs::write(dir.join(DOC), &content)?;
    let filesystem = inprocess::repository(&dir)?;
    let confine = server.repository("single")?;
    confine.save(DOC, &content, None)?;
    let mut direct = Direct::start(server, &content)?;
    let mut calls: [&mut dyn FnMut() -> Result<()>; 3] =
        [&mut || docs::grouped_update(&filesystem), &mut || docs::grouped_update(&confine), &mut || direct.update()];
    let [fs_times, confine_times, direct_times]: [Vec<Duration>; 3] =
        sample_in_turn(warm, n, &mut calls)?.try_into().map_err(|_| "one list of times per case")?;
    drop(calls);
    docs::check_counter("filesystem update()", &filesystem.read(DOC)?.content, warm + n)?;
    docs::check_counter("etcd update()", &confine.read(DOC)?.content, warm + n)?;
    direct.check("etcd-client direct", warm + n)?;

    let direct = Row::from_samples("8. etcd-client: Get + Txn(mod_revision) Put", direct_times);
    let confine = Row::from_samples("8. etcd: update(), one writer", confine_times);
    let ratio = confine.median.as_secs_f64() / direct.median.as_secs_f64();
    Ok(vec![
        Row::from_samples("8. filesystem: update(), one writer (as row 2)", fs_times),
        Row { case: format!("{} = {ratio:.2}x etcd-client", confine.case), ..confine },
        direct,
    ])
}

/// The baseline: etcd-client used directly on [`DIRECT_KEY`], from a single-threaded
/// runtime, as a synchronous program would block on the client.
struct Direct {
    runtime: tokio::runtime::Runtime,
    kv: KvClient,
}

impl Direct {
    /// Connected to `server` as its users would be, the key holding `content`.
    fn start(server: &Server, content: &str) -> Result<Direct> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let mut kv = runtime.block_on(server.direct_client())?;
        runtime.block_on(kv.put(DIRECT_KEY, content, None))?;
        Ok(Direct { runtime, kv })
    }

    fn update(&mut self) -> Result<()> {
        self.runtime.block_on(direct_update(&mut self.kv))
    }

    /// Fails unless the key's counter is `expected` (no update lost).
    fn check(&mut self, what: &str, expected: usize) -> Result<()> {
        let found = self.runtime.block_on(self.kv.get(DIRECT_KEY, None))?;
        docs::check_counter(what, found.kvs().first().ok_or("the direct key is gone")?.value_str()?, expected)
    }
}

/// What a user of etcd-client would write: read the value and its mod revision, bump it,
/// and put it back in a transaction that compares the mod revision, until one applies.
async fn direct_update(kv: &mut KvClient) -> Result<()> {
    loop {
        let found = kv.get(DIRECT_KEY, None).await?;
        let (current, at) = match found.kvs().first() {
            Some(value) => (Some(value.value_str()?), value.mod_revision()),
            None => (None, 0),
        };
        let txn = Txn::new().when([Compare::mod_revision(DIRECT_KEY, CompareOp::Equal, at)]).and_then([TxnOp::put(
            DIRECT_KEY,
            docs::bumped(current)?,
            None,
        )]);
        if kv.txn(txn).await?.succeeded() {
            return Ok(());
        }
    }
}

/// [`WRITERS`] threads sharing one repository (whose group commit batches their updates
/// into one session and one write), against one thread making as many updates alone.
fn contention(setup: &Setup, server: &Server) -> Result<Vec<Row>> {
    let per = setup.n(200, 5);
    let total = WRITERS * per;
    let repo = server.repository("threads")?;
    repo.save(DOC, &docs::of_size(1024), None)?;
    let alone = threads(1, || (0..total).try_for_each(|_| docs::grouped_update(&repo)))?;
    docs::check_counter("etcd one writer", &repo.read(DOC)?.content, total)?;
    let shared = threads(WRITERS, || (0..per).try_for_each(|_| docs::grouped_update(&repo)))?;
    docs::check_counter("etcd threads", &repo.read(DOC)?.content, 2 * total)?;
    let speedup = alone.as_secs_f64() / shared.as_secs_f64();
    Ok(vec![
        Row::from_total(format!("8. etcd: update(), one writer x {total}"), total, alone),
        Row::from_total(format!("8. etcd: update(), {WRITERS} threads x {per} = {speedup:.1}x one"), total, shared),
    ])
}

/// [`WRITERS`] loops, each running `confine --store etcd://... incr` (one process, one
/// connection and one session per update) `per` times on one document.
fn cli(setup: &Setup, server: &Server) -> Result<Row> {
    let per = setup.n(200, 5);
    let store = server.store("cli");
    let repo = server.repository("cli")?;
    let tls_args = server.tls_args();
    repo.save(DOC, &docs::of_size(1024), None)?;
    let wall = threads(WRITERS, || {
        for _ in 0..per {
            let mut confine = Command::new(&setup.confine);
            confine.env("CONFINE_CACHE_DIR", &setup.cache);
            run(confine.args(["--store", &store]).args(&tls_args).args(["--timeout", "120s", "incr", DOC, "n"]))?;
        }
        Ok(())
    })?;
    docs::check_counter("etcd cli processes", &repo.read(DOC)?.content, WRITERS * per)?;
    let scheme = if server.certs.is_some() { "etcds" } else { "etcd" };
    Ok(Row::from_total(format!("8. {scheme}: confine incr, {WRITERS} processes x {per}"), WRITERS * per, wall))
}

/// One etcd member, SIGKILLed by pid and waited for when dropped, so that it never
/// outlives the section, whatever fails; its data directory goes with it.
struct Server {
    child: Child,
    /// `127.0.0.1:PORT` of its client URL.
    endpoint: String,
    /// `127.0.0.1:PORT` where it answers `/health` in plain text: the client URL, or for a
    /// TLS member a second one.
    health: String,
    /// Its data directory.
    data: PathBuf,
    /// Its TLS, if it speaks it.
    certs: Option<Certs>,
}

/// The certificates of a TLS member: a CA, the member's for 127.0.0.1, a client's.
struct Certs {
    ca: PathBuf,
    member: (PathBuf, PathBuf),
    client: (PathBuf, PathBuf),
}

impl Certs {
    fn make(dir: &Path) -> Result<Certs> {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "confine bench CA");
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        let write = |file: &str, text: &str| -> Result<PathBuf> {
            let path = dir.join(file);
            std::fs::write(&path, text)?;
            Ok(path)
        };
        let leaf = |name: &str, names: Vec<String>| -> Result<(PathBuf, PathBuf)> {
            let mut params = CertificateParams::new(names)?;
            params.distinguished_name.push(DnType::CommonName, name);
            let key = KeyPair::generate()?;
            let cert = params.signed_by(&key, &ca)?;
            Ok((write(&format!("{name}.pem"), &cert.pem())?, write(&format!("{name}-key.pem"), &key.serialize_pem())?))
        };
        let member = leaf("member", vec!["127.0.0.1".to_owned()])?;
        let client = leaf("client", Vec::new())?;
        Ok(Certs { ca: write("ca.pem", &ca.pem())?, member, client })
    }
}

impl Server {
    /// Starts etcd on two ports the kernel chose (nothing on a fixed port) and waits until
    /// it is healthy: it has elected itself leader and serves requests.
    fn start(setup: &Setup, binary: &Path, certs: Option<Certs>) -> Result<Server> {
        let dir = setup.dir(if certs.is_some() { "etcds" } else { "etcd" })?;
        // The listeners are held until every port is known, so that they differ.
        let listeners =
            [TcpListener::bind("127.0.0.1:0")?, TcpListener::bind("127.0.0.1:0")?, TcpListener::bind("127.0.0.1:0")?];
        let [endpoint, peer, health] = [0, 1, 2].map(|i| listeners[i].local_addr().map(|a| a.to_string()));
        let (endpoint, peer, health) = (endpoint?, peer?, health?);
        drop(listeners);
        let scheme = if certs.is_some() { "https" } else { "http" };
        let (client_url, peer_url) = (format!("{scheme}://{endpoint}"), format!("http://{peer}"));
        let (listen, health) = match certs {
            Some(_) => (format!("{client_url},http://{health}"), health),
            None => (client_url.clone(), endpoint.clone()),
        };
        let log = dir.join("etcd.log");
        let data = dir.join("data");
        let mut command = Command::new(binary);
        if let Some(certs) = &certs {
            command.arg("--cert-file").arg(&certs.member.0).arg("--key-file").arg(&certs.member.1);
            command.arg("--trusted-ca-file").arg(&certs.ca).arg("--client-cert-auth");
        }
        let child = command
            .args(["--name", "bench", "--data-dir"])
            .arg(&data)
            .args(["--listen-client-urls", &listen, "--advertise-client-urls", &client_url])
            .args(["--listen-peer-urls", &peer_url, "--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("bench={peer_url}")])
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .args(["--logger", "zap", "--log-level", "error"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log)?)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut server = Server { child, endpoint, health, data, certs };
        let within = Duration::from_secs(30);
        let deadline = Instant::now() + within;
        while !server.healthy() {
            let errors = || std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(status) = server.child.try_wait()? {
                return Err(format!("etcd exited ({status}) before it was healthy: {}", errors()).into());
            }
            if Instant::now() >= deadline {
                return Err(format!("etcd at {} not healthy after {within:?}: {}", server.endpoint, errors()).into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    /// Whether `GET /health` answers `"health":"true"` (a plain HTTP/1.0 request: etcd
    /// serves HTTP beside gRPC on its client port, and closes after answering).
    fn healthy(&self) -> bool {
        let ask = || -> std::io::Result<String> {
            let mut stream = TcpStream::connect(&self.health)?;
            stream.set_read_timeout(Some(Duration::from_secs(2)))?;
            stream.write_all(format!("GET /health HTTP/1.0\r\nHost: {}\r\n\r\n", self.health).as_bytes())?;
            let mut response = String::new();
            stream.read_to_string(&mut response)?;
            Ok(response)
        };
        ask().is_ok_and(|response| response.contains(r#""health":"true""#))
    }

    /// The client URL, for etcd-client.
    fn url(&self) -> String {
        format!("http://{}", self.endpoint)
    }

    /// What an etcd-client user would connect with: the member's URL, and over TLS the
    /// same CA and client certificate as confine's.
    async fn direct_client(&self) -> Result<KvClient> {
        let Some(certs) = &self.certs else { return Ok(Client::connect([self.url()], None).await?.kv_client()) };
        let tls = TlsOptions::new()
            .ca_certificate(Certificate::from_pem(std::fs::read(&certs.ca)?))
            .identity(Identity::from_pem(std::fs::read(&certs.client.0)?, std::fs::read(&certs.client.1)?));
        let url = format!("https://{}", self.endpoint);
        Ok(Client::connect([url], Some(ConnectOptions::new().with_tls(tls))).await?.kv_client())
    }

    /// The confine store under `prefix`, as `--store` takes it.
    fn store(&self, prefix: &str) -> String {
        let scheme = if self.certs.is_some() { "etcds" } else { "etcd" };
        format!("{scheme}://{}/{prefix}", self.endpoint)
    }

    /// The CLI's flags for the member's TLS.
    fn tls_args(&self) -> Vec<std::ffi::OsString> {
        let Some(certs) = &self.certs else { return Vec::new() };
        let flags = [("--etcd-cacert", &certs.ca), ("--etcd-cert", &certs.client.0), ("--etcd-key", &certs.client.1)];
        flags.into_iter().flat_map(|(flag, path)| [flag.into(), path.clone().into_os_string()]).collect()
    }

    /// A repository on the store under `prefix`, with the bench's long lock timeout.
    fn repository(&self, prefix: &str) -> Result<Repository> {
        let tls = match &self.certs {
            Some(certs) => confine_etcd::TlsFiles {
                ca_cert: Some(certs.ca.clone()),
                client_cert: Some(certs.client.0.clone()),
                client_key: Some(certs.client.1.clone()),
            },
            None => confine_etcd::TlsFiles::default(),
        };
        let options = EtcdOptions { tls, ..EtcdOptions::default() };
        let etcd = Etcd::connect(&Address::parse(&self.store(prefix))?, options)?;
        Ok(Repository::with_backend(
            etcd,
            Options::default().with_lock_timeout(Duration::from_secs(120)),
            confine::Documents::default(),
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // `Child::kill` is SIGKILL to the child's pid; `wait` reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
