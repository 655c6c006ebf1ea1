//! Concurrency across processes, and refusals: names outside DIR, limits, no grant, plugins.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use super::*;

#[test]
fn components_the_cli_and_a_python_lockf_writer_increment_one_document_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (components, per_component, cli, python) = (4usize, 100u64, 50u64, 50u64);
    let started = Instant::now();
    let options = ["--timeout", "60s", "--budget", "120s"];
    let mut children: Vec<std::process::Child> = (0..components)
        .map(|_| {
            probe_command(
                dir.path(),
                &options,
                Some("counter.json"),
                &["incr", "", "n", "1", &per_component.to_string()],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let path = dir.path().to_owned();
    let cli_loop = std::thread::spawn(move || {
        for _ in 0..cli {
            run_ok(confine(&path).args(["--timeout", "60s", "incr", "counter.json", "n"]));
        }
    });
    let mut python_writer = Command::new("python3")
        .args(["-c", OTHER_LOCKER, "write", "lockf"])
        .arg(dir.path().join("counter.json"))
        .arg(python.to_string())
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 is needed for the lockf interoperability tests");
    // Meanwhile a component reads without a lock: always a whole document, never going back.
    let (mut reads, mut last) = (0u64, 0u64);
    let mut reader_calls = 0;
    while children.iter_mut().any(|c| c.try_wait().unwrap().is_none()) || !cli_loop.is_finished() {
        let output = probe_command(dir.path(), &[], Some("counter.json"), &["get", "", "n"]).output().unwrap();
        let out = String::from_utf8(output.stdout).unwrap();
        reader_calls += counts(&String::from_utf8_lossy(&output.stderr)).0;
        assert!(output.status.success(), "a lock-free read failed: {out}");
        let seen = match out.trim() {
            "<none>" => 0,
            n => n.parse::<u64>().unwrap_or_else(|_| panic!("a torn or odd value: {out:?}")),
        };
        assert!(seen >= last, "a read went back from {last} to {seen}");
        (last, reads) = (seen, reads + 1);
    }
    let mut calls = reader_calls;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "a component's increments failed: {stderr}");
        let last: u64 = String::from_utf8(output.stdout).unwrap().trim().parse().unwrap();
        assert!(last >= per_component && last <= components as u64 * per_component + cli + python);
        calls += counts(&stderr).0;
    }
    cli_loop.join().unwrap();
    assert!(python_writer.wait().unwrap().success());
    let expected = components as u64 * per_component + cli + python;
    assert_eq!(read_json(&dir.path().join("counter.json")), json!({"n": expected}));
    assert_eq!(run_ok(confine(dir.path()).args(["get", "counter.json", "n"])).trim(), expected.to_string());
    assert_no_temp_files(dir.path());
    assert!(!dir.path().join("counter.json.python-writer.partial").exists());
    let seconds = started.elapsed().as_secs_f64();
    record(
        calls,
        0,
        components as u64 + reads,
        Some(format!(
            "{components}x{per_component} component increments + {cli} CLI incr + {python} Python lockf updates \
             on one document exact ({expected}), {reads} lock-free component reads never torn, in {seconds:.1} s"
        )),
    );
}

