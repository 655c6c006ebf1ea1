//! Cases 1-3 and the in-process half of 5: the floor, the host library and the guest
//! component, one writer (measured in turn) and eight threads.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine::{Options, Repository, Runtime, RuntimeOptions};

use crate::docs::{self, DOC};
use crate::stats::{Row, sample, sample_in_turn};
use crate::{Result, Setup};

/// The documents of the size rows reach 16 MiB plus the digits of the counter.
pub(crate) const MAX_SIZE: u64 = 32 << 20;

pub(crate) fn repository(dir: &Path) -> Result<Repository> {
    let root = Dir::open_ambient_dir(dir, ambient_authority())?;
    Ok(Repository::new(
        root,
        Options::default().with_lock_timeout(Duration::from_secs(120)).with_max_document_size(MAX_SIZE),
        confine::Documents::default(),
    ))
}

pub(crate) fn runtime(setup: &Setup) -> Result<Runtime> {
    let options = RuntimeOptions { cache_dir: Some(setup.cache.clone()), plugin_stdio: false, ..Default::default() };
    Runtime::new(options).map_err(|e| format!("{e:#}").into())
}

/// The same document, written by the bare protocol: temp, fsync, rename, fsync directory.
/// No lock, no read, no parse, no wasm.
pub(crate) fn bare_replace(dir: &Path, content: &[u8]) -> std::io::Result<()> {
    let temp = dir.join(".app.json.floor.tmp");
    let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
    file.write_all(content)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, dir.join(DOC))?;
    File::open(dir)?.sync_all()
}

/// Rows 1-3: the floor, the host library and the guest, measured in turn (see
/// [`sample_in_turn`]); the floor's row comes first.
pub(crate) fn single_writer(setup: &Setup) -> Result<Vec<Row>> {
    let (warm, n) = (setup.n(50, 2), setup.n(1000, 10));
    let content = docs::of_size(1024);
    let bare = setup.dir("floor")?;
    let host_dir = setup.dir("host")?;
    std::fs::write(host_dir.join(DOC), &content)?;
    let host = repository(&host_dir)?;
    let runtime = runtime(setup)?;
    let dir = setup.dir("guest")?;
    std::fs::write(dir.join(DOC), &content)?;
    let repo = repository(&dir)?;

    let cases: [(&str, &mut dyn FnMut() -> Result<()>); 5] = [
        ("1. floor: temp + fsync + rename + fsync dir", &mut || Ok(bare_replace(&bare, content.as_bytes())?)),
        ("2. host library: lock + read + modify + replace", &mut || docs::host_update(&host)),
        ("2. host library update() (group commit), alone", &mut || docs::grouped_update(&host)),
        ("3. guest config-service.incr", &mut || Ok(runtime.incr(&repo, DOC, "n", "1").map(drop)?)),
        ("3. guest config-service.set", &mut || Ok(runtime.set(&repo, DOC, "server.port", "8080")?)),
    ];
    let (names, mut calls): (Vec<&str>, Vec<&mut dyn FnMut() -> Result<()>>) = cases.into_iter().unzip();
    let times = sample_in_turn(warm, n, &mut calls)?;
    drop(calls);
    docs::check_counter("host", &host.read(DOC)?.content, 2 * (warm + n))?;
    docs::check_counter("guest incr", &repo.read(DOC)?.content, warm + n)?;
    let mut rows: Vec<Row> = names.into_iter().zip(times).map(|(name, times)| Row::from_samples(name, times)).collect();

    // No write: a fresh store and instance, a lock-free read of a tiny document.
    std::fs::write(dir.join("tiny.json"), r#"{"n":1}"#)?;
    let times = sample(warm, setup.n(3000, 20), || runtime.get(&repo, "tiny.json", "n").map(drop))?;
    rows.push(Row::from_samples("3. guest get, tiny doc (instantiation + call, no fsync)", times));
    Ok(rows)
}

/// Eight threads of one process, each making `per` updates of one document.
pub(crate) fn contention(setup: &Setup) -> Result<Vec<Row>> {
    let runtime = runtime(setup)?;
    let per = setup.n(200, 5);
    Ok(vec![
        contended(setup, per, "threads-host", "host library", docs::host_update)?,
        contended(setup, per, "threads-grouped", "host library update() (group commit)", docs::grouped_update)?,
        contended(setup, per, "threads-guest", "guest incr", |repo| {
            runtime.incr(repo, DOC, "n", "1").map(drop).map_err(Into::into)
        })?,
    ])
}

/// [`THREADS`] threads each making `per` updates of one fresh document with `update`; the
/// counter must come out exact.
fn contended(
    setup: &Setup,
    per: usize,
    case: &str,
    label: &str,
    update: impl Fn(&Repository) -> Result<()> + Sync,
) -> Result<Row> {
    let repo = repository(&setup.dir(case)?)?;
    let wall = threads(THREADS, || (0..per).try_for_each(|_| update(&repo)))?;
    docs::check_counter(label, &repo.read(DOC)?.content, THREADS * per)?;
    Ok(Row::from_total(format!("5. {label}, {THREADS} threads x {per}"), THREADS * per, wall))
}

/// How many threads the contention rows run.
const THREADS: usize = 8;

/// Runs `work` on `count` threads at once; the wall time until all are done.
pub(crate) fn threads(count: usize, work: impl Fn() -> Result<()> + Sync) -> Result<Duration> {
    let start = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..count).map(|_| scope.spawn(&work)).collect();
        handles.into_iter().try_for_each(|h| h.join().map_err(|_| "a bench thread panicked")?)
    })?;
    Ok(start.elapsed())
}
