//! What confine accepts as JSON text: the grammar of RFC 8259 (serde_json's parser), less
//! two things RFC 8259 leaves to each implementation and that would otherwise lose data
//! without a word:
//! - an object with the same key twice (a parser keeps one of the values);
//! - an integer that does not fit in 64 bits (a parser rounds it to a double).
//!
//! The host checks every document offered for writing with these same rules, so what one
//! side accepts the other can read back.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, RandomState};

use foldhash::fast::FixedState;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a text is not accepted, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// One-based line of the offending token.
    pub line: usize,
    /// One-based column (in bytes) of the offending token.
    pub column: usize,
    /// What is wrong there.
    pub reason: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not valid JSON at line {}, column {}: {}", self.line, self.column, self.reason)
    }
}

/// Parses `text` as one JSON value under the rules above.
pub fn parse(text: &str) -> Result<Value, SyntaxError> {
    let doubles = Cell::new(false);
    run(Strict { doubles: &doubles }, text, &doubles)
}

/// What [`check`] learns of a text it accepts, without building it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Whether the text is a JSON object (the only thing a document may be).
    pub is_object: bool,
    /// How deeply it nests: a scalar is 0, `[]` and `{}` are 1.
    pub depth: usize,
}

/// Checks `text` under the same rules as [`parse`] (same errors, same positions) without
/// building a `Value`: the memory it needs is the keys of the objects it is inside, not a
/// tree of the whole text. Writers check every document they store with it.
pub fn check(text: &str) -> Result<Shape, SyntaxError> {
    let is_object = text.trim_start().starts_with('{');
    let (hasher, repeated, doubles) = (key_hasher(), Cell::new(false), Cell::new(false));
    match run(Check { keys: Keys::Hashes(&hasher, &repeated), doubles: &doubles }, text, &doubles) {
        // Two keys of one object hashed alike: most likely a duplicate. Walk again with the
        // keys themselves, to tell a collision from a duplicate and to name it.
        Err(_) if repeated.get() => run(Check { keys: Keys::Exact(&hasher), doubles: &doubles }, text, &doubles),
        checked => checked,
    }
    .map(|depth| Shape { is_object, depth })
}

/// The hasher of one check's key sets: foldhash, several times faster than the standard
/// library's SipHash on short keys, seeded from the standard library's random state (the
/// system's randomness, also in the guest) so that no text can be written to make its keys
/// collide. A collision costs a second walk, never a wrong answer.
fn key_hasher() -> FixedState {
    FixedState::with_seed(RandomState::new().hash_one(0_u64))
}

