//! Changes made on a document's text in place: `set`, `unset`, `incr` and `merge` find the
//! bytes of what they change and return a [`Splice`] of them; every other byte of the file
//! stays as it was.
//!
//! Why: a change then needs memory for the text and the change, not for a tree of the
//! whole document (a `Value` takes two to four times the size of its text), and a file
//! keeps its formatting, its key order and its whitespace, so its diff shows the change
//! alone. Text that confine wrote (pretty-printed, two spaces) comes out byte for byte as
//! if the whole tree had been rendered again; a hand-formatted file keeps its layout, and
//! new values follow the layout of their neighbours (one line stays one line).
//!
//! Each function here gives the same result as its counterpart in [`edit`] on the parsed
//! tree (the property tests compare them), or `None` where it does not handle the case:
//! every refusal (a missing key to unset, a key through a number, an index past the end,
//! a document nested near [`MAX_DEPTH`]), which the service then runs on the tree to get
//! the same refusal with the same words.

use serde_json::{Map, Number, Value};

use crate::edit::{self, MAX_DEPTH};
use crate::error::Error;
use crate::keypath::{KeyPath, Segment};
use crate::scan::{self, Item};
use crate::splice::{Draft, Splice};
use crate::strict::Shape;

/// A document's text (accepted by [`strict::check`](crate::strict::check), root an object)
/// and what an edit needs to know of its layout.
#[derive(Clone, Copy)]
pub(crate) struct Text<'t> {
    text: &'t str,
    depth: usize,
    /// The whole document's text, whose layout new values follow (see [`Text::pretty`]).
    whole: &'t str,
}

