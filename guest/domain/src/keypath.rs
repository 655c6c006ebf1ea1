//! Key paths: how a caller addresses a value inside a document.
//!
//! Grammar (the empty path is the whole document):
//!
//! ```text
//! path    = [ first { "." bare | bracket } ]
//! first   = bare | bracket
//! bracket = "[" digits "]"                      -- an array index
//!         | "[" json-string "]"                 -- a quoted key
//! bare    = 1*( any char except . [ ] " )
//! ```
//!
//! `server.port`, `plugins[2].name`, `[0]`, `hosts["eu.west"].port`. A key that holds
//! `.`, `[`, `]` or `"`, or that is empty, is written as a quoted JSON string in
//! brackets, so every key of every document can be addressed.

use std::fmt;

/// One step into a document: an object member or an array element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A member of an object.
    Key(String),
    /// An element of an array, counted from 0.
    Index(usize),
}

/// A parsed key path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPath {
    /// The steps from the document's root, outermost first.
    pub segments: Vec<Segment>,
}

/// Why a key path does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPathError {
    /// The path as given.
    pub path: String,
    /// The byte offset where parsing stopped.
    pub offset: usize,
    /// What was expected there.
    pub reason: &'static str,
}

impl fmt::Display for KeyPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key path {:?}: {} at offset {}", self.path, self.reason, self.offset)
    }
}

impl KeyPath {
    /// Parses a key path written in the grammar above.
    pub fn parse(path: &str) -> Result<KeyPath, KeyPathError> {
        Parser { path, pos: 0 }.parse()
    }

    /// The path that addresses the parent of the last segment, and that segment; `None`
    /// for the root.
    pub fn split_last(&self) -> Option<(&[Segment], &Segment)> {
        let (last, parents) = self.segments.split_last()?;
        Some((parents, last))
    }
}

impl fmt::Display for KeyPath {
    /// Writes the canonical form, which parses back to the same path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Key(k) if is_bare(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Segment::Key(k) => {
                    let quoted = serde_json::Value::String(k.clone()).to_string();
                    write!(f, "[{quoted}]")?;
                }
            }
        }
        Ok(())
    }
}

fn is_bare(key: &str) -> bool {
    !key.is_empty() && !key.contains(['.', '[', ']', '"'])
}

struct Parser<'a> {
    path: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn parse(mut self) -> Result<KeyPath, KeyPathError> {
        let mut segments = Vec::new();
        if self.path.is_empty() {
            return Ok(KeyPath { segments });
        }
        segments.push(self.step()?);
        while self.pos < self.path.len() {
            if self.rest().starts_with('.') {
                self.pos += 1;
                if self.rest().starts_with('[') {
                    return Err(self.error("a key after '.' (write `a[0]`, not `a.[0]`)"));
                }
            } else if !self.rest().starts_with('[') {
                return Err(self.error("'.' or '['"));
            }
            segments.push(self.step()?);
        }
        Ok(KeyPath { segments })
    }

    fn rest(&self) -> &str {
        self.path.get(self.pos..).unwrap_or("")
    }

    fn error(&self, reason: &'static str) -> KeyPathError {
        KeyPathError { path: self.path.to_owned(), offset: self.pos, reason }
    }

    fn step(&mut self) -> Result<Segment, KeyPathError> {
        if self.rest().starts_with('[') { self.bracket() } else { self.bare() }
    }

    fn bare(&mut self) -> Result<Segment, KeyPathError> {
        let rest = self.rest();
        let len = rest.find(['.', '[', ']', '"']).unwrap_or(rest.len());
        if len == 0 {
            return Err(self.error("a key"));
        }
        let key = rest[..len].to_owned();
        self.pos += len;
        Ok(Segment::Key(key))
    }

    fn bracket(&mut self) -> Result<Segment, KeyPathError> {
        self.pos += 1; // '['
        let rest = self.rest();
        let segment = if rest.starts_with('"') {
            let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<String>();
            let key = match stream.next() {
                Some(Ok(key)) => key,
                _ => return Err(self.error("a complete JSON string")),
            };
            self.pos += stream.byte_offset();
            Segment::Key(key)
        } else {
            let len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            if len == 0 {
                return Err(self.error("an index (digits) or a quoted key"));
            }
            if len > 1 && rest.starts_with('0') {
                return Err(self.error("an index without leading zeros"));
            }
            let index = rest[..len].parse().map_err(|_| self.error("an index that fits in memory"))?;
            self.pos += len;
            Segment::Index(index)
        };
        if !self.rest().starts_with(']') {
            return Err(self.error("']'"));
        }
        self.pos += 1;
        Ok(segment)
    }
}

#[cfg(test)]
#[path = "tests/keypath.rs"]
mod tests;

#[cfg(test)]
#[path = "tests/keypath_props.rs"]
mod props;
