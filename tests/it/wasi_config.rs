//! A standard `wasi:cli` command that knows only the published `wasi:config` WIT
//! (tests/plugins/config-reader) reads a confine document through `confine run --config`,
//! under the documented flattening, and reaches nothing else: no file, no environment
//! variable, no network. Its exit status is confine's, and the document stays as it was.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::io::ErrorKind;
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::Command;

use crate::support::{config_reader, confine, probe_plugin, repository, run_fails, run_ok, snapshot};
use confine::{CommandError, Options, Runtime, RuntimeOptions, WasiConfigCtx, WasiConfigView};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::sync::Command as WasiCommand;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

const APP: &str = r#"{
  "server": {"port": 8080, "name": "web", "tls": true, "proxy": null},
  "hosts": {"eu.west": "web-1"},
  "a.b": 1,
  "plugins": [{"name": "x"}, "y"],
  "tags": []
}
"#;

fn with_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.json"), APP).unwrap();
    dir
}

/// `confine run [--config DOC] config-reader ARGS...` in `dir`.
fn reader(dir: &Path, config: Option<&str>, args: &[&str]) -> Command {
    let mut command = confine(dir);
    command.arg("run");
    if let Some(doc) = config {
        command.args(["--config", doc]);
    }
    command.arg(config_reader()).args(args);
    command
}

