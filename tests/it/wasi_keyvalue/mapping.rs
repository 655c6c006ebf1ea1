//! What each function does to a document: the value mapping, increments, batches, keys.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use super::*;

#[test]
fn every_function_answers_and_each_set_leaves_a_string_member() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("kept.json"), "{\"keep\": {\"x\": [1, 2]}}\n").unwrap();
    let transcript = "\
open: ok
set greeting hello: ok
get greeting: hello
exists greeting: true
increment hits 5: 5
set-many a=1 b=2: ok
get-many greeting hits missing: greeting=hello, hits=5, <none>
delete greeting: ok
delete-many a: ok
list-keys: [\"hits\", \"b\"] cursor None
";
    // The --keyvalue document as "", a document in a folder, and an existing document.
    assert_eq!(kv_ok(dir.path(), "app.json", &["exercise", ""]), transcript);
    assert_eq!(kv_ok(dir.path(), "app.json", &["exercise", "sub/other.json"]), transcript);
    let kept_transcript = transcript.replace("[\"hits\", \"b\"]", "[\"keep\", \"hits\", \"b\"]");
    assert_eq!(kv_ok(dir.path(), "app.json", &["exercise", "kept.json"]), kept_transcript);

    for doc in ["app.json", "sub/other.json"] {
        assert_eq!(read_json(&dir.path().join(doc)), json!({"hits": 5, "b": "2"}), "{doc}");
        // The CLI reads it too, in the same order: a JSON integer and a JSON string.
        assert_eq!(run_ok(confine(dir.path()).args(["get", doc])).trim(), r#"{"hits":5,"b":"2"}"#);
    }
    assert_eq!(read_json(&dir.path().join("kept.json")), json!({"keep": {"x": [1, 2]}, "hits": 5, "b": "2"}));
    assert_eq!(
        run_ok(confine(dir.path()).args(["get", "kept.json"])).trim(),
        r#"{"keep":{"x":[1,2]},"hits":5,"b":"2"}"#
    );
    // Each single-call subcommand too, one answer a line.
    assert_eq!(kv_ok(dir.path(), "app.json", &["set", "", "k", "v"]), "ok\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["get", "", "k", "nope", "hits"]), "v\n<none>\n5\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["exists", "", "nope"]), "false\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["delete", "", "nope"]), "ok\n", "deleting a missing key is ok");
    assert_eq!(kv_ok(dir.path(), "app.json", &["delete", "", "k"]), "ok\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["exists", "", "k"]), "false\n");
    assert_eq!(read_json(&dir.path().join("app.json")), json!({"hits": 5, "b": "2"}));
    assert_no_temp_files(dir.path());
}

#[test]
fn utf8_values_round_trip_byte_for_byte_as_json_strings() {
    let dir = tempfile::tempdir().unwrap();
    let values = [
        ("plain", "hello"),
        ("empty", ""),
        ("multibyte", "héllo wörld ✓ 日本語 🦀"),
        ("quotes", "say \"hi\" and 'bye'"),
        ("backslash", "C:\\path\\to \\\" \\n"),
        ("newlines", "line 1\nline 2\r\nend\n"),
        ("controls", "\t\u{1}\u{1f}\u{7f}"),
        ("json-like", "{\"a\": 1}"),
        ("number-like", "8080"),
        ("spaces", "  padded  "),
    ];
    for (key, value) in values {
        assert_eq!(kv_ok(dir.path(), "app.json", &["set", "", key, value]), "ok\n", "{key}");
    }
    // NUL cannot be an argument: set through hex.
    assert_eq!(kv_ok(dir.path(), "app.json", &["set-bytes", "", "nul", "61006200"]), "ok\n");
    let keys: Vec<&str> = values.iter().map(|(key, _)| *key).chain(["nul"]).collect();
    let mut args = vec!["get-hex", ""];
    args.extend(&keys);
    let expected: String = values.iter().map(|(_, value)| hex(value.as_bytes()) + "\n").collect();
    assert_eq!(kv_ok(dir.path(), "app.json", &args), expected + "61006200\n");
    // On disk: a JSON string member per value, in the order they were set.
    let doc = read_json(&dir.path().join("app.json"));
    for (key, value) in values {
        assert_eq!(doc[key], Value::String(value.to_owned()), "{key}");
    }
    assert_eq!(doc["nul"], Value::String("a\0b\0".to_owned()));
    let listed = kv_ok(dir.path(), "app.json", &["keys", ""]);
    assert_eq!(listed, format!("{keys:?} cursor None\n"));
    // A string that looks like a number or an object stays a string for the CLI.
    assert_eq!(run_ok(confine(dir.path()).args(["get", "app.json", "number-like"])).trim(), "\"8080\"");
    assert_eq!(run_ok(confine(dir.path()).args(["get", "app.json", "json-like"])).trim(), r#""{\"a\": 1}""#);
    // get-many returns the same bytes.
    let out = kv_ok(dir.path(), "app.json", &["get-many", "", "multibyte", "quotes", "empty"]);
    assert_eq!(out, "multibyte=héllo wörld ✓ 日本語 🦀\nquotes=say \"hi\" and 'bye'\nempty=\n");
}

#[test]
fn members_that_are_not_strings_read_as_their_compact_json() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in [
        ("port", "8080"),
        ("object", r#"{"a": 1, "b": [true, null, "x"]}"#),
        ("flag", "true"),
        ("nothing", "null"),
        ("ratio", "1.5"),
        ("negative", "-3"),
        ("list", "[1, [2, {}]]"),
        ("name", "\"web\""),
    ] {
        run_ok(confine(dir.path()).args(["set", "app.json", key, value]));
    }
    let out = kv_ok(
        dir.path(),
        "app.json",
        &["get", "", "port", "object", "flag", "nothing", "ratio", "negative", "list", "name", "missing"],
    );
    assert_eq!(out, "8080\n{\"a\":1,\"b\":[true,null,\"x\"]}\ntrue\nnull\n1.5\n-3\n[1,[2,{}]]\nweb\n<none>\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["exists", "", "nothing"]), "true\n", "a null member exists");
    let out = kv_ok(dir.path(), "app.json", &["get-many", "", "object", "missing", "nothing"]);
    assert_eq!(out, "object={\"a\":1,\"b\":[true,null,\"x\"]}\n<none>\nnothing=null\n");
    // A document written by hand, spaced out, reads compact; keys are taken literally.
    std::fs::write(
        dir.path().join("hand.json"),
        "{\n  \"a\" : { \"b\" :  1 },\n  \"a.b\": \"dotted\",\n  \"x[0]\": [ 1 , 2 ]\n}\n",
    )
    .unwrap();
    let out = kv_ok(dir.path(), "app.json", &["get", "hand.json", "a", "a.b", "x[0]", "x", "b"]);
    assert_eq!(out, "{\"b\":1}\ndotted\n[1,2]\n<none>\n<none>\n");
    // Writing a literal key leaves the nested member alone.
    assert_eq!(kv_ok(dir.path(), "app.json", &["set", "hand.json", "a.b", "new"]), "ok\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["set", "hand.json", "y[1]", "z"]), "ok\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["delete", "hand.json", "x[0]"]), "ok\n");
    assert_eq!(read_json(&dir.path().join("hand.json")), json!({"a": {"b": 1}, "a.b": "new", "y[1]": "z"}));
    // A missing document is an empty bucket; reading it creates nothing.
    let before = snapshot(dir.path());
    assert_eq!(kv_ok(dir.path(), "app.json", &["get", "missing.json", "a"]), "<none>\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["exists", "missing.json", "a"]), "false\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["keys", "missing.json"]), "[] cursor None\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["get-many", "missing.json", "a", "b"]), "<none>\n<none>\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["open", "missing.json", "sub-less.json"]), "ok\nok\n");
    assert_eq!(snapshot(dir.path()), before, "reads and opens changed the directory");
    // Its first write creates it.
    assert_eq!(kv_ok(dir.path(), "app.json", &["set", "missing.json", "a", "1"]), "ok\n");
    assert_eq!(read_json(&dir.path().join("missing.json")), json!({"a": "1"}));
}

#[test]
fn a_value_that_is_not_utf8_is_refused_naming_the_key_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(confine(dir.path()).args(["set", "app.json", "v", "1"]));
    let before = documents(dir.path());
    for (key, bytes) in [("bad-key", "ff"), ("latin1", "e9"), ("overlong", "c0af"), ("surrogate", "eda080")] {
        let out = kv_refused(dir.path(), "app.json", &["set-bytes", "", key, bytes]);
        let text = other_text(single_line(&out));
        assert!(text.contains(key), "the refusal names the key {key}: {text}");
        assert_eq!(documents(dir.path()), before, "{key}: a refused value changed the files");
    }
    // On a missing document, nothing is created either.
    let out = kv_refused(dir.path(), "app.json", &["set-bytes", "new.json", "new-key", "616263ff"]);
    assert!(other_text(single_line(&out)).contains("new-key"), "{out}");
    assert!(!dir.path().join("new.json").exists(), "a refused value created the document");
    assert_eq!(documents(dir.path()), before);
    assert_eq!(kv_ok(dir.path(), "app.json", &["get", "", "v", "bad-key"]), "1\n<none>\n");
}

