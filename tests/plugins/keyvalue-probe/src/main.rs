//! A standard `wasi:cli` command for confine's tests, written only against the published
//! `wasi:keyvalue` WIT (`wit/deps/wasi-keyvalue`, world `imports`: `store`, `atomics`,
//! `batch`), not against confine's own WIT: it shows that such a program reads and writes
//! confine documents as buckets, and that the names it opens reach nothing outside the
//! granted directory.
//!
//! The first argument picks what to do, the second is the bucket's identifier (a document
//! name; `""` is the `--keyvalue` document). Every subcommand but `open` and `open-loop`
//! opens that bucket first; if the open is refused, its error is the only line. Output
//! goes to stdout, one line per answer; an error is `error: <Debug of the store::Error>`
//! (`error: Error::AccessDenied`, `error: Error::Other("...")`). A value is printed as its
//! text (values that are not UTF-8: `<hex HEX>`).
//! - `open ID...`: opens each ID (dropping it again): `ok` or the error, one a line.
//! - `get ID KEY...`: for each KEY, its value or `<none>`.
//! - `get-hex ID KEY...`: the same, each value as lowercase hex (`<none>`; the empty value
//!   is an empty line), for values with newlines or exact bytes.
//! - `set ID KEY VALUE`: sets KEY to the bytes of VALUE: `ok`.
//! - `set-bytes ID KEY HEX`: sets KEY to the bytes HEX spells (any bytes, e.g. `ff` that
//!   is not UTF-8): `ok`.
//! - `delete ID KEY`: `ok`. `exists ID KEY`: `true` or `false`.
//! - `keys ID [CURSOR]`: `list-keys` with the cursor given (none without one):
//!   `["a", "b"] cursor None` (the keys in Rust's Debug form, then the cursor returned).
//! - `incr ID KEY DELTA [TIMES]`: `atomics.increment` TIMES times (default 1), printing
//!   the last result (or the first error, after which it stops).
//! - `get-many ID KEY...`: `batch.get-many`, one line per answer: `KEY=VALUE` (the key the
//!   host returned) or `<none>`.
//! - `set-many ID K V [K V...]`: `batch.set-many` of the pairs, in one call; a V written
//!   `hex:HEX` is the bytes HEX spells: `ok`.
//! - `delete-many ID KEY...`: `batch.delete-many`: `ok`.
//! - `open-loop ID N`: opens ID up to N times, keeping every bucket. Prints `opened K`;
//!   when an open is refused, then the error, and after dropping one bucket, one more open
//!   (`reopened after dropping one: ok` or the error).
//! - `exercise ID`: calls every function of `store`, `atomics` and `batch` once, in a
//!   fixed order, one line `<call>: <answer>` each (on a fresh document):
//!   ```text
//!   open: ok
//!   set greeting hello: ok
//!   get greeting: hello
//!   exists greeting: true
//!   increment hits 5: 5
//!   set-many a=1 b=2: ok
//!   get-many greeting hits missing: greeting=hello, hits=5, <none>
//!   delete greeting: ok
//!   delete-many a: ok
//!   list-keys: ["hits", "b"] cursor None
//!   ```
//!
//! Last, one line on stderr: `keyvalue-probe: N calls, M errors` (the wasi:keyvalue
//! functions called, and how many answered an error). The command exits with status 3 if
//! any answer was an error, after it printed everything (Rust's std on `wasm32-wasip2`
//! reports any failing `ExitCode` as 1 through `wasi:cli/exit.exit(err)`, so the host sees
//! 1), and 2 for arguments it does not understand.

#[allow(unsafe_code, unreachable_pub, missing_docs)]
mod bindings {
    wit_bindgen::generate!({ path: "../../../wit/deps/wasi-keyvalue", world: "imports" });
}

use std::fmt::Debug;
use std::process::ExitCode;

use bindings::wasi::keyvalue::store::{self, Bucket};
use bindings::wasi::keyvalue::{atomics, batch};

const USAGE: &str = "usage: open ID... | get ID KEY... | get-hex ID KEY... | set ID KEY VALUE | \
                     set-bytes ID KEY HEX | delete ID KEY | exists ID KEY | keys ID [CURSOR] | \
                     incr ID KEY DELTA [TIMES] | get-many ID KEY... | set-many ID K V [K V...] | \
                     delete-many ID KEY... | open-loop ID N | exercise ID";

