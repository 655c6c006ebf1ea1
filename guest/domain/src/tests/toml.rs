//! Unit tests of `toml.rs`: each change on a TOML text, the bytes it keeps, what it refuses.

use crate::error::ErrorKind;
use crate::format::Format;
use crate::service::{Change, apply, apply_all, value_at};

const CARGO: &str = r#"# The workspace's manifest.
[package]
name = "demo"   # kept
version = "0.1.0"
edition = "2024"
flags = 0xff
big = 1_000

[dependencies]
serde = { version = "1", features = ["derive"] }
anyhow = "1"

[[bin]]
name = "one"

[[bin]]
name = "two"

[profile.release]
lto = true
when = 1979-05-27T07:32:00Z
"#;

fn run(text: &str, change: Change) -> Result<(String, String), crate::error::Error> {
    let (splice, answer) = apply(Format::Toml, "Cargo.toml", Some(text), change)?;
    Ok((splice.apply_to(text).expect("the splice fits"), answer))
}

fn set(text: &str, key: &str, value: &str) -> String {
    run(text, Change::Set { key: key.into(), value: value.into() }).expect("set").0
}

/// The lines of `new` that are not lines of `old` at the same place, and the reverse.
fn changed_lines(old: &str, new: &str) -> (Vec<String>, Vec<String>) {
    let (old, new): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..].iter().rev().zip(new[prefix..].iter().rev()).take_while(|(a, b)| a == b).count();
    let strings = |lines: &[&str]| lines.iter().map(|line| (*line).to_owned()).collect();
    (strings(&old[prefix..old.len() - suffix]), strings(&new[prefix..new.len() - suffix]))
}

fn get(text: &str, key: &str) -> String {
    value_at(Format::Toml, "Cargo.toml", text, &crate::service::parse_key("Cargo.toml", key).expect("key"))
        .expect("get")
}

