//! The examples in examples/ work as documented, in the example embedder and in
//! `confine run` alike: the rename-key migration renames across documents and refuses to
//! clobber, the validator applies a change only when the rules hold and otherwise leaves
//! the file byte for byte as it was. And plugins granted different directories, running
//! side by side, cannot see or touch each other's documents.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{
    Entry, confine, documents, example_embedder, example_rename_key, example_validate, probe_plugin, run_fails, run_ok,
    snapshot,
};

/// The two hosts a plugin runs in. Both exit with status 1 when the plugin reports an error.
#[derive(Debug, Clone, Copy)]
enum Host {
    /// examples/embedder: a wasmtime host in under 100 lines, built on `confine::add_to_linker`.
    Embedder,
    /// `confine run`: the CLI's runtime, with its memory and time limits.
    Confine,
}

const HOSTS: [Host; 2] = [Host::Embedder, Host::Confine];

impl Host {
    fn run(self, dir: &Path, plugin: &Path, args: &[&str]) -> Command {
        let mut command = match self {
            Host::Embedder => {
                let mut command = Command::new(example_embedder());
                command.arg(dir);
                command
            }
            Host::Confine => {
                let mut command = confine(dir);
                command.arg("run");
                command
            }
        };
        command.arg(plugin).args(args);
        command
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn rename_key_renames_a_key_across_documents_each_in_its_own_session() {
    for host in HOSTS {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        write(dir.path(), "one.json", "{\"a\": 1, \"old\": {\"x\": 2}, \"z\": 3}");
        write(dir.path(), "two.json", "{\"y\": 1}");
        write(dir.path(), "sub/three.json", "{\"old\": true}");

        // No document named: every document of the directory itself, not of sub/.
        let out = run_ok(&mut host.run(dir.path(), &example_rename_key(), &["old", "new"]));
        assert_eq!(out, "one.json: renamed old to new\ntwo.json: no key old, unchanged\n", "{host:?}");
        assert_eq!(read(dir.path(), "one.json"), "{\n  \"a\": 1,\n  \"new\": {\n    \"x\": 2\n  },\n  \"z\": 3\n}\n");
        assert_eq!(read(dir.path(), "two.json"), "{\"y\": 1}", "{host:?}: a document without the key was rewritten");
        assert_eq!(read(dir.path(), "sub/three.json"), "{\"old\": true}");

        // Documents named: only those, wherever they are.
        let out =
            run_ok(&mut host.run(dir.path(), &example_rename_key(), &["old", "new", "sub/three.json", "one.json"]));
        assert_eq!(out, "sub/three.json: renamed old to new\none.json: no key old, unchanged\n", "{host:?}");
        assert_eq!(run_ok(confine(dir.path()).args(["get", "sub/three.json", "new"])).trim(), "true");
        assert_eq!(run_ok(confine(dir.path()).args(["get", "one.json", "new.x"])).trim(), "2");
        crate::support::assert_no_temp_files(dir.path());
    }
}

#[test]
fn rename_key_refuses_to_clobber_an_existing_key_and_leaves_that_document_untouched() {
    for host in HOSTS {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "both.json", "{\"old\": 1,  \"new\": 2}");
        write(dir.path(), "only-old.json", "{\"old\": 3}");
        let clobbered = documents(dir.path()).remove(Path::new("both.json")).unwrap();

        let stderr = run_fails(
            &mut host.run(dir.path(), &example_rename_key(), &["old", "new", "both.json", "only-old.json"]),
            1,
        );
        assert!(stderr.contains("both.json: key new already exists"), "{host:?}: {stderr}");
        assert!(!stderr.contains("only-old.json"), "{host:?}: {stderr}");
        assert_eq!(documents(dir.path()).remove(Path::new("both.json")).unwrap(), clobbered, "{host:?}");
        assert_eq!(read(dir.path(), "only-old.json"), "{\n  \"new\": 3\n}\n", "{host:?}: the other document migrates");

        // A named document that does not exist is refused, and not created.
        let stderr = run_fails(&mut host.run(dir.path(), &example_rename_key(), &["old", "new", "missing.json"]), 1);
        assert!(stderr.contains("missing.json: no such document"), "{host:?}: {stderr}");
        assert!(!dir.path().join("missing.json").exists());
        crate::support::assert_no_temp_files(dir.path());
    }
}

#[test]
fn validator_refuses_a_change_that_breaks_a_rule_and_the_file_stays_byte_identical() {
    let refused = [
        (["app.json", "server.port", "70000"], "server.port"),
        (["app.json", "server.port", "0"], "server.port"),
        (["app.json", "server.port", "\"8080\""], "server.port"),
        (["app.json", "server.port", "80.5"], "server.port"),
        (["app.json", "log.level", "verbose"], "log.level"),
        (["app.json", "log", "{\"level\": \"loud\"}"], "log.level"),
        (["new.json", "server.port", "-1"], "server.port"),
    ];
    for host in HOSTS {
        let dir = tempfile::tempdir().unwrap();
        // Not how confine would format it: any rewrite would show.
        write(dir.path(), "app.json", "{\"server\": {\"port\": 8080},   \"log\": {\"level\": \"info\"}}");
        let before = documents(dir.path());
        for ([doc, key, value], rule) in refused {
            let stderr = run_fails(&mut host.run(dir.path(), &example_validate(), &["set", doc, key, value]), 1);
            assert!(stderr.contains(&format!("{doc}: refused, rule `{rule}`")), "{host:?} {key}={value}: {stderr}");
            assert_eq!(documents(dir.path()), before, "{host:?} {key}={value}: the directory changed");
        }
        // Every refused session released its lock.
        run_ok(confine(dir.path()).args(["--timeout", "200ms", "set", "app.json", "n", "1"]));
        crate::support::assert_no_temp_files(dir.path());
    }
}

#[test]
fn validator_applies_a_change_that_keeps_the_rules() {
    for host in HOSTS {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "app.json", "{\"name\": \"web\", \"server\": {\"port\": 8080}}");
        let out = run_ok(&mut host.run(dir.path(), &example_validate(), &["set", "app.json", "server.port", "9090"]));
        assert_eq!(out, "app.json: set server.port\n", "{host:?}");
        run_ok(&mut host.run(dir.path(), &example_validate(), &["set", "app.json", "log.level", "debug"]));
        assert_eq!(
            read(dir.path(), "app.json"),
            "{\n  \"name\": \"web\",\n  \"server\": {\n    \"port\": 9090\n  },\n  \"log\": {\n    \"level\": \"debug\"\n  }\n}\n",
            "{host:?}"
        );
        run_ok(&mut host.run(dir.path(), &example_validate(), &["set", "new.json", "server.port", "1"]));
        assert_eq!(run_ok(confine(dir.path()).args(["get", "new.json", "server.port"])).trim(), "1");
        let out = run_ok(&mut host.run(dir.path(), &example_validate(), &["check", "app.json", "new.json"]));
        assert_eq!(out, "app.json: ok\nnew.json: ok\n", "{host:?}");
    }
}