/// Counts the calls and the errors, and prints each answer.
#[derive(Default)]
struct Probe {
    calls: u64,
    errors: u64,
}

impl Probe {
    /// Counts one call and its answer; an error is printed (prefixed by `label`) and
    /// counted, and comes back as `None`.
    fn call<T>(&mut self, label: &str, answer: Result<T, store::Error>) -> Option<T> {
        self.calls += 1;
        match answer {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors += 1;
                println!("{label}{}", error(&e));
                None
            }
        }
    }

    fn open(&mut self, label: &str, id: &str) -> Option<Bucket> {
        self.call(label, store::open(id))
    }
}

fn error(e: &impl Debug) -> String {
    format!("error: {e:?}")
}

fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => format!("<hex {}>", hex(bytes)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

/// A `set-many` value: `hex:HEX` is bytes, anything else its own UTF-8 bytes.
fn batch_value(word: &str) -> Option<Vec<u8>> {
    match word.strip_prefix("hex:") {
        Some(digits) => unhex(digits),
        None => Some(word.as_bytes().to_vec()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let words: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let mut probe = Probe::default();
    if !dispatch(&mut probe, &words) {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    eprintln!("keyvalue-probe: {} calls, {} errors", probe.calls, probe.errors);
    if probe.errors > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS }
}

/// Runs one subcommand; `false` if the words are not one.
fn dispatch(probe: &mut Probe, words: &[&str]) -> bool {
    match words {
        ["open", ids @ ..] => {
            for id in ids {
                if let Some(bucket) = probe.open("", id) {
                    drop(bucket);
                    println!("ok");
                }
            }
        }
        ["open-loop", id, n] => {
            let Ok(n) = n.parse::<u64>() else { return false };
            open_loop(probe, id, n);
        }
        ["exercise", id] => exercise(probe, id),
        [command, id, rest @ ..] => {
            let Some(valid) = check(command, rest) else { return false };
            if !valid {
                return false;
            }
            if let Some(bucket) = probe.open("", id) {
                on_bucket(probe, &bucket, command, rest);
            }
        }
        _ => return false,
    }
    true
}

/// Whether `rest` fits `command` (checked before anything is opened); `None` for a
/// command that is not one.
fn check(command: &str, rest: &[&str]) -> Option<bool> {
    Some(match command {
        "get" | "get-hex" | "get-many" | "delete-many" => true,
        "set" | "exists" | "delete" => rest.len() == if command == "set" { 2 } else { 1 },
        "set-bytes" => rest.len() == 2 && unhex(rest[1]).is_some(),
        "keys" => rest.len() <= 1 && rest.iter().all(|c| c.parse::<u64>().is_ok()),
        "incr" => (2..=3).contains(&rest.len()) && rest[1..].iter().all(|n| n.parse::<u64>().is_ok()),
        "set-many" => rest.len().is_multiple_of(2) && rest.chunks(2).all(|pair| batch_value(pair[1]).is_some()),
        _ => return None,
    })
}

/// The subcommands on one open bucket (their arguments already checked).
fn on_bucket(probe: &mut Probe, bucket: &Bucket, command: &str, rest: &[&str]) {
    let owned = |words: &[&str]| -> Vec<String> { words.iter().map(|w| (*w).to_owned()).collect() };
    match (command, rest) {
        ("get" | "get-hex", keys) => {
            for key in keys {
                if let Some(value) = probe.call("", bucket.get(key)) {
                    match value {
                        None => println!("<none>"),
                        Some(bytes) if command == "get" => println!("{}", text(&bytes)),
                        Some(bytes) => println!("{}", hex(&bytes)),
                    }
                }
            }
        }
        ("set", [key, value]) => ok(probe.call("", bucket.set(key, value.as_bytes()))),
        ("set-bytes", [key, digits]) => {
            let bytes = unhex(digits).unwrap_or_default();
            ok(probe.call("", bucket.set(key, &bytes)));
        }
        ("delete", [key]) => ok(probe.call("", bucket.delete(key))),
        ("exists", [key]) => {
            if let Some(found) = probe.call("", bucket.exists(key)) {
                println!("{found}");
            }
        }
        ("keys", cursor) => {
            let cursor = cursor.first().and_then(|c| c.parse::<u64>().ok());
            if let Some(response) = probe.call("", bucket.list_keys(cursor)) {
                println!("{:?} cursor {:?}", response.keys, response.cursor);
            }
        }
        ("incr", [key, delta, times @ ..]) => {
            let delta = delta.parse::<u64>().unwrap_or_default();
            let times = times.first().and_then(|t| t.parse::<u64>().ok()).unwrap_or(1);
            let mut last = None;
            for _ in 0..times {
                match probe.call("", atomics::increment(bucket, key, delta)) {
                    Some(value) => last = Some(value),
                    None => return,
                }
            }
            if let Some(value) = last {
                println!("{value}");
            }
        }
        ("get-many", keys) => {
            if let Some(answers) = probe.call("", batch::get_many(bucket, &owned(keys))) {
                for answer in answers {
                    match answer {
                        Some((key, value)) => println!("{key}={}", text(&value)),
                        None => println!("<none>"),
                    }
                }
            }
        }
        ("set-many", pairs) => {
            let pairs: Vec<(String, Vec<u8>)> =
                pairs.chunks(2).map(|pair| (pair[0].to_owned(), batch_value(pair[1]).unwrap_or_default())).collect();
            ok(probe.call("", batch::set_many(bucket, &pairs)));
        }
        ("delete-many", keys) => ok(probe.call("", batch::delete_many(bucket, &owned(keys)))),
        _ => unreachable!("arguments checked before the bucket was opened"),
    }
}

fn ok(answer: Option<()>) {
    if answer.is_some() {
        println!("ok");
    }
}

fn open_loop(probe: &mut Probe, id: &str, n: u64) {
    let mut held = Vec::new();
    let mut refused = None;
    for _ in 0..n {
        probe.calls += 1;
        match store::open(id) {
            Ok(bucket) => held.push(bucket),
            Err(e) => {
                probe.errors += 1;
                refused = Some(e);
                break;
            }
        }
    }
    println!("opened {}", held.len());
    let Some(refusal) = refused else { return };
    println!("{}", error(&refusal));
    drop(held.pop());
    if let Some(bucket) = probe.open("reopened after dropping one: ", id) {
        held.push(bucket);
        println!("reopened after dropping one: ok");
    }
}

fn exercise(probe: &mut Probe, id: &str) {
    let Some(bucket) = probe.open("open: ", id) else { return };
    println!("open: ok");
    if probe.call("set greeting hello: ", bucket.set("greeting", b"hello")).is_some() {
        println!("set greeting hello: ok");
    }
    match probe.call("get greeting: ", bucket.get("greeting")) {
        Some(Some(value)) => println!("get greeting: {}", text(&value)),
        Some(None) => println!("get greeting: <none>"),
        None => {}
    }
    if let Some(found) = probe.call("exists greeting: ", bucket.exists("greeting")) {
        println!("exists greeting: {found}");
    }
    if let Some(value) = probe.call("increment hits 5: ", atomics::increment(&bucket, "hits", 5)) {
        println!("increment hits 5: {value}");
    }
    let pairs = [("a".to_owned(), b"1".to_vec()), ("b".to_owned(), b"2".to_vec())];
    if probe.call("set-many a=1 b=2: ", batch::set_many(&bucket, &pairs)).is_some() {
        println!("set-many a=1 b=2: ok");
    }
    let keys = ["greeting".to_owned(), "hits".to_owned(), "missing".to_owned()];
    if let Some(answers) = probe.call("get-many greeting hits missing: ", batch::get_many(&bucket, &keys)) {
        let answers: Vec<String> = answers
            .into_iter()
            .map(|answer| answer.map_or_else(|| "<none>".to_owned(), |(key, value)| format!("{key}={}", text(&value))))
            .collect();
        println!("get-many greeting hits missing: {}", answers.join(", "));
    }
    if probe.call("delete greeting: ", bucket.delete("greeting")).is_some() {
        println!("delete greeting: ok");
    }
    if probe.call("delete-many a: ", batch::delete_many(&bucket, &["a".to_owned()])).is_some() {
        println!("delete-many a: ok");
    }
    if let Some(response) = probe.call("list-keys: ", bucket.list_keys(None)) {
        println!("list-keys: {:?} cursor {:?}", response.keys, response.cursor);
    }
}
