//! TOML documents through every door: the CLI's commands on real manifests (this
//! workspace's own `Cargo.toml` files and a `pyproject.toml` kept here), where a change
//! must rewrite exactly the lines it changes; a batch, `confine test`, plugins through the
//! port, `wasi:config`, `wasi:keyvalue` and the library; `--format`; hostile documents,
//! each refused with the file unchanged; and one document incremented at once by CLI
//! processes, guest calls and Python processes that read it with `tomllib` and write it
//! with `tomli_w` under `fcntl.lockf`, ending at the exact count.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use crate::support::{
    assert_no_temp_files, cache_dir, config_reader, confine, figure, keyvalue_probe, probe_plugin, repository_with,
    run_fails, run_ok, run_with_input, trials, workspace,
};
use confine::{Options, Runtime, RuntimeOptions};

const PYPROJECT: &str = include_str!("pyproject.toml");

/// The lines `old` had and `new` has not, and the reverse, between their common first and
/// last lines.
fn changed_lines(old: &str, new: &str) -> (Vec<String>, Vec<String>) {
    let (old, new): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..].iter().rev().zip(new[prefix..].iter().rev()).take_while(|(a, b)| a == b).count();
    let owned = |lines: &[&str]| lines.iter().map(|line| (*line).to_owned()).collect();
    (owned(&old[prefix..old.len() - suffix]), owned(&new[prefix..new.len() - suffix]))
}

fn lines(text: &[&str]) -> Vec<String> {
    text.iter().map(|line| (*line).to_owned()).collect()
}

