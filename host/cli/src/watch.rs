//! `confine watch`: a document's value (or one key's) now, then again at each change, until
//! SIGINT or SIGTERM, through the store's [`Watch`](confine_store::Watch).
//!
//! The value printed for a state is computed by the domain guest on that state's own
//! content (served to it from memory), so a value and the revision printed beside it
//! belong together, and a line never mixes two versions.

use std::io::Write;
use std::time::Duration;

use confine::Runtime;
use confine_store::{Memory, Repository, WatchEvent};

use crate::context::Context;
use crate::report::{Failure, Outcome, failure_json, repository_failure, service_failure};

/// How often the watch looks for a signal while nothing changes.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Watches `doc` (its `key`), printing one line per new state on `output`.
pub(crate) fn run(context: &Context, doc: &str, key: &str, output: &mut impl Write) -> Result<Outcome, Failure> {
    let mut watch = context.repository.watch(doc).map_err(repository_failure)?;
    let runtime = context.runtime()?;
    let mut last_shown: Option<String> = None;
    while context.stop.received().is_none() {
        // Said once the line of the state it concerns is out (see `Watch::take_notice`).
        if let Some(notice) = watch.take_notice() {
            eprintln!("confine: {notice}");
        }
        let Some(event) = watch.next(SIGNAL_CHECK).map_err(|e| context.stopped(repository_failure(e)))? else {
            continue;
        };
        let (shown, json) = describe(runtime, &context.repository, doc, key, event);
        // A change elsewhere in the document leaves the key's value as it was: not news.
        if last_shown.as_deref() == Some(shown.as_str()) {
            continue;
        }
        let line = if context.json { json } else { format!("{shown}\n") };
        last_shown = Some(shown);
        // Nobody reads any more (a closed pipe): the watch is over.
        if output.write_all(line.as_bytes()).and_then(|()| output.flush()).is_err() {
            break;
        }
    }
    Ok(Outcome::Streamed { status: 0 })
}

/// A state as a line for people (also what tells one state from the next) and as a JSON
/// object for --json.
fn describe(runtime: &Runtime, repository: &Repository, doc: &str, key: &str, event: &WatchEvent) -> (String, String) {
    let failed = |failure: Failure| (format!("error: {}", failure.message), failure_json(&failure));
    match event {
        WatchEvent::Present(snapshot) => match value_of(runtime, repository, doc, key, &snapshot.content) {
            Ok(value) => {
                let revision = serde_json::Value::from(snapshot.revision.as_str());
                (value.clone(), format!("{{\"ok\":true,\"value\":{value},\"revision\":{revision}}}\n"))
            }
            Err(failure) => failed(failure),
        },
        WatchEvent::Absent => ("absent".to_owned(), "{\"ok\":true,\"absent\":true}\n".to_owned()),
        WatchEvent::Unreadable(e) => failed(repository_failure(e.duplicate())),
    }
}

/// The value at `key` of exactly `content`, by the domain guest.
fn value_of(
    runtime: &Runtime,
    repository: &Repository,
    doc: &str,
    key: &str,
    content: &str,
) -> Result<String, Failure> {
    // Planted unchecked: the guest judges the content, in the words it uses for any read.
    let memory = Memory::new();
    memory.plant(doc, content).map_err(repository_failure)?;
    runtime
        .get(&Repository::with_backend(memory, repository.options(), confine::Documents::default()), doc, key)
        .map_err(service_failure)
}
