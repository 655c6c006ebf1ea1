//! TOML documents, changed as a careful person would: every byte the change does not
//! touch (comments, blank lines, key order, quoting, the spelling of numbers) stays.
//!
//! Values cross as JSON, with one mapping: tables (standard, inline, dotted) are objects,
//! arrays (and arrays of tables) arrays, integers 64-bit signed, floats, booleans and
//! strings themselves, and a date-time the string of its TOML text. TOML has no `null`:
//! a change that would store one is refused (`unset` removes a key). A date-time set to a
//! string that is a date-time stays a date-time, so `get` then `set` of the same value
//! changes no byte. `nan` and `inf`, which JSON cannot carry, are refused when read.
//!
//! What a change does to the values is decided by the same rules as for JSON
//! ([`crate::edit`], on the tree this mapping reads): the refusals are JSON's, word for
//! word. This module then makes the difference, and only it, in the text (through
//! `toml_edit`, which keeps what it parsed), and reads the result back to prove that its
//! value is exactly the one the rules made: nothing else is written.

use serde_json::{Map, Number, Value as Json};
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, TomlError, Value};

use crate::document::Root;
use crate::error::{Error, ErrorKind};
use crate::keypath::{KeyPath, Segment};
use crate::splice::Splice;

/// Checks `text` as a TOML document: how deeply it nests (the root table is 1), or why it
/// is not one (with line and column).
pub fn check(text: &str) -> Result<usize, String> {
    // The parse keeps spans (no copy of each piece of text, as an edit's parse makes), and
    // no JSON is built: the floats are looked at, the nesting counted.
    let doc = toml_edit::Document::parse(text).map_err(|e| syntax_error(text, &e))?;
    depth_of_table(doc.as_table(), &mut Vec::new())
}

/// How deeply `table` nests (itself 1), once every float in it is shown to be finite.
fn depth_of_table(table: &Table, path: &mut Vec<Segment>) -> Result<usize, String> {
    let mut deepest = 0;
    for (key, item) in table.iter() {
        path.push(Segment::Key(key.to_owned()));
        let depth = match item {
            Item::Value(value) => depth_of_value(value, path)?,
            Item::Table(table) => depth_of_table(table, path)?,
            Item::ArrayOfTables(tables) => {
                let mut deepest = 0;
                for table in tables.iter() {
                    deepest = deepest.max(depth_of_table(table, path)?);
                }
                deepest + 1
            }
            Item::None => 0,
        };
        path.pop();
        deepest = deepest.max(depth);
    }
    Ok(deepest + 1)
}

fn depth_of_value(value: &Value, path: &mut Vec<Segment>) -> Result<usize, String> {
    match value {
        Value::Float(float) if !float.value().is_finite() => Err(not_json(path, float)),
        Value::Array(array) => {
            let mut deepest = 0;
            for item in array.iter() {
                deepest = deepest.max(depth_of_value(item, path)?);
            }
            Ok(deepest + 1)
        }
        Value::InlineTable(table) => {
            let mut deepest = 0;
            for (key, member) in table.iter() {
                path.push(Segment::Key(key.to_owned()));
                deepest = deepest.max(depth_of_value(member, path)?);
                path.pop();
            }
            Ok(deepest + 1)
        }
        _ => Ok(0),
    }
}

/// How deep a change may make a TOML document nest (below its root table): well inside
/// what `toml_edit` reads back (80 levels of keys, arrays and inline tables), so that what
/// is written can always be read.
pub const MAX_NESTING: usize = 64;

/// Whether a TOML document can hold `value` (a document's root) by the mapping above: it
/// holds no `null` and no integer beyond 64 bits signed, and nests at most [`MAX_NESTING`]
/// levels below the root.
pub fn can_hold(value: &Json) -> bool {
    holds(value) && crate::edit::depth(value) <= MAX_NESTING + 1
}

