//! A plugin component for confine's tests: it reaches documents only through the
//! `config-repository` port, and can also misbehave on request (trap inside a session,
//! spin forever, hoard sessions, offer bad content) so the tests can show the host stays
//! safe. Errors from the port are returned as their `Debug` text (`Error::TooLarge("...")`), so
//! a test sees which WIT error variant came back.
//!
//! `run(args)`: the first word picks what to do.
//! - `incr DOC KEY N`: N read-modify-write sessions, each adding 1 to the top-level KEY.
//! - `cas-incr DOC KEY N`: the same with lock-free reads and compare-and-swap saves,
//!   retrying on conflict.
//! - `read DOC`: prints the document.
//! - `list DIR`: prints the documents of DIR, one a line.
//! - `trap-in-session DOC`: opens a session, stages a change, then traps.
//! - `hold DOC`: opens a session and then loops forever, holding the lock.
//! - `self-deadlock DOC`: opens a session, then keeps opening a second one on DOC, each
//!   attempt waiting for the host's lock timeout, until it is stopped.
//! - `spin`: loops forever (the host's deadline must stop it).
//! - `hog [DOC]`: allocates memory without bound (the host's memory limit must stop it),
//!   holding a session on DOC when one is given.
//! - `leave-uncommitted DOC`: opens a session, stages a change, and returns `Ok` with the
//!   session still open (its handle is leaked, so only the host's teardown ends it).
//! - `commit-invalid DOC`, `commit-array DOC`, `commit-huge DOC BYTES`: offers text that
//!   is not JSON, a JSON array, or a JSON object of BYTES bytes, through `save` and then
//!   through a session's `commit`, then reopens a session on DOC, waiting at most
//!   [`REOPEN_WAIT_MS`]. Always
//!   returns an error: `save: <result>; commit: <result>; reopen: <result>`.
//! - `many-sessions PREFIX N`: opens sessions on `PREFIX0.json` ... `PREFIX<N-1>.json`,
//!   without waiting, and keeps them all (leaked handles). At the first refusal it returns
//!   `opened K sessions, then <error>`.

#[allow(unsafe_code, unreachable_pub, missing_docs)]
mod bindings {
    wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });
    use super::Probe;
    export!(Probe);
}

use bindings::confine::config::config_repository::{self as port, Session};
use serde_json::{Map, Value};

struct Probe;

impl bindings::Guest for Probe {
    fn run(args: Vec<String>) -> Result<(), String> {
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["incr", doc, key, n] => (0..count(n)?).try_for_each(|_| incr_in_session(doc, key)),
            ["cas-incr", doc, key, n] => (0..count(n)?).try_for_each(|_| incr_with_cas(doc, key)),
            ["read", doc] => {
                let snapshot = port::read(doc).map_err(describe)?;
                print!("{}", snapshot.content);
                Ok(())
            }
            ["list", dir] => {
                for name in port::list_documents(dir).map_err(describe)? {
                    println!("{name}");
                }
                Ok(())
            }
            ["trap-in-session", doc] => {
                let session = Session::open(doc, None).map_err(describe)?;
                let _staged = session.current().map_err(describe)?;
                panic!("trapping while holding the session on {doc}");
            }
            ["hold", doc] => {
                let _session = Session::open(doc, None).map_err(describe)?;
                println!("holding {doc}");
                spin()
            }
            ["self-deadlock", doc] => {
                let _first = Session::open(doc, None).map_err(describe)?;
                loop {
                    if let Ok(_second) = Session::open(doc, None) {
                        return Err(format!("a second session on {doc} opened while the first was held"));
                    }
                }
            }
            ["spin"] => spin(),
            ["hog", doc @ ..] => {
                let _session = match doc {
                    [doc] => Some(Session::open(doc, None).map_err(describe)?),
                    _ => None,
                };
                let mut chunks: Vec<Vec<u8>> = Vec::new();
                loop {
                    chunks.push(std::hint::black_box(vec![1u8; 1 << 20]));
                }
            }
            ["leave-uncommitted", doc] => {
                let session = Session::open(doc, None).map_err(describe)?;
                let current = session.current().map_err(describe)?.map(|s| s.content);
                let _staged = bumped(current.as_deref(), "uncommitted")?;
                std::mem::forget(session);
                Ok(())
            }
            ["commit-invalid", doc] => offer(doc, "{\"n\": 2, not json"),
            ["commit-array", doc] => offer(doc, "[{\"n\": 2}]"),
            ["commit-huge", doc, bytes] => offer(doc, &object_of_size(count(bytes)? as usize)),
            ["many-sessions", prefix, n] => {
                let mut held = Vec::new();
                for i in 0..count(n)? {
                    match Session::open(&format!("{prefix}{i}.json"), Some(0)) {
                        Ok(session) => held.push(session),
                        Err(e) => {
                            let opened = held.len();
                            std::mem::forget(held);
                            return Err(format!("opened {opened} sessions, then {}", describe(e)));
                        }
                    }
                }
                std::mem::forget(held);
                Ok(())
            }
            _ => Err(format!("unknown arguments {args:?}")),
        }
    }
}

