//! `confine batch`: commands from stdin, one a line, answered on stdout as each is done, by
//! one process (one start of the wasm runtime for all of them).

use std::io::{BufRead, Write};
use std::path::Path;

use clap::Parser;

use crate::args::Command;
use crate::context::Context;
use crate::execute;
use crate::report::{Failure, Outcome, failure_json, outcome_text, status};

/// One line of a batch: a command in the command line's own syntax.
#[derive(Parser)]
#[command(no_binary_name = true, name = "confine batch", disable_help_subcommand = true)]
struct Line {
    #[command(subcommand)]
    command: Command,
}

/// Runs every line of `input`, answering each on `output`; returns the batch's outcome:
/// the status of the first line that failed (0 if none did), or 128 + the signal that
/// stopped it.
pub(crate) fn run(context: &Context, input: &mut impl BufRead, output: &mut impl Write) -> Outcome {
    let mut first_failure = None;
    let mut text = Vec::new();
    for number in 1.. {
        if context.stop.received().is_some() {
            break;
        }
        text.clear();
        match input.read_until(b'\n', &mut text) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                let failure = Failure::new(status::IO, "io", format!("cannot read the batch from stdin: {e}"));
                eprintln!("confine: {}", failure.message);
                first_failure.get_or_insert(failure.code);
                break;
            }
        }
        // A signal that came while the line was awaited stops the batch before it runs.
        if context.stop.received().is_some() {
            break;
        }
        let Some(answer) = answer(context, &text) else { continue };
        let written = match &answer {
            Ok(outcome) => {
                let shown = outcome_text(outcome, context.json).unwrap_or_else(|| "ok\n".into());
                output.write_all(shown.as_bytes())
            }
            Err(failure) => {
                eprintln!("confine: line {number}: {}", failure.message);
                first_failure.get_or_insert(failure.code);
                let shown = if context.json { failure_json(failure) } else { format!("error: {}\n", failure.message) };
                output.write_all(shown.as_bytes())
            }
        };
        // An answer no one reads (a closed pipe) ends the batch, as it would end `cat`.
        if written.and_then(|()| output.flush()).is_err() {
            break;
        }
    }
    let interrupted = context.stop.received().map(|signal| u8::try_from(128 + signal).unwrap_or(u8::MAX));
    Outcome::Streamed { status: interrupted.or(first_failure).unwrap_or(0) }
}

/// The outcome of one line, or `None` for a blank line or a comment.
fn answer(context: &Context, text: &[u8]) -> Option<Result<Outcome, Failure>> {
    let Ok(line) = std::str::from_utf8(text) else {
        return Some(Err(Failure::new(status::BAD_INPUT, "usage", "the line is not valid UTF-8")));
    };
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let Some(words) = shlex::split(line) else {
        return Some(Err(Failure::new(status::BAD_INPUT, "usage", format!("unbalanced quotes in {line:?}"))));
    };
    Some(match Line::try_parse_from(words) {
        Ok(Line { command: Command::Apply { file, .. } }) if file.as_deref().is_none_or(|f| f == Path::new("-")) => {
            Err(Failure::new(
                status::BAD_INPUT,
                "usage",
                "apply inside a batch reads its changes from a FILE: stdin is the batch",
            ))
        }
        Ok(Line { command }) => execute(command, context),
        Err(e) => {
            let rendered = e.render().to_string();
            let reason = rendered.lines().next().unwrap_or("not a command").trim_start_matches("error: ");
            Err(Failure::new(status::BAD_INPUT, "usage", format!("{line:?}: {reason}")))
        }
    })
}
