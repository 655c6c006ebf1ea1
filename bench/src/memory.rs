//! Case 7: time per update and peak memory against document size.
//!
//! Peak memory is measured in a fresh process (`confine-bench --child MODE DIR CACHE`) that
//! makes one update and prints its high-water RSS (`VmHWM`); the same process opening the
//! same repository (and runtime) but making no update is the baseline.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::docs::{self, DOC};
use crate::inprocess::{self, repository, runtime};
use crate::stats::{Row, sample};
use crate::{Result, Setup};

/// The TOML document of the TOML rows, beside [`DOC`].
const TOML_DOC: &str = "app.toml";

const SIZES: [(&str, usize, usize); 4] =
    [("1 KiB", 1 << 10, 300), ("64 KiB", 64 << 10, 100), ("1 MiB", 1 << 20, 20), ("16 MiB", 16 << 20, 5)];

pub(crate) fn sizes(setup: &Setup) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let runtime = runtime(setup)?;
    for (label, size, samples) in SIZES {
        let dir = setup.dir(&format!("size-{size}"))?;
        std::fs::write(dir.join(DOC), docs::of_size(size))?;
        let bare = setup.dir(&format!("size-{size}-floor"))?;
        let repo = repository(&dir)?;
        let samples = setup.n(samples, 2);

        let content = docs::of_size(size);
        let times = sample(1, samples, || inprocess::bare_replace(&bare, content.as_bytes()))?;
        rows.push(Row::from_samples(format!("7. floor, {label}"), times));

        let times = sample(1, samples, || docs::host_update(&repo))?;
        let mut row = Row::from_samples(format!("7. host library, {label}"), times);
        row.rss = Some(peak(setup, &dir, "host")?);
        rows.push(row);

        let times = sample(1, samples, || docs::host_update_in_text(&repo))?;
        let mut row = Row::from_samples(format!("7. host library, text edit, {label}"), times);
        row.rss = Some(peak(setup, &dir, "host-text")?);
        rows.push(row);

        let times = sample(1, samples, || runtime.incr(&repo, DOC, "n", "1").map(drop))?;
        let mut row = Row::from_samples(format!("7. guest incr, {label}"), times);
        row.rss = Some(peak(setup, &dir, "guest")?);
        rows.push(row);
        docs::check_counter(label, &repo.read(DOC)?.content, 3 * (samples + 1) + 3)?;
        // The same document as TOML (not at 16 MiB, a size no TOML file reaches), beside
        // the JSON rows: the guest reads it with toml_edit and the host checks it whole.
        if size <= 1 << 20 {
            std::fs::write(dir.join(TOML_DOC), docs::toml_of_size(size))?;
            let times = sample(1, samples, || runtime.incr(&repo, TOML_DOC, "n", "1").map(drop))?;
            rows.push(Row::from_samples(format!("7. guest incr, TOML, {label}"), times));
            let found = docs::toml_counter(&repo.read(TOML_DOC)?.content)?;
            if found != samples as u64 + 1 {
                return Err(format!("TOML {label}: counter is {found}, expected {}", samples + 1).into());
            }
        }
    }
    Ok(rows)
}

/// Peak RSS of one `mode` update in a fresh process, and that less the same process
/// without the update, in KiB.
fn peak(setup: &Setup, dir: &Path, mode: &str) -> Result<(u64, u64)> {
    let child = |mode: &str| -> Result<u64> {
        let output =
            Command::new(std::env::current_exe()?).args(["--child", mode]).arg(dir).arg(&setup.cache).output()?;
        if !output.status.success() {
            return Err(format!("child {mode} failed: {}", String::from_utf8_lossy(&output.stderr)).into());
        }
        Ok(String::from_utf8(output.stdout)?.trim().parse()?)
    };
    let baseline = child(&format!("{mode}-noop"))?;
    let peak = child(mode)?;
    Ok((peak, peak.saturating_sub(baseline)))
}

/// `--child MODE DIR CACHE [TIMES]`: one update (or TIMES, to profile; none for `*-noop`),
/// then the peak RSS in KiB.
pub(crate) fn child(args: &[String]) -> Result<()> {
    let (mode, dir, cache, times) = match args {
        [mode, dir, cache] => (mode, dir, cache, 1),
        [mode, dir, cache, times] => (mode, dir, cache, times.parse()?),
        _ => return Err("usage: --child MODE DIR CACHE [TIMES]".into()),
    };
    let setup = Setup { confine: PathBuf::new(), root: PathBuf::from(dir), cache: PathBuf::from(cache), scale: 1.0 };
    let repo = repository(Path::new(dir))?;
    match mode.as_str() {
        "host" => (0..times).try_for_each(|_| docs::host_update(&repo))?,
        "host-text" => (0..times).try_for_each(|_| docs::host_update_in_text(&repo))?,
        "host-grouped" => (0..times).try_for_each(|_| docs::grouped_update(&repo))?,
        "host-noop" | "host-text-noop" | "host-grouped-noop" => {}
        "guest" => {
            let runtime = runtime(&setup)?;
            (0..times).try_for_each(|_| runtime.incr(&repo, DOC, "n", "1").map(drop))?;
        }
        "guest-noop" => drop(runtime(&setup)?),
        _ => return Err(format!("unknown child mode {mode}").into()),
    }
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).ok_or("no VmHWM in /proc/self/status")?;
    println!("{}", line.trim().trim_end_matches("kB").trim());
    Ok(())
}
