//! What `confine` prints: an outcome or a failure, as text for people or, with `--json`,
//! as exactly one JSON object on stdout for scripts.

use std::path::Path;
use std::time::SystemTime;

use confine::{PluginError, ServiceError, ServiceErrorKind};
use confine_store::LockStatus;

/// Exit statuses, as documented in `--help`.
pub(crate) mod status {
    pub(crate) const GUEST: u8 = 1;
    pub(crate) const BAD_INPUT: u8 = 2;
    pub(crate) const NOT_FOUND: u8 = 3;
    pub(crate) const BUSY: u8 = 4;
    pub(crate) const IO: u8 = 5;
    pub(crate) const INTERNAL: u8 = 70;
}

/// What a successful command has to say.
pub(crate) enum Outcome {
    /// Nothing (set, unset, merge, rm, run).
    Done,
    /// A value as compact JSON text (get, incr).
    Value(String),
    /// Each change's answer, in order: a value as compact JSON, or empty (apply).
    Answers(Vec<String>),
    /// A whole document: `pretty` for people, `compact` for `--json` (cat).
    Document { pretty: String, compact: String },
    /// The state of a document's lock (lock-status).
    Lock { doc: String, status: LockStatus },
    /// Document names, sorted (ls).
    Listing(Vec<String>),
    /// A batch or a watch, which printed its own lines, and the status it ends with.
    Streamed { status: u8 },
}

/// Why a command failed: the exit status, a kind for scripts, and a message for people.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: u8, kind: &'static str, message: impl Into<String>) -> Failure {
        Failure { code, kind, message: message.into() }
    }
}

/// The text for stdout: `None` prints nothing.
pub(crate) fn outcome_text(outcome: &Outcome, json: bool) -> Option<String> {
    match (outcome, json) {
        (Outcome::Done, false) => None,
        (Outcome::Done, true) => Some("{\"ok\":true}\n".into()),
        (Outcome::Value(value), false) => Some(format!("{value}\n")),
        // The guest's JSON text is embedded as is: key order and numbers stay exact.
        (Outcome::Value(value), true) => Some(format!("{{\"ok\":true,\"value\":{value}}}\n")),
        (Outcome::Answers(answers), false) => {
            let text: String = answers.iter().filter(|a| !a.is_empty()).map(|a| format!("{a}\n")).collect();
            (!text.is_empty()).then_some(text)
        }
        (Outcome::Answers(answers), true) => {
            let values: Vec<&str> = answers.iter().map(|a| if a.is_empty() { "null" } else { a.as_str() }).collect();
            Some(format!("{{\"ok\":true,\"values\":[{}]}}\n", values.join(",")))
        }
        (Outcome::Document { pretty, .. }, false) => Some(pretty.clone()),
        (Outcome::Document { compact, .. }, true) => Some(format!("{{\"ok\":true,\"document\":{compact}}}\n")),
        (Outcome::Lock { doc, status }, false) => Some(format!("{}\n", describe_lock(doc, status))),
        (Outcome::Streamed { .. }, _) => None,
        (Outcome::Listing(names), false) => Some(names.iter().map(|name| format!("{name}\n")).collect()),
        (Outcome::Listing(names), true) => {
            Some(format!("{{\"ok\":true,\"documents\":{}}}\n", serde_json::Value::from(names.clone())))
        }
        (Outcome::Lock { status, .. }, true) => Some(format!(
            "{{\"ok\":true,\"held\":{},\"holder\":{},\"since_unix_ms\":{}{}}}\n",
            status.held,
            status.holder.map_or("null".into(), |pid| pid.to_string()),
            status.since.and_then(unix_ms).map_or("null".into(), |ms| ms.to_string()),
            status.lease.map_or_else(String::new, |lease| format!(
                ",\"lease\":{{\"id\":{},\"granted_ms\":{},\"remaining_ms\":{}}}",
                lease.id,
                lease.granted.as_millis(),
                lease.remaining.as_millis()
            )),
        )),
    }
}

/// The JSON object printed on stdout for a failure with `--json`.
pub(crate) fn failure_json(failure: &Failure) -> String {
    format!(
        "{{\"ok\":false,\"exit\":{},\"error\":{{\"kind\":{},\"message\":{}}}}}\n",
        failure.code,
        quoted(failure.kind),
        quoted(&failure.message)
    )
}

fn describe_lock(doc: &str, status: &LockStatus) -> String {
    if !status.held {
        return format!("{doc}: free");
    }
    let holder = status.holder.map_or_else(|| "a process that cannot be named".into(), |pid| format!("process {pid}"));
    let since = status
        .since
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .map_or_else(String::new, |age| format!(" for {:.1} s", age.as_secs_f64()));
    let lease = status.lease.map_or_else(String::new, |lease| {
        format!(
            ", lease {:x} with {:.1} s of {:.0} s left (freed then if the holder stops renewing it)",
            lease.id,
            lease.remaining.as_secs_f64(),
            lease.granted.as_secs_f64()
        )
    });
    format!("{doc}: held by {holder}{since}{lease}")
}

fn unix_ms(time: SystemTime) -> Option<u128> {
    time.duration_since(SystemTime::UNIX_EPOCH).ok().map(|d| d.as_millis())
}

fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The failure of a call to the domain guest.
pub(crate) fn service_failure(e: ServiceError) -> Failure {
    use ServiceErrorKind as K;
    let (code, kind) = match e.kind() {
        None => (status::GUEST, "guest"),
        Some(K::NotFound) => (status::NOT_FOUND, "not-found"),
        Some(K::Conflict) => (status::BUSY, "conflict"),
        Some(K::LockTimeout) => (status::BUSY, "lock-timeout"),
        Some(K::Io) => (status::IO, "io"),
        Some(K::Internal) => (status::INTERNAL, "internal"),
        Some(K::InvalidPath) => (status::BAD_INPUT, "invalid-path"),
        Some(K::InvalidKey) => (status::BAD_INPUT, "invalid-key"),
        Some(K::InvalidValue) => (status::BAD_INPUT, "invalid-value"),
        Some(K::TypeMismatch) => (status::BAD_INPUT, "type-mismatch"),
        Some(K::TooLarge) => (status::BAD_INPUT, "too-large"),
        Some(K::InvalidDocument) => (status::BAD_INPUT, "invalid-document"),
    };
    Failure::new(code, kind, e.to_string())
}

/// The failure of a plugin component.
pub(crate) fn plugin_failure(plugin: &Path, e: PluginError) -> Failure {
    let (code, kind) = match e {
        PluginError::Load(_) => (status::BAD_INPUT, "invalid-component"),
        PluginError::Trap(_) => (status::GUEST, "trap"),
        PluginError::Reported(_) => (status::GUEST, "plugin"),
    };
    Failure::new(code, kind, format!("{}: {e}", plugin.display()))
}

/// The failure of a repository call made by the CLI itself (lock-status): classified as
/// the service classifies the same error.
pub(crate) fn repository_failure(e: confine_store::Error) -> Failure {
    service_failure(ServiceError::from(e))
}
