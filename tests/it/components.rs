//! Every component `make test` builds is valid to the wasm tooling's own validator, and
//! its WIT is the WIT of `wit/`: the world it claims, with the same interface names,
//! package versions and function signatures. A component built against a WIT that has
//! drifted from `wit/` fails here, before any host gets to link it.
//!
//! A component's imports are compared function by function: each one it imports must be
//! in its world with the same signature, but it may import fewer (wit-component leaves out
//! the functions a component never calls), and it may import the WASI 0.2 interfaces that
//! Rust's standard library uses on `wasm32-wasip2` and wasmtime-wasi provides. Its
//! exports must be exactly those of its world.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::collections::BTreeMap;
use std::path::PathBuf;

use wasmparser::{Parser, Validator, WasmFeatures};
use wit_parser::decoding::{DecodedWasm, decode};
use wit_parser::{Function, Handle, Resolve, Type, TypeDefKind, WorldId, WorldItem, WorldKey};

/// A component `make test` builds, and the world of `wit/` it claims.
struct Built {
    file: &'static str,
    /// The variable the Makefile sets to the component's path.
    var: Option<&'static str>,
    /// `namespace:package/world`.
    world: &'static str,
    /// A `wasi:cli` command: it also exports `wasi:cli/run`.
    command: bool,
    /// Another part of the tree builds it; skipped with a note when it is not there.
    optional: bool,
}

const BUILT: [Built; 6] = [
    Built {
        file: "confine_guest.wasm",
        var: Some("CONFINE_GUEST_WASM"),
        world: "confine:config/domain",
        command: false,
        optional: false,
    },
    Built {
        file: "confine_test_plugin.wasm",
        var: Some("CONFINE_TEST_PLUGIN"),
        world: "confine:config/plugin",
        command: false,
        optional: false,
    },
    Built {
        file: "confine_example_rename_key.wasm",
        var: Some("CONFINE_EXAMPLE_RENAME_KEY"),
        world: "confine:config/plugin",
        command: false,
        optional: false,
    },
    Built {
        file: "confine_example_validate.wasm",
        var: Some("CONFINE_EXAMPLE_VALIDATE"),
        world: "confine:config/plugin",
        command: false,
        optional: false,
    },
    Built {
        file: "confine_test_config_reader.wasm",
        var: Some("CONFINE_CONFIG_READER"),
        world: "wasi:config/imports",
        command: true,
        optional: true,
    },
    Built {
        file: "confine_test_keyvalue_probe.wasm",
        var: Some("CONFINE_KEYVALUE_PROBE"),
        world: "wasi:keyvalue/imports",
        command: true,
        optional: false,
    },
];

/// The WASI 0.2 packages a `wasm32-wasip2` component may import besides its world.
const WASI_PLATFORM: [&str; 6] =
    ["wasi:cli/", "wasi:clocks/", "wasi:filesystem/", "wasi:io/", "wasi:random/", "wasi:sockets/"];

impl Built {
    fn path(&self) -> PathBuf {
        self.var
            .and_then(std::env::var_os)
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::support::workspace().join("target/wasm32-wasip2/release").join(self.file))
    }
}

fn wit_dir() -> Resolve {
    let mut resolve = Resolve::new();
    resolve.push_dir(crate::support::workspace().join("wit")).unwrap();
    resolve
}

fn world_named(resolve: &Resolve, qualified: &str) -> WorldId {
    let found = resolve.worlds.iter().find(|(_, world)| {
        let package = &resolve.packages[world.package.unwrap()].name;
        format!("{}:{}/{}", package.namespace, package.name, world.name) == qualified
    });
    found.unwrap_or_else(|| panic!("wit/ has no world {qualified}")).0
}

/// The wasm tooling's validator (wasmparser, the version wasmtime uses), with the
/// component model on. The bytes must be a component, not a core module.
fn validate(bytes: &[u8]) -> Result<(), String> {
    if !Parser::is_component(bytes) {
        return Err("not a component".to_owned());
    }
    let features = WasmFeatures::default() | WasmFeatures::COMPONENT_MODEL;
    Validator::new_with_features(features).validate_all(bytes).map(drop).map_err(|e| e.to_string())
}

