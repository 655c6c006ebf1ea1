//! The fenced blocks of a Markdown file, with where each starts and what it is, so that the
//! docs' examples can be run (`console`), compared with the code they come from (`rust`),
//! or written where an example reads them (a block after `<!-- file NAME -->`).

/// One fenced block: its info string's first word, its lines, the line of the file it
/// starts on (1-based), and the file an HTML comment just above it asks to write it to.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) language: String,
    pub(crate) lines: Vec<String>,
    pub(crate) line: usize,
    pub(crate) file: Option<String>,
    indent: usize,
}

/// Every fenced block of `text` (``` fences, as the docs write them), in order. An
/// unterminated block is a failure: GitHub would show the rest of the file as code.
pub(crate) fn blocks(text: &str, doc: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    let mut previous = "";
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match open.as_mut() {
            Some(block) if trimmed == "```" => {
                blocks.push(block.clone());
                open = None;
            }
            Some(block) => {
                // A block under a list item is indented as a whole, by its fence's indent.
                let strip = (line.len() - trimmed.len()).min(block.indent);
                block.lines.push(line[strip..].to_owned());
            }
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let file = previous
                        .trim()
                        .strip_prefix("<!-- file ")
                        .and_then(|rest| rest.strip_suffix(" -->"))
                        .map(str::to_owned);
                    open = Some(Block {
                        language: info.split_whitespace().next().unwrap_or("").to_owned(),
                        lines: Vec::new(),
                        line: index + 1,
                        file,
                        indent: line.len() - trimmed.len(),
                    });
                }
            }
        }
        if !line.trim().is_empty() {
            previous = line;
        }
    }
    assert!(open.is_none(), "{doc}: a block that starts at line {} is never closed", open.map_or(0, |b| b.line));
    blocks
}

/// A shell session of a `console` block: each `$ ` line is a command (a line ending in `\`
/// goes on on the next, after `> `), and the lines up to the next command are what it prints, stdout
/// and stderr together as a terminal shows them. `...` alone on a line stands for any
/// number of lines, `[..]` in a line for any text; a last line `[exit N]` says the command
/// ends with status N (else it must succeed).
#[derive(Debug, Clone)]
pub(crate) struct Command {
    pub(crate) text: String,
    pub(crate) expected: Vec<String>,
    pub(crate) status: i32,
    /// The doc's line the command is on, for failures.
    pub(crate) line: usize,
}

pub(crate) fn commands(block: &Block, doc: &str) -> Vec<Command> {
    let mut commands: Vec<Command> = Vec::new();
    let mut continued = false;
    for (offset, line) in block.lines.iter().enumerate() {
        let at = block.line + 1 + offset;
        if continued {
            let command = commands.last_mut().expect("a continued command");
            // A shell shows `> ` before each line it goes on reading.
            command.text.push('\n');
            command.text.push_str(line.strip_prefix("> ").unwrap_or(line));
            continued = line.ends_with('\\');
        } else if let Some(text) = line.strip_prefix("$ ") {
            commands.push(Command { text: text.to_owned(), expected: Vec::new(), status: 0, line: at });
            continued = text.ends_with('\\');
        } else {
            let Some(command) = commands.last_mut() else {
                panic!("{doc}:{at}: a console block must start with a `$ ` command, not {line:?}")
            };
            command.expected.push(line.clone());
        }
    }
    for command in &mut commands {
        let status =
            command.expected.last().and_then(|last| last.strip_prefix("[exit ")?.strip_suffix(']')?.parse().ok());
        if let Some(status) = status {
            command.status = status;
            command.expected.pop();
        }
    }
    commands
}

/// Whether `actual` is what `expected` shows, with `...` lines and `[..]` wildcards.
pub(crate) fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => (0..=actual.len()).any(|skip| matches(rest, &actual[skip..])),
        Some((first, rest)) => {
            actual.split_first().is_some_and(|(line, others)| line_matches(first, line) && matches(rest, others))
        }
    }
}

/// Trailing spaces are not compared: a terminal does not show them, and editors drop them.
fn line_matches(expected: &str, actual: &str) -> bool {
    let (expected, actual) = (expected.trim_end(), actual.trim_end());
    let mut pieces = expected.split("[..]");
    let first = pieces.next().unwrap_or("");
    let Some(mut rest) = actual.strip_prefix(first) else { return false };
    let pieces: Vec<&str> = pieces.collect();
    for (index, piece) in pieces.iter().enumerate() {
        if index + 1 == pieces.len() {
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

#[test]
fn wildcards_match_what_they_say() {
    let lines = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
    assert!(matches(&lines("a\n...\nd"), &["a", "b", "c", "d"]));
    assert!(matches(&lines("a\n...\nd"), &["a", "d"]));
    assert!(!matches(&lines("a\n...\nd"), &["a", "b"]));
    assert!(matches(&lines("took [..] ms"), &["took 12 ms"]));
    assert!(!matches(&lines("took [..] ms"), &["took 12 s"]));
    assert!(matches(&lines("[..]: free"), &["app.json: free"]));
    assert!(!matches(&lines("x"), &["x", "y"]));
    let block = Block {
        language: "console".into(),
        lines: lines("$ false\n[exit 1]\n$ echo a \\\n  b\na b"),
        line: 1,
        file: None,
        indent: 0,
    };
    let parsed = commands(&block, "t");
    assert_eq!((parsed[0].status, parsed[0].expected.len()), (1, 0));
    assert_eq!((parsed[1].text.as_str(), parsed[1].line), ("echo a \\\n  b", 4));
}
