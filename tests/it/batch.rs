//! `confine batch`: one process answering commands from stdin as each is done, each line
//! its own update, failures confined to their line, and batches in several processes
//! losing no update beside single commands.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{confine, figure, run_ok, run_with_input};

fn batch(dir: &std::path::Path, json: bool) -> Command {
    let mut command = confine(dir);
    if json {
        command.arg("--json");
    }
    command.arg("batch").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// Runs a batch of `lines`; its stdout, stderr and exit status.
fn run_batch(dir: &std::path::Path, json: bool, lines: &str) -> (String, String, Option<i32>) {
    run_with_input(&mut batch(dir, json), lines)
}

#[test]
fn each_line_is_answered_as_it_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = batch(dir.path(), false).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut answers = BufReader::new(child.stdout.take().unwrap()).lines();
    // The next line is written only once the answer to the last has come back.
    for n in 1..=5 {
        writeln!(stdin, "incr app.json n").unwrap();
        assert_eq!(answers.next().unwrap().unwrap(), n.to_string());
    }
    writeln!(stdin, "set app.json name web").unwrap();
    assert_eq!(answers.next().unwrap().unwrap(), "ok");
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert_eq!(run_ok(confine(dir.path()).args(["get", "app.json"])), "{\"n\":5,\"name\":\"web\"}\n");
}

#[test]
fn a_failed_line_is_its_own_and_the_status_is_the_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let lines = "set app.json a 1\n\
                 # a comment, and a blank line\n\
                 \n\
                 incr app.json a {\n\
                 get app.json missing\n\
                 incr app.json a 2\n\
                 set app.json \"two words\" 'and more'\n\
                 set app.json \"unbalanced\n\
                 frobnicate app.json\n\
                 batch\n\
                 get app.json\n";
    let (stdout, stderr, code) = run_batch(dir.path(), false, lines);
    assert_eq!(code, Some(2), "the first failure was bad input (line 4): {stderr}");
    let answers: Vec<&str> = stdout.lines().collect();
    assert_eq!(answers.len(), 9, "one answer per command line: {stdout}");
    assert_eq!(answers[0], "ok");
    assert!(answers[1].starts_with("error: app.json: the increment is not valid JSON"), "{stdout}");
    assert_eq!(answers[2], "error: app.json: key `missing` not found");
    assert_eq!((answers[3], answers[4]), ("3", "ok"));
    assert!(answers[5].starts_with("error: unbalanced quotes"), "{stdout}");
    assert!(answers[6].contains("unrecognized subcommand 'frobnicate'"), "{stdout}");
    assert!(answers[7].contains("cannot run inside a batch"), "{stdout}");
    assert_eq!(answers[8], "{\"a\":3,\"two words\":\"and more\"}");
    for number in [4, 5, 8, 9, 10] {
        assert!(stderr.contains(&format!("confine: line {number}: ")), "line {number} named on stderr: {stderr}");
    }
}

#[test]
fn sigint_stops_the_batch_before_its_next_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = batch(dir.path(), false).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut answers = BufReader::new(child.stdout.take().unwrap()).lines();
    writeln!(stdin, "incr app.json n").unwrap();
    assert_eq!(answers.next().unwrap().unwrap(), "1");
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    writeln!(stdin, "incr app.json n").unwrap();
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(130), "128 + SIGINT");
    assert_eq!(answers.next().map(Result::unwrap), None, "the line after the signal is not answered");
    assert_eq!(run_ok(confine(dir.path()).args(["get", "app.json", "n"])), "1\n", "nor run");
}

#[test]
fn with_json_every_line_is_one_object() {
    let dir = tempfile::tempdir().unwrap();
    let (stdout, _, code) =
        run_batch(dir.path(), true, "set app.json a 1\nincr app.json a\nget app.json nope\nls\ncat app.json\n");
    assert_eq!(code, Some(3));
    let objects: Vec<Value> = stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(objects[..2], [json!({"ok": true}), json!({"ok": true, "value": 2})]);
    assert_eq!(objects[2]["error"]["kind"], json!("not-found"));
    assert_eq!(objects[3], json!({"ok": true, "documents": ["app.json"]}));
    assert_eq!(objects[4], json!({"ok": true, "document": {"a": 2}}));
    assert_eq!(objects.len(), 5);
}

#[test]
fn batches_in_several_processes_lose_no_update_beside_single_commands() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (batches, lines, singles, single_updates) = (4, 100, 2, 25);
    let input = "incr app.json n\n".repeat(lines);
    std::thread::scope(|s| {
        for _ in 0..batches {
            s.spawn(|| {
                let (stdout, stderr, code) = run_batch(d, false, &input);
                assert_eq!(code, Some(0), "{stderr}");
                let values: Vec<u64> = stdout.lines().map(|line| line.parse().unwrap()).collect();
                assert_eq!(values.len(), lines);
                assert!(values.windows(2).all(|w| w[0] < w[1]), "a batch's own answers only grow");
            });
        }
        for _ in 0..singles {
            s.spawn(|| {
                for _ in 0..single_updates {
                    run_ok(confine(d).args(["incr", "app.json", "n"]));
                }
            });
        }
    });
    let total = batches * lines + singles * single_updates;
    assert_eq!(run_ok(confine(d).args(["get", "app.json", "n"])), format!("{total}\n"));
    figure(
        "batch",
        &format!(
            "{batches} batch processes x {lines} incr lines and {singles} x {single_updates} single confine incr on one \
             document: exactly {total}, every line answered in order"
        ),
    );
}