/// What a world imports or exports: each interface by its full name
/// (`confine:config/config-repository@0.1.0`), or each function of the world itself by its
/// name (`run`), with the signatures of its functions in words.
type Surface = BTreeMap<String, BTreeMap<String, String>>;

fn surface<'a>(resolve: &Resolve, items: impl Iterator<Item = (&'a WorldKey, &'a WorldItem)>) -> Surface {
    let mut surface = Surface::new();
    for (key, item) in items {
        let name = resolve.name_world_key(key);
        let functions = match item {
            WorldItem::Interface { id, .. } => {
                let functions = &resolve.interfaces[*id].functions;
                functions.iter().map(|(f, function)| (f.clone(), signature(resolve, function))).collect()
            }
            WorldItem::Function(function) => BTreeMap::from([(name.clone(), signature(resolve, function))]),
            WorldItem::Type { id, .. } => BTreeMap::from([(String::from("type"), ty(resolve, &Type::Id(*id)))]),
        };
        surface.insert(name, functions);
    }
    surface
}

fn signature(resolve: &Resolve, function: &Function) -> String {
    let kind = format!("{:?}", function.kind); // `Method(TypeId { .. })`: the resource is in the name
    let kind = kind.split('(').next().unwrap_or_default();
    let params: Vec<String> = function.params.iter().map(|p| format!("{}: {}", p.name, ty(resolve, &p.ty))).collect();
    let result = function.result.as_ref().map(|t| format!(" -> {}", ty(resolve, t))).unwrap_or_default();
    format!("{kind} func({}){result}", params.join(", "))
}

/// A type in words, expanded down to primitives; named types keep their name, aliases
/// (`type revision = string`) are what they stand for.
fn ty(resolve: &Resolve, t: &Type) -> String {
    let Type::Id(id) = t else { return format!("{t:?}").to_lowercase() };
    let def = &resolve.types[*id];
    let all = |types: &mut dyn Iterator<Item = &Type>| types.map(|t| ty(resolve, t)).collect::<Vec<_>>().join(", ");
    let maybe = |t: &Option<Type>| t.as_ref().map_or("_".to_owned(), |t| ty(resolve, t));
    let structure = match &def.kind {
        TypeDefKind::Type(t) => return ty(resolve, t),
        TypeDefKind::Handle(Handle::Own(r)) => return format!("own<{}>", ty(resolve, &Type::Id(*r))),
        TypeDefKind::Handle(Handle::Borrow(r)) => return format!("borrow<{}>", ty(resolve, &Type::Id(*r))),
        TypeDefKind::Resource => "resource".to_owned(),
        TypeDefKind::Record(r) => {
            let fields: Vec<String> = r.fields.iter().map(|f| format!("{}: {}", f.name, ty(resolve, &f.ty))).collect();
            format!("record {{ {} }}", fields.join(", "))
        }
        TypeDefKind::Variant(v) => {
            let cases: Vec<String> = v.cases.iter().map(|c| format!("{}({})", c.name, maybe(&c.ty))).collect();
            format!("variant {{ {} }}", cases.join(", "))
        }
        TypeDefKind::Enum(e) => {
            format!("enum {{ {} }}", e.cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "))
        }
        TypeDefKind::Flags(f) => {
            format!("flags {{ {} }}", f.flags.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", "))
        }
        TypeDefKind::Tuple(t) => format!("tuple<{}>", all(&mut t.types.iter())),
        TypeDefKind::Option(t) => format!("option<{}>", ty(resolve, t)),
        TypeDefKind::Result(r) => format!("result<{}, {}>", maybe(&r.ok), maybe(&r.err)),
        TypeDefKind::List(t) => format!("list<{}>", ty(resolve, t)),
        TypeDefKind::Map(k, v) => format!("map<{}>", all(&mut [k, v].into_iter())),
        TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", ty(resolve, t)),
        TypeDefKind::Future(t) => format!("future<{}>", maybe(t)),
        TypeDefKind::Stream(t) => format!("stream<{}>", maybe(t)),
        TypeDefKind::Unknown => "unknown".to_owned(),
    };
    match &def.name {
        Some(name) => format!("{name} = {structure}"),
        None => structure,
    }
}