/// One of two plugins' granted directories: `<side>.json` its plugin may change, and
/// `<side>-secret.json` the other side tries to reach. `other` links to the other
/// directory and `other.json` to its secret.
struct Side {
    name: &'static str,
    dir: PathBuf,
    host: Host,
}

impl Side {
    fn new(parent: &Path, name: &'static str, other: &'static str, host: Host) -> Side {
        let dir = parent.join(name);
        std::fs::create_dir(&dir).unwrap();
        write(&dir, &format!("{name}.json"), &format!("{{\"owner\": \"{name}\", \"secret\": \"{name}-own\"}}"));
        write(&dir, &format!("{name}-secret.json"), &format!("{{\"secret\": \"{name}-only\"}}"));
        symlink(format!("../{other}"), dir.join("other")).unwrap();
        symlink(format!("../{other}/{other}-secret.json"), dir.join("other.json")).unwrap();
        Side { name, dir, host }
    }

    fn run(&self, plugin: &Path, args: &[&str]) -> std::process::Output {
        self.host.run(&self.dir, plugin, args).output().unwrap()
    }

    /// Tries to reach `other`'s documents in every way a name can, while `other` does the
    /// same; changes its own document once. Returns what each attempt printed.
    fn probe(&self, other: &Side) -> Vec<(String, std::process::Output)> {
        let own = format!("{}.json", self.name);
        let secret = format!("{}-secret.json", other.name);
        let by_dotdot = format!("../{}/{secret}", other.name);
        let by_absolute = other.dir.join(&secret).to_str().unwrap().to_owned();
        let by_symlinked_dir = format!("other/{secret}");
        let foreign = [secret.as_str(), &by_dotdot, &by_absolute, &by_symlinked_dir, "other.json"];
        let mut seen = Vec::new();
        let mut attempt = |what: String, plugin: &Path, args: Vec<&str>| seen.push((what, self.run(plugin, &args)));

        attempt("read".into(), &example_validate(), [&["check", own.as_str()][..], &foreign].concat());
        attempt("list own".into(), &probe_plugin(), vec!["list", ""]);
        for dir in ["..", &format!("../{}", other.name), other.dir.to_str().unwrap(), "other"] {
            attempt(format!("list foreign {dir}"), &probe_plugin(), vec!["list", dir]);
        }
        attempt("rename".into(), &example_rename_key(), [&["secret", "stolen", own.as_str()][..], &foreign].concat());
        for doc in [format!("../{}/planted.json", other.name), "other/planted.json".to_owned()] {
            attempt(format!("create {doc}"), &example_validate(), vec!["set", doc.as_str(), "planted", "1"]);
        }
        seen
    }
}