#[test]
fn names_outside_the_rules_are_refused_and_nothing_changes_inside_or_outside() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.json"), "{\"secret\": \"s3cr3t\"}").unwrap();
    std::fs::write(dir.path().join("app.json"), "{\"v\": \"1\"}").unwrap();
    std::fs::write(dir.path().join("x.lock"), "").unwrap();
    std::fs::write(dir.path().join(".x.0123456789abcdef.tmp"), "{}").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.json"), dir.path().join("leak.json")).unwrap();
    std::os::unix::fs::symlink("../../../../../../../../etc", dir.path().join("sub/etc")).unwrap();
    let outside_name = outside.path().file_name().unwrap().to_str().unwrap().to_owned();
    let outside_abs = outside.path().join("secret.json").to_str().unwrap().to_owned();
    let dotdot_outside = format!("../{outside_name}/secret.json");
    let long_file = format!("{}.json", "f".repeat(200));
    let long_name = format!("{}/x.json", ["d"; 600].join("/"));
    let denied: Vec<&str> = vec![
        "..",
        "../x.json",
        "../../../../etc/passwd",
        &dotdot_outside,
        "sub/../app.json",
        "sub/../../x.json",
        "/etc/passwd",
        "/x.json",
        &outside_abs,
        "out/secret.json",
        "out/new.json",
        "leak.json",
        "sub/etc/passwd",
        "x.lock",
        "app.json.lock",
        "sub/y.lock",
        ".x.0123456789abcdef.tmp",
        ".app.json.0123456789abcdef.tmp",
        "sub/.z.fedcba9876543210.tmp",
        ".",
        "./app.json",
        "sub/./x.json",
        "sub//x.json",
        "sub/",
        "/",
        "missing/../x.json",
        &long_file,
        &long_name,
    ];
    let inside_before = snapshot(dir.path());
    let outside_before = snapshot(outside.path());
    // Each open, in one run.
    let mut args = vec!["open"];
    args.extend(&denied);
    args.push("missing/x.json");
    args.push("missing/deeper/x.json");
    let out = kv_refused(dir.path(), "app.json", &args);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), denied.len() + 2, "{out}");
    for (name, line) in denied.iter().zip(&lines) {
        assert_eq!(*line, "error: Error::AccessDenied", "open {name:?}");
    }
    assert_eq!(lines[denied.len()..], ["error: Error::NoSuchStore", "error: Error::NoSuchStore"], "{out}");
    // And a write through each: refused at the open, nothing written anywhere.
    for name in denied.iter().chain(&["missing/x.json"]) {
        let out = kv_refused(dir.path(), "app.json", &["set-many", name, "secret", "overwritten", "n", "1"]);
        assert!(out == "error: Error::AccessDenied\n" || out == "error: Error::NoSuchStore\n", "{name:?}: {out}");
        let out = kv_refused(dir.path(), "app.json", &["incr", name, "n", "1"]);
        assert!(out.starts_with("error: Error::"), "{name:?}: {out}");
    }
    assert_eq!(snapshot(dir.path()), inside_before, "DIR changed");
    assert_eq!(snapshot(outside.path()), outside_before, "the outside directory changed");
    // As the --keyvalue document, a refused name is refused at its open too.
    // (confine may refuse it up front, exit 2, or the component's open of "" is denied.)
    for doc in ["../x.json", "leak.json", "x.lock", &outside_abs] {
        let output = probe_command(dir.path(), &[], Some(doc), &["set", "", "n", "1"]).output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        let (calls, errors) = counts(&stderr);
        record(calls, errors, 1, None);
        match output.status.code() {
            Some(1) => assert_eq!(stdout, "error: Error::AccessDenied\n", "--keyvalue {doc}"),
            Some(2) => assert!(stdout.is_empty(), "--keyvalue {doc}: {stdout}"),
            other => panic!("--keyvalue {doc}: status {other:?}, stdout {stdout}, stderr {stderr}"),
        }
    }
    assert_eq!(snapshot(dir.path()), inside_before, "DIR changed");
    assert_eq!(snapshot(outside.path()), outside_before, "the outside directory changed");
}

#[test]
fn a_write_over_the_size_limit_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let limit = ["--max-size", "4096"];
    std::fs::write(dir.path().join("app.json"), "{\"v\": \"1\"}").unwrap();
    // A document just under the limit: one more digit-sized member is too much.
    let padding = "p".repeat(4096 - 16);
    std::fs::write(dir.path().join("full.json"), format!("{{\"p\": \"{padding}\"}}")).unwrap();
    assert!(std::fs::metadata(dir.path().join("full.json")).unwrap().len() <= 4096);
    let before = documents(dir.path());
    let huge = "x".repeat(5000);
    let attempts: [(&str, Vec<&str>); 5] = [
        ("set", vec!["set", "", "big", &huge]),
        ("set on a new document", vec!["set", "new.json", "big", &huge]),
        ("set-many", vec!["set-many", "", "small", "1", "big", &huge]),
        ("increment", vec!["incr", "full.json", "a-new-counter-key", "1"]),
        ("set on a full document", vec!["set", "full.json", "q", "12345678901234567890"]),
    ];
    for (what, args) in &attempts {
        let out = kv_refused_with(dir.path(), &limit, "app.json", args);
        let text = other_text(single_line(&out));
        assert!(text.contains("limit") && text.contains("4096"), "{what}: the refusal mentions the limit: {text}");
        assert_eq!(documents(dir.path()), before, "{what}: a refused write changed the files");
    }
    assert!(!dir.path().join("new.json").exists());
    // Under the limit, the same store writes.
    assert_eq!(kv_ok(dir.path(), "app.json", &["set", "", "small", "1"]), "ok\n");
}

