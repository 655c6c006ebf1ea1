//! Bad input gets a clear error, exit status 2 (3 when something is simply missing), and
//! changes nothing: the directory stays byte-for-byte the same, with no temp file left.
//! The hostile-document battery: documents planted on disk by another program, and the
//! same text offered as a value, a patch or a whole document. (Hostile names:
//! hostile_input.rs; files planted at lock and temp names: planted_files.rs.)
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Mutex;

use crate::support::{
    add_to_figure, assert_no_temp_files, confine, documents, repository, repository_with, run_fails, run_ok,
};
use confine::{Error, Options};

/// A document no reader may accept: its bytes, where serde_json stops (line, column), and
/// the reason given there. `as_value`: the same text is not valid JSON as a value either
/// (a non-object root is a fine value; argv cannot carry a NUL byte or invalid UTF-8).
struct Hostile {
    bytes: Vec<u8>,
    at: Option<(usize, usize)>,
    reason: &'static str,
    as_value: bool,
}

impl Hostile {
    /// Whether `message` gives this document's cause: where the parser stopped, and why.
    fn explains(&self, message: &str) -> bool {
        let at = self.at.map(|(line, column)| format!("not valid JSON at line {line}, column {column}: "));
        at.is_none_or(|at| message.contains(&at)) && message.contains(self.reason)
    }

    /// The start of the text, for messages: some are 6 kB long.
    fn shown(&self) -> String {
        format!("{:?}", String::from_utf8_lossy(&self.bytes).chars().take(40).collect::<String>())
    }
}

