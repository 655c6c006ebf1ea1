//! Case 6: what a user would otherwise reach for, on the same work (bump a counter in a
//! 1 KiB JSON document, durably): SQLite holding the document as a row, and a Python
//! writer with `fcntl.lockf` and temp + fsync + rename.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};

use crate::docs::{self, DOC};
use crate::inprocess::threads;
use crate::stats::{Row, sample};
use crate::{Result, Setup};

/// `python3 -c PYTHON_WRITER write lockf DOC TIMES`: the lockf + temp + fsync + rename +
/// directory fsync protocol a Python program would write; prints each update's time in ns.
/// The same writer the stress test runs.
const PYTHON_WRITER: &str = include_str!("../../tests/it/support/other_locker.py");

pub(crate) fn all(setup: &Setup) -> Result<Vec<Row>> {
    let (warm, n) = (setup.n(50, 2), setup.n(1000, 10));
    let mut rows = Vec::new();

    let dir = setup.dir("sqlite")?;
    let path = dir.join("app.db");
    let mut connection = sqlite(&path)?;
    connection.execute("CREATE TABLE docs (name TEXT PRIMARY KEY, content TEXT NOT NULL)", ())?;
    connection.execute("INSERT INTO docs VALUES (?1, ?2)", (DOC, docs::of_size(1024)))?;
    let times = sample(warm, n, || sqlite_update(&mut connection))?;
    check_sqlite("sqlite", &connection, warm + n)?;
    rows.push(Row::from_samples("6. SQLite WAL, synchronous=FULL, one writer", times));

    const THREADS: usize = 8;
    let per = setup.n(200, 5);
    let before = counter(&connection)?;
    let wall = threads(THREADS, || {
        let mut connection = sqlite(&path)?;
        for _ in 0..per {
            sqlite_update(&mut connection)?;
        }
        Ok(())
    })?;
    check_sqlite("sqlite threads", &connection, before as usize + THREADS * per)?;
    rows.push(Row::from_total(format!("6. SQLite, {THREADS} threads x {per}"), THREADS * per, wall));

    let dir = setup.dir("python")?;
    let doc = dir.join(DOC);
    std::fs::write(&doc, docs::of_size(1024))?;
    let times = python(&doc, warm + n)?;
    rows.push(Row::from_samples("6. Python lockf + temp + fsync + rename", times[warm..].to_vec()));
    let start = Instant::now();
    let writers: Vec<_> = (0..THREADS).map(|_| python_command(&doc, per).spawn()).collect::<std::io::Result<_>>()?;
    for mut writer in writers {
        if !writer.wait()?.success() {
            return Err("a Python writer failed".into());
        }
    }
    let wall = start.elapsed();
    docs::check_counter("python processes", &std::fs::read_to_string(&doc)?, warm + n + THREADS * per)?;
    rows.push(Row::from_total(format!("6. Python, {THREADS} processes x {per}"), THREADS * per, wall));
    Ok(rows)
}

fn sqlite(path: &Path) -> Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(120))?;
    let mode: String = connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!("SQLite refused WAL mode: {mode}").into());
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    Ok(connection)
}

/// BEGIN IMMEDIATE; SELECT; parse, bump, serialize; UPDATE; COMMIT.
fn sqlite_update(connection: &mut Connection) -> Result<()> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let content: String = transaction.query_row("SELECT content FROM docs WHERE name = ?1", [DOC], |r| r.get(0))?;
    let next = docs::bumped(Some(&content))?;
    transaction.execute("UPDATE docs SET content = ?1 WHERE name = ?2", (&next, DOC))?;
    transaction.commit()?;
    Ok(())
}

fn counter(connection: &Connection) -> Result<u64> {
    let content: String = connection.query_row("SELECT content FROM docs WHERE name = ?1", [DOC], |r| r.get(0))?;
    docs::counter(&content)
}

fn check_sqlite(case: &str, connection: &Connection, expected: usize) -> Result<()> {
    let content: String = connection.query_row("SELECT content FROM docs WHERE name = ?1", [DOC], |r| r.get(0))?;
    docs::check_counter(case, &content, expected)
}

fn python_command(doc: &Path, times: usize) -> Command {
    let mut command = Command::new("python3");
    command.args(["-c", PYTHON_WRITER, "write", "lockf"]).arg(doc).arg(times.to_string());
    command.stdout(std::process::Stdio::null());
    command
}

pub(crate) fn python(doc: &Path, times: usize) -> Result<Vec<Duration>> {
    let mut command = python_command(doc, times);
    let output = command.stdout(std::process::Stdio::piped()).output()?;
    if !output.status.success() {
        return Err(format!("the Python writer failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let text = String::from_utf8(output.stdout)?;
    let times =
        text.lines().map(|l| l.parse().map(Duration::from_nanos)).collect::<std::result::Result<Vec<_>, _>>()?;
    docs::check_counter("python", &std::fs::read_to_string(doc)?, times.len())?;
    Ok(times)
}
