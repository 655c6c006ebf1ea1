//! Power loss, the way the ALICE study (OSDI '14) checks rename-based update protocols:
//! record the filesystem operations that real writes perform, then replay them against a
//! model of a disk that, at a crash, may lose anything not yet made durable by an fsync:
//! any data written to a file since its last fsync (all of it, half of it, or replaced by
//! zeros), and any directory change (create, rename, unlink) since the directory's last
//! fsync, in any combination. Every crash state after every operation must recover to the
//! last acknowledged document or the one in flight, and to the new one once success was
//! reported. The same model, given the protocol without its file fsync or without its
//! directory fsync, finds the crash state that breaks it.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

use crate::support::{cache_dir, figure, gated};
use confine::{Repository, Runtime, RuntimeOptions};
use confine_store::{Step, StepGate};

const DOC: &str = "app.json";

/// What the model needs of a write: the operations that change what a crash can leave.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// A write of `content` starts (`None`: a removal).
    Begin(Option<String>),
    Create(String),
    Write(String, Vec<u8>),
    SyncFile(String),
    Rename(String, String),
    Unlink(String),
    SyncDir,
    /// The caller was told the write succeeded.
    Acknowledged,
}

/// Records the steps of real writes as model operations.
#[derive(Default)]
struct Recorder(Mutex<Vec<Op>>);

impl StepGate for Recorder {
    fn before(&self, step: &Step<'_>) -> io::Result<()> {
        let op = match *step {
            Step::CreateTemp { file } => Op::Create(file.into()),
            Step::WriteTemp { file, data } => Op::Write(file.into(), data.to_vec()),
            Step::SyncTemp { file } => Op::SyncFile(file.into()),
            Step::Rename { from, to } => Op::Rename(from.into(), to.into()),
            Step::RemoveTemp { file } | Step::RemoveStaleTemp { file } | Step::RemoveDocument { file } => {
                Op::Unlink(file.into())
            }
            Step::SyncDirectory => Op::SyncDir,
            _ => return Ok(()), // reads, the lock file, opening the directory: nothing to lose
        };
        self.0.lock().unwrap().push(op);
        Ok(())
    }
}

impl Recorder {
    fn push(&self, op: Op) {
        self.0.lock().unwrap().push(op);
    }
}

/// A file's bytes: what is on disk for sure, and what a crash may lose.
#[derive(Clone)]
struct Inode {
    durable: Vec<u8>,
    latest: Vec<u8>,
}

#[derive(Clone)]
enum DirChange {
    Link(String, usize),
    Rename(String, String, usize),
    Unlink(String),
}

/// The disk: inodes, the directory as last fsynced, and its changes since.
#[derive(Clone)]
struct Disk {
    inodes: Vec<Inode>,
    durable_dir: BTreeMap<String, usize>,
    pending: Vec<DirChange>,
}

impl Disk {
    fn with_document(content: Option<&str>) -> Disk {
        let mut disk = Disk { inodes: Vec::new(), durable_dir: BTreeMap::new(), pending: Vec::new() };
        if let Some(text) = content {
            disk.inodes.push(Inode { durable: text.as_bytes().to_vec(), latest: text.as_bytes().to_vec() });
            disk.durable_dir.insert(DOC.into(), 0);
        }
        disk
    }

    fn directory(&self, changes: impl Iterator<Item = DirChange>) -> BTreeMap<String, usize> {
        let mut dir = self.durable_dir.clone();
        for change in changes {
            match change {
                DirChange::Link(name, inode) => drop(dir.insert(name, inode)),
                DirChange::Rename(from, to, inode) => {
                    dir.remove(&from);
                    dir.insert(to, inode);
                }
                DirChange::Unlink(name) => drop(dir.remove(&name)),
            }
        }
        dir
    }

    fn apply(&mut self, op: &Op) {
        let now = self.directory(self.pending.iter().cloned());
        match op {
            Op::Create(name) => {
                self.inodes.push(Inode { durable: Vec::new(), latest: Vec::new() });
                self.pending.push(DirChange::Link(name.clone(), self.inodes.len() - 1));
            }
            Op::Write(name, data) => self.inodes[now[name]].latest.extend_from_slice(data),
            Op::SyncFile(name) => {
                let inode = &mut self.inodes[now[name]];
                inode.durable = inode.latest.clone();
            }
            Op::Rename(from, to) => self.pending.push(DirChange::Rename(from.clone(), to.clone(), now[from])),
            Op::Unlink(name) => self.pending.push(DirChange::Unlink(name.clone())),
            Op::SyncDir => {
                self.durable_dir = now;
                self.pending.clear();
            }
            Op::Begin(_) | Op::Acknowledged => {}
        }
    }

    /// Every document content a crash now could leave (`None`: no document).
    fn crash_states(&self) -> Vec<Option<Vec<u8>>> {
        let mut states = Vec::new();
        for kept in 0..1u32 << self.pending.len() {
            let survivors = self.pending.iter().enumerate().filter(|(i, _)| kept & (1 << i) != 0);
            let dir = self.directory(survivors.map(|(_, change)| change.clone()));
            let Some(&inode) = dir.get(DOC) else {
                states.push(None);
                continue;
            };
            let Inode { durable, latest } = &self.inodes[inode];
            states.push(Some(durable.clone()));
            if latest != durable {
                states.push(Some(latest.clone()));
                states.push(Some(latest[..latest.len() / 2].to_vec()));
                states.push(Some(vec![0; latest.len()]));
            }
        }
        states
    }
}