fn holds(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::Number(number) => number.as_i64().is_some() || !number.is_u64(),
        Json::Array(items) => items.iter().all(holds),
        Json::Object(members) => members.values().all(holds),
        Json::Bool(_) | Json::String(_) => true,
    }
}

/// Parses the TOML document `name` into the JSON tree of the mapping above.
pub fn parse(name: &str, text: &str) -> Result<Root, Error> {
    let doc = parse_text(text).map_err(|reason| invalid_document(name, &reason))?;
    table_json(doc.as_table(), None, &mut Vec::new()).map_err(|reason| invalid_document(name, &reason))
}

/// A TOML document being changed: its text as `toml_edit` holds it, and the JSON tree its
/// value maps to, on which the changes' rules run.
pub(crate) struct Edit {
    doc: DocumentMut,
    tree: Root,
    /// Whether any change was written in the text.
    wrote: bool,
}

impl Edit {
    /// Starts from `current`, the text of `name` (`None`: a new, empty document).
    pub(crate) fn new(name: &str, current: Option<&str>) -> Result<Edit, Error> {
        let doc = parse_text(current.unwrap_or("")).map_err(|reason| invalid_document(name, &reason))?;
        let tree =
            table_json(doc.as_table(), None, &mut Vec::new()).map_err(|reason| invalid_document(name, &reason))?;
        Ok(Edit { doc, tree, wrote: false })
    }

    /// Makes the change at `path` that `rule` makes to the tree, in the text too; returns
    /// the rule's answer. The rule may change only the value at `path` (removing it, or
    /// creating it with its missing parents), as every change of [`crate::edit`] does.
    pub(crate) fn change(
        &mut self,
        path: &KeyPath,
        rule: impl FnOnce(&mut Root) -> Result<String, Error>,
    ) -> Result<String, Error> {
        let segments = path.segments.as_slice();
        if segments.is_empty() {
            // The whole document: the difference between the trees before and after.
            let old = Json::Object(self.tree.clone());
            let answer = rule(&mut self.tree)?;
            let new = Json::Object(self.tree.clone());
            let reach = crate::edit::depth(&new).saturating_sub(1);
            // Deeper than the limit, and deeper than it was (what was read can be written).
            if reach > MAX_NESTING && reach > crate::edit::depth(&old).saturating_sub(1) {
                return Err(Error::new(
                    ErrorKind::InvalidValue,
                    format!("the document would nest {reach} levels deep, and TOML here nests at most {MAX_NESTING}"),
                ));
            }
            self.differ(&mut Vec::new(), &old, &new)?;
            return Ok(answer);
        }
        let old = value_at(&self.tree, segments).cloned();
        let old_len = parent_len(&self.tree, segments);
        // The first of the path's keys that is missing: a created value is set from there.
        let missing = (1..=segments.len()).find(|&n| value_at(&self.tree, &segments[..n]).is_none());
        let answer = rule(&mut self.tree)?;
        let new = value_at(&self.tree, segments);
        // The tables, arrays and inline tables below the root on the way to it, and in it:
        // refused above the limit where the change makes it deeper than it was.
        let reach = |value: Option<&Json>| segments.len() - 1 + value.map_or(0, crate::edit::depth);
        // A value created counts whole.
        let reach_before = if old.is_some() { reach(old.as_ref()) } else { 0 };
        let reach = reach(new);
        if reach > MAX_NESTING && reach > reach_before {
            return Err(Error::new(
                ErrorKind::InvalidValue,
                format!(
                    "key `{path}`: the change would nest {reach} levels deep, and TOML here nests at most {MAX_NESTING}"
                ),
            ));
        }
        let shrank = parent_len(&self.tree, segments).is_some_and(|len| Some(len) < old_len);
        match (old, new) {
            // An element removed from an array: the ones after it shift, in both.
            (Some(_), _) if shrank => self.write(segments, None),
            (Some(_), None) => self.write(segments, None),
            (Some(old), Some(new)) => {
                let new = new.clone();
                self.differ(&mut segments.to_vec(), &old, &new)
            }
            (None, Some(_)) => {
                let created = &segments[..missing.unwrap_or(segments.len())];
                let value = value_at(&self.tree, created).cloned();
                self.write(created, value.as_ref())
            }
            (None, None) => Ok(()),
        }?;
        Ok(answer)
    }