#[test]
fn a_standard_command_reads_values_by_flattened_key() {
    let dir = with_app();
    let keys = [
        ("server.port", "8080"),
        ("server.name", "web"),
        ("server.tls", "true"),
        ("server.proxy", "null"),
        ("hosts[\"eu.west\"]", "web-1"),
        ("[\"a.b\"]", "1"),
        ("plugins[0].name", "x"),
        ("plugins[1]", "y"),
        ("tags", "[]"),
        ("server", r#"{"port":8080,"name":"web","tls":true,"proxy":null}"#),
        ("plugins", r#"[{"name":"x"},"y"]"#),
        ("server[\"port\"]", "8080"),
        ("nope", "<none>"),
        ("a.b", "<none>"),
        ("plugins[2]", "<none>"),
        ("server.port.deeper", "<none>"),
    ];
    let args: Vec<&str> = std::iter::once("get").chain(keys.iter().map(|(key, _)| *key)).collect();
    let out = run_ok(&mut reader(dir.path(), Some("app.json"), &args));
    let expected: Vec<&str> = keys.iter().map(|(_, value)| *value).collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn get_all_lists_every_leaf() {
    let dir = with_app();
    let out = run_ok(&mut reader(dir.path(), Some("app.json"), &["all"]));
    let expected = "\
[\"a.b\"]=1
hosts[\"eu.west\"]=web-1
plugins[0].name=x
plugins[1]=y
server.name=web
server.port=8080
server.proxy=null
server.tls=true
tags=[]
";
    assert_eq!(out, expected);
}

#[test]
fn a_key_that_does_not_parse_is_an_upstream_error() {
    let dir = with_app();
    let output = reader(dir.path(), Some("app.json"), &["get", "server..port"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "the reader exits 3, which Rust's std reports as 1");
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.starts_with("error: Error::Upstream(\"key path \\\"server..port\\\""), "{out}");
}

#[test]
fn a_missing_document_is_an_upstream_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = reader(dir.path(), Some("app.json"), &["get", "server.port"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "error: Error::Upstream(\"app.json: no such document\")\n");
    assert!(!dir.path().join("app.json").exists());
}

#[test]
fn an_invalid_document_is_an_upstream_error_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.json"), "{\"a\": 1,\n \"a\": 2}\n").unwrap();
    std::fs::write(dir.path().join("list.json"), "[1]").unwrap();
    let out = String::from_utf8(reader(dir.path(), Some("app.json"), &["all"]).output().unwrap().stdout).unwrap();
    assert!(out.starts_with("error: Error::Upstream(\"app.json: ") && out.contains("line 2, column"), "{out}");
    let out = String::from_utf8(reader(dir.path(), Some("list.json"), &["get", "a"]).output().unwrap().stdout).unwrap();
    assert!(out.starts_with("error: Error::Upstream(\"list.json: ") && out.contains("object"), "{out}");
    let out = String::from_utf8(reader(dir.path(), Some("../x.json"), &["all"]).output().unwrap().stdout).unwrap();
    assert!(out.starts_with("error: Error::Upstream(\"\\\"../x.json\\\": "), "{out}");
}

#[test]
fn without_config_the_store_is_empty() {
    let dir = with_app();
    assert_eq!(run_ok(&mut reader(dir.path(), None, &["all"])), "");
    assert_eq!(run_ok(&mut reader(dir.path(), None, &["get", "server.port"])), "<none>\n");
}

#[test]
fn the_command_cannot_reach_files_environment_or_network() {
    let dir = with_app();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let tcp_addr = tcp.local_addr().unwrap().to_string();
    let udp_addr = udp.local_addr().unwrap().to_string();
    let mut command = reader(dir.path(), Some("app.json"), &["escape", "CONFINE_TEST_SECRET", &tcp_addr]);
    command.env("CONFINE_TEST_SECRET", "hunter2").current_dir(dir.path());
    let out = run_ok(&mut command);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out}");
    for line in &lines {
        assert!(line.contains(": refused ("), "{line}");
    }
    assert!(
        lines[0].starts_with("file /etc/passwd: refused") && lines[2].starts_with("env CONFINE_TEST_SECRET"),
        "{out}"
    );
    assert_eq!(tcp.accept().map(drop).unwrap_err().kind(), ErrorKind::WouldBlock, "a TCP connection arrived");
    // UDP to the TCP port was refused too; a datagram to a listening UDP port as well.
    let out = run_ok(&mut reader(dir.path(), None, &["escape", "HOME", &udp_addr]));
    assert!(out.contains(&format!("udp {udp_addr}: refused")), "{out}");
    assert_eq!(udp.recv(&mut [0; 16]).unwrap_err().kind(), ErrorKind::WouldBlock, "a datagram arrived");
}

#[test]
fn the_command_sees_its_file_name_and_arguments_only() {
    let dir = with_app();
    let out = run_ok(&mut reader(dir.path(), None, &["args", "a b", "--x"]));
    assert_eq!(out, "confine_test_config_reader.wasm\nargs\na b\n--x\n");
}

#[test]
fn the_exit_status_is_passed_through() {
    let dir = with_app();
    run_ok(&mut reader(dir.path(), Some("app.json"), &["exit", "0"]));
    let stderr = run_fails(&mut reader(dir.path(), Some("app.json"), &["exit-with-code", "42"]), 42);
    assert!(stderr.contains("the command exited with status 42"), "{stderr}");
    run_fails(&mut reader(dir.path(), None, &["exit-with-code", "7"]), 7);
    run_fails(&mut reader(dir.path(), None, &["fail"]), 1);
    run_fails(&mut reader(dir.path(), None, &["exit", "5"]), 1); // Rust's std: `exit(err)`
}

#[test]
fn the_command_is_bounded_by_budget_and_memory() {
    let dir = with_app();
    let mut spin = confine(dir.path());
    spin.args(["--budget", "200ms", "run"]).arg(config_reader()).arg("spin");
    let stderr = run_fails(&mut spin, 1);
    assert!(stderr.contains("the command failed: it ran past its budget of 200ms"), "{stderr}");
    let mut hog = confine(dir.path());
    hog.args(["--memory", "32", "run"]).arg(config_reader()).arg("hog");
    let stderr = run_fails(&mut hog, 1);
    assert!(stderr.contains("grow its memory past the limit"), "{stderr}");
}

#[test]
fn the_document_is_unchanged_by_any_command() {
    let dir = with_app();
    let before = snapshot(dir.path());
    for args in [&["all"][..], &["get", "server.port", "nope"], &["escape"], &["exit-with-code", "3"], &["spin"]] {
        let mut command = confine(dir.path());
        command.args(["--budget", "100ms", "run", "--config", "app.json"]).arg(config_reader()).args(args);
        command.output().unwrap();
    }
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn config_is_refused_for_a_plugin() {
    let dir = with_app();
    let before = snapshot(dir.path());
    let mut command = confine(dir.path());
    command.args(["run", "--config", "app.json"]).arg(probe_plugin()).args(["incr", "app.json", "n", "1"]);
    let stderr = run_fails(&mut command, 2);
    assert!(stderr.contains("not a wasi:cli command") && stderr.contains("--config is for commands"), "{stderr}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn the_runtime_runs_commands_and_tells_plugins_apart() {
    let dir = with_app();
    let options = RuntimeOptions { plugin_stdio: false, ..RuntimeOptions::default() };
    let runtime = Runtime::new(options).unwrap();
    let wasm = std::fs::read(config_reader()).unwrap();
    let args = |words: &[&str]| -> Vec<String> { words.iter().map(|w| w.to_string()).collect() };
    let config = || WasiConfigCtx::new(repository(dir.path()), "app.json");
    assert_eq!(runtime.run_command(&wasm, &args(&["r", "get", "server.port"]), config()).unwrap(), 0);
    assert_eq!(runtime.run_command(&wasm, &args(&["r", "exit-with-code", "9"]), config()).unwrap(), 9);
    let missing = WasiConfigCtx::new(repository(dir.path()), "missing.json");
    assert_eq!(runtime.run_command(&wasm, &args(&["r", "get", "x"]), missing).unwrap(), 1);
    let plugin = std::fs::read(probe_plugin()).unwrap();
    let outcome = runtime.run_command(&plugin, &args(&["p"]), WasiConfigCtx::empty());
    assert!(matches!(&outcome, Err(CommandError::NotACommand(why)) if why.contains("wasi:cli/run")), "{outcome:?}");
    let outcome = runtime.run_command(b"\0asm garbage", &args(&["g"]), WasiConfigCtx::empty());
    assert!(matches!(&outcome, Err(CommandError::NotACommand(_))), "{outcome:?}");
}

struct Embedder {
    wasi: WasiCtx,
    table: ResourceTable,
    config: WasiConfigCtx,
}

impl WasiView for Embedder {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

#[test]
fn an_embedder_links_wasi_config_next_to_wasi() {
    let dir = with_app();
    let engine = Engine::default();
    let mut linker = Linker::<Embedder>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    confine::add_wasi_config_to_linker(&mut linker, |s: &mut Embedder| WasiConfigView { ctx: &mut s.config }).unwrap();
    let component = Component::from_file(&engine, config_reader()).unwrap();
    let stdout = MemoryOutputPipe::new(1 << 16);
    let wasi =
        WasiCtx::builder().args(&["reader", "get", "hosts[\"eu.west\"]", "plugins[0]"]).stdout(stdout.clone()).build();
    let repository = confine::Repository::new(
        cap_std::fs::Dir::open_ambient_dir(dir.path(), cap_std::ambient_authority()).unwrap(),
        Options::default(),
        confine::Documents::default(),
    );
    let state = Embedder { wasi, table: ResourceTable::new(), config: WasiConfigCtx::new(repository, "app.json") };
    let mut store = Store::new(&engine, state);
    let command = WasiCommand::instantiate(&mut store, &component, &linker).unwrap();
    assert_eq!(command.wasi_cli_run().call_run(&mut store).unwrap(), Ok(()));
    assert_eq!(String::from_utf8(stdout.contents().to_vec()).unwrap(), "web-1\n{\"name\":\"x\"}\n");
    assert_eq!(store.data().config.document(), Some("app.json"));
}