/// Runs `seed` over `text`, then looks for an integer beyond 64 bits if the seed met a
/// double (`doubles`): serde_json reads such an integer as a double, so a text without
/// doubles (most configuration) needs no second pass.
fn run<'de, S: DeserializeSeed<'de>>(seed: S, text: &'de str, doubles: &Cell<bool>) -> Result<S::Value, SyntaxError> {
    if text.starts_with('\u{FEFF}') {
        // What some Windows editors write first. serde_json would say "expected value at
        // line 1, column 1", which sends a reader looking for a character they cannot see.
        return Err(SyntaxError {
            line: 1,
            column: 1,
            reason: String::from(
                "the text starts with a UTF-8 byte order mark (bytes EF BB BF), which JSON text must not \
                 have (RFC 8259, section 8.1): save the file as UTF-8 without a byte order mark",
            ),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = seed.deserialize(&mut deserializer).and_then(|value| deserializer.end().map(|()| value));
    let value = value.map_err(|e| SyntaxError { line: e.line(), column: e.column(), reason: reason(&e) })?;
    if !doubles.get() {
        return Ok(value);
    }
    match oversized_integer(text) {
        Some((offset, literal)) => {
            let (line, column) = position(text, offset);
            Err(SyntaxError { line, column, reason: format!("the integer {literal} does not fit in 64 bits") })
        }
        None => Ok(value),
    }
}

/// Builds a `Value` like serde_json's own, refusing duplicate keys; notes any double.
#[derive(Clone, Copy)]
struct Strict<'a> {
    doubles: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        self.doubles.set(true);
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                // serde_json adds the line and column of the key.
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let value = access.next_value_seed(self)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// Walks a value as [`Strict`] does, keeping nothing but the keys of the objects it is in,
/// and returns its depth.
#[derive(Clone, Copy)]
struct Check<'a> {
    keys: Keys<'a>,
    doubles: &'a Cell<bool>,
}

/// How [`Check`] keeps the keys of an object to find a duplicate.
#[derive(Clone, Copy)]
enum Keys<'a> {
    /// A 64-bit hash per key (a third of the memory of the keys themselves). A repeated
    /// hash stops the walk and is reported in the flag.
    Hashes(&'a FixedState, &'a Cell<bool>),
    /// The keys, borrowed from the text unless they hold escapes.
    Exact(&'a FixedState),
}

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<usize, E> {
        Ok(0)
    }

    fn visit_i64<E>(self, _: i64) -> Result<usize, E> {
        Ok(0)
    }

    fn visit_u64<E>(self, _: u64) -> Result<usize, E> {
        Ok(0)
    }

    fn visit_f64<E>(self, _: f64) -> Result<usize, E> {
        self.doubles.set(true);
        Ok(0)
    }

    fn visit_str<E>(self, _: &str) -> Result<usize, E> {
        Ok(0)
    }

    fn visit_unit<E>(self) -> Result<usize, E> {
        Ok(0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut deepest = 0;
        while let Some(depth) = seq.next_element_seed(self)? {
            deepest = deepest.max(depth);
        }
        Ok(deepest + 1)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<usize, A::Error> {
        let mut seen = Seen::new(self.keys.hasher());
        let mut deepest = 0;
        while let Some(key) = access.next_key_seed(Key)? {
            match seen.insert(key, self.keys) {
                Ok(()) => {}
                Err(Some(key)) => return Err(de::Error::custom(format_args!("duplicate key {key:?}"))),
                Err(None) => return Err(de::Error::custom("a key hashed like another")),
            }
            deepest = deepest.max(access.next_value_seed(self)?);
        }
        Ok(deepest + 1)
    }
}

/// Up to this many keys of an object are compared one by one: cheaper than hashing.
const FEW_KEYS: usize = 16;

/// The keys of one object met so far: as they are while each comes after the one before
/// it in byte order (then none can repeat, so each is compared with the last alone), or
/// while there are at most [`FEW_KEYS`]; after that, in the set that [`Keys`] asks for.
///
/// Why ascending keys are worth a case of their own: large configuration objects are
/// often written with sorted keys (Go's `encoding/json` sorts map keys, as do `jq -S`,
/// Python's `sort_keys` and serde's `BTreeMap`), and comparing with the last key costs a
/// fraction of a hash set's insert, whose table outgrows the caches.
struct Seen<'de> {
    few: Vec<Cow<'de, str>>,
    ascending: bool,
    hashes: HashSet<u64, FixedState>,
    exact: HashSet<Cow<'de, str>, FixedState>,
}

impl<'a> Keys<'a> {
    fn hasher(self) -> &'a FixedState {
        match self {
            Keys::Hashes(hasher, _) | Keys::Exact(hasher) => hasher,
        }
    }
}

impl<'de> Seen<'de> {
    fn new(hasher: &FixedState) -> Seen<'de> {
        Seen {
            few: Vec::new(),
            ascending: true,
            hashes: HashSet::with_hasher(hasher.clone()),
            exact: HashSet::with_hasher(hasher.clone()),
        }
    }

    /// Adds `key`; `Err(Some(key))` if the object has it already, `Err(None)` if its hash
    /// repeats one (which the caller tells apart by walking again with [`Keys::Exact`]).
    fn insert(&mut self, key: Cow<'de, str>, keys: Keys<'_>) -> Result<(), Option<Cow<'de, str>>> {
        let in_sets = !(self.hashes.is_empty() && self.exact.is_empty());
        if !in_sets {
            if self.ascending && self.few.last().is_none_or(|last| *last < key) {
                self.few.push(key);
                return Ok(());
            }
            self.ascending = false;
            if self.few.len() < FEW_KEYS {
                if self.few.contains(&key) {
                    return Err(Some(key));
                }
                self.few.push(key);
                return Ok(());
            }
        }
        match keys {
            Keys::Hashes(hasher, repeated) => {
                self.hashes.reserve(2 * self.few.len());
                self.hashes.extend(self.few.drain(..).map(|k| hasher.hash_one(k)));
                if !self.hashes.insert(hasher.hash_one(&key)) {
                    repeated.set(true);
                    return Err(None);
                }
            }
            Keys::Exact(_) => {
                self.exact.reserve(2 * self.few.len());
                self.exact.extend(self.few.drain(..));
                if let Some(key) = self.exact.replace(key) {
                    return Err(Some(key));
                }
            }
        }
        Ok(())
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// The first integer literal of a valid JSON `text` that is neither an `i64` nor a `u64`,
/// with its byte offset. serde_json would have turned it into a rounded double.
fn oversized_integer(text: &str) -> Option<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        match (in_string, bytes[i]) {
            (true, b'\\') => i += 1, // skip the escaped byte
            (true, b'"') | (false, b'"') => in_string = !in_string,
            (false, b'-' | b'0'..=b'9') => {
                let len = bytes[i..]
                    .iter()
                    .take_while(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .count();
                let literal = &text[i..i + len];
                let is_integer = !literal.contains(['.', 'e', 'E']);
                if is_integer && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err() {
                    return Some((i, literal));
                }
                i += len;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// One-based line and byte column of `offset`, as serde_json counts them.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1) + 1;
    (line, column)
}

/// serde_json's message without its own " at line L column C" suffix, which
/// [`SyntaxError`] says itself.
fn reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
#[path = "tests/strict.rs"]
mod tests;