    /// Writes in the text the difference between `old` and `new`, the values at `path`:
    /// into objects member by member, into arrays element by element where that is all
    /// that changed (one set, one appended, one removed), and else the value whole.
    fn differ(&mut self, path: &mut Vec<Segment>, old: &Json, new: &Json) -> Result<(), Error> {
        match (old, new) {
            _ if old == new => Ok(()),
            (Json::Object(old), Json::Object(new)) => {
                for key in old.keys().filter(|key| !new.contains_key(*key)) {
                    path.push(Segment::Key(key.clone()));
                    self.write(path, None)?;
                    path.pop();
                }
                for (key, now) in new {
                    path.push(Segment::Key(key.clone()));
                    match old.get(key) {
                        Some(was) => self.differ(path, was, now)?,
                        None => self.write(path, Some(now))?,
                    }
                    path.pop();
                }
                Ok(())
            }
            (Json::Array(old), Json::Array(new)) if old.len() == new.len() => {
                for (index, (was, now)) in old.iter().zip(new).enumerate() {
                    path.push(Segment::Index(index));
                    self.differ(path, was, now)?;
                    path.pop();
                }
                Ok(())
            }
            (Json::Array(old), Json::Array(new)) if new.len() > old.len() && new.starts_with(old) => {
                for (index, now) in new.iter().enumerate().skip(old.len()) {
                    path.push(Segment::Index(index));
                    self.write(path, Some(now))?;
                    path.pop();
                }
                Ok(())
            }
            (Json::Array(old), Json::Array(new)) if new.len() + 1 == old.len() => {
                let at = old.iter().zip(new).position(|(was, now)| was != now).unwrap_or(new.len());
                if old[at + 1..] == new[at..] {
                    path.push(Segment::Index(at));
                    self.write(path, None)?;
                    path.pop();
                    Ok(())
                } else {
                    self.write(path, Some(&Json::Array(new.clone())))
                }
            }
            _ => self.write(path, Some(new)),
        }
    }

    /// Sets (`Some`) or removes (`None`) the value at `path` in the text, whose parents are
    /// there.
    fn write(&mut self, path: &[Segment], value: Option<&Json>) -> Result<(), Error> {
        self.wrote = true;
        let key = || KeyPath { segments: path.to_vec() };
        let unfit = || {
            Error::new(
                ErrorKind::Internal,
                format!("key `{}` is not where the TOML text has it (a bug in confine: please report it)", key()),
            )
        };
        let (last, parents) = path.split_last().ok_or_else(unfit)?;
        if let (true, Segment::Key(key), Some(value)) = (parents.is_empty(), last, value) {
            self.keep_header_above(key, value);
        }
        // An array of tables holds tables alone, and at least one (none is no text at all):
        // given anything else, or emptied, it is written anew, whole, as the array it has
        // become.
        let emptied = || value_at(&self.tree, parents).and_then(Json::as_array).is_some_and(Vec::is_empty);
        if let (Segment::Index(_), false) =
            (last, value.is_some_and(Json::is_object) || (value.is_none() && !emptied()))
            && self.is_array_of_tables(parents)
        {
            let whole = value_at(&self.tree, parents).cloned();
            return self.write(parents, whole.as_ref());
        }
        let mut node = Node::Table(self.doc.as_table_mut());
        for segment in parents {
            node = node.child(segment).ok_or_else(unfit)?;
        }
        match value {
            Some(value) => match node.set(last, value) {
                Ok(true) => Ok(()),
                Ok(false) => Err(unfit()),
                Err(reason) => Err(Error::new(ErrorKind::InvalidValue, format!("key `{}`: {reason}", key()))),
            },
            None => node.remove(last).then_some(()).ok_or_else(unfit),
        }
    }

