//! The standard interface `wasi:config/store` (package `wasi:config@0.2.0-rc.1`, vendored
//! in `wit/deps/wasi-config/`) over one confine document, so a component written against
//! that standard reads its configuration from confine unchanged.
//!
//! In the style of `wasmtime-wasi-config`: a context ([`WasiConfigCtx`]), a borrowed view
//! ([`WasiConfigView`]) that implements the generated `Host` trait, and one
//! [`add_wasi_config_to_linker`]. The interface is read-only: a component cannot change the
//! document through it.
//!
//! # Keys and values
//!
//! A document is flattened into `(key, value)` pairs. A key is the path of a value in
//! confine's key-path syntax (the one `confine get` takes), in its canonical form:
//!
//! | document | key | value |
//! | --- | --- | --- |
//! | `{"server": {"port": 8080}}` | `server.port` | `8080` |
//! | `{"name": "web"}` | `name` | `web` (a string is returned raw, without quotes) |
//! | `{"debug": true, "proxy": null}` | `debug`, `proxy` | `true`, `null` (other scalars as JSON text) |
//! | `{"hosts": {"eu.west": "a"}}` | `hosts["eu.west"]` | `a` (a member holding `.` `[` `]` `"`, or empty, is quoted) |
//! | `{"a.b": 1}` | `["a.b"]` | `1` |
//! | `{"plugins": [{"name": "x"}]}` | `plugins[0].name` | `x` |
//! | `{"tags": [], "extra": {}}` | `tags`, `extra` | `[]`, `{}` (empty containers are leaves) |
//!
//! - `get-all` lists the leaves only: every scalar, and every empty object or array, in
//!   document order.
//! - `get` takes any key path, in any form confine parses (`server["port"]` finds
//!   `server.port`): at a leaf it returns the value above; at a non-empty object or array
//!   its compact JSON (`get("server")` is `{"port":8080}`); at the empty key the whole
//!   document's compact JSON; where nothing is, `none`.
//!
//! # Reads
//!
//! The document is read lock-free ([`Repository::read`]) at a context's first `get` or
//! `get-all`, and that one snapshot answers every later call of the same context: a
//! component sees one revision, never a mix of two, and never waits for a writer. A new
//! context (one per store; `confine run` makes one per run) reads afresh. A failed read is
//! not remembered: the next call tries again.
//!
//! # Errors
//!
//! Every answer is an error the component can act on; nothing traps:
//!
//! | cause | error |
//! | --- | --- |
//! | the document does not exist, its name is refused, it is too large, not UTF-8, not JSON, or not an object | `upstream`, naming the document and the cause (line and column for bad JSON) |
//! | the key does not parse (`a..b`, `x[`) | `upstream`, naming the key and the offset |
//! | the operating system failed to read | `io`, naming the document and the step |
//!
//! A context made with [`WasiConfigCtx::empty`] answers as if the document were `{}`:
//! `get-all` is empty and every `get` is `none` (but the empty key, which is `{}`).

use confine_domain::document::{self, Root};
use confine_domain::edit;
use confine_domain::format::Format;
use confine_domain::keypath::{KeyPath, Segment};
use serde_json::Value;
use wasmtime::component::{HasData, Linker};

use confine_store::{Error, Repository};

use crate::generated::wasi_config_store as store;

/// What `wasi:config/store` answers from: one document of a [`Repository`], or nothing.
pub struct WasiConfigCtx {
    source: Option<(Repository, String)>,
    format: Option<Format>,
    snapshot: Option<Root>,
}

impl WasiConfigCtx {
    /// Answers from `document` of `repository`, read at the first call (see the module docs).
    /// The component gets no other access to the repository.
    pub fn new(repository: Repository, document: &str) -> WasiConfigCtx {
        WasiConfigCtx { source: Some((repository, document.to_owned())), format: None, snapshot: None }
    }

    /// Reads the document in `format`, whatever its name says (a command's `--format`).
    pub fn with_format(self, format: Format) -> WasiConfigCtx {
        WasiConfigCtx { format: Some(format), ..self }
    }

    /// Answers from no document, as if it were `{}`: every key is missing.
    pub fn empty() -> WasiConfigCtx {
        WasiConfigCtx { source: None, format: None, snapshot: Some(Root::new()) }
    }

