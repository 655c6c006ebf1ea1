//! `make bench`: the figures of issue 4 ("Fast as the disk allows"), all measured in one
//! run on the real disk (under `target/bench-tmp`, so every fsync reaches the device), and
//! printed as one table with each row's ratio to the floor (the bare write protocol).
//!
//! `BENCH_SCALE` (default 1) multiplies every sample and update count; `BENCH_SCALE=0.1`
//! is a quick smoke run. A case that loses an update fails the run: a benchmark of a
//! wrong answer is worthless.
//!
//! Run as `confine-bench --child ...`, the binary does one update in a fresh process and
//! prints its peak memory (see [`memory`]).

mod docs;
mod etcd;
mod inprocess;
mod memory;
mod others;
mod processes;
mod python;
mod stats;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use stats::{Row, Table};

pub(crate) type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Where the confine CLI, the documents and the compiled-component cache are.
pub(crate) struct Setup {
    pub(crate) confine: PathBuf,
    pub(crate) root: PathBuf,
    pub(crate) cache: PathBuf,
    pub(crate) scale: f64,
}

impl Setup {
    /// `n` scaled by `BENCH_SCALE`, at least `min`.
    pub(crate) fn n(&self, n: usize, min: usize) -> usize {
        ((n as f64 * self.scale).round() as usize).max(min)
    }

    /// A fresh, empty directory for one case.
    pub(crate) fn dir(&self, case: &str) -> Result<PathBuf> {
        let dir = self.root.join(case);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return memory::child(&args[1..]);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let root = var("BENCH_DIR").unwrap_or_else(|| workspace.join("target/bench-tmp"));
    std::fs::create_dir_all(&root)?;
    let root = std::fs::canonicalize(root)?;
    let setup = Setup {
        confine: std::fs::canonicalize(var("CONFINE").unwrap_or_else(|| workspace.join("target/release/confine")))?,
        cache: root.join("cache"),
        root,
        scale: std::env::var("BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0),
    };
    let started = Instant::now();
    let mut table = Table::default();
    let progress = |row: &Row| eprintln!("  measured: {}", row.case);

    table.section("1-3. one writer, in process, 1 KiB document");
    let single = inprocess::single_writer(&setup)?;
    if let Some(floor) = single.first() {
        table.set_floor(floor);
    }
    for row in single {
        progress(&row);
        table.push(row);
    }
    table.section("4. the CLI, one process per call (compiled component cached)");
    for row in processes::cli(&setup)? {
        progress(&row);
        table.push(row);
    }
    table.section("5. contention on one document: total wall time / updates");
    for row in processes::contention(&setup)?.into_iter().chain(inprocess::contention(&setup)?) {
        progress(&row);
        table.push(row);
    }
    table.section("6. what a user would otherwise reach for, same work");
    for row in others::all(&setup)? {
        progress(&row);
        table.push(row);
    }
    table.section("7. document size: time per update, peak RSS of one update in a fresh process");
    for row in memory::sizes(&setup)? {
        progress(&row);
        table.push(row);
    }
    table.section("8. etcd: one local member started by the bench, same 1 KiB document");
    match etcd::binary() {
        Some(binary) => {
            for row in etcd::all(&setup, &binary)? {
                progress(&row);
                table.push(row);
            }
        }
        None => table.note("skipped: no `etcd` on PATH (Debian: apt-get install etcd-server)"),
    }
    table.section("9. Python: the confine wheel in-process, beside the design's own pattern");
    match var("CONFINE_PYTHON") {
        Some(python) => {
            for row in python::all(&setup, &python)? {
                progress(&row);
                table.push(row);
            }
        }
        None => table.note("skipped: CONFINE_PYTHON names no Python with the confine wheel (make bench sets it)"),
    }
    println!();
    println!("{}", table.render());
    println!(
        "BENCH_SCALE={}; {} s in all; directory {}",
        setup.scale,
        started.elapsed().as_secs(),
        setup.root.display()
    );
    Ok(())
}