    /// Whether `path` is an array of tables in the text.
    fn is_array_of_tables(&mut self, path: &[Segment]) -> bool {
        let mut node = Node::Table(self.doc.as_table_mut());
        for segment in path {
            match node.child(segment) {
                Some(child) => node = child,
                None => return false,
            }
        }
        matches!(node, Node::Tables(_))
    }

    /// The document's text now, as a splice of `original` (the text it started from), once
    /// read back and found to hold exactly the tree's value.
    pub(crate) fn finish(self, name: &str, original: &str) -> Result<Splice, Error> {
        if !self.wrote {
            return Ok(Splice { start: 0, end: 0, text: String::new() });
        }
        let mut text = self.doc.to_string();
        // toml_edit ends the lines it writes with `\n`: a file whose lines all end in
        // `\r\n` keeps them so. (In a file of both, the lines it writes end in `\n`.)
        if original.contains("\r\n") && original.matches('\n').count() == original.matches("\r\n").count() {
            text = text.replace("\r\n", "\n").replace('\n', "\r\n");
        }
        // toml_edit ends every line it writes; a file whose last line had no end keeps it so.
        if !original.is_empty() && !original.ends_with('\n') {
            let ending = if text.ends_with("\r\n") { 2 } else { usize::from(text.ends_with('\n')) };
            text.truncate(text.len() - ending);
        }
        // Read back as a check reads (spans kept, nothing copied), the date-times' text
        // taken from where they stand.
        let back = toml_edit::Document::parse(text.as_str())
            .map_err(|e| syntax_error(&text, &e))
            .and_then(|doc| table_json(doc.as_table(), Some(&text), &mut Vec::new()));
        if back.as_ref() != Ok(&self.tree) {
            return Err(Error::new(
                ErrorKind::Internal,
                format!(
                    "{name}: the change could not be written in TOML with its value kept, so nothing was written \
                     (a bug in confine: please report it)"
                ),
            ));
        }
        Ok(Splice::between(original, &text))
    }
}

impl Edit {
    /// Before the first key is added to a root that holds only tables: the comments at the
    /// head of the file, up to its last blank line, are the file's, and stay above the
    /// key (`toml_edit` holds them as the first table's, and the key would go above them).
    /// A comment with no blank line after it is the first table's, and stays with it.
    fn keep_header_above(&mut self, key: &str, value: &Json) {
        let root = self.doc.as_table_mut();
        let has_values = root.iter().any(|(_, item)| item.is_value() || item.as_table().is_some_and(Table::is_dotted));
        if has_values || value.is_object() || root.contains_key(key) {
            return;
        }
        let Some(first) = first_header(root) else { return };
        let prefix = first.decor().prefix().and_then(|prefix| prefix.as_str()).unwrap_or_default().to_owned();
        let mut end = None;
        let mut start = 0;
        for (at, _) in prefix.match_indices('\n') {
            if prefix[start..at].trim().is_empty() {
                end = Some(at + 1);
            }
            start = at + 1;
        }
        let Some(end) = end else { return };
        first.decor_mut().set_prefix(prefix[end..].to_owned());
        let head = self.doc.decor().prefix().and_then(|prefix| prefix.as_str()).unwrap_or_default().to_owned();
        self.doc.decor_mut().set_prefix(format!("{head}{}", &prefix[..end]));
    }
}

