//! Every example in README.md and docs/ runs, so none can rot. Each block is one of:
//! - `console`: a shell session, run as written and its output compared (`session`);
//! - `rust`: a part of a source file that `make test` builds and runs, named on its first
//!   line (`// examples/embedder/src/main.rs`) and found there line for line;
//! - `python`: run by the Python package's tests (`host/python/tests/test_docs.py`), in
//!   docs/python.md only;
//! - `sh`: the build's own commands (`make`, `cargo`, `pip`), which CI runs as `make test`;
//! - `text`: a figure;
//! - any block after `<!-- file NAME -->`: written to NAME for the examples after it.
//!
//! Anything else is refused, so an example cannot be added that nothing runs.

mod markdown;
mod session;

use markdown::Block;
use session::Setting;

use crate::support::{add_to_figure, workspace};

/// What the docs' tests found (in one doc, or all of them), for `make test`'s figures.
#[derive(Default)]
struct Totals {
    docs: usize,
    commands: usize,
    excerpts: usize,
    python: usize,
}

static TOTALS: std::sync::Mutex<Totals> =
    std::sync::Mutex::new(Totals { docs: 0, commands: 0, excerpts: 0, python: 0 });

/// Each doc and its test: the setting its sessions run in. `DOCS` lists them all (the etcd
/// guide's test, which starts a cluster, is below).
macro_rules! docs {
    ($($test:ident: $doc:literal in $setting:expr;)*) => {
        const DOCS: &[&str] = &[$($doc,)* "docs/etcd.md"];
        $(
            #[test]
            fn $test() {
                check($doc, &$setting);
            }
        )*
    };
}

docs! {
    readme: "README.md" in examples();
    building: "docs/building.md" in Setting::default();
    cli: "docs/cli.md" in examples();
    toml: "docs/toml.md" in examples();
    python: "docs/python.md" in Setting::default();
    rust: "docs/rust.md" in Setting::default();
    embedding: "docs/embedding.md" in examples();
    standard_components: "docs/standard-components.md" in examples();
    guarantees: "docs/guarantees.md" in Setting::default();
    platforms: "docs/platforms.md" in Setting::default();
    performance: "docs/performance.md" in Setting::default();
    architecture: "docs/architecture.md" in Setting::default();
}

#[test]
fn every_doc_is_run() {
    let mut found = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(workspace().join("docs")).expect("docs/") {
        let name = entry.expect("docs/ entry").file_name().into_string().expect("a UTF-8 name");
        found.push(format!("docs/{name}"));
    }
    found.sort();
    let mut listed: Vec<String> = DOCS.iter().map(|doc| (*doc).to_owned()).collect();
    listed.sort();
    assert_eq!(
        found, listed,
        "every file in docs/ is a doc whose examples run: list it in `docs!` and so give it a test"
    );
}

/// The etcd guide's examples run on a real cluster of three members and a TLS member with
/// client certificates, each in place of the addresses the guide shows.
#[cfg(feature = "etcd")]
#[test]
fn etcd() {
    use crate::etcd::{Certs, Cluster, Tls};
    let cluster = Cluster::start(3);
    let certs = Certs::make();
    let tls = Cluster::start_tls(
        1,
        Tls { ca: certs.ca.clone(), member: certs.member.clone(), client: Some(certs.client.clone()) },
    );
    let endpoints = |cluster: &Cluster| cluster.members.iter().map(|m| m.endpoint.clone()).collect::<Vec<_>>();
    let plain = endpoints(&cluster);
    let mut setting = examples();
    setting.substitutions = vec![
        ("10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379".to_owned(), plain.join(",")),
        ("10.0.0.1:2379".to_owned(), plain[0].clone()),
        ("10.0.1.1:2379".to_owned(), endpoints(&tls)[0].clone()),
    ];
    setting.files.extend([
        ("ca.pem".to_owned(), certs.ca.clone()),
        ("client.pem".to_owned(), certs.client.cert.clone()),
        ("client-key.pem".to_owned(), certs.client.key.clone()),
    ]);
    check("docs/etcd.md", &setting);
}

/// The components the docs run, by the names they give them: the two example plugins and
/// the two standard commands of the tests (`tests/plugins`).
fn examples() -> Setting {
    use crate::support::{config_reader, example_rename_key, example_validate, keyvalue_probe};
    Setting {
        substitutions: Vec::new(),
        files: vec![
            ("rename-key.wasm".to_owned(), example_rename_key()),
            ("validate.wasm".to_owned(), example_validate()),
            ("config-reader.wasm".to_owned(), config_reader()),
            ("keyvalue-probe.wasm".to_owned(), keyvalue_probe()),
        ],
    }
}