#[test]
fn increment_is_exact_on_missing_keys_integers_and_digit_strings() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("app.json");
    // A missing key starts at 0: the result is the delta.
    assert_eq!(kv_ok(dir.path(), "app.json", &["incr", "", "hits", "7"]), "7\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["incr", "", "hits", "3"]), "10\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["incr", "", "hits", "1", "25"]), "35\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["incr", "", "zero", "0"]), "0\n");
    assert_eq!(read_json(&doc)["hits"], json!(35));
    assert_eq!(read_json(&doc)["zero"], json!(0));
    // An integer written by the CLI; a string of digits written by a component.
    run_ok(confine(dir.path()).args(["set", "app.json", "i", "41"]));
    assert_eq!(kv_ok(dir.path(), "app.json", &["incr", "", "i", "1"]), "42\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["set", "", "s", "123"]), "ok\n");
    assert_eq!(read_json(&doc)["s"], json!("123"));
    assert_eq!(kv_ok(dir.path(), "app.json", &["incr", "", "s", "877"]), "1000\n");
    assert_eq!(read_json(&doc)["s"], json!(1000), "an increment leaves a JSON integer");
    assert_eq!(run_ok(confine(dir.path()).args(["incr", "app.json", "s"])).trim(), "1001");
    assert_eq!(kv_ok(dir.path(), "app.json", &["get", "", "s", "hits"]), "1001\n35\n");
    // Exact up to u64::MAX, refused past it with nothing written.
    run_ok(confine(dir.path()).args(["set", "app.json", "big", "18446744073709551613"]));
    assert_eq!(kv_ok(dir.path(), "app.json", &["incr", "", "big", "2"]), "18446744073709551615\n");
    assert_eq!(read_json(&doc)["big"].as_u64(), Some(u64::MAX));
    assert_eq!(kv_ok(dir.path(), "app.json", &["set", "", "bigs", "18446744073709551615"]), "ok\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["set", "", "huges", "99999999999999999999999"]), "ok\n");
    let before = std::fs::read(&doc).unwrap();
    for (key, delta) in [("big", "1"), ("bigs", "1"), ("hits", "18446744073709551600"), ("huges", "1")] {
        let out = kv_refused(dir.path(), "app.json", &["incr", "", key, delta]);
        assert!(other_text(single_line(&out)).contains(key), "{key} + {delta}: {out}");
        assert_eq!(std::fs::read(&doc).unwrap(), before, "{key} + {delta}: an overflow changed the document");
    }
    // Members that are not such numbers are refused, naming the key.
    for (key, value) in [
        ("word", "\"abc\""),
        ("yes", "true"),
        ("half", "1.5"),
        ("mixed", "\"12a\""),
        ("blank", "\"\""),
        ("signed", "\"-1\""),
        ("decimal", "\"1.5\""),
        ("none", "null"),
        ("object", r#"{"a": 1}"#),
        ("list", "[1]"),
    ] {
        run_ok(confine(dir.path()).args(["set", "app.json", key, value]));
        let before = std::fs::read(&doc).unwrap();
        let out = kv_refused(dir.path(), "app.json", &["incr", "", key, "1"]);
        assert!(other_text(single_line(&out)).contains(key), "{key} = {value}: {out}");
        assert_eq!(std::fs::read(&doc).unwrap(), before, "{key} = {value}: a refused increment wrote");
    }
}

#[test]
fn batches_are_all_or_nothing_and_answer_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("app.json");
    assert_eq!(kv_ok(dir.path(), "app.json", &["set-many", "", "a", "1", "b", "é", "c", "hex:00c3bf7f"]), "ok\n");
    assert_eq!(read_json(&doc), json!({"a": "1", "b": "é", "c": "\u{0}ÿ\u{7f}"}));
    let before = documents(dir.path());
    // One value that is not UTF-8: nothing of the batch is written, not even the first.
    let out = kv_refused(dir.path(), "app.json", &["set-many", "", "a", "changed", "bad", "hex:ff", "d", "new"]);
    assert!(other_text(single_line(&out)).contains("bad"), "{out}");
    assert_eq!(documents(dir.path()), before, "a refused batch wrote part of itself");
    let out = kv_refused(dir.path(), "app.json", &["set-many", "fresh.json", "x", "1", "y-bad", "hex:80"]);
    assert!(other_text(single_line(&out)).contains("y-bad"), "{out}");
    assert!(!dir.path().join("fresh.json").exists(), "a refused batch created its document");
    // get-many: an answer per key, in the order asked, the same key twice too.
    let out = kv_ok(dir.path(), "app.json", &["get-many", "", "c", "nope", "a", "b", "a"]);
    assert_eq!(out, format!("c={}\n<none>\na=1\nb=é\na=1\n", "\u{0}ÿ\u{7f}"));
    assert_eq!(kv_ok(dir.path(), "app.json", &["get-many", ""]), "", "an empty batch answers nothing");
    // delete-many: present and missing keys alike.
    assert_eq!(kv_ok(dir.path(), "app.json", &["delete-many", "", "a", "missing", "c"]), "ok\n");
    assert_eq!(read_json(&doc), json!({"b": "é"}));
    // set-many overwrites in place and appends new keys.
    assert_eq!(kv_ok(dir.path(), "app.json", &["set-many", "", "z", "26", "b", "2"]), "ok\n");
    assert_eq!(run_ok(confine(dir.path()).args(["get", "app.json"])).trim(), r#"{"b":"2","z":"26"}"#);
}

#[test]
fn list_keys_follow_document_order_and_the_cursor_is_an_offset() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.json"),
        r#"{"zeta": 1, "alpha": {"nested": true}, "mid": "m", "a.b": 2, "x[0]": [], "": "empty key"}"#,
    )
    .unwrap();
    let all = ["zeta", "alpha", "mid", "a.b", "x[0]", ""];
    assert_eq!(kv_ok(dir.path(), "app.json", &["keys", ""]), format!("{all:?} cursor None\n"));
    for offset in 0..=all.len() {
        let out = kv_ok(dir.path(), "app.json", &["keys", "", &offset.to_string()]);
        assert_eq!(out, format!("{:?} cursor None\n", &all[offset..]), "offset {offset}");
    }
    assert_eq!(kv_ok(dir.path(), "app.json", &["keys", "", "99"]), "[] cursor None\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["keys", "", "18446744073709551615"]), "[] cursor None\n");
    // New keys go last; a rewritten key keeps its place.
    assert_eq!(kv_ok(dir.path(), "app.json", &["set", "", "new", "1"]), "ok\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["set", "", "alpha", "2"]), "ok\n");
    let after = ["zeta", "alpha", "mid", "a.b", "x[0]", "", "new"];
    assert_eq!(kv_ok(dir.path(), "app.json", &["keys", ""]), format!("{after:?} cursor None\n"));
    std::fs::write(dir.path().join("empty.json"), "{}").unwrap();
    assert_eq!(kv_ok(dir.path(), "app.json", &["keys", "empty.json"]), "[] cursor None\n");
    assert_eq!(kv_ok(dir.path(), "app.json", &["keys", "empty.json", "3"]), "[] cursor None\n");
}