/// The table whose header is written first in the file (the lowest position).
fn first_header(table: &mut Table) -> Option<&mut Table> {
    fn lowest(table: &Table, best: &mut Option<isize>) {
        for (_, item) in table.iter() {
            let tables: Vec<&Table> = match item {
                Item::Table(table) => vec![table],
                Item::ArrayOfTables(tables) => tables.iter().collect(),
                _ => vec![],
            };
            for table in tables {
                if let (false, false, Some(position)) = (table.is_implicit(), table.is_dotted(), table.position()) {
                    *best = Some(best.map_or(position, |best: isize| best.min(position)));
                }
                lowest(table, best);
            }
        }
    }
    fn find(table: &mut Table, position: isize) -> Option<&mut Table> {
        for (_, item) in table.iter_mut() {
            let tables: Vec<&mut Table> = match item {
                Item::Table(table) => vec![table],
                Item::ArrayOfTables(tables) => tables.iter_mut().collect(),
                _ => vec![],
            };
            for table in tables {
                if !table.is_implicit() && !table.is_dotted() && table.position() == Some(position) {
                    return Some(table);
                }
                if let Some(found) = find(table, position) {
                    return Some(found);
                }
            }
        }
        None
    }
    let mut best = None;
    lowest(table, &mut best);
    find(table, best?)
}

/// The value at `path` in `tree` (the whole tree for the empty path is not a value here).
fn value_at<'t>(tree: &'t Root, path: &[Segment]) -> Option<&'t Json> {
    let (first, rest) = path.split_first()?;
    let Segment::Key(key) = first else { return None };
    rest.iter().try_fold(tree.get(key)?, |value, segment| match (segment, value) {
        (Segment::Key(key), Json::Object(map)) => map.get(key),
        (Segment::Index(index), Json::Array(items)) => items.get(*index),
        _ => None,
    })
}

/// The length of the array that holds the element at `path`, if that is what it names.
fn parent_len(tree: &Root, path: &[Segment]) -> Option<usize> {
    match path.split_last()? {
        (Segment::Index(_), parents) => value_at(tree, parents)?.as_array().map(Vec::len),
        _ => None,
    }
}