#[test]
fn past_1024_open_buckets_open_is_refused_and_the_command_still_ends() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.json"), "{\"v\": \"1\"}").unwrap();
    let before = snapshot(dir.path());
    assert_eq!(kv_ok(dir.path(), "app.json", &["open-loop", "", "1024"]), "opened 1024\n");
    let started = Instant::now();
    let out = kv_refused(dir.path(), "app.json", &["open-loop", "", "5000"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], "opened 1024");
    let text = other_text(lines[1]).to_lowercase();
    assert!(text.contains("too many") && text.contains("bucket"), "{out}");
    assert_eq!(lines[2], "reopened after dropping one: ok", "a dropped bucket frees its place");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    // Different documents count alike.
    let out = kv_refused(dir.path(), "app.json", &["open-loop", "other.json", "1025"]);
    assert!(out.starts_with("opened 1024\nerror: Error::Other("), "{out}");
    assert_eq!(snapshot(dir.path()), before, "opening buckets changed the directory");
}

#[test]
fn without_keyvalue_every_open_is_access_denied() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.json"), "{\"v\": \"1\"}").unwrap();
    let before = snapshot(dir.path());
    for options in [&[][..], &["--config", "app.json"][..]] {
        let mut command = confine(dir.path());
        command.arg("run").args(options).arg(keyvalue_probe());
        let (code, out) =
            answers(command.args(["open", "", "app.json", "missing.json", "missing/x.json", "../x.json"]));
        assert_eq!(code, Some(1));
        assert_eq!(out, "error: Error::AccessDenied\n".repeat(5), "{options:?}");
        let mut command = confine(dir.path());
        command.arg("run").args(options).arg(keyvalue_probe());
        let (code, out) = answers(command.args(["exercise", "app.json"]));
        assert_eq!((code, out.as_str()), (Some(1), "open: error: Error::AccessDenied\n"));
        let mut command = confine(dir.path());
        command.arg("run").args(options).arg(keyvalue_probe());
        let (code, out) = answers(command.args(["set", "app.json", "v", "2"]));
        assert_eq!((code, out.as_str()), (Some(1), "error: Error::AccessDenied\n"));
    }
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn keyvalue_is_refused_for_a_plugin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.json"), "{\"n\": 1}").unwrap();
    let before = snapshot(dir.path());
    let mut command = confine(dir.path());
    command.args(["run", "--keyvalue", "app.json"]).arg(probe_plugin()).args(["incr", "app.json", "n", "1"]);
    let stderr = run_fails(&mut command, 2);
    assert!(stderr.contains("not a wasi:cli command") && stderr.contains("--keyvalue is for commands"), "{stderr}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn keyvalue_and_config_are_given_together() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.json"), "{\"server\": {\"port\": 8080}}").unwrap();
    // The config-reader knows only wasi:config; the probe only wasi:keyvalue.
    let mut command = confine(dir.path());
    command.args(["run", "--config", "app.json", "--keyvalue", "kv.json"]).arg(config_reader());
    assert_eq!(run_ok(command.args(["get", "server.port"])), "8080\n");
    let mut command = confine(dir.path());
    command.args(["run", "--keyvalue", "kv.json", "--config", "app.json"]).arg(keyvalue_probe());
    let (code, out) = answers(command.args(["set", "", "k", "v"]));
    assert_eq!((code, out.as_str()), (Some(0), "ok\n"));
    assert_eq!(read_json(&dir.path().join("kv.json")), json!({"k": "v"}));
    assert_eq!(read_json(&dir.path().join("app.json")), json!({"server": {"port": 8080}}));
}

#[test]
fn a_document_that_is_not_a_json_object_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\"a\": 1,\n not json").unwrap();
    std::fs::write(dir.path().join("list.json"), "[1, 2]").unwrap();
    std::fs::write(dir.path().join("text.json"), "\"just a string\"").unwrap();
    std::fs::write(dir.path().join("latin1.json"), b"{\"a\": \"\xe9\"}").unwrap();
    // A write takes the document's lock (DOC.lock may appear) before it finds it invalid.
    let before = documents(dir.path());
    for doc in ["broken.json", "list.json", "text.json", "latin1.json"] {
        for args in [
            &["get", doc, "a"][..],
            &["exists", doc, "a"],
            &["keys", doc],
            &["set", doc, "a", "2"],
            &["delete", doc, "a"],
            &["incr", doc, "n", "1"],
            &["get-many", doc, "a"],
            &["set-many", doc, "a", "2"],
            &["delete-many", doc, "a"],
        ] {
            let out = kv_refused(dir.path(), "app.json", args);
            let text = other_text(single_line(&out));
            assert!(text.contains(doc), "{args:?}: the error names the document: {text}");
        }
    }
    assert_eq!(documents(dir.path()), before, "an invalid document was changed");
}