#[test]
fn reads_as_json() {
    assert_eq!(get(CARGO, "package.name"), r#""demo""#);
    assert_eq!(get(CARGO, "package.flags"), "255");
    assert_eq!(get(CARGO, "dependencies.serde.features"), r#"["derive"]"#);
    assert_eq!(get(CARGO, "bin[1].name"), r#""two""#);
    assert_eq!(get(CARGO, "profile.release.when"), r#""1979-05-27T07:32:00Z""#);
}

#[test]
fn a_set_changes_one_line_and_keeps_its_comment() {
    let new = set(CARGO, "package.name", r#""other""#);
    assert_eq!(
        changed_lines(CARGO, &new),
        (vec![r#"name = "demo"   # kept"#.into()], vec![r#"name = "other"   # kept"#.into()])
    );
    let new = set(CARGO, "package.version", r#""0.2.0""#);
    assert_eq!(changed_lines(CARGO, &new).1, vec![r#"version = "0.2.0""#.to_owned()]);
}

#[test]
fn setting_what_is_there_changes_no_byte() {
    for key in ["package.flags", "package.big", "profile.release.when", "dependencies.serde", "bin", "package", ""] {
        let value = get(CARGO, key);
        assert_eq!(set(CARGO, key, &value), CARGO, "{key} = {value}");
    }
}

#[test]
fn a_date_time_set_to_another_stays_one() {
    let new = set(CARGO, "profile.release.when", r#""2000-01-01T00:00:00Z""#);
    assert!(new.contains("when = 2000-01-01T00:00:00Z\n"), "{new}");
    let new = set(CARGO, "profile.release.when", r#""not a date""#);
    assert!(new.contains(r#"when = "not a date""#), "{new}");
}

#[test]
fn a_new_key_follows_its_neighbours() {
    let new = set(CARGO, "package.license", r#""MIT""#);
    assert_eq!(changed_lines(CARGO, &new), (vec![], vec![r#"license = "MIT""#.to_owned()]));
    assert!(new.contains("big = 1_000\nlicense = \"MIT\"\n"), "{new}");
    let new = set(CARGO, "dependencies.serde.optional", "true");
    assert!(new.contains(r#"serde = { version = "1", features = ["derive"], optional = true }"#), "{new}");
    let new = set(CARGO, "package.metadata.docs", r#"{"all": true}"#);
    assert!(new.contains("[package.metadata.docs]\nall = true\n"), "{new}");
    assert_eq!(get(&new, "package.metadata.docs.all"), "true");
    let new = set("a.b = 1\n", "a.c", "2");
    assert_eq!(new, "a.b = 1\na.c = 2\n");
    let new = set(CARGO, "bin[2]", r#"{"name": "three"}"#);
    assert!(new.ends_with("[[bin]]\nname = \"three\"\n") || new.contains("[[bin]]\nname = \"three\"\n"), "{new}");
    assert_eq!(get(&new, "bin[2].name"), r#""three""#);
}

#[test]
fn unset_incr_merge() {
    let (new, _) = run(CARGO, Change::Unset { key: "dependencies.anyhow".into() }).expect("unset");
    assert_eq!(changed_lines(CARGO, &new), (vec![r#"anyhow = "1""#.to_owned()], vec![]));
    let (new, answer) = run(CARGO, Change::Incr { key: "package.big".into(), delta: "1".into() }).expect("incr");
    assert_eq!(answer, "1001");
    assert_eq!(changed_lines(CARGO, &new), (vec!["big = 1_000".to_owned()], vec!["big = 1001".to_owned()]));
    let patch = r#"{"lto": null, "opt-level": 3}"#;
    let (new, _) = run(CARGO, Change::Merge { key: "profile.release".into(), patch: patch.into() }).expect("merge");
    assert_eq!(get(&new, "profile.release"), r#"{"when":"1979-05-27T07:32:00Z","opt-level":3}"#);
    let (new, _) = run(CARGO, Change::Unset { key: "bin[0]".into() }).expect("unset");
    assert_eq!(get(&new, "bin"), r#"[{"name":"two"}]"#);
    let (new, _) = run(CARGO, Change::Unset { key: "dependencies.serde.features[0]".into() }).expect("unset");
    assert_eq!(get(&new, "dependencies.serde.features"), "[]");
}

#[test]
fn refusals_name_the_document_and_write_nothing() {
    let refused = |change| run(CARGO, change).expect_err("refused");
    let e = refused(Change::Set { key: "package.name".into(), value: "null".into() });
    assert_eq!(e.kind, ErrorKind::InvalidValue);
    assert!(e.detail.starts_with("Cargo.toml: ") && e.detail.contains("null"), "{e}");
    let e = refused(Change::Set { key: "package.big".into(), value: "9223372036854775808".into() });
    assert!(e.detail.contains("9223372036854775807"), "{e}");
    let e = refused(Change::Incr { key: "package.big".into(), delta: "9223372036854775807".into() });
    assert_eq!(e.kind, ErrorKind::TypeMismatch, "{e}");
    let e = refused(Change::Incr { key: "package.name".into(), delta: "1".into() });
    assert_eq!(e.kind, ErrorKind::TypeMismatch, "{e}");
    for bad in ["a = 1\na = 2\n", "[a]\nx = 1\n[a]\ny = 2\n", "a = \n", "a = nan\n", "x = 99999999999999999999\n"] {
        let e = apply(Format::Toml, "c.toml", Some(bad), Change::Set { key: "b".into(), value: "1".into() })
            .expect_err(bad);
        assert_eq!(e.kind, ErrorKind::InvalidDocument, "{bad}: {e}");
        assert!(e.detail.starts_with("c.toml: "), "{bad}: {e}");
        assert!(e.detail.contains("line") || e.detail.contains("key `a`"), "{bad}: {e}");
    }
}

#[test]
fn a_new_document_is_toml() {
    let (splice, _) =
        apply(Format::Toml, "new.toml", None, Change::Set { key: "server.port".into(), value: "8080".into() })
            .expect("set");
    assert_eq!(splice.text, "[server]\nport = 8080\n");
    let (splice, _) =
        apply(Format::Toml, "new.toml", None, Change::Set { key: "tool.lint.width".into(), value: "100".into() })
            .expect("set");
    assert_eq!(splice.text, "[tool.lint]\nwidth = 100\n");
    let (splice, _) =
        apply(Format::Toml, "new.toml", None, Change::Set { key: "a.b".into(), value: "{}".into() }).expect("set");
    assert_eq!(splice.text, "[a.b]\n");
    let changes = vec![
        Change::Set { key: "name".into(), value: r#""x""#.into() },
        Change::Incr { key: "count".into(), delta: "2".into() },
    ];
    let (splice, answers) = apply_all(Format::Toml, "new.toml", None, changes).expect("update");
    assert_eq!(splice.text, "name = \"x\"\ncount = 2\n");
    assert_eq!(answers, ["", "2"]);
}

#[test]
fn an_appended_element_is_written_as_the_last_one() {
    assert_eq!(set("a = [1, 2]\n", "a[2]", "3"), "a = [1, 2, 3]\n");
    assert_eq!(set("a = [1]\n", "a[1]", "2"), "a = [1, 2]\n");
    assert_eq!(set("a = [ 1 ]\n", "a[1]", "2"), "a = [ 1, 2 ]\n");
    assert_eq!(set("a = [\n  1,\n  2,\n]\n", "a[2]", "3"), "a = [\n  1,\n  2,\n  3,\n]\n");
    assert_eq!(set("a = [\n  1, # one\n]\n", "a[1]", "2"), "a = [\n  1, # one\n  2,\n]\n");
    assert_eq!(set("a = []\n", "a[0]", "1"), "a = [1]\n");
    assert_eq!(set("t = { x = 1 }\n", "t.y", "2"), "t = { x = 1, y = 2 }\n");
}

#[test]
fn an_element_appended_after_a_commented_one_gets_no_copy_of_the_comment() {
    let text = "a = [\n  1,   # one\n  2,\n]\n";
    assert_eq!(set(text, "a[2]", "3"), "a = [\n  1,   # one\n  2,\n  3,\n]\n");
}

#[test]
fn a_new_key_of_the_root_goes_below_the_file_s_header_comment() {
    let text = "# the app\n# more\n\n# of the server\n[server]\nport = 1\n";
    assert_eq!(set(text, "hits", "1"), "# the app\n# more\n\nhits = 1\n# of the server\n[server]\nport = 1\n");
    // Without a blank line the comment is the table's, and the key goes above it.
    assert_eq!(set("# the server\n[server]\n", "hits", "1"), "hits = 1\n# the server\n[server]\n");
    // Where the root has keys already, after them.
    assert_eq!(set("# head\n\nname = 1\n[server]\n", "hits", "1"), "# head\n\nname = 1\nhits = 1\n[server]\n");
}

#[test]
fn a_removed_element_takes_its_line_and_its_comment() {
    let unset = |text: &str, key: &str| run(text, Change::Unset { key: key.into() }).expect("unset").0;
    let text = "a = [\n  1,   # one\n  # about two\n  2,\n  3, # three\n]\n";
    assert_eq!(unset(text, "a[0]"), "a = [\n  # about two\n  2,\n  3, # three\n]\n");
    assert_eq!(unset(text, "a[2]"), "a = [\n  1,   # one\n  # about two\n  2,\n]\n");
    assert_eq!(unset("a = [1, 2, 3]\n", "a[0]"), "a = [2, 3]\n");
    assert_eq!(unset("a = [1, 2, 3]\n", "a[1]"), "a = [1, 3]\n");
    assert_eq!(unset("a = [1, 2, 3]\n", "a[2]"), "a = [1, 2]\n");
}

#[test]
fn an_array_emptied_is_written_empty_and_filled_again_on_one_line() {
    let unset = |text: &str, key: &str| run(text, Change::Unset { key: key.into() }).expect("unset").0;
    let empty = unset("a = [\n  1, # one\n]\n", "a[0]");
    assert_eq!(empty, "a = []\n");
    assert_eq!(set(&empty, "a[0]", "2"), "a = [2]\n");
}

#[test]
fn the_end_of_the_file_and_its_line_endings_stay_as_they_are() {
    let text = "# c\n[a]\nb = 1 # x\nc = [1, 2]";
    assert_eq!(set(text, "a.b", "1"), text, "no newline added at the end");
    assert_eq!(set(text, "a.b", "2"), text.replace("b = 1", "b = 2"));
    assert_eq!(set(text, "a.c[2]", "3"), text.replace("[1, 2]", "[1, 2, 3]"));
    let crlf = "# c\r\n[a]\r\nb = 1 # x\r\nc = 2\r\n";
    assert_eq!(set(crlf, "a.b", "2"), crlf.replace("b = 1", "b = 2"));
}

#[test]
fn a_table_emptied_by_an_unset_is_still_there() {
    let unset = |text: &str, key: &str| run(text, Change::Unset { key: key.into() }).expect("unset").0;
    assert_eq!(get(&unset("[a.a]\n", "a.a"), "a"), "{}");
    assert_eq!(get(&unset("a.b = 1\n", "a.b"), "a"), "{}");
    assert_eq!(get(&unset("[x]\na.b = 1\n", "x.a.b"), "x"), r#"{"a":{}}"#);
}

#[test]
fn an_array_of_tables_given_anything_else_becomes_an_array() {
    let text = "[[t]]\nx = 1\n\n[[t]]\nx = 2\n";
    assert_eq!(get(&set(text, "t[2]", "0"), "t"), r#"[{"x":1},{"x":2},0]"#);
    assert_eq!(get(&set(text, "t", "[false, false]"), "t"), "[false,false]");
    let emptied = run("x = {}\n[[t]]\nz = 1\n", Change::Unset { key: "t[0]".into() }).expect("unset").0;
    assert_eq!(emptied, "x = {}\nt = []\n");
    assert_eq!(set(text, "t[2]", r#"{"x": 3}"#), "[[t]]\nx = 1\n\n[[t]]\nx = 2\n\n[[t]]\nx = 3\n");
}

#[test]
fn an_increment_by_a_string_is_refused_as_for_json() {
    let e = run("a = 1\n", Change::Incr { key: "a".into(), delta: "\"x\"".into() }).expect_err("refused");
    assert_eq!(e.kind, ErrorKind::InvalidValue, "{e}");
}

#[test]
fn a_file_of_both_line_endings_is_given_back_when_nothing_changes() {
    let text = "# c\r\n[a]\n";
    assert_eq!(set(text, "", r#"{"a": {}}"#), text);
    assert_eq!(set(text, "a", "{}"), text);
}

#[test]
fn a_change_that_would_nest_deeper_than_toml_is_read_is_refused() {
    let deep = (0..70).map(|i| format!("k{i}")).collect::<Vec<_>>().join(".");
    let e = run("#", Change::Incr { key: deep, delta: "1".into() }).expect_err("refused");
    assert_eq!(e.kind, ErrorKind::TypeMismatch, "an increment that cannot be written: {e}");
    assert!(e.detail.contains("69 levels") && e.detail.contains("64"), "{e}");
    let deepest = (0..65).map(|i| format!("k{i}")).collect::<Vec<_>>().join(".");
    assert_eq!(
        get(&run("#", Change::Incr { key: deepest.clone(), delta: "1".into() }).expect("64 levels").0, &deepest),
        "1"
    );
    let nested = format!("{}1{}", "[".repeat(70), "]".repeat(70));
    let e = run("a = 1\n", Change::Set { key: "b".into(), value: nested }).expect_err("refused");
    assert_eq!(e.kind, ErrorKind::InvalidValue, "{e}");
}

#[test]
fn a_document_deeper_than_a_change_may_make_one_is_still_changed_where_it_does_not_deepen() {
    let key = (0..70).map(|i| format!("k{i}")).collect::<Vec<_>>().join(".");
    let text = format!("{key} = 1\nn = 1\n");
    assert_eq!(set(&text, "", &get(&text, "")), text);
    assert_eq!(set(&text, &key, "2"), text.replace(" = 1\nn", " = 2\nn"));
    assert_eq!(get(&run(&text, Change::Incr { key: "n".into(), delta: "1".into() }).expect("incr").0, "n"), "2");
}
