//! Case 4 and the process half of 5: the CLI, one process per update, timed whole (spawn
//! to exit), and `confine batch`, one process for many updates.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::docs::{self, DOC};
use crate::inprocess::threads;
use crate::stats::{Row, sample, sample_in_turn};
use crate::{Result, Setup};

/// `confine --dir DIR ...` with the bench's compiled-component cache (`None`: the cache
/// off, so the guest is compiled at start).
pub(crate) fn confine(setup: &Setup, dir: &Path, cache: Option<&Path>) -> Command {
    let mut command = Command::new(&setup.confine);
    command.env("CONFINE_CACHE_DIR", cache.map_or_else(Default::default, |c| c.as_os_str().to_owned()));
    command.arg("--dir").arg(dir).args(["--timeout", "120s", "--max-size"]).arg(crate::inprocess::MAX_SIZE.to_string());
    command
}

pub(crate) fn run(command: &mut Command) -> Result<()> {
    let output = command.output()?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("{command:?} failed ({}): {stderr}", output.status).into());
    }
    Ok(())
}

/// Runs `command` (a `confine ... batch`) with `lines` on its stdin; every line must succeed.
fn run_batch(command: &mut Command, lines: &str) -> Result<()> {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
    child.stdin.take().ok_or("no stdin")?.write_all(lines.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(
            format!("{command:?} failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr)).into()
        );
    }
    Ok(())
}

pub(crate) fn cli(setup: &Setup) -> Result<Vec<Row>> {
    let dir = setup.dir("cli")?;
    std::fs::write(dir.join(DOC), docs::of_size(1024))?;
    let cache = Some(setup.cache.as_path());
    let (warm, n) = (setup.n(10, 1), setup.n(300, 5));
    let mut rows = Vec::new();

    let times = sample(warm, n, || run(confine(setup, &dir, cache).args(["incr", DOC, "n"])))?;
    rows.push(Row::from_samples("4. confine incr (cached component)", times));
    let lines = setup.n(300, 5);
    let started = Instant::now();
    run_batch(confine(setup, &dir, cache).arg("batch"), &format!("incr {DOC} n\n").repeat(lines))?;
    rows.push(Row::from_total(
        format!("4. confine batch, {lines} incr lines in one process"),
        lines,
        started.elapsed(),
    ));
    let read = std::fs::read_to_string(dir.join(DOC))?;
    docs::check_counter("cli", &read, warm + n + lines)?;

    rows.extend(start_beside_sqlite3(setup, &dir, warm, n)?);
    let times = sample(1, setup.n(20, 3), || run(confine(setup, &dir, None).args(["get", DOC, "n"])))?;
    rows.push(Row::from_samples("4. confine get, compiling (CONFINE_CACHE_DIR=)", times));
    Ok(rows)
}

/// `confine get` started cold (the component cached), in turn with the start of the
/// process-start floor users compare a CLI with, `sqlite3 :memory: 'select 1'` (Debian's
/// `sqlite3`; left out, and said so, where it is missing): the confine row names the median
/// of the paired ratios.
fn start_beside_sqlite3(setup: &Setup, dir: &Path, warm: usize, n: usize) -> Result<Vec<Row>> {
    let get = &mut || run(confine(setup, dir, Some(setup.cache.as_path())).args(["get", DOC, "n"]));
    let sqlite3 = Command::new("sqlite3").args([":memory:", "select 1"]).stdout(Stdio::null()).status();
    if !sqlite3.is_ok_and(|status| status.success()) {
        let times = sample(warm, n, get)?;
        return Ok(vec![Row::from_samples("4. confine get, cold start (cached component; no sqlite3 here)", times)]);
    }
    let start = &mut || run(Command::new("sqlite3").args([":memory:", "select 1"]).stdout(Stdio::null()));
    let mut times = sample_in_turn(warm, n, &mut [get, start])?;
    let (sqlite, confine) = (times.pop().unwrap_or_default(), times.pop().unwrap_or_default());
    let mut ratios: Vec<f64> = confine.iter().zip(&sqlite).map(|(c, s)| c.as_secs_f64() / s.as_secs_f64()).collect();
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios.get(ratios.len() / 2).copied().unwrap_or_default();
    Ok(vec![
        Row::from_samples(format!("4. confine get, cold start (cached component) = {ratio:.2}x sqlite3"), confine),
        Row::from_samples("4. sqlite3 :memory: 'select 1' (process start), in turn", sqlite),
    ])
}

/// Eight loops, each running `confine incr` `per` times, on one document.
pub(crate) fn contention(setup: &Setup) -> Result<Vec<Row>> {
    const WRITERS: usize = 8;
    let per = setup.n(200, 5);
    let dir = setup.dir("processes")?;
    run(confine(setup, &dir, Some(&setup.cache)).args(["set", DOC, "n", "0"]))?;
    let wall = threads(WRITERS, || {
        for _ in 0..per {
            run(confine(setup, &dir, Some(&setup.cache)).args(["incr", DOC, "n"]))?;
        }
        Ok(())
    })?;
    docs::check_counter("cli processes", &std::fs::read_to_string(dir.join(DOC))?, WRITERS * per)?;
    let mut rows = vec![Row::from_total(format!("5. confine incr, {WRITERS} processes x {per}"), WRITERS * per, wall)];
    let lines = format!("incr {DOC} n\n").repeat(per);
    let wall = threads(WRITERS, || run_batch(confine(setup, &dir, Some(&setup.cache)).arg("batch"), &lines))?;
    docs::check_counter("cli batches", &std::fs::read_to_string(dir.join(DOC))?, 2 * WRITERS * per)?;
    rows.push(Row::from_total(format!("5. confine batch, {WRITERS} processes x {per} lines"), WRITERS * per, wall));
    Ok(rows)
}