/// A place in the text that holds values: a table (standard, dotted, or the root), an
/// inline table, an array, an array of tables; or a value that holds none.
enum Node<'d> {
    Table(&'d mut Table),
    Inline(&'d mut InlineTable),
    Array(&'d mut Array),
    Tables(&'d mut ArrayOfTables),
    Leaf,
}

impl<'d> Node<'d> {
    fn of_item(item: &'d mut Item) -> Node<'d> {
        match item {
            Item::Table(table) => Node::Table(table),
            Item::ArrayOfTables(tables) => Node::Tables(tables),
            Item::Value(value) => Node::of_value(value),
            Item::None => Node::Leaf,
        }
    }

    fn of_value(value: &'d mut Value) -> Node<'d> {
        match value {
            Value::InlineTable(table) => Node::Inline(table),
            Value::Array(array) => Node::Array(array),
            _ => Node::Leaf,
        }
    }

    fn child(self, segment: &Segment) -> Option<Node<'d>> {
        match (self, segment) {
            (Node::Table(table), Segment::Key(key)) => table.get_mut(key).map(Node::of_item),
            (Node::Inline(table), Segment::Key(key)) => table.get_mut(key).map(Node::of_value),
            (Node::Array(array), Segment::Index(index)) => array.get_mut(*index).map(Node::of_value),
            (Node::Tables(tables), Segment::Index(index)) => tables.get_mut(*index).map(Node::Table),
            _ => None,
        }
    }

    /// Sets the value at `segment` in this node, as its neighbours are written: `false`
    /// if the node holds no such place, the reason if TOML cannot hold the value.
    fn set(self, segment: &Segment, value: &Json) -> Result<bool, String> {
        match (self, segment) {
            (Node::Table(table), Segment::Key(key)) => {
                let dotted = table.is_dotted();
                match table.get_mut(key) {
                    Some(Item::Value(old)) => replace(old, value)?,
                    Some(Item::ArrayOfTables(_)) if is_tables(value) => {
                        table.insert(key, Item::ArrayOfTables(tables(value)?));
                    }
                    _ => {
                        table.insert(key, item(value, dotted)?);
                    }
                }
                Ok(true)
            }
            (Node::Inline(table), Segment::Key(key)) => {
                match table.get_mut(key) {
                    Some(old) => replace(old, value)?,
                    None => {
                        let mut new = inline(value, None)?;
                        // The spaces before `}` stay before it.
                        if let Some((_, last)) = table.iter_mut().last() {
                            let suffix = last.decor().suffix().cloned();
                            last.decor_mut().set_suffix("");
                            new.decor_mut().set_suffix(suffix.unwrap_or_default());
                        }
                        table.insert(key.as_str(), new);
                    }
                }
                Ok(true)
            }
            (Node::Array(array), Segment::Index(index)) => {
                if *index < array.len() {
                    let old = array.get(*index).cloned();
                    array.replace(*index, inline(value, old.as_ref())?);
                } else if *index == array.len() {
                    let mut new = inline(value, None)?;
                    // Written as the last element is (on a line of its own in a long
                    // array), and the spaces before `]` stay before it.
                    let (len, last) = (array.len(), array.iter_mut().last());
                    if let Some(last) = last {
                        let (prefix, suffix) = (last.decor().prefix().cloned(), last.decor().suffix().cloned());
                        last.decor_mut().set_suffix("");
                        // Its own line's indentation, not a comment that ends the line before.
                        let prefix = prefix.and_then(|prefix| prefix.as_str().map(str::to_owned)).map(|prefix| {
                            prefix.rfind('\n').map_or(prefix.clone(), |newline| format!("\n{}", &prefix[newline + 1..]))
                        });
                        let prefix = prefix.filter(|prefix| len > 1 || prefix.contains('\n'));
                        new.decor_mut().set_prefix(prefix.unwrap_or_else(|| String::from(" ")));
                        new.decor_mut().set_suffix(suffix.unwrap_or_default());
                    }
                    // A comment after the last element's comma stays after it.
                    let trailing = array.trailing().as_str().unwrap_or_default().to_owned();
                    if let (true, Some(newline)) = (trailing.contains('#'), trailing.rfind('\n')) {
                        let indent = new.decor().prefix().and_then(|p| p.as_str()).unwrap_or_default();
                        let indent = indent.rsplit('\n').next().unwrap_or_default().to_owned();
                        new.decor_mut().set_prefix(format!("{}{indent}", &trailing[..=newline]));
                        array.set_trailing(format!("\n{}", &trailing[newline + 1..]));
                    }
                    array.push_formatted(new);
                } else {
                    return Ok(false);
                }
                Ok(true)
            }
            (Node::Tables(tables), Segment::Index(index)) => {
                let Json::Object(members) = value else {
                    return Err(String::from("an array of tables holds tables only"));
                };
                let table = table(members, false)?;
                if let Some(old) = tables.get_mut(*index) {
                    let position = old.position();
                    *old = table;
                    old.set_position(position);
                } else if *index == tables.len() {
                    tables.push(table);
                } else {
                    return Ok(false);
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Removes the value at `segment`: `false` if there is none.
    fn remove(self, segment: &Segment) -> bool {
        match (self, segment) {
            (Node::Table(table), Segment::Key(key)) => {
                let removed = table.remove(key).is_some();
                // An empty table is still a member (`{}`): one without a header of its
                // own (implicit, or dotted) would not be written at all, so it gets one.
                if table.is_empty() && (table.is_implicit() || table.is_dotted()) {
                    table.set_implicit(false);
                    table.set_dotted(false);
                }
                removed
            }
            (Node::Inline(table), Segment::Key(key)) => table.remove(key).is_some(),
            (Node::Array(array), Segment::Index(index)) if *index < array.len() => {
                let removed = array.remove(*index);
                let line_start = |prefix: &str| prefix.rfind('\n').map_or("", |newline| &prefix[..=newline]).to_owned();
                let removed_prefix = removed.decor().prefix().and_then(|p| p.as_str()).unwrap_or_default().to_owned();
                let removed_start = line_start(&removed_prefix);
                if let Some(next) = array.get_mut(*index) {
                    // The next element takes the removed one's place: what ended the removed
                    // one's line (its comment) goes with it, the next one's own lines stay.
                    let prefix = next.decor().prefix().and_then(|p| p.as_str()).unwrap_or_default().to_owned();
                    let own = prefix.find('\n').map_or("", |newline| &prefix[newline + 1..]);
                    let first = match (prefix.contains('\n'), *index) {
                        (true, _) => format!("{removed_start}{own}"),
                        (false, 0) => removed_prefix,
                        (false, _) => prefix,
                    };
                    next.decor_mut().set_prefix(first);
                } else if array.is_empty() {
                    // Nothing left: no lines of an empty array.
                    array.set_trailing("");
                    array.set_trailing_comma(false);
                } else {
                    // The last one: a comment after it was its line's.
                    let trailing = array.trailing().as_str().unwrap_or_default().to_owned();
                    if let (true, Some(newline)) = (trailing.contains('#'), trailing.rfind('\n')) {
                        array.set_trailing(format!("\n{}", &trailing[newline + 1..]));
                    }
                }
                true
            }
            (Node::Tables(tables), Segment::Index(index)) if *index < tables.len() => {
                tables.remove(*index);
                true
            }
            _ => false,
        }
    }
}

/// Replaces `old` with `value`, keeping the spaces and comments around it.
fn replace(old: &mut Value, value: &Json) -> Result<(), String> {
    let decor = old.decor().clone();
    *old = inline(value, Some(old))?;
    *old.decor_mut() = decor;
    Ok(())
}

/// `value` as an item of a table: an object is a table of its own (dotted inside a
/// dotted table, so that it follows its neighbours), anything else a value.
fn item(value: &Json, dotted: bool) -> Result<Item, String> {
    match value {
        // An empty dotted table would not be written at all: it stays inline.
        Json::Object(members) if !(dotted && members.is_empty()) => Ok(Item::Table(table(members, dotted)?)),
        other => Ok(Item::Value(inline(other, None)?)),
    }
}

/// `members` as a table: standard (`[a.b]` below its parent), or dotted (`a.b.c = 1`).
fn table(members: &Map<String, Json>, dotted: bool) -> Result<Table, String> {
    let mut table = Table::new();
    table.set_dotted(dotted);
    for (key, value) in members {
        table.insert(key, item(value, dotted)?);
    }
    // A table that holds tables alone needs no header of its own: `[a.b]`, not `[a]` too.
    table.set_implicit(!table.is_empty() && table.iter().all(|(_, item)| item.is_table()));
    Ok(table)
}

/// Whether `value` is a non-empty array of objects, which an array of tables can hold.
fn is_tables(value: &Json) -> bool {
    value.as_array().is_some_and(|items| !items.is_empty() && items.iter().all(Json::is_object))
}

fn tables(value: &Json) -> Result<ArrayOfTables, String> {
    let mut tables = ArrayOfTables::new();
    for member in value.as_array().into_iter().flatten() {
        let Json::Object(members) = member else { return Err(String::from("an array of tables holds tables only")) };
        tables.push(table(members, false)?);
    }
    Ok(tables)
}

/// `value` as a TOML value written inline; `old` is the value it replaces, if any (a
/// date-time stays one when set to a string that is a date-time).
fn inline(value: &Json, old: Option<&Value>) -> Result<Value, String> {
    Ok(match value {
        Json::Null => return Err(String::from("TOML has no null (`unset` removes a key)")),
        Json::Bool(flag) => Value::from(*flag),
        Json::Number(number) => number_value(number)?,
        Json::String(text) => match old {
            Some(Value::Datetime(_)) => {
                text.parse::<toml_edit::Datetime>().map_or_else(|_| Value::from(text), Value::from)
            }
            _ => Value::from(text),
        },
        Json::Array(items) => {
            Value::Array(items.iter().map(|item| inline(item, None)).collect::<Result<Array, String>>()?)
        }
        Json::Object(members) => {
            let mut table = InlineTable::new();
            for (key, member) in members {
                table.insert(key.as_str(), inline(member, None)?);
            }
            Value::InlineTable(table)
        }
    })
}

fn number_value(number: &Number) -> Result<Value, String> {
    if let Some(integer) = number.as_i64() {
        Ok(Value::from(integer))
    } else if number.is_u64() {
        Err(format!("{number} is beyond TOML's integers (64-bit signed, at most {})", i64::MAX))
    } else {
        number.as_f64().map(Value::from).ok_or_else(|| format!("{number} is not a number TOML can hold"))
    }
}

/// Parses `text` with `toml_edit`, or says why not, where.
fn parse_text(text: &str) -> Result<DocumentMut, String> {
    text.parse::<DocumentMut>().map_err(|e| syntax_error(text, &e))
}

fn syntax_error(text: &str, error: &TomlError) -> String {
    let at = error.span().map_or(0, |span| span.start).min(text.len());
    let before = text.get(..at).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = at - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
    let reason = error.message().trim().replace('\n', "; ");
    format!("not valid TOML at line {line}, column {column}: {reason}")
}

/// Why a document holding `float` (`nan`, `inf`) at `path` is refused.
fn not_json(path: &[Segment], float: &toml_edit::Formatted<f64>) -> String {
    format!("key `{}` holds {}, which JSON cannot carry", KeyPath { segments: path.to_vec() }, float.display_repr())
}

fn invalid_document(name: &str, reason: &str) -> Error {
    Error::new(ErrorKind::InvalidDocument, format!("{name}: {reason}"))
}

/// The JSON value of a table, by the mapping above; `path` is where it is, for errors.
fn table_json(table: &Table, source: Option<&str>, path: &mut Vec<Segment>) -> Result<Root, String> {
    let mut members = Map::new();
    for (key, item) in table {
        path.push(Segment::Key(key.to_owned()));
        let value = item_json(item, source, path)?;
        path.pop();
        members.insert(key.to_owned(), value);
    }
    Ok(members)
}

fn item_json(item: &Item, source: Option<&str>, path: &mut Vec<Segment>) -> Result<Json, String> {
    match item {
        Item::Value(value) => value_json(value, source, path),
        Item::Table(table) => table_json(table, source, path).map(Json::Object),
        Item::ArrayOfTables(tables) => {
            let mut items = Vec::with_capacity(tables.len());
            for (index, table) in tables.iter().enumerate() {
                path.push(Segment::Index(index));
                items.push(Json::Object(table_json(table, source, path)?));
                path.pop();
            }
            Ok(Json::Array(items))
        }
        Item::None => Err(format!("key `{}` has no value", KeyPath { segments: path.clone() })),
    }
}

fn value_json(value: &Value, source: Option<&str>, path: &mut Vec<Segment>) -> Result<Json, String> {
    Ok(match value {
        Value::String(text) => Json::String(text.value().clone()),
        Value::Integer(integer) => Json::from(*integer.value()),
        Value::Float(float) => Json::Number(Number::from_f64(*float.value()).ok_or_else(|| not_json(path, float))?),
        Value::Boolean(flag) => Json::Bool(*flag.value()),
        // As written: a parse that keeps spans holds where it stands, not its text.
        Value::Datetime(datetime) => Json::String(
            source
                .zip(datetime.span())
                .and_then(|(source, span)| source.get(span))
                .map_or_else(|| datetime.display_repr().into_owned(), str::to_owned),
        ),
        Value::Array(array) => {
            let mut items = Vec::with_capacity(array.len());
            for (index, item) in array.iter().enumerate() {
                path.push(Segment::Index(index));
                items.push(value_json(item, source, path)?);
                path.pop();
            }
            Json::Array(items)
        }
        Value::InlineTable(table) => {
            let mut members = Map::new();
            for (key, member) in table {
                path.push(Segment::Key(key.to_owned()));
                let value = value_json(member, source, path)?;
                path.pop();
                members.insert(key.to_owned(), value);
            }
            Json::Object(members)
        }
    })
}

#[cfg(test)]
#[path = "tests/toml.rs"]
mod tests;

#[cfg(test)]
#[path = "tests/toml_props.rs"]
mod props;