impl<'t> Text<'t> {
    /// The text of a document and its shape as [`strict::check`](crate::strict::check) found it.
    pub(crate) fn new(text: &'t str, shape: Shape) -> Text<'t> {
        Text { text, depth: shape.depth, whole: text }
    }

    /// Whether new objects and arrays are written over several lines. A document all on
    /// one line stays on one line, except `{}`, which is how an empty document is written.
    /// Asked only when a container is written: on a one-line document it reads every byte.
    fn pretty(self) -> bool {
        self.whole.trim_end().contains('\n') || self.whole.trim() == "{}"
    }

    fn with(self, text: &'t str) -> Text<'t> {
        Text { text, ..self }
    }
}

/// `set`: see [`edit::set`].
pub(crate) fn set(doc: Text<'_>, path: &KeyPath, value: &Value) -> Option<Splice> {
    if path.segments.is_empty() {
        fits_depth(doc, edit::depth(value))?;
        return Some(Splice::between(doc.text, &crate::document::render("", value.as_object()?).ok()?));
    }
    match walk(doc, &path.segments) {
        Walk::Found { item, depth, .. } => {
            fits_depth(doc, depth + 1 + edit::depth(value))?;
            let indent = scan::line_indent(doc.text, item.value.start);
            Some(Splice { start: item.value.start, end: item.value.end, text: render(value, || doc.pretty(), indent) })
        }
        Walk::Missing { container, last, depth } => {
            let built = nested(&path.segments[depth + 1..], value)?;
            fits_depth(doc, depth + 1 + edit::depth(&built))?;
            Some(insert(doc, container, last.as_ref(), &path.segments[depth], built))
        }
        Walk::Other => None,
    }
}

/// `unset`: see [`edit::unset`].
pub(crate) fn unset(doc: Text<'_>, path: &KeyPath) -> Option<Splice> {
    fits_depth(doc, 0)?;
    match walk(doc, &path.segments) {
        Walk::Found { container, prev, item, .. } => Some(remove(doc, container, prev, &item)),
        _ => None,
    }
}

/// `incr`: see [`edit::incr`]. Returns the splice and the new number; an integer overflow
/// is refused here as there.
pub(crate) fn incr(doc: Text<'_>, path: &KeyPath, delta: &Value) -> Option<Result<(Splice, Number), Error>> {
    let Value::Number(delta) = delta else { return None };
    fits_depth(doc, 0)?;
    match walk(doc, &path.segments) {
        Walk::Found { item, .. } => {
            let literal = &doc.text[item.value.clone()];
            if !literal.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
                return None; // not a number: the tree gives the refusal
            }
            let current: Number = serde_json::from_str(literal).ok()?;
            Some(
                edit::add(path, &current, delta)
                    .map(|sum| (Splice { start: item.value.start, end: item.value.end, text: sum.to_string() }, sum)),
            )
        }
        Walk::Missing { .. } => set(doc, path, &Value::Number(delta.clone())).map(|s| Ok((s, delta.clone()))),
        Walk::Other => None,
    }
}

/// `merge`: see [`edit::merge`]. A patch is made as the `set`s and `unset`s it stands
/// for, one after another.
pub(crate) fn merge(doc: Text<'_>, path: &KeyPath, patch: &Value) -> Option<Splice> {
    fits_depth(doc, 0)?;
    let mut draft = Draft::new(doc.text);
    if path.segments.is_empty() {
        for (key, member) in patch.as_object()? {
            merge_at(doc, &mut draft, &mut vec![Segment::Key(key.clone())], member)?;
        }
    } else {
        merge_at(doc, &mut draft, &mut path.segments.clone(), patch)?;
    }
    draft.finish()
}

/// RFC 7396 at `path` (not the root) of the draft's text.
fn merge_at(doc: Text<'_>, draft: &mut Draft<'_>, path: &mut Vec<Segment>, patch: &Value) -> Option<()> {
    let here = doc.with(draft.text());
    let splice = match (patch, walk(here, path)) {
        (Value::Null, Walk::Found { container, prev, item, .. }) => Some(remove(here, container, prev, &item)),
        (Value::Null, _) => None, // nothing there: nothing to remove
        (Value::Object(members), Walk::Found { item, .. })
            if here.text.as_bytes().get(item.value.start) == Some(&b'{') =>
        {
            for (key, member) in members {
                path.push(Segment::Key(key.clone()));
                merge_at(doc, draft, path, member)?;
                path.pop();
            }
            None
        }
        (Value::Object(_), _) => Some(set(here, &KeyPath { segments: path.clone() }, &without_nulls(patch))?),
        (_, _) => Some(set(here, &KeyPath { segments: path.clone() }, patch)?),
    };
    if let Some(splice) = splice {
        draft.splice(splice);
    }
    Some(())
}

/// A patch as it lands where there was no object: its `null` members (at any depth of
/// objects) remove nothing, so they are dropped.
fn without_nulls(patch: &Value) -> Value {
    match patch {
        Value::Object(members) => Value::Object(
            members.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect(),
        ),
        other => other.clone(),
    }
}

/// An object or array in the text, by the offset of its opening bracket.
#[derive(Clone, Copy)]
struct Container {
    open: usize,
    object: bool,
}

/// Where a path leads in a text.
enum Walk {
    /// Every step exists. `depth` is the last step's index in the path.
    Found { container: Container, prev: Option<Item>, item: Item, depth: usize },
    /// The steps before `depth` exist, and step `depth` is a key the object `container`
    /// lacks, or the append slot of the array `container`. `last` is its last item.
    Missing { container: Container, last: Option<Item>, depth: usize },
    /// Anything else: a step into a value of the wrong type, or past an array's end.
    Other,
}

fn walk(doc: Text<'_>, path: &[Segment]) -> Walk {
    let bytes = doc.text.as_bytes();
    let Some(open) = doc.text.find('{') else { return Walk::Other };
    let mut container = Container { open, object: true };
    for (depth, segment) in path.iter().enumerate() {
        match (segment, container.object) {
            (Segment::Key(_), true) | (Segment::Index(_), false) => {}
            _ => return Walk::Other,
        }
        let mut items = scan::items(doc.text, container.open);
        let (mut prev, mut count) = (None, 0);
        let found = loop {
            let Some(item) = items.next() else { break None };
            let hit = match segment {
                Segment::Key(k) => item.key.as_ref().is_some_and(|key| scan::key(doc.text, key) == k.as_str()),
                Segment::Index(i) => count == *i,
            };
            if hit {
                break Some(item);
            }
            count += 1;
            prev = Some(item);
        };
        let Some(item) = found else {
            return match segment {
                Segment::Index(i) if *i != count => Walk::Other,
                _ => Walk::Missing { container, last: prev, depth },
            };
        };
        if depth + 1 == path.len() {
            return Walk::Found { container, prev, item, depth };
        }
        container = match bytes.get(item.value.start) {
            Some(b'{') => Container { open: item.value.start, object: true },
            Some(b'[') => Container { open: item.value.start, object: false },
            _ => return Walk::Other,
        };
    }
    Walk::Other
}

/// `Some` if a document of `doc`'s depth, where a value now reaches `depth`, stays within
/// [`MAX_DEPTH`] for certain. Otherwise the tree decides, and refuses as it should.
fn fits_depth(doc: Text<'_>, depth: usize) -> Option<()> {
    (doc.depth <= MAX_DEPTH && depth <= MAX_DEPTH).then_some(())
}

/// The value that `set` puts where `rest` starts missing: the containers `rest` runs
/// through, made as [`edit::set`] makes them (an array only for index 0), around `value`.
fn nested(rest: &[Segment], value: &Value) -> Option<Value> {
    let mut built = value.clone();
    for segment in rest.iter().rev() {
        built = match segment {
            Segment::Key(k) => Value::Object(Map::from_iter([(k.clone(), built)])),
            Segment::Index(0) => Value::Array(vec![built]),
            Segment::Index(_) => return None,
        };
    }
    Some(built)
}

/// A new last item of `container`: after its last item, in that item's layout, or as
/// the only item of an empty one.
fn insert(doc: Text<'_>, container: Container, last: Option<&Item>, segment: &Segment, value: Value) -> Splice {
    let key = match segment {
        Segment::Key(k) => Some(k.as_str()),
        Segment::Index(_) => None,
    };
    let Some(last) = last else {
        let end = scan::value_end(doc.text.as_bytes(), container.open);
        let only = match key {
            Some(k) => Value::Object(Map::from_iter([(k.to_owned(), value)])),
            None => Value::Array(vec![value]),
        };
        let indent = scan::line_indent(doc.text, container.open);
        return Splice { start: container.open, end, text: render(&only, || doc.pretty(), indent) };
    };
    let mut lead = scan::whitespace_before(doc.text, last.start());
    let pretty = lead.contains('\n');
    let indent = &lead[lead.rfind('\n').map_or(0, |n| n + 1)..];
    let colon = last.key.as_ref().map_or("", |last_key| &doc.text[last_key.end..last.value.start]);
    // Before an object's only member the whitespace follows `{`, not a comma: on one line,
    // a file that spaces its colons (`{"a": 1}`) is taken to space its commas too.
    let first = doc.text[..last.start() - lead.len()].ends_with('{');
    if first && lead.is_empty() && colon.ends_with(' ') {
        lead = " ";
    }
    let mut text = format!(",{lead}");
    if let Some(k) = key {
        text.push_str(&Value::from(k).to_string());
        text.push_str(colon);
    }
    text.push_str(&render(&value, || pretty, indent));
    Splice { start: last.value.end, end: last.value.end, text }
}

/// Removes `item` of `container`, with the comma and whitespace that separated it.
fn remove(doc: Text<'_>, container: Container, prev: Option<Item>, item: &Item) -> Splice {
    // The next item is looked for only when needed: scanning past a large value costs.
    let (start, end, text) = match prev {
        Some(prev) => (prev.value.end, item.value.end, ""),
        None => match scan::item_after(doc.text, item.value.end, container.object) {
            Some(next) => (item.start(), next.start(), ""),
            None => {
                let end = scan::value_end(doc.text.as_bytes(), container.open);
                (container.open, end, if container.object { "{}" } else { "[]" })
            }
        },
    };
    Splice { start, end, text: text.to_owned() }
}

/// `value` as text that starts on a line indented by `indent`, over several lines if
/// `pretty` says so (a scalar reads the same either way, so it is not asked).
fn render(value: &Value, pretty: impl FnOnce() -> bool, indent: &str) -> String {
    if !matches!(value, Value::Object(_) | Value::Array(_)) || !pretty() {
        return value.to_string();
    }
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    if indent.is_empty() { text } else { text.replace('\n', &format!("\n{indent}")) }
}

#[cfg(test)]
#[path = "tests/inplace.rs"]
mod tests;