/// How `component` differs from `world` (both as WIT), one sentence per difference.
fn drift(built: &Built, world: (&Resolve, WorldId), component: (&Resolve, WorldId)) -> Vec<String> {
    let (expected, actual) = (&world.0.worlds[world.1], &component.0.worlds[component.1]);
    let (expected_imports, imports) =
        (surface(world.0, expected.imports.iter()), surface(component.0, actual.imports.iter()));
    let (expected_exports, exports) =
        (surface(world.0, expected.exports.iter()), surface(component.0, actual.exports.iter()));
    let mut drift = Vec::new();
    for (name, functions) in &imports {
        match expected_imports.get(name) {
            Some(expected) => compare("imports", name, functions, expected, false, &mut drift),
            None if WASI_PLATFORM.iter().any(|p| name.starts_with(p)) => {}
            None => drift.push(format!("imports {name}, which the world {} does not", built.world)),
        }
    }
    for (name, functions) in &exports {
        match expected_exports.get(name) {
            Some(expected) => compare("exports", name, functions, expected, true, &mut drift),
            None if built.command && name.starts_with("wasi:cli/run@") => {}
            None => drift.push(format!("exports {name}, which the world {} does not", built.world)),
        }
    }
    for name in expected_exports.keys().filter(|name| !exports.contains_key(*name)) {
        drift.push(format!("does not export {name}, which the world {} does", built.world));
    }
    drift
}

fn compare(
    what: &str,
    name: &str,
    functions: &BTreeMap<String, String>,
    expected: &BTreeMap<String, String>,
    all: bool,
    drift: &mut Vec<String>,
) {
    for (function, signature) in functions {
        match expected.get(function) {
            Some(wanted) if wanted == signature => {}
            Some(wanted) => drift.push(format!("{what} {name} {function} as `{signature}`; wit/ has `{wanted}`")),
            None => drift.push(format!("{what} {name} {function}, which wit/ does not have")),
        }
    }
    for function in expected.keys().filter(|f| all && !functions.contains_key(*f)) {
        drift.push(format!("{what} {name} without {function}"));
    }
}

