//! Case 9: confine from Python (the wheel of host/python, in-process), beside the design's
//! own Python pattern on the same change, and one Python thread beside eight. Run by the
//! Python that `CONFINE_PYTHON` names, with the wheel installed (`make bench` makes it).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::docs::{self, DOC};
use crate::others;
use crate::stats::Row;
use crate::{Result, Setup};

/// The driver the Python rows run (`python_rows.py MODE DIR ...`).
const ROWS: &str = include_str!("../python_rows.py");

pub(crate) fn all(setup: &Setup, python: &Path) -> Result<Vec<Row>> {
    let (warm, n) = (setup.n(50, 2), setup.n(1000, 10));
    let mut rows = Vec::new();

    let dir = setup.dir("python-confine")?;
    std::fs::write(dir.join(DOC), docs::of_size(1024))?;
    let times = run(python, &dir, &["incr", &(warm + n).to_string()])?;
    docs::check_counter("python incr", &std::fs::read_to_string(dir.join(DOC))?, warm + n)?;
    rows.push(Row::from_samples("9. Python store.incr, 1 KiB", times[warm..].to_vec()));

    let per = setup.n(200, 5);
    for threads in [1, 8] {
        let dir = setup.dir("python-threads")?;
        std::fs::write(dir.join(DOC), docs::of_size(1024))?;
        let wall = run(python, &dir, &["threads", &threads.to_string(), &per.to_string()])?;
        docs::check_counter("python threads", &std::fs::read_to_string(dir.join(DOC))?, threads * per)?;
        let total = wall.first().copied().unwrap_or_default();
        rows.push(Row::from_total(format!("9. Python store.incr, {threads} threads x {per}"), threads * per, total));
    }

    let (warm, n) = (setup.n(5, 1), setup.n(20, 3));
    let dir = setup.dir("python-update")?;
    std::fs::write(dir.join(DOC), docs::of_size(1 << 20))?;
    let times = run(python, &dir, &["update", &(warm + n).to_string()])?;
    docs::check_counter("python update", &std::fs::read_to_string(dir.join(DOC))?, warm + n)?;
    rows.push(Row::from_samples("9. Python with store.update, 1 MiB", times[warm..].to_vec()));
    let dir = setup.dir("python-design")?;
    std::fs::write(dir.join(DOC), docs::of_size(1 << 20))?;
    let times = others::python(&dir.join(DOC), warm + n)?;
    rows.push(Row::from_samples("9. Python design's lockf + json pattern, 1 MiB", times[warm..].to_vec()));
    Ok(rows)
}

/// Runs `python_rows.py` with `args` on `dir`: the durations it prints.
fn run(python: &Path, dir: &Path, args: &[&str]) -> Result<Vec<Duration>> {
    let (mode, rest) = args.split_first().ok_or("no mode")?;
    let output = Command::new(python).args(["-c", ROWS, mode]).arg(dir).args(rest).output()?;
    if !output.status.success() {
        return Err(format!("python_rows.py {mode} failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let text = String::from_utf8(output.stdout)?;
    Ok(text.lines().map(|l| l.parse().map(Duration::from_nanos)).collect::<std::result::Result<Vec<_>, _>>()?)
}