/// `dir` holding `text` as `name`.
fn with(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// Every `Cargo.toml` of this workspace.
fn manifests() -> Vec<PathBuf> {
    let root = workspace();
    let mut found = vec![root.join("Cargo.toml")];
    for folder in ["guest", "host", "bench", "examples", "examples/plugins", "tests/plugins", "fuzz"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else { continue };
        for entry in entries {
            let manifest = entry.unwrap().path().join("Cargo.toml");
            if manifest.is_file() {
                found.push(manifest);
            }
        }
        if root.join(folder).join("Cargo.toml").is_file() {
            found.push(root.join(folder).join("Cargo.toml"));
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn a_version_set_in_a_real_manifest_changes_that_line_alone() {
    let root = std::fs::read_to_string(workspace().join("Cargo.toml")).unwrap();
    let dir = with("Cargo.toml", &root);
    run_ok(confine(dir.path()).args(["set", "Cargo.toml", "workspace.package.version", "\"0.2.0\""]));
    assert_eq!(
        changed_lines(&root, &read(dir.path(), "Cargo.toml")),
        (lines(&["version = \"0.1.0\""]), lines(&["version = \"0.2.0\""]))
    );
    assert_eq!(run_ok(confine(dir.path()).args(["get", "Cargo.toml", "workspace.package.version"])), "\"0.2.0\"\n");

    // Every manifest: a string set, a key unset, a counter added and incremented, each
    // exactly the lines it changes; then each of them undone gives the file back.
    let mut edits = 0;
    for manifest in manifests() {
        let original = std::fs::read_to_string(&manifest).unwrap();
        let dir = with("Cargo.toml", &original);
        let d = dir.path();
        let table =
            if original.contains("\n[package]") || original.starts_with("[package]") { "package" } else { "workspace" };
        let name = format!("{table}.name");
        let (old_name, quoted) = match run_with_input(confine(d).args(["get", "Cargo.toml", &name]), "") {
            (out, _, Some(0)) => (Some(out.trim().to_owned()), "\"renamed\""),
            _ => (None, "\"renamed\""),
        };
        run_ok(confine(d).args(["set", "Cargo.toml", &name, quoted]));
        let (gone, added) = changed_lines(&original, &read(d, "Cargo.toml"));
        assert_eq!(added, lines(&["name = \"renamed\""]), "{}", manifest.display());
        assert!(gone.len() <= 1, "{}: {gone:?}", manifest.display());
        let counter = format!("{table}.metadata-builds");
        run_ok(confine(d).args(["incr", "Cargo.toml", &counter, "41"]));
        assert_eq!(run_ok(confine(d).args(["incr", "Cargo.toml", &counter])), "42\n");
        // Undone: the counter unset, the name set back (or unset where there was none).
        run_ok(confine(d).args(["unset", "Cargo.toml", &counter]));
        match old_name {
            Some(old) => drop(run_ok(confine(d).args(["set", "Cargo.toml", &name, &old]))),
            None => drop(run_ok(confine(d).args(["unset", "Cargo.toml", &name]))),
        }
        assert_eq!(read(d, "Cargo.toml"), original, "{} is not given back", manifest.display());
        assert_no_temp_files(d);
        edits += 5;
    }
    assert!(edits >= 40, "the workspace's manifests were found: {edits} edits");
    figure("toml", &format!("{edits} edits of this workspace's Cargo.toml files, each exactly the lines it changes"));
}

#[test]
fn a_pyproject_keeps_every_line_a_change_does_not_touch() {
    let dir = with("pyproject.toml", PYPROJECT);
    let d = dir.path();
    let doc = "pyproject.toml";
    let step = |args: &[&str], gone: &[&str], added: &[&str]| {
        let before = read(d, doc);
        run_ok(confine(d).args(args));
        assert_eq!(changed_lines(&before, &read(d, doc)), (lines(gone), lines(added)), "{args:?}");
    };
    step(&["set", doc, "project.version", "\"1.5.0\""], &["version = \"1.4.2\""], &["version = \"1.5.0\""]);
    step(
        &["set", doc, "build-system.requires[0]", "\"hatchling>=1.25\""],
        &["requires = [\"hatchling>=1.21\"]   # the backend"],
        &["requires = [\"hatchling>=1.25\"]   # the backend"],
    );
    step(
        &["set", doc, "tool.ruff.line-length", "120"],
        &["line-length = 100 # wide screens"],
        &["line-length = 120 # wide screens"],
    );
    step(
        &["set", doc, "project.license.text", "\"Apache-2.0\""],
        &["license.text = \"MIT\""],
        &["license.text = \"Apache-2.0\""],
    );
    step(&["set", doc, "project.license.files", "[\"LICENSE\"]"], &[], &["license.files = [\"LICENSE\"]"]);
    step(
        &["set", doc, "project.readme.content-type", "\"text/x-rst\""],
        &["readme = { file = \"README.md\", content-type = \"text/markdown\" }"],
        &["readme = { file = \"README.md\", content-type = \"text/x-rst\" }"],
    );
    step(&["set", doc, "project.dependencies[2]", "\"rich\""], &[], &["  \"rich\","]);
    step(&["unset", doc, "project.dependencies[0]"], &["  \"httpx>=0.27\",   # the client"], &[]);
    step(
        &["set", doc, "project.authors[1].email", "\"grace@example.org\""],
        &["  { name = \"Grace\" },"],
        &["  { name = \"Grace\", email = \"grace@example.org\" },"],
    );
    step(
        &["set", doc, "tool.mypy.overrides[1].module", "\"smbus3\""],
        &["module = \"smbus2\""],
        &["module = \"smbus3\""],
    );
    step(&["incr", doc, "tool.pytest.ini_options.timeout", "15"], &["timeout = 30"], &["timeout = 45"]);
    step(&["unset", doc, "tool.ruff.target-version"], &["target-version = \"py310\""], &[]);
    step(
        &["set", doc, "tool.ruff.lint.select[3]", "\"UP\""],
        &["lint.select = [\"E\", \"F\", \"I\"]"],
        &["lint.select = [\"E\", \"F\", \"I\", \"UP\"]"],
    );
    step(
        &["set", doc, "project.scripts.station-admin", "\"weather_station.admin:main\""],
        &[],
        &["station-admin = \"weather_station.admin:main\""],
    );
    // Several changes as one update, and a merge.
    let before = read(d, doc);
    run_ok(confine(d).args(["set", doc, "project.name", "\"station\"", "project.requires-python", "\">=3.11\""]));
    let after = read(d, doc);
    let differing: Vec<(&str, &str)> = before.lines().zip(after.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(before.lines().count(), after.lines().count());
    assert_eq!(
        differing,
        [
            ("name = \"weather-station\"", "name = \"station\""),
            ("requires-python = \">=3.10\"", "requires-python = \">=3.11\"")
        ]
    );
    run_ok(confine(d).args(["merge", doc, "tool.pytest.ini_options", r#"{"addopts": null, "minversion": "8.0"}"#]));
    assert_eq!(
        run_ok(confine(d).args(["get", doc, "tool.pytest.ini_options"])),
        "{\"timeout\":45,\"minversion\":\"8.0\"}\n"
    );
    // The comments at the head and every comment not on a changed line are still there.
    let now = read(d, doc);
    for comment in ["# A Python project's manifest", "# the backend", "# wide screens"] {
        assert!(now.contains(comment), "{comment} is kept:\n{now}");
    }
    // cat shows the file as it is; get reads it as JSON values.
    assert_eq!(run_ok(confine(d).args(["cat", doc])), now);
    assert_eq!(
        run_ok(confine(d).args(["get", doc, "tool.mypy.overrides[0]"])),
        "{\"module\":\"serial.*\",\"ignore_missing_imports\":true}\n"
    );
}

#[test]
fn values_cross_as_json_and_back_without_a_byte_changed() {
    let text = "n = 0xff # hex\nbig = 1_000\nf = 1e3\nwhen = 1979-05-27T07:32:00Z\nday = 1979-05-27\ns = 'literal'\n\
                t = { a = [1, 2.5, true, \"x\"] }\n[[points]]\nx = 1\n";
    let dir = with("c.toml", text);
    let d = dir.path();
    let get = |key: &str| run_ok(confine(d).args(["get", "c.toml", key])).trim().to_owned();
    assert_eq!(get("n"), "255");
    assert_eq!(get("f"), "1000.0");
    assert_eq!(get("when"), "\"1979-05-27T07:32:00Z\"");
    assert_eq!(get("day"), "\"1979-05-27\"");
    assert_eq!(get("points"), "[{\"x\":1}]");
    for key in ["n", "big", "f", "when", "day", "s", "t", "points", ""] {
        let value = get(key);
        run_ok(confine(d).args(["set", "c.toml", key, &value]));
        assert_eq!(read(d, "c.toml"), text, "get then set of {key} = {value} changed a byte");
    }
    // A date-time set to another stays a date-time; to any other string, is a string.
    run_ok(confine(d).args(["set", "c.toml", "when", "\"2026-12-07T10:00:00Z\""]));
    assert!(read(d, "c.toml").contains("\nwhen = 2026-12-07T10:00:00Z\n"));
    // TOML's limits, each refused with the file unchanged and the cause named.
    let before = read(d, "c.toml");
    for (args, cause) in [
        (vec!["set", "c.toml", "n", "null"], "TOML has no null"),
        (vec!["set", "c.toml", "t.a", "[1, null]"], "TOML has no null"),
        (vec!["set", "c.toml", "n", "9223372036854775808"], "9223372036854775807"),
        (vec!["incr", "c.toml", "big", "9223372036854775807"], "9223372036854775807"),
    ] {
        let stderr = run_fails(confine(d).args(&args), 2);
        assert!(stderr.contains("c.toml") && stderr.contains(cause), "{args:?}: {stderr}");
        assert_eq!(read(d, "c.toml"), before, "{args:?} wrote");
    }
}

#[test]
fn hostile_documents_are_refused_with_line_and_column_and_left_as_they_are() {
    let deep = format!("a = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("duplicate key", b"a = 1\nb = 2\na = 3\n".to_vec(), "line 3"),
        ("table defined twice", b"[a]\nx = 1\n[b]\n[a]\ny = 2\n".to_vec(), "line 4"),
        ("dotted key over a table", b"[a.b]\nc = 1\n[a]\nb.d = 2\n".to_vec(), "line 4"),
        ("integer beyond 64 bits", b"n = 9223372036854775808\n".to_vec(), "line 1"),
        ("unclosed string", b"s = \"open\n".to_vec(), "line 1"),
        ("nan", b"x = nan\n".to_vec(), "nan"),
        ("deep nesting", deep.into_bytes(), "line 1"),
        ("invalid UTF-8", b"s = \"\xff\xfe\"\n".to_vec(), "UTF-8"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (what, bytes, cause) in cases {
        std::fs::write(d.join("bad.toml"), &bytes).unwrap();
        for args in [vec!["set", "bad.toml", "z", "1"], vec!["incr", "bad.toml", "z"], vec!["get", "bad.toml", "z"]] {
            let stderr = run_fails(confine(d).args(&args), 2);
            assert!(stderr.contains("bad.toml") && stderr.contains(cause), "{what}, {args:?}: {stderr}");
            assert_eq!(std::fs::read(d.join("bad.toml")).unwrap(), bytes, "{what}: {args:?} wrote");
        }
    }
    assert_no_temp_files(d);
    figure("toml-hostile", "8 hostile TOML documents x set, incr, get: each refused naming the cause, nothing written");
}

#[test]
fn format_says_what_a_document_is_whatever_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(confine(d).args(["--format", "toml", "set", "settings", "server.port", "8080"]));
    assert_eq!(read(d, "settings"), "[server]\nport = 8080\n");
    assert_eq!(run_ok(confine(d).args(["--format", "toml", "get", "settings", "server"])), "{\"port\":8080}\n");
    run_fails(confine(d).args(["get", "settings", "server"]), 2); // JSON by its name
    std::fs::write(d.join("odd.toml"), "{\"a\": 1}\n").unwrap();
    run_ok(confine(d).args(["--format", "json", "incr", "odd.toml", "a"]));
    assert_eq!(read(d, "odd.toml"), "{\"a\": 2}\n");
    let stderr = run_fails(confine(d).args(["--format", "yaml", "get", "settings"]), 2);
    assert!(stderr.contains("json") && stderr.contains("toml"), "{stderr}");
}

/// `--format` is decided once and holds at every step of every door: a second change is
/// checked, a missing key is found missing, and a read is parsed, in the format given,
/// never in the one the name would say (each of these failed before: the name's TOML was
/// used partway through).
#[test]
fn a_chosen_format_holds_through_every_door() {
    let dir = with("odd.toml", "{\"x\": 0}\n");
    let d = dir.path();
    let json = |args: &[&str]| {
        let mut command = confine(d);
        command.args(["--format", "json"]).args(args);
        command
    };
    // Several changes as one update; a missing key; reads.
    run_ok(&mut json(&["set", "odd.toml", "a", "1", "b", "2"]));
    assert_eq!(read(d, "odd.toml"), "{\"x\": 0, \"a\": 1, \"b\": 2}\n");
    let stderr = run_fails(&mut json(&["unset", "odd.toml", "nope"]), 3);
    assert_eq!(stderr, "confine: odd.toml: key `nope` not found\n");
    assert_eq!(run_ok(&mut json(&["get", "odd.toml", "b"])), "2\n");
    assert_eq!(run_ok(&mut json(&["cat", "odd.toml"])), "{\n  \"x\": 0,\n  \"a\": 1,\n  \"b\": 2\n}\n");
    // A batch, and apply.
    let (out, err, code) =
        run_with_input(&mut json(&["batch"]), "set odd.toml c 3\nunset odd.toml nope\nincr odd.toml x\n");
    assert_eq!((out.as_str(), code), ("ok\nerror: odd.toml: key `nope` not found\n1\n", Some(3)), "{err}");
    let lines = "{\"op\":\"incr\",\"key\":\"x\"}\n{\"op\":\"unset\",\"key\":\"c\"}\n";
    let (out, err, code) = run_with_input(&mut json(&["apply", "odd.toml"]), lines);
    assert_eq!((out.as_str(), code), ("2\n", Some(0)), "{err}");
    assert_eq!(read(d, "odd.toml"), "{\"x\": 2, \"a\": 1, \"b\": 2}\n");
    // wasi:config and wasi:keyvalue read and change it as JSON.
    let out = run_ok(json(&["run", "--config", "odd.toml"]).arg(config_reader()).args(["get", "x", "b"]));
    assert_eq!(out, "2\n2\n");
    let out = run_ok(
        json(&["run", "--keyvalue", "odd.toml"])
            .arg(keyvalue_probe())
            .args(["set-many", "", "greeting", "hello", "x", "3"]),
    );
    assert_eq!(out, "ok\n");
    let out = run_ok(json(&["run", "--keyvalue", "odd.toml"]).arg(keyvalue_probe()).args([
        "delete-many",
        "",
        "a",
        "nope",
        "a",
    ]));
    assert_eq!(out, "ok\n");
    assert_eq!(read(d, "odd.toml"), "{\"x\": \"3\", \"b\": 2, \"greeting\": \"hello\"}\n");
    let out = run_ok(json(&["run", "--keyvalue", "odd.toml"]).arg(keyvalue_probe()).args(["get", "", "greeting", "b"]));
    assert_eq!(out, "hello\n2\n");
    // The library: the runtime's format, and the repository's check, given alike.
    let repository = confine::Repository::new(
        cap_std::fs::Dir::open_ambient_dir(d, cap_std::ambient_authority()).unwrap(),
        Options::default(),
        confine::Documents::all(confine::Format::Json),
    );
    let options = RuntimeOptions {
        cache_dir: Some(cache_dir()),
        format: Some(confine::Format::Json),
        ..RuntimeOptions::default()
    };
    let runtime = Runtime::new(options).unwrap();
    let set = |key: &str, value: &str| confine::Change::Set { key: key.into(), value: value.into() };
    runtime.apply(&repository, "odd.toml", vec![set("n", "1"), set("m", "2")]).unwrap();
    let e = runtime.unset(&repository, "odd.toml", "nope").unwrap_err();
    assert_eq!(e.kind(), Some(confine::ServiceErrorKind::NotFound), "{e}");
    assert_eq!(runtime.get(&repository, "odd.toml", "m").unwrap(), "2");
    assert_no_temp_files(d);
}

#[test]
fn a_batch_a_plugin_a_standard_component_and_the_library_work_on_toml() {
    let dir = with("app.toml", "# the app\n\n[server]\nport = 8080 # default\nname = \"web\"\n");
    let d = dir.path();
    // A batch.
    let (out, _, code) = run_with_input(
        confine(d).arg("batch"),
        "incr app.toml hits\nset app.toml server.port 9090\nget app.toml server\n",
    );
    assert_eq!((out.as_str(), code), ("1\nok\n{\"port\":9090,\"name\":\"web\"}\n", Some(0)));
    assert_eq!(read(d, "app.toml"), "# the app\n\nhits = 1\n[server]\nport = 9090 # default\nname = \"web\"\n");
    // apply: JSON lines of changes, one update.
    let lines =
        "{\"op\":\"incr\",\"key\":\"hits\",\"by\":2}\n{\"op\":\"set\",\"key\":\"server.name\",\"value\":\"api\"}\n";
    let (out, err, code) = run_with_input(confine(d).args(["apply", "app.toml"]), lines);
    assert_eq!((out.as_str(), code), ("3\n", Some(0)), "{err}");
    assert_eq!(read(d, "app.toml"), "# the app\n\nhits = 3\n[server]\nport = 9090 # default\nname = \"api\"\n");
    // A plugin through the port: it reads the text, and a text that is not TOML is refused.
    let out = run_ok(confine(d).arg("run").arg(probe_plugin()).args(["read", "app.toml"]));
    assert!(out.contains("port = 9090 # default"), "{out}");
    let stderr = run_fails(confine(d).arg("run").arg(probe_plugin()).args(["commit-invalid", "app.toml"]), 1);
    assert!(stderr.contains("app.toml") && stderr.contains("TOML"), "{stderr}");
    assert!(read(d, "app.toml").contains("port = 9090"));
    // wasi:config: flattened with the same key syntax.
    let out = run_ok(confine(d).args(["run", "--config", "app.toml"]).arg(config_reader()).args([
        "get",
        "server.port",
        "server.name",
        "hits",
    ]));
    assert_eq!(out, "9090\napi\n3\n");
    // wasi:keyvalue: the bucket is a TOML document, its values TOML strings.
    let out = run_ok(
        confine(d).args(["run", "--keyvalue", "kv.toml"]).arg(keyvalue_probe()).args(["set", "", "greeting", "hello"]),
    );
    assert_eq!(out, "ok\n");
    assert_eq!(read(d, "kv.toml"), "greeting = \"hello\"\n");
    let out =
        run_ok(confine(d).args(["run", "--keyvalue", "kv.toml"]).arg(keyvalue_probe()).args(["get", "", "greeting"]));
    assert_eq!(out, "hello\n");
    // The library.
    let repository = repository_with(d, Options::default());
    let runtime = Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir()), ..RuntimeOptions::default() }).unwrap();
    assert_eq!(runtime.incr(&repository, "app.toml", "hits", "2").unwrap(), "5");
    assert_eq!(runtime.get(&repository, "app.toml", "server.port").unwrap(), "9090");
    assert!(runtime.cat(&repository, "app.toml").unwrap().starts_with("# the app\n\nhits = 5\n"));
    assert_no_temp_files(d);
}

#[test]
fn confine_test_compares_toml_documents_as_values() {
    let cases = tempfile::tempdir().unwrap();
    let case = cases.path().join("reads-the-manifest");
    std::fs::create_dir_all(case.join("before")).unwrap();
    std::fs::create_dir_all(case.join("after")).unwrap();
    std::fs::write(case.join("args"), "read\napp.toml\n").unwrap();
    std::fs::write(case.join("before/app.toml"), "# kept\n[server]\nport = 8080\n").unwrap();
    // The same value, written otherwise: equal as values, not as bytes.
    std::fs::write(case.join("after/app.toml"), "server = { port = 0x1f90 }\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(confine(dir.path()).arg("test").arg(probe_plugin()).arg(cases.path()));
    assert!(out.contains("1 passed, 0 failed"), "{out}");
    let (out, _, code) =
        run_with_input(confine(dir.path()).args(["test", "--exact"]).arg(probe_plugin()).arg(cases.path()), "");
    assert!(code == Some(1) && out.contains("the bytes differ"), "{out}");
    std::fs::write(case.join("after/app.toml"), "[server]\nport = 8081\n").unwrap();
    let (out, _, code) = run_with_input(confine(dir.path()).arg("test").arg(probe_plugin()).arg(cases.path()), "");
    assert!(code == Some(1) && out.contains("the values differ") && out.contains("8081"), "{out}");
}

/// Updates of each writer in the race.
fn per_writer() -> u64 {
    trials(20) as u64
}

#[test]
fn no_update_is_lost_beside_python_tomllib_writers_under_lockf() {
    let dir = with("count.toml", "# a counter\nn = 0 # updated by everyone\n");
    let path = dir.path().to_path_buf();
    let per = per_writer();
    let pythons: Vec<_> = (0..2)
        .map(|_| {
            crate::support::other_locker::python()
                .args(["write", "lockf"])
                .arg(path.join("count.toml"))
                .arg(per.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("python is needed for the TOML interoperability test")
        })
        .collect();
    let mut writers = Vec::new();
    for _ in 0..2 {
        let p = path.clone();
        writers.push(std::thread::spawn(move || {
            for _ in 0..per {
                run_ok(confine(&p).args(["--timeout", "120s", "incr", "count.toml", "n"]));
            }
        }));
    }
    let repository = repository_with(&path, Options::default().with_lock_timeout(Duration::from_secs(120)));
    let runtime =
        Arc::new(Runtime::new(RuntimeOptions { cache_dir: Some(cache_dir()), ..RuntimeOptions::default() }).unwrap());
    writers.push(std::thread::spawn(move || {
        for _ in 0..per {
            runtime.incr(&repository, "count.toml", "n", "1").unwrap();
        }
    }));
    for writer in writers {
        writer.join().unwrap();
    }
    for child in pythons {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "a tomllib writer failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let total = 5 * per;
    assert_eq!(run_ok(confine(&path).args(["get", "count.toml", "n"])).trim(), total.to_string());
    assert_no_temp_files(&path);
    figure(
        "toml-race",
        &format!(
            "{total} increments of one TOML document by CLI processes, guest calls and Python tomllib/tomli_w writers under lockf: the count exact"
        ),
    );
}