fn count(n: &str) -> Result<u32, String> {
    n.parse().map_err(|_| format!("{n:?} is not a count"))
}

fn incr_in_session(doc: &str, key: &str) -> Result<(), String> {
    let session = Session::open(doc, None).map_err(describe)?;
    let current = session.current().map_err(describe)?.map(|s| s.content);
    session.commit(&bumped(current.as_deref(), key)?).map_err(describe)?;
    Ok(())
}

fn incr_with_cas(doc: &str, key: &str) -> Result<(), String> {
    for _ in 0..100_000 {
        let (content, revision) = match port::read(doc) {
            Ok(s) => (Some(s.content), Some(s.revision)),
            Err(port::Error::NotFound(_)) => (None, None),
            Err(e) => return Err(describe(e)),
        };
        match port::save(doc, &bumped(content.as_deref(), key)?, revision.as_deref()) {
            Ok(_) => return Ok(()),
            Err(port::Error::Conflict(_)) => continue,
            Err(e) => return Err(describe(e)),
        }
    }
    Err(format!("{doc}: compare-and-swap kept conflicting"))
}

fn bumped(content: Option<&str>, key: &str) -> Result<String, String> {
    let mut root: Map<String, Value> = match content {
        Some(text) => serde_json::from_str(text).map_err(|e| e.to_string())?,
        None => Map::new(),
    };
    let n = root.get(key).and_then(Value::as_i64).unwrap_or(0);
    root.insert(key.to_owned(), Value::from(n + 1));
    serde_json::to_string(&root).map_err(|e| e.to_string())
}

/// How long the reopen after a refused commit waits. A lock the commit kept would be held
/// until the plugin ends, so any wait shorter than the test's lock timeout finds it; not
/// none, because on Linux a process that another thread of the host forks at the moment
/// the session ends shares the lock's descriptor until it execs (see the store's
/// `fs/lock.rs`), which a waiter's first retries absorb.
const REOPEN_WAIT_MS: u32 = 200;

/// Offers `content` for `doc` through `save` (expecting the current revision, so only the
/// content can be refused) and through a session's `commit`; then checks that the session
/// ended by reopening one on `doc` within [`REOPEN_WAIT_MS`]. Reports all three results.
fn offer(doc: &str, content: &str) -> Result<(), String> {
    let expected = match port::read(doc) {
        Ok(snapshot) => Some(snapshot.revision),
        Err(port::Error::NotFound(_)) => None,
        Err(e) => return Err(describe(e)),
    };
    let saved = port::save(doc, content, expected.as_deref());
    let session = Session::open(doc, None).map_err(describe)?;
    let committed = session.commit(content);
    let reopened = Session::open(doc, Some(REOPEN_WAIT_MS)).map(drop);
    Err(format!("save: {saved:?}; commit: {committed:?}; reopen: {reopened:?}"))
}

/// A valid JSON object of exactly `size` bytes (at least 10).
fn object_of_size(size: usize) -> String {
    let padding = size.saturating_sub(r#"{"pad":""}"#.len());
    format!(r#"{{"pad":"{}"}}"#, "x".repeat(padding))
}

fn spin() -> Result<(), String> {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

fn describe(e: port::Error) -> String {
    format!("{e:?}")
}