fn hostile_documents() -> Vec<Hostile> {
    let invalid = |text: &str, line, column, reason| Hostile {
        bytes: text.as_bytes().to_vec(),
        at: Some((line, column)),
        reason,
        as_value: true,
    };
    let not_an_object = |text: &str, reason| Hostile { bytes: text.into(), at: None, reason, as_value: false };
    let not_utf8 = |bytes: &[u8], reason| Hostile { bytes: bytes.to_vec(), at: None, reason, as_value: false };
    let deep_array = format!("{{\"a\": {}{}}}", "[".repeat(1000), "]".repeat(1000));
    let deep_object = format!("{}1{}", "{\"a\": ".repeat(1000), "}".repeat(1000));
    vec![
        // Truncated, trailing garbage, comments, and the other liberties of JavaScript.
        invalid("{\"a\": 1", 1, 7, "EOF while parsing an object"),
        invalid("{\"a\": ", 1, 6, "EOF while parsing a value"),
        invalid("{\"a", 1, 3, "EOF while parsing a string"),
        invalid("{", 1, 1, "EOF while parsing an object"),
        invalid("{\"a\": 1} x", 1, 10, "trailing characters"),
        invalid("{}{}", 1, 3, "trailing characters"),
        invalid("{\"a\": 1 // comment\n}", 1, 9, "expected `,` or `}`"),
        invalid("/* comment */ {}", 1, 1, "expected value"),
        invalid("{'a': 1}", 1, 2, "key must be a string"),
        invalid("{a: 1}", 1, 2, "key must be a string"),
        invalid("{\"a\": NaN}", 1, 7, "expected value"),
        invalid("{\"a\": Infinity}", 1, 7, "expected value"),
        invalid("{\"a\": -Infinity}", 1, 8, "invalid number"),
        invalid("{\"a\": 0x10}", 1, 8, "expected `,` or `}`"),
        invalid("{\"a\": 01}", 1, 8, "invalid number"),
        invalid("{\"a\": +1}", 1, 7, "expected value"),
        invalid("{\"a\": .5}", 1, 7, "expected value"),
        invalid("{\"a\": 1.}", 1, 9, "invalid number"),
        invalid("{\"a\": 1,}", 1, 9, "trailing comma"),
        invalid("{\"a\": [1, 2,]}", 1, 13, "trailing comma"),
        // What some Windows editors write first: said to be a byte order mark, not "expected value".
        invalid("\u{feff}{\"a\": 1}", 1, 1, "the text starts with a UTF-8 byte order mark (bytes EF BB BF)"),
        invalid("{\"a\": \"\\ud800\"}", 1, 14, "unexpected end of hex escape"),
        invalid("{\"a\": \"\\udc00\"}", 1, 13, "lone leading surrogate in hex escape"),
        invalid("{\"a\": \"x\ny\"}", 2, 0, "control character (\\u0000-\\u001F) found while parsing a string"),
        Hostile { as_value: false, ..invalid("{\"a\": 1}\0", 1, 9, "trailing characters") },
        // Deep nesting: serde_json stops at 128 levels, long before the stack would.
        invalid(&deep_array, 1, 133, "recursion limit exceeded"),
        invalid(&deep_object, 1, 763, "recursion limit exceeded"),
        // Numbers beyond f64, and integers beyond 64 bits, which would silently lose digits.
        invalid("{\"a\": 1e400}", 1, 11, "number out of range"),
        invalid("{\"a\": -1e400}", 1, 12, "number out of range"),
        invalid("{\"a\": 123456789012345678901234567890}", 1, 7, "does not fit in 64 bits"),
        invalid("{\"a\": 1234567890123456789012345678901234567890}", 1, 7, "does not fit in 64 bits"),
        invalid("{\"a\": -99999999999999999999}", 1, 7, "does not fit in 64 bits"),
        invalid("{\"a\": 18446744073709551616}", 1, 7, "does not fit in 64 bits"),
        invalid("{\"a\": -9223372036854775809}", 1, 7, "does not fit in 64 bits"),
        invalid("{\"a\": [1, 2, 99999999999999999999]}", 1, 14, "does not fit in 64 bits"),
        // Duplicate keys: which one wins differs between parsers.
        invalid("{\"a\":1,\"a\":2}", 1, 10, "duplicate key \"a\""),
        invalid("{\"a\":1,\"\\u0061\":2}", 1, 15, "duplicate key \"a\""),
        invalid("{\"o\":{\"b\":1,\"b\":2}}", 1, 15, "duplicate key \"b\""),
        invalid("{\"l\":[{\"c\":1,\"c\":1}]}", 1, 16, "duplicate key \"c\""),
        // Not an object at the root.
        not_an_object("[]", "the root must be a JSON object, found an array"),
        not_an_object("[1, 2]", "the root must be a JSON object, found an array"),
        not_an_object("\"text\"", "the root must be a JSON object, found a string"),
        not_an_object("42", "the root must be a JSON object, found a number"),
        not_an_object("null", "the root must be a JSON object, found null"),
        not_an_object("true", "the root must be a JSON object, found a boolean"),
        Hostile { as_value: false, ..invalid("", 1, 0, "EOF while parsing a value") },
        Hostile { as_value: false, ..invalid("  \n\t ", 2, 2, "EOF while parsing a value") },
        // Not UTF-8.
        not_utf8(b"{\"a\": \"\xff\"}", "not UTF-8 (invalid byte at offset 7)"),
        not_utf8(b"\xff\xfe{\x00}\x00", "not UTF-8 (invalid byte at offset 0)"),
        not_utf8(b"{\"a\": \"\xed\xa0\x80\"}", "not UTF-8 (invalid byte at offset 7)"),
        not_utf8(b"{\"a\": \"\xc0\xaf\"}", "not UTF-8 (invalid byte at offset 7)"),
    ]
}

/// Hostile documents, values and refusals seen by the tests of this file, for the figure.
static TALLY: Mutex<[usize; 4]> = Mutex::new([0; 4]);

fn tally(on_disk: usize, as_values: usize, to_library: usize, refusals: usize) {
    add_to_figure("hostile_documents", &TALLY, |tally| {
        for (count, more) in tally.iter_mut().zip([on_disk, as_values, to_library, refusals]) {
            *count += more;
        }
        let [on_disk, as_values, to_library, refusals] = *tally;
        format!(
            "{on_disk} hostile documents on disk x 6 commands, {as_values} as values and patches, {to_library} \
             offered to the library: {refusals} refusals, each naming the document and the cause, files \
             byte-for-byte unchanged"
        )
    });
}