#[test]
fn every_built_component_is_valid_and_matches_the_wit_of_wit_dir() {
    let wit = wit_dir();
    let (mut checked, mut worlds, mut failures) = (0, BTreeMap::<&str, usize>::new(), Vec::new());
    for built in &BUILT {
        let path = built.path();
        if !path.is_file() {
            assert!(built.optional, "{} is missing: run `make test`, which builds it", path.display());
            eprintln!("note: {} is not built here, skipped", path.display());
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        if let Err(e) = validate(&bytes) {
            failures.push(format!("{}: invalid: {e}", built.file));
            continue;
        }
        let (resolve, world) = match decode(&bytes) {
            Ok(DecodedWasm::Component(resolve, world)) => (resolve, world),
            Ok(DecodedWasm::WitPackage(..)) => panic!("{}: a WIT package, not a component", built.file),
            Err(e) => panic!("{}: cannot decode its WIT: {e:?}", built.file),
        };
        let drift = drift(built, (&wit, world_named(&wit, built.world)), (&resolve, world));
        failures.extend(drift.iter().map(|d| format!("{}: {d}", built.file)));
        checked += 1;
        *worlds.entry(built.world).or_default() += 1;
    }
    assert!(failures.is_empty(), "components drifted from wit/ or are invalid:\n{}", failures.join("\n"));
    let worlds: Vec<String> = worlds.iter().map(|(world, n)| format!("{n} {world}")).collect();
    crate::support::figure(
        "components",
        &format!("{checked} components validated (wasmparser), WIT matches wit/ ({})", worlds.join(", ")),
    );
}

/// The comparison is not vacuous: worlds parsed from copies of `wit/` with one change
/// each, taken as if a component had been built from them, all drift.
#[test]
fn a_renamed_function_a_changed_signature_or_version_is_drift() {
    let wit = wit_dir();
    let source = std::fs::read_to_string(crate::support::workspace().join("wit/confine.wit")).unwrap();
    let changes = [
        ("read: func(name: string)", "read-document: func(name: string)", "confine:config/plugin", "read-document"),
        ("timeout-ms: option<u32>", "timeout-ms: option<u64>", "confine:config/plugin", "option<u64>"),
        ("content: string,\n", "text: string,\n", "confine:config/domain", "text: string"),
        ("package confine:config@0.1.0", "package confine:config@0.2.0", "confine:config/domain", "@0.2.0"),
        ("run: func(args: list<string>)", "run: func(args: list<string>, n: u32)", "confine:config/plugin", "n: u32"),
        ("get: func(document", "got: func(document", "confine:config/domain", "got"),
    ];
    let built = |world| Built { file: "drifted.wasm", var: None, world, command: false, optional: false };
    for (from, to, world, named) in changes {
        assert!(source.contains(from), "wit/confine.wit changed: update this test's {from:?}");
        let drifted_dir = tempfile::tempdir().unwrap();
        std::fs::write(drifted_dir.path().join("confine.wit"), source.replace(from, to)).unwrap();
        let mut drifted = Resolve::new();
        drifted.push_dir(drifted_dir.path()).unwrap();
        let drifted_world = world_named(&drifted, world);
        let found = drift(&built(world), (&wit, world_named(&wit, world)), (&drifted, drifted_world));
        assert!(found.iter().any(|d| d.contains(named)), "{from:?} -> {to:?} not caught: {found:?}");
    }
    // And the unchanged copy does not drift.
    let same = (&wit, world_named(&wit, "confine:config/plugin"));
    assert_eq!(drift(&built("confine:config/plugin"), same, same), Vec::<String>::new());
}

#[test]
fn a_truncated_or_core_module_is_refused_by_the_validator() {
    let bytes = std::fs::read(crate::support::probe_plugin()).unwrap();
    assert_eq!(validate(&bytes), Ok(()));
    assert!(validate(&bytes[..bytes.len() / 2]).is_err());
    let core_module = b"\0asm\x01\0\0\0";
    assert_eq!(validate(core_module), Err("not a component".to_owned()));
}

/// The vendored `wasi:keyvalue` package (wit/deps/wasi-keyvalue) resolves with `wit/`, and
/// the keyvalue probe imports every function of its world with the world's signature, so
/// the comparison above covers all of `store`, `atomics` and `batch`.
#[test]
fn the_keyvalue_probe_imports_every_function_of_wasi_keyvalue() {
    let wit = wit_dir();
    let world = &wit.worlds[world_named(&wit, "wasi:keyvalue/imports")];
    let expected = surface(&wit, world.imports.iter());
    let names: Vec<&str> = expected.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["wasi:keyvalue/atomics@0.2.0-draft", "wasi:keyvalue/batch@0.2.0-draft", "wasi:keyvalue/store@0.2.0-draft"]
    );
    let functions: usize = expected.values().map(BTreeMap::len).sum();
    assert_eq!(functions, 10, "open, 5 bucket methods, increment, 3 batch functions: {expected:?}");
    let probe = BUILT.iter().find(|built| built.world == "wasi:keyvalue/imports").unwrap();
    let bytes = std::fs::read(probe.path()).unwrap();
    let Ok(DecodedWasm::Component(resolve, id)) = decode(&bytes) else { panic!("{}: not a component", probe.file) };
    let imports = surface(&resolve, resolve.worlds[id].imports.iter());
    for (name, functions) in &expected {
        assert_eq!(imports.get(name), Some(functions), "{}: its import of {name}", probe.file);
    }
}