    /// The document answered from, if any.
    pub fn document(&self) -> Option<&str> {
        self.source.as_ref().map(|(_, name)| name.as_str())
    }

    fn root(&mut self) -> Result<&Root, store::Error> {
        if let (None, Some((repository, name))) = (&self.snapshot, &self.source) {
            let text = repository.read(name).map_err(to_wit)?.content;
            let format = Format::chosen(self.format, name);
            let root = document::parse(format, name, &text).map_err(|e| store::Error::Upstream(e.to_string()))?;
            self.snapshot = Some(root);
        }
        Ok(self.snapshot.get_or_insert_default())
    }
}

/// A borrowed view of a store's `wasi:config` state: what the generated `Host` trait is
/// implemented on. Build one from your store data in the closure given to
/// [`add_wasi_config_to_linker`].
pub struct WasiConfigView<'a> {
    /// The interface's context.
    pub ctx: &'a mut WasiConfigCtx,
}

/// Adds the `wasi:config/store` interface to `linker`. `view` picks the context out of
/// your store data.
///
/// ```no_run
/// use confine::{Options, Repository, WasiConfigCtx, WasiConfigView};
/// use cap_std::{ambient_authority, fs::Dir};
/// use wasmtime::component::Linker;
///
/// struct State { config: WasiConfigCtx /* , your WASI ctx ... */ }
///
/// # fn main() -> wasmtime::Result<()> {
/// let dir = Dir::open_ambient_dir("/etc/myapp", ambient_authority())?;
/// let engine = wasmtime::Engine::default();
/// let mut linker = Linker::<State>::new(&engine);
/// confine::add_wasi_config_to_linker(&mut linker, |s: &mut State| WasiConfigView { ctx: &mut s.config })?;
/// let state = State { config: WasiConfigCtx::new(Repository::new(dir, Options::default(), confine::Documents::default()), "app.json") };
/// # let _ = state; Ok(()) }
/// ```
///
/// # Errors
/// If the interface is already defined in `linker`.
pub fn add_wasi_config_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> WasiConfigView<'_>,
) -> wasmtime::Result<()> {
    store::add_to_linker::<T, HasWasiConfig>(linker, view)
}

struct HasWasiConfig;

impl HasData for HasWasiConfig {
    type Data<'a> = WasiConfigView<'a>;
}

impl store::Host for WasiConfigView<'_> {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, store::Error>> {
        let path = match KeyPath::parse(&key) {
            Ok(path) => path,
            Err(e) => return Ok(Err(store::Error::Upstream(e.to_string()))),
        };
        Ok(self.ctx.root().map(|root| lookup(root, &path)))
    }

    fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, store::Error>> {
        Ok(self.ctx.root().map(flatten))
    }
}

/// The value at `path`, as `get` returns it.
fn lookup(root: &Root, path: &KeyPath) -> Option<String> {
    if path.segments.is_empty() {
        return Some(Value::Object(root.clone()).to_string());
    }
    edit::get(root, path).map(render)
}

/// Every leaf of `root` with its canonical key, in document order.
fn flatten(root: &Root) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut path = KeyPath::default();
    for (key, value) in root {
        path.segments.push(Segment::Key(key.clone()));
        leaves(&mut path, value, &mut pairs);
        path.segments.pop();
    }
    pairs
}

fn leaves(path: &mut KeyPath, value: &Value, pairs: &mut Vec<(String, String)>) {
    match value {
        Value::Object(members) if !members.is_empty() => {
            for (key, member) in members {
                path.segments.push(Segment::Key(key.clone()));
                leaves(path, member, pairs);
                path.segments.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                path.segments.push(Segment::Index(index));
                leaves(path, item, pairs);
                path.segments.pop();
            }
        }
        leaf => pairs.push((path.to_string(), render(leaf))),
    }
}

/// A string as itself; anything else as compact JSON.
fn render(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The one mapping from the repository's errors to `wasi:config`'s.
fn to_wit(e: Error) -> store::Error {
    let text = e.to_string();
    match e {
        Error::Io { .. } | Error::NotDurable { .. } => store::Error::Io(text),
        _ => store::Error::Upstream(text),
    }
}

#[cfg(test)]
#[path = "tests/wasi_config.rs"]
mod tests;