/// Reads and writes refuse a hostile document planted by another program, with exit status
/// 2 and a message naming it and the cause; it and its neighbour stay byte-for-byte the same.
#[test]
fn hostile_documents_on_disk_are_refused_by_reads_and_writes_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    run_ok(confine(root).args(["set", "doc.json", "k", "1"])); // the lock file exists, as after any write
    run_ok(confine(root).args(["set", "other.json", "k", "1"]));
    let commands: [&[&str]; 6] =
        [&["get", "a"], &["cat"], &["set", "a", "2"], &["unset", "a"], &["incr", "n"], &["merge", "{\"m\": 1}"]];
    let battery = hostile_documents();
    for hostile in &battery {
        std::fs::write(root.join("doc.json"), &hostile.bytes).unwrap();
        // Lock files are left out: a writer stamps its pid in one before it reads.
        let (before, shown) = (documents(root), hostile.shown());
        for command in commands {
            let stderr = run_fails(confine(root).arg(command[0]).arg("doc.json").args(&command[1..]), 2);
            assert!(
                stderr.starts_with("confine: doc.json: ") && hostile.explains(&stderr),
                "{command:?} {shown}: {stderr}"
            );
        }
        assert_eq!(documents(root), before, "{shown}: changed");
        assert_no_temp_files(root);
    }
    tally(battery.len(), 0, 0, battery.len() * commands.len());
}

/// The same text given as a value (`set`) or a patch (`merge`) is refused before the
/// document is touched: no lock file even.
#[test]
fn hostile_json_offered_as_a_value_or_a_patch_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("doc.json"), "{\"k\": 1}\n").unwrap();
    let before = documents(root);
    let battery: Vec<Hostile> = hostile_documents().into_iter().filter(|h| h.as_value).collect();
    for hostile in &battery {
        let (text, shown) = (std::str::from_utf8(&hostile.bytes).unwrap(), hostile.shown());
        let stderr = run_fails(confine(root).args(["merge", "doc.json", text]), 2);
        assert!(
            stderr.contains("doc.json: the patch is not valid JSON") && hostile.explains(&stderr),
            "{shown}: {stderr}"
        );
        // A value that does not start like an object is stored as a string unless it is
        // JSON: wrapped in an array, it must be.
        let value = if text.starts_with('{') { text.to_owned() } else { format!("[{text}]") };
        let stderr = run_fails(confine(root).args(["set", "doc.json", "v", &value]), 2);
        assert!(stderr.contains("doc.json: the value is not valid JSON at line "), "{shown}: {stderr}");
        // Wrapped, a byte order mark no longer starts the text: it is a stray character there.
        let reason = if text.starts_with('\u{feff}') { "expected value" } else { hostile.reason };
        assert!(stderr.contains(reason), "{shown}: want {reason:?}: {stderr}");
        assert_eq!(documents(root), before, "{shown}");
        assert!(!root.join("doc.json.lock").exists(), "refused before the lock");
    }
    tally(0, battery.len(), 0, battery.len() * 2);
}