#[test]
fn plugins_given_different_directories_cannot_see_each_others_documents() {
    let parent = tempfile::tempdir().unwrap();
    let a = Side::new(parent.path(), "a", "b", Host::Embedder);
    let b = Side::new(parent.path(), "b", "a", Host::Confine);
    let before = (documents(&a.dir), documents(&b.dir));

    // Both plugins run at the same time, each in its own processes, on its own directory.
    let (seen_by_a, seen_by_b) = std::thread::scope(|s| {
        let by_a = s.spawn(|| a.probe(&b));
        let by_b = s.spawn(|| b.probe(&a));
        (by_a.join().unwrap(), by_b.join().unwrap())
    });

    for (side, other, seen) in [(&a, &b, seen_by_a), (&b, &a, seen_by_b)] {
        let (me, them) = (side.name, other.name);
        let attempts: BTreeMap<String, (bool, String, String)> = seen
            .into_iter()
            .map(|(what, out)| {
                let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
                (what, (out.status.success(), text(out.stdout), text(out.stderr)))
            })
            .collect();
        for (what, (_, stdout, stderr)) in &attempts {
            for leaked in [format!("{them}-only"), format!("{them}-own"), format!("{them}.json")] {
                assert!(
                    !stdout.contains(&leaked) && !stderr.contains(&leaked),
                    "{me} {what} saw {leaked}: {stdout} {stderr}"
                );
            }
        }
        // Reads: its own document only; the other's secret by no name.
        let (ok, stdout, stderr) = &attempts["read"];
        assert!(!*ok && stdout == &format!("{me}.json: ok\n"), "{me} read: {stdout} {stderr}");
        let secret = format!("{them}-secret.json");
        assert!(stderr.contains(&format!("{secret}: Error::NotFound")), "{me} read by name: {stderr}");
        for name in
            [format!("../{them}/{secret}"), other.dir.join(&secret).display().to_string(), format!("other/{secret}")]
        {
            assert!(stderr.contains(&format!("{name}: Error::InvalidPath")), "{me} read {name}: {stderr}");
        }
        assert!(stderr.contains("other.json: Error::InvalidPath"), "{me} read through a symlink: {stderr}");
        // Listing: its own documents only (links are not listed); nothing beyond.
        let (ok, stdout, _) = &attempts["list own"];
        assert!(*ok && stdout == &format!("{me}-secret.json\n{me}.json\n"), "{me} list: {stdout}");
        for (what, (ok, stdout, stderr)) in attempts.iter().filter(|(what, _)| what.starts_with("list foreign")) {
            assert!(!*ok && stdout.is_empty() && stderr.contains("InvalidPath"), "{me} {what}: {stdout} {stderr}");
        }
        // Writes: its own document changed, each of the other's refused, nothing created.
        let (ok, stdout, stderr) = &attempts["rename"];
        assert!(!*ok && stdout == &format!("{me}.json: renamed secret to stolen\n"), "{me} rename: {stdout} {stderr}");
        assert_eq!(stderr.matches("Error::InvalidPath").count(), 4, "{me} rename: {stderr}");
        assert!(stderr.contains(&format!("{secret}: no such document")), "{me} rename: {stderr}");
        for (what, (ok, _, stderr)) in attempts.iter().filter(|(what, _)| what.starts_with("create ")) {
            assert!(!*ok && stderr.contains("Error::InvalidPath"), "{me} {what}: {stderr}");
        }
    }

    // Each directory is byte for byte as it was, but for the one document its own plugin
    // changed; no lock was ever taken on a secret (no session opened on it).
    for (side, before) in [(&a, before.0), (&b, before.1)] {
        let mut expected = before;
        let own = format!("{}.json", side.name);
        let renamed = format!("{{\n  \"owner\": \"{0}\",\n  \"stolen\": \"{0}-own\"\n}}\n", side.name);
        let Some(Entry::File { bytes, .. }) = expected.get_mut(Path::new(&own)) else { panic!("{own} is a file") };
        *bytes = renamed.into_bytes();
        assert_eq!(documents(&side.dir), expected, "{}", side.name);
        let secret_lock = format!("{}-secret.json.lock", side.name);
        assert!(!snapshot(&side.dir).contains_key(Path::new(&secret_lock)), "{}: {secret_lock} was taken", side.name);
    }
}