/// Checks every block of `doc` by its kind and runs its sessions.
fn check(doc: &str, setting: &Setting) {
    let text = std::fs::read_to_string(workspace().join(doc)).unwrap_or_else(|e| panic!("read {doc}: {e}"));
    let blocks = markdown::blocks(&text, doc);
    let mut found = Totals { docs: 1, ..Totals::default() };
    for block in &blocks {
        let at = format!("{doc}:{}", block.line);
        match (block.file.is_some(), block.language.as_str()) {
            (true, _) | (false, "console" | "text") => {}
            (false, "rust") => {
                check_excerpt(&at, block);
                found.excerpts += 1;
            }
            (false, "python") => {
                assert_eq!(doc, "docs/python.md", "{at}: Python examples are run from docs/python.md only");
                found.python += 1;
            }
            (false, "sh") => check_build_commands(&at, block),
            (false, other) => panic!(
                "{at}: a `{other}` block that nothing runs: make it a `console` session, a `rust` excerpt \
                 naming its source, or a file an example uses (`<!-- file NAME -->` above it)"
            ),
        }
    }
    check_links(doc, &text);
    found.commands = session::run(doc, &blocks, setting);
    add_to_figure("docs", &TOTALS, |totals| {
        totals.docs += found.docs;
        totals.commands += found.commands;
        totals.excerpts += found.excerpts;
        totals.python += found.python;
        format!(
            "{} docs: {} shell commands run, each printing what its doc shows; {} Rust excerpts found in the code they \
             quote; the Python guide's {} block(s) run by the Python tests",
            totals.docs, totals.commands, totals.excerpts, totals.python
        )
    });
}

/// Every link to a file of this repository leads to one, and every `#anchor` to a heading
/// of its doc (as GitHub makes them: lowercase, spaces as `-`, other punctuation dropped).
fn check_links(doc: &str, text: &str) {
    let base = workspace().join(doc).parent().expect("a doc's folder").to_owned();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        if target.contains("://") || target.contains(' ') {
            continue;
        }
        let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
        let file = if path.is_empty() { workspace().join(doc) } else { base.join(path) };
        assert!(file.exists(), "{doc}: the link ({target}) leads to no file");
        if !anchor.is_empty() {
            let linked = std::fs::read_to_string(&file).unwrap_or_default();
            let slugs: Vec<String> = linked.lines().filter_map(|line| line.strip_prefix('#')).map(slug).collect();
            assert!(slugs.iter().any(|s| s == anchor), "{doc}: the link ({target}) names no heading there");
        }
    }
}

fn slug(heading: &str) -> String {
    heading
        .trim_start_matches('#')
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// A `rust` block is an excerpt: its first line names the file (`// PATH`), and the rest
/// are lines of that file in order, each compared without its indent, and in a doc comment
/// without the comment's `//! ` or `/// ` (rustdoc's hidden `# ` lines may lie between).
fn check_excerpt(at: &str, block: &Block) {
    let (first, excerpt) = block.lines.split_first().unwrap_or_else(|| panic!("{at}: an empty rust block"));
    let path = first.strip_prefix("// ").unwrap_or_else(|| {
        panic!("{at}: a rust block starts with `// PATH` naming the file it comes from, not {first:?}")
    });
    let source = std::fs::read_to_string(workspace().join(path)).unwrap_or_else(|e| panic!("{at}: read {path}: {e}"));
    let normal = |line: &str| {
        let line = line.trim_start();
        let line = line
            .strip_prefix("//!")
            .or_else(|| line.strip_prefix("///"))
            .map_or(line, |rest| rest.strip_prefix(' ').unwrap_or(rest));
        line.trim_start().to_owned()
    };
    let lines: Vec<String> = source.lines().map(normal).filter(|line| !line.starts_with("# ") && line != "#").collect();
    let wanted: Vec<String> = excerpt.iter().map(|line| normal(line)).collect();
    let found = lines.windows(wanted.len().max(1)).any(|window| window == wanted.as_slice());
    assert!(found, "{at}: these lines are not, in this order, in {path}:\n{}", excerpt.join("\n"));
}

/// A `sh` block holds only the build's own commands, which CI runs (`make test`, `make run`)
/// or which build what those do (`cargo install`, `pip install ./host/python`).
fn check_build_commands(at: &str, block: &Block) {
    for line in &block.lines {
        let command = line.split('#').next().unwrap_or("").trim();
        let word = command.split_whitespace().next().unwrap_or("");
        assert!(
            command.is_empty() || ["make", "cargo", "pip", "rustup"].contains(&word),
            "{at}: `{command}` is not a build command: show it in a `console` block, where it is run"
        );
    }
}
