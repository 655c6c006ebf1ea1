//! What a document is written in: JSON, or TOML. The name says which (`.toml` is TOML,
//! anything else JSON), unless a caller says otherwise for one command.

use std::fmt;

use crate::error::{Error, ErrorKind};

/// A document's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Strict JSON whose root is an object ([`crate::strict`]).
    #[default]
    Json,
    /// TOML, read and changed with its layout kept ([`crate::toml`]).
    Toml,
}

impl Format {
    /// The format of the document `name`: TOML if it ends in `.toml` (in any case), else
    /// JSON.
    pub fn of(name: &str) -> Format {
        let toml = name.len() >= 5 && name.get(name.len() - 5..).is_some_and(|end| end.eq_ignore_ascii_case(".toml"));
        if toml { Format::Toml } else { Format::Json }
    }

    /// The format `given` for one command, or else the one `name` says.
    pub fn chosen(given: Option<Format>, name: &str) -> Format {
        given.unwrap_or_else(|| Format::of(name))
    }

    /// Parses a format's name as a user writes it (`json`, `toml`).
    ///
    /// # Errors
    /// `InvalidValue` for any other word.
    pub fn parse(word: &str) -> Result<Format, Error> {
        match word {
            "json" => Ok(Format::Json),
            "toml" => Ok(Format::Toml),
            other => Err(Error::new(ErrorKind::InvalidValue, format!("unknown format `{other}` (json or toml)"))),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "json",
            Format::Toml => "toml",
        })
    }
}