/// The example plugins pass their own case folders with `confine test` (the validator's
/// byte for byte), as `make test` also runs them.
#[test]
fn the_example_plugins_pass_their_case_folders() {
    let cases = |plugin: &str| crate::support::workspace().join("examples/plugins").join(plugin).join("tests");
    let out = run_ok(
        Command::new(env!("CARGO_BIN_EXE_confine")).arg("test").arg(example_rename_key()).arg(cases("rename-key")),
    );
    assert!(out.ends_with("5 passed, 0 failed\n"), "{out}");
    let validator = Command::new(env!("CARGO_BIN_EXE_confine"))
        .args(["test", "--exact"])
        .arg(example_validate())
        .arg(cases("validate"))
        .output()
        .unwrap();
    assert!(validator.status.success(), "{}", String::from_utf8_lossy(&validator.stdout));
    assert!(String::from_utf8_lossy(&validator.stdout).ends_with("4 passed, 0 failed\n"));
}

/// `confine test` fails each case that does not hold, says why (with a diff of the
/// documents), runs each case on its own store, and exits 1 when any failed.
#[test]
fn confine_test_reports_each_failure_and_keeps_cases_apart() {
    let cases = tempfile::tempdir().unwrap();
    let case = |name: &str, args: &str, files: &[(&str, &str)]| {
        let dir = cases.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("args"), args).unwrap();
        for (path, content) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
    };
    let renamed = "{\n  \"server\": \"a\"\n}\n";
    case("1-passes", "host\nserver\n", &[("before/a.json", "{\"host\": \"a\"}"), ("after/a.json", renamed)]);
    // Its own store: the document of case 1 is not there.
    case("2-alone", "x\ny\n", &[("before/b.json", "{}"), ("after/b.json", "{}")]);
    case(
        "3-wrong-value",
        "host\nserver\n",
        &[("before/a.json", "{\"host\": \"a\"}"), ("after/a.json", "{\"server\": \"b\"}")],
    );
    case("4-error-expected", "host\nserver\n", &[("before/a.json", "{}"), ("error", "no such thing")]);
    case("5-unexpected-error", "host\nserver\nmissing.json\n", &[("after/x.json", "{}")]);
    case("6-nothing-to-compare", "host\nserver\n", &[]);
    case(
        "7-layout",
        "host\nserver\n",
        &[("before/a.json", "{\"host\": \"a\"}"), ("after/a.json", "{\"server\":\"a\"}")],
    );
    let run = |exact: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_confine"));
        command.arg("test");
        if exact {
            command.arg("--exact");
        }
        let out = command.arg(example_rename_key()).arg(cases.path()).output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, out) = run(false);
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out.lines().filter(|line| !line.starts_with(' ')).collect();
    assert_eq!(lines[..2], ["ok     1-passes", "ok     2-alone"], "{out}");
    assert!(lines[2].starts_with("FAILED 3-wrong-value: the documents differ"), "{out}");
    assert!(out.contains("    -  \"server\": \"b\"\n    +  \"server\": \"a\""), "a diff of the values: {out}");
    assert!(lines[3].starts_with("FAILED 4-error-expected: the plugin succeeded; expected an error"), "{out}");
    assert!(lines[4].starts_with("FAILED 5-unexpected-error: the plugin failed: "), "{out}");
    assert!(lines[4].contains("missing.json: no such document"), "{out}");
    assert!(lines[5].starts_with("FAILED 6-nothing-to-compare: the case has neither after/ nor error"), "{out}");
    assert_eq!(lines[6], "ok     7-layout", "the same value in another layout: {out}");
    assert_eq!(lines.last(), Some(&"3 passed, 4 failed"), "{out}");
    let (code, out) = run(true);
    assert_eq!(code, Some(1));
    assert!(out.contains("FAILED 7-layout: the documents differ:\n  a.json: the bytes differ"), "{out}");
    assert!(out.ends_with("2 passed, 5 failed\n"), "{out}");
}

/// With --json, `confine test` prints one object a case and then the totals.
#[test]
fn confine_test_with_json_prints_one_object_a_case() {
    let cases = crate::support::workspace().join("examples/plugins/rename-key/tests");
    let out = run_ok(
        Command::new(env!("CARGO_BIN_EXE_confine")).arg("--json").arg("test").arg(example_rename_key()).arg(cases),
    );
    let objects: Vec<serde_json::Value> = out.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(objects.len(), 6, "{out}");
    assert!(objects[..5].iter().all(|case| case["ok"] == serde_json::json!(true) && case["case"].is_string()), "{out}");
    assert_eq!(objects[5], serde_json::json!({"ok": true, "passed": 5, "failed": 0}));
}
