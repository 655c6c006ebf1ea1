//! A doc's shell sessions, run as written: every `console` command of one doc, in order, in
//! one `bash` in a fresh directory (so `cd`, `export` and the files one example makes carry
//! on to the next, as they would for a reader typing them), each answer compared with the
//! lines the doc shows under it.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use super::markdown::{self, Block};

/// One step of a doc's session: a command to run, or a file a block asks to write.
enum Step {
    Run(markdown::Command),
    Write { name: String, lines: Vec<String> },
}

/// What a doc's session runs with beyond the directory: text to put in place of what the
/// doc shows (an etcd cluster's real addresses for the ones a reader would have), and
/// files to copy into the directory first (the example plugins, by the names the docs use).
#[derive(Default)]
pub(crate) struct Setting {
    pub(crate) substitutions: Vec<(String, String)>,
    pub(crate) files: Vec<(String, PathBuf)>,
}

/// The marker written after each command: a record separator and the command's status.
const MARK: &str = "\n\u{1e}";

/// Runs every `console` command and `<!-- file -->` block of `blocks`; fails naming the
/// doc's line, the command, what was shown and what came. Returns how many commands ran.
pub(crate) fn run(doc: &str, blocks: &[Block], setting: &Setting) -> usize {
    let steps: Vec<Step> = blocks
        .iter()
        .flat_map(|block| match (&block.file, block.language.as_str()) {
            (Some(name), _) => vec![Step::Write { name: name.clone(), lines: block.lines.clone() }],
            (None, "console") => markdown::commands(block, doc).into_iter().map(Step::Run).collect(),
            _ => Vec::new(),
        })
        .collect();
    let commands: Vec<&markdown::Command> =
        steps.iter().filter_map(|step| if let Step::Run(command) = step { Some(command) } else { None }).collect();
    if commands.is_empty() {
        return 0;
    }
    let work = tempfile::tempdir().expect("a directory for the doc's session");
    for (name, from) in &setting.files {
        std::fs::copy(from, work.path().join(name))
            .unwrap_or_else(|e| panic!("copy {} for {doc}: {e}", from.display()));
    }
    let substitute = |text: &str| {
        setting.substitutions.iter().fold(text.to_owned(), |text, (shown, real)| text.replace(shown, real))
    };
    let mut script = String::from("exec 2>&1\n");
    for step in &steps {
        match step {
            Step::Write { name, lines } => {
                script.push_str(&format!(
                    "mkdir -p \"$(dirname '{name}')\" && cat > '{name}' <<'CONFINE_DOC_FILE'\n{}\nCONFINE_DOC_FILE\n",
                    lines.join("\n")
                ));
            }
            Step::Run(command) => {
                script.push_str(&format!(
                    "{{\n{}\n}}\nprintf '{}%d\\n' \"$?\"\n",
                    substitute(&command.text),
                    MARK.replace('\n', "\\n").replace('\u{1e}', "\\036")
                ));
            }
        }
    }
    let output =
        shell(work.path()).arg("-c").arg(&script).output().unwrap_or_else(|e| panic!("run bash for {doc}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut rest = stdout.as_str();
    for command in &commands {
        let Some(at) = rest.find(MARK) else {
            panic!(
                "{doc}:{}: the session ended at `{}` before it finished; it printed:\n{rest}",
                command.line, command.text
            )
        };
        let printed: Vec<&str> = rest[..at].lines().collect();
        let after = &rest[at + MARK.len()..];
        let end = after.find('\n').unwrap_or(after.len());
        let status: i32 = after[..end].parse().expect("the marker's status");
        rest = after.get(end + 1..).unwrap_or("");
        let expected: Vec<String> = command.expected.iter().map(|line| substitute(line)).collect();
        assert!(
            status == command.status && markdown::matches(&expected, &printed),
            "{doc}:{}: `{}` ended with status {status} (the doc says {}) and printed:\n{}\n-- the doc shows:\n{}",
            command.line,
            command.text,
            command.status,
            printed.join("\n"),
            expected.join("\n"),
        );
    }
    commands.len()
}

/// `bash` (for at most five minutes) in `dir` with the `confine` under test first on PATH, the tests' compiled
/// component cache, a home of its own, no stdin, and none of the caller's confine settings.
fn shell(dir: &Path) -> Process {
    let confine = Path::new(env!("CARGO_BIN_EXE_confine"));
    let bin = confine.parent().expect("the binary's directory");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_owned()];
    paths.extend(std::env::split_paths(&path));
    let home = dir.join(".home");
    std::fs::create_dir_all(&home).expect("a home for the session");
    // A doc whose command hangs fails the test rather than holding it.
    let mut process = Process::new("timeout");
    process
        .args(["--kill-after=5", "300", "bash"])
        .current_dir(dir)
        .env("PATH", std::env::join_paths(paths).expect("PATH"))
        .env("HOME", home)
        .env("CONFINE_CACHE_DIR", crate::support::cache_dir())
        .env("LC_ALL", "C.UTF-8")
        .env("TZ", "UTC")
        .stdin(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(|name| name.starts_with("CONFINE_") && name != "CONFINE_CACHE_DIR") {
            process.env_remove(name);
        }
    }
    process
}