/// Replays `trace` from a disk holding `initial`, crashing after every operation.
/// Returns the number of crash states checked, or the first that recovers wrongly.
fn check(initial: Option<&str>, trace: &[Op]) -> Result<usize, String> {
    let mut disk = Disk::with_document(initial);
    let mut acknowledged = initial.map(|s| s.as_bytes().to_vec());
    let mut in_flight = acknowledged.clone();
    let mut explored = 0;
    for (i, op) in trace.iter().enumerate() {
        disk.apply(op);
        match op {
            Op::Begin(content) => in_flight = content.as_ref().map(|s| s.as_bytes().to_vec()),
            Op::Acknowledged => acknowledged = in_flight.clone(),
            _ => {}
        }
        for state in disk.crash_states() {
            explored += 1;
            if state != acknowledged && state != in_flight {
                let shown = |s: &Option<Vec<u8>>| s.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
                return Err(format!(
                    "crash after operation {i} ({op:?}) can leave {:?}; acknowledged {:?}, in flight {:?}",
                    shown(&state),
                    shown(&acknowledged),
                    shown(&in_flight)
                ));
            }
        }
    }
    Ok(explored)
}

/// A scenario: the document before, and the real writes to record.
fn record(initial: Option<&str>, writes: impl FnOnce(&Repository, &Recorder)) -> Vec<Op> {
    let tmp = tempfile::tempdir().unwrap();
    if let Some(text) = initial {
        std::fs::write(tmp.path().join(DOC), text).unwrap();
    }
    // A temp file left by a writer that died: the next write sweeps it.
    std::fs::write(tmp.path().join(format!(".{DOC}.00000000deadbeef.tmp")), "{\"half\":").unwrap();
    let recorder = Arc::new(Recorder::default());
    let repository = gated(tmp.path(), recorder.clone());
    writes(&repository, &recorder);
    drop(repository);
    Arc::try_unwrap(recorder).ok().unwrap().0.into_inner().unwrap()
}

/// Commits `content` in a session, recording where the write begins and is acknowledged.
fn commit(repository: &Repository, recorder: &Recorder, content: &str) {
    let session = repository.open_session(DOC, None).unwrap();
    recorder.push(Op::Begin(Some(content.into())));
    session.commit(content).unwrap();
    recorder.push(Op::Acknowledged);
}

fn scenarios() -> Vec<(&'static str, Option<&'static str>, Vec<Op>)> {
    let runtime = Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir()), ..RuntimeOptions::default() }).unwrap();
    let old = Some("{\"n\": 1}");
    vec![
        ("create", None, record(None, |r, rec| commit(r, rec, "{\"n\": 1}"))),
        (
            "overwrite three times",
            old,
            record(old, |r, rec| ["{\"n\": 2}", "{\"n\": 3}", "{}"].into_iter().for_each(|c| commit(r, rec, c))),
        ),
        (
            "remove",
            old,
            record(old, |r, rec| {
                rec.push(Op::Begin(None));
                r.remove(DOC).unwrap();
                rec.push(Op::Acknowledged);
            }),
        ),
        (
            "update (group commit)",
            old,
            record(old, |r, rec| {
                for n in [2, 3] {
                    rec.push(Op::Begin(Some(format!("{{\"n\": {n}}}"))));
                    r.update(DOC, move |_| Ok::<_, String>(format!("{{\"n\": {n}}}"))).unwrap().unwrap();
                    rec.push(Op::Acknowledged);
                }
            }),
        ),
        (
            "guest incr",
            old,
            record(old, |r, rec| {
                rec.push(Op::Begin(Some("{\"n\": 2}".into()))); // the layout of `old` is kept
                runtime.incr(r, DOC, "n", "1").unwrap();
                rec.push(Op::Acknowledged);
            }),
        ),
    ]
}

#[test]
fn every_crash_state_of_every_write_recovers_to_old_or_new() {
    let mut explored = 0;
    let mut operations = 0;
    let scenarios = scenarios();
    for (name, initial, trace) in &scenarios {
        assert!(trace.contains(&Op::SyncDir), "{name}: nothing was recorded: {trace:?}");
        operations += trace.len();
        explored += check(*initial, trace).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    figure(
        "power_loss",
        &format!(
            "{explored} crash states explored after each of {operations} recorded operations of {} scenarios: \
             every one recovers to the acknowledged or the in-flight document",
            scenarios.len()
        ),
    );
}

#[test]
fn the_model_catches_a_protocol_without_its_file_fsync() {
    for (name, initial, trace) in scenarios().into_iter().filter(|(name, ..)| *name != "remove") {
        let without: Vec<Op> = trace.into_iter().filter(|op| !matches!(op, Op::SyncFile(_))).collect();
        let error = check(initial, &without).expect_err(name);
        assert!(error.contains("can leave"), "{name}: {error}");
    }
}

#[test]
fn the_model_catches_a_protocol_without_its_directory_fsync() {
    for (name, initial, trace) in scenarios() {
        let without: Vec<Op> = trace.into_iter().filter(|op| *op != Op::SyncDir).collect();
        let error = check(initial, &without).expect_err(name);
        assert!(error.contains("after operation"), "{name}: {error}");
    }
}