/// The library refuses to store any of them, by `save` and by a session's `commit`, so a
/// plugin cannot store what the next reader would refuse.
#[test]
fn hostile_documents_offered_to_the_library_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (root, repo) = (dir.path(), repository(dir.path()));
    std::fs::write(root.join("doc.json"), "{\"k\": 1}\n").unwrap();
    let revision = repo.read("doc.json").unwrap().revision;
    let before = documents(root);
    let mut offered = 0;
    for hostile in hostile_documents() {
        let Ok(text) = String::from_utf8(hostile.bytes.clone()) else { continue };
        let shown = hostile.shown();
        // The library checks it with the domain's rules: a root that parses but is no
        // object is refused as such.
        let check = |call: &str, result: confine_store::Result<String>| match result {
            Err(Error::InvalidDocument { name, reason }) => {
                assert_eq!(name, "doc.json");
                let explained = hostile.explains(&reason) || reason.contains("the root must be a JSON object");
                assert!(explained, "{call} {shown}: {reason:?}");
            }
            other => panic!("{call} {shown}: want InvalidDocument, got {other:?}"),
        };
        check("save", repo.save("doc.json", &text, Some(&revision)));
        check("commit", repo.open_session("doc.json", None).unwrap().commit(&text));
        assert_eq!(documents(root), before, "{shown}");
        assert_no_temp_files(root);
        offered += 1;
    }
    tally(0, 0, offered, offered * 2);
}

#[test]
fn a_missing_document_or_directory_is_not_found_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    run_fails(confine(dir.path()).args(["set", "nope/app.json", "k", "1"]), 3);
    run_fails(confine(dir.path()).args(["get", "missing.json"]), 3);
    run_fails(confine(dir.path()).args(["cat", "missing.json"]), 3);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn rejects_document(content: &[u8], args: &[&str], status: i32, says: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("doc.json"), content).unwrap();
    let before = documents(dir.path());
    let stderr = run_fails(confine(dir.path()).args(args), status);
    assert!(stderr.contains(says), "{args:?}: expected {says:?} in {stderr}");
    assert!(stderr.contains("doc.json"), "{stderr}");
    assert_eq!(documents(dir.path()), before);
    assert_no_temp_files(dir.path());
}

#[test]
fn oversized_document_is_refused() {
    let big = format!("{{\"a\": \"{}\"}}", "x".repeat(2000));
    rejects_document(big.as_bytes(), &["--max-size", "1000", "set", "doc.json", "b", "1"], 2, "over the size limit");
    rejects_document(big.as_bytes(), &["--max-size", "1000", "get", "doc.json", "a"], 2, "over the size limit");
}

#[test]
fn a_change_that_would_grow_past_the_limit_is_refused() {
    let value = "y".repeat(500);
    rejects_document(b"{}", &["--max-size", "200", "set", "doc.json", "big", &value], 2, "over the size limit");
}

#[test]
fn bad_values_keys_and_types_are_refused() {
    let doc = b"{\"s\": \"text\", \"n\": 18446744073709551615}";
    rejects_document(doc, &["merge", "doc.json", "{oops"], 2, "the patch is not valid JSON");
    rejects_document(doc, &["merge", "doc.json", "[1]"], 2, "must be an object");
    rejects_document(doc, &["incr", "doc.json", "n", "abc"], 2, "the increment is not valid JSON");
    rejects_document(doc, &["incr", "doc.json", "n", "1e400"], 2, "the increment is not valid JSON");
    rejects_document(doc, &["incr", "doc.json", "s"], 2, "holds a string, not a number");
    rejects_document(doc, &["incr", "doc.json", "n"], 2, "overflows");
    rejects_document(doc, &["set", "doc.json", "s.x", "1"], 2, "holds a string, not an object");
    rejects_document(doc, &["set", "doc.json", "a..b", "1"], 2, "key path");
    rejects_document(doc, &["unset", "doc.json", "missing"], 3, "not found");
    rejects_document(doc, &["set", "doc.json", "x", "{oops"], 2, "the value is not valid JSON");
    let too_deep_to_store = format!("{}{}", "[".repeat(120), "]".repeat(120));
    rejects_document(doc, &["set", "doc.json", "deep", &too_deep_to_store], 2, "nest deeper than 100 levels");
}

#[test]
fn library_refuses_content_over_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository_with(dir.path(), Options::default().with_max_document_size(64));
    assert!(matches!(
        repo.save("d.json", &format!("{{\"a\":\"{}\"}}", "x".repeat(64)), None),
        Err(Error::TooLarge { .. })
    ));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
