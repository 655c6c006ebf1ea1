//! `confine watch`: a document's value (or one key's) now, then again at each change, until
//! SIGINT or SIGTERM, through the store's [`Watch`](confine_store::Watch).
//!
//! The value printed for a state is computed on that state's own content (the domain's
//! rules, natively: a read), so a value and the revision printed beside it belong
//! together, and a line never mixes two versions.

use std::io::Write;
use std::time::Duration;

use confine::Format;
use confine_store::{Options, WatchEvent};

use crate::context::Context;
use crate::read;
use crate::report::{Failure, Outcome, failure_json, repository_failure, service_failure};

/// How often the watch looks for a signal while nothing changes.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Watches `doc` (its `key`), printing one line per new state on `output`.
pub(crate) fn run(context: &Context, doc: &str, key: &str, output: &mut impl Write) -> Result<Outcome, Failure> {
    let mut watch = context.repository.watch(doc).map_err(repository_failure)?;
    let (options, format) = (context.repository.options(), context.runtime_options.format);
    let mut last_shown: Option<String> = None;
    while context.stop.received().is_none() {
        // Said once the line of the state it concerns is out (see `Watch::take_notice`).
        if let Some(notice) = watch.take_notice() {
            eprintln!("confine: {notice}");
        }
        let Some(event) = watch.next(SIGNAL_CHECK).map_err(|e| context.stopped(repository_failure(e)))? else {
            continue;
        };
        let (shown, json) = describe(options, format, doc, key, event);
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
fn describe(options: Options, format: Option<Format>, doc: &str, key: &str, event: &WatchEvent) -> (String, String) {
    let failed = |failure: Failure| (format!("error: {}", failure.message), failure_json(&failure));
    match event {
        WatchEvent::Present(snapshot) => match read::get_in(&snapshot.content, options, format, doc, key) {
            Ok(value) => {
                let revision = serde_json::Value::from(snapshot.revision.as_str());
                (value.clone(), format!("{{\"ok\":true,\"value\":{value},\"revision\":{revision}}}\n"))
            }
            Err(e) => failed(service_failure(e)),
        },
        WatchEvent::Absent => ("absent".to_owned(), "{\"ok\":true,\"absent\":true}\n".to_owned()),
        WatchEvent::Unreadable(e) => failed(repository_failure(e.duplicate())),
    }
}
