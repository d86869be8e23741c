//! Architecture rules, checked on the text of `src/`: no import cycle between modules, imports
//! follow the layers in [`LAYERS`], and each governed external crate stays in its layers.
//!
//! # Why the layers are cut so
//!
//! - `factor` (the pure rules of each second factor) is at the bottom and does no I/O: no
//!   framework, database, store, network, `std::fs` or `std::net`, so it is tested alone.
//! - `error` is the shared error: a leaf importing no crate module, so every layer can use it
//!   without a cycle; `clock`, `metrics` and `i18n` (the pages' words) are leaves too.
//! - The adapters (`crypto`, `db`, `store`, `sms`, `audit`) know nothing of the use cases (`app`)
//!   or of HTTP; each owns its driver crate (diesel, redis, reqwest).
//! - `app` (the use cases) composes the adapters. `http` is the edge that maps requests onto use
//!   cases, and the HTTP frameworks (actix, utoipa, askama) stay there. `cli`, `startup`, `lib`
//!   and `main` wire everything and may import anything.
//! - A top-level module missing from the table fails the layer test: the table cannot go stale.
//!
//! # How imports are read (text level, good enough)
//!
//! - A `.rs` file is a module: `a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs` are
//!   the crate root (layers `lib`, `main`). Test code is skipped: modules named `tests` (files
//!   `tests.rs`) and the bodies of inline `#[cfg(test)] mod … { … }` blocks (brace matching).
//! - Comments (doc comments too) and string/char literals (raw ones too) are skipped first: a
//!   path in a comment or a string is no import.
//! - An edge is a path starting with `crate::`, `super::` or `self::`, in a `use` tree (nested
//!   braces, `self`, globs, `pub use` re-exports) or inline in code or attributes. It reaches the
//!   longest prefix that is a module with a file. Not followed: items of the crate root, paths
//!   through a `use`d alias, `twofold::` in `main.rs`.
//! - A governed crate is the first segment of any path, in a `use` or inline (`use tokio::…`,
//!   `diesel::…`, `#[derive(utoipa::ToSchema)]`); `std::fs` and `std::net` count as crates too.
//! - Cycles are sought between nodes cut to two segments (`app::verify`, `db::devices`, `error`),
//!   then between top-level modules; an edge between a module and its own ancestor or descendant
//!   (`db` ↔ `db::pool`) is ignored.
//!
//! `TWOFOLD_ARCH_SRC`, read at run time, points the checks at another tree than `src/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[rustfmt::skip]
const WEB: &[&str] =
    &["actix_web", "actix_http", "actix_rt", "tracing_actix_web", "utoipa", "utoipa_actix_web", "askama"];
const DIESEL: &[&str] = &["diesel", "diesel_migrations"];
const REDIS: &[&str] = &["redis"];
const REQWEST: &[&str] = &["reqwest"];
const IO: &[&str] = &["tokio", "std::fs", "std::net"];
/// The governed crates; any other crate may be used anywhere.
const GOVERNED: &[&[&str]] = &[WEB, DIESEL, REDIS, REQWEST, IO];

/// A layer: its top-level module, the crate modules it may import besides itself (`*` is any,
/// `-m` an exception to it), and the governed crates it may use.
type Layer = (&'static str, &'static str, &'static [Names]);
type Names = &'static [&'static str];

/// The layers, bottom up.
#[rustfmt::skip]
const LAYERS: &[Layer] = &[
    ("error",     "",                                             &[IO]),
    ("clock",     "",                                             &[IO]),
    ("metrics",   "",                                             &[IO]),
    ("i18n",      "",                                             &[]),
    ("factor",    "error",                                        &[]),
    ("crypto",    "error",                                        &[IO]),
    ("db",        "error clock factor crypto",                    &[IO, DIESEL]),
    ("store",     "error clock factor",                           &[IO, REDIS]),
    ("sms",       "error clock factor",                           &[IO, REQWEST]),
    ("audit",     "error clock crypto db",                        &[IO, DIESEL]),
    ("config",    "error clock factor crypto db store sms audit i18n", &[IO]),
    ("app",       "error clock metrics i18n factor crypto db store sms audit config", &[IO, DIESEL]),
    ("telemetry", "config error",                                 &[IO]),
    ("http",      "* -cli -startup -main -lib",                   &[IO, WEB]),
    ("cli",       "*",                                            &[IO, WEB, DIESEL]),
    ("startup",   "*",                                            &[IO, WEB, DIESEL, REDIS, REQWEST]),
    ("lib",       "*",                                            &[IO, WEB]),
    ("main",      "*",                                            &[IO, WEB]),
];

/// A path found in code: where, in which layer and module, the crate module or crate it reaches.
struct Use {
    at: String,
    layer: String,
    from: Vec<String>,
    to: Vec<String>,
    text: String,
}

#[derive(Default)]
struct Analysis {
    /// `crate::`, `self::`, `super::` paths; `to` is the module reached.
    imports: Vec<Use>,
    /// Governed crate paths; `to` is the crate.
    crates: Vec<Use>,
    /// Each top-level module, with its first file.
    layers: BTreeMap<String, String>,
}

/// Analyses `(path under src, source)` pairs: the scanning and the checks never touch the disk.
fn analyse(files: &[(String, String)]) -> Analysis {
    let mut known = BTreeSet::new();
    for m in files.iter().map(|(p, _)| module_of(p)) {
        known.extend((1..=m.len()).map(|n| m[..n].to_vec()));
    }
    let mut a = Analysis::default();
    for (file, src) in files {
        let (from, stem) = (module_of(file), file.replace(".rs", ""));
        let layer = from.first().unwrap_or(&stem).clone();
        if from.iter().any(|s| s == "tests") {
            continue;
        }
        a.layers.entry(layer.clone()).or_insert(file.clone());
        for (path, line) in paths(&tokens(src)) {
            let (list, to) = match resolve(&from, &path, &known) {
                Some(module) => (&mut a.imports, module),
                None => match governed(&path) {
                    Some(name) => (&mut a.crates, vec![name.to_string()]),
                    None => continue,
                },
            };
            let (at, text) = (format!("src/{file}:{line}"), path.join("::"));
            let (layer, from) = (layer.clone(), from.clone());
            list.push(Use {
                at,
                layer,
                from,
                to,
                text,
            });
        }
    }
    a
}

fn module_of(file: &str) -> Vec<String> {
    let stem = file.trim_end_matches(".rs");
    let mut m: Vec<String> = stem.split('/').map(Into::into).collect();
    if file == "lib.rs" || file == "main.rs" || m.last().is_some_and(|s| s == "mod") {
        m.pop();
    }
    m
}

/// The module a `crate`/`self`/`super` path reaches: its longest prefix that is a known module.
fn resolve(from: &[String], path: &[String], known: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let ups = path.iter().take_while(|s| *s == "super").count();
    let (mut base, rest) = match path[0].as_str() {
        "crate" | "$crate" => (Vec::new(), &path[1..]),
        "self" => (from.to_vec(), &path[1..]),
        "super" if ups <= from.len() => (from[..from.len() - ups].to_vec(), &path[ups..]),
        _ => return None,
    };
    for seg in rest {
        base.push(seg.clone());
        if !known.contains(&base) {
            base.pop();
            break;
        }
    }
    Some(base)
}

fn governed(path: &[String]) -> Option<&'static str> {
    let name = match path {
        [std, m, ..] if std == "std" => format!("std::{m}"),
        [first, ..] => first.clone(),
        [] => return None,
    };
    GOVERNED.concat().into_iter().find(|g| *g == name)
}

/// The code tokens of a source with their line: identifiers (`$crate` included), `::` and single
/// punctuation characters. Comments (doc comments too) and string and char literals are skipped.
fn tokens(src: &str) -> Vec<(String, usize)> {
    let c: Vec<char> = src.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let word = |ch: char| ch.is_alphanumeric() || ch == '_';
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    while i < c.len() {
        let raw = i + usize::from(c[i] == 'b');
        let hashes = (raw + 1..c.len()).take_while(|&j| c[j] == '#').count();
        let end = if c[i] == '/' && at(i + 1) == '/' {
            (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len())
        } else if c[i] == '/' && at(i + 1) == '*' {
            let (mut j, mut depth) = (i + 2, 1);
            while j < c.len() && depth > 0 {
                match (c[j], at(j + 1)) {
                    ('/', '*') => (depth, j) = (depth + 1, j + 2),
                    ('*', '/') => (depth, j) = (depth - 1, j + 2),
                    _ => j += 1,
                }
            }
            j.min(c.len())
        } else if at(raw) == 'r' && at(raw + 1 + hashes) == '"' {
            let closes = |j: &usize| c[*j] == '"' && (1..=hashes).all(|h| at(j + h) == '#');
            let close = (raw + 2 + hashes..c.len()).find(closes);
            close.map_or(c.len(), |j| j + 1 + hashes)
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            (j + 1).min(c.len())
        } else if c[i] == '\'' && at(i + 1) == '\\' {
            let close = (i + 3..c.len()).find(|&j| c[j] == '\'');
            close.map_or(c.len(), |j| j + 1)
        } else if c[i] == '\'' && at(i + 2) == '\'' {
            i + 3
        } else if c[i].is_whitespace() {
            i + 1
        } else {
            let n = if word(c[i]) || c[i] == '$' {
                1 + c[i + 1..].iter().take_while(|&&ch| word(ch)).count()
            } else {
                1 + usize::from(c[i] == ':' && at(i + 1) == ':')
            };
            out.push((c[i..i + n].iter().collect(), line));
            i += n;
            continue;
        };
        line += c[i..end].iter().filter(|&&ch| ch == '\n').count();
        i = end;
    }
    out
}

fn is_ident(t: &str) -> bool {
    t.starts_with(|ch: char| ch.is_alphabetic() || ch == '_' || ch == '$')
}

/// The index after the group (`{…}`, `[…]`, `(…)`) that opens at `i`.
fn after_group(toks: &[(String, usize)], mut i: usize) -> usize {
    let mut depth = 0;
    while let Some((t, _)) = toks.get(i) {
        depth += match t.as_str() {
            "{" | "[" | "(" => 1,
            "}" | "]" | ")" => -1,
            _ => 0,
        };
        i += 1;
        if depth <= 0 {
            break;
        }
    }
    i
}

/// Every path, with the line of its last segment: the leaves of `use` trees (`{` opens a group
/// under the path so far; `,`, `}` and `;` end a leaf) and inline `a::b::c` paths. The body of a
/// `#[cfg(test)]` (further attributes, `pub`) `mod m { … }` is skipped.
fn paths(toks: &[(String, usize)]) -> Vec<(Vec<String>, usize)> {
    let tok = |i: usize| toks.get(i).map_or("", |t| t.0.as_str());
    let (mut out, mut i) = (Vec::new(), 0);
    while i < toks.len() {
        if (i..i + 7)
            .map(tok)
            .eq(["#", "[", "cfg", "(", "test", ")", "]"])
        {
            let mut j = i + 7;
            while tok(j) == "#" {
                j = after_group(toks, j + 1);
            }
            j += usize::from(tok(j) == "pub");
            if tok(j) == "mod" && tok(j + 2) == "{" {
                i = after_group(toks, j + 2);
                continue;
            }
        }
        let continues = i >= 2 && tok(i - 1) == "::" && (is_ident(tok(i - 2)) || tok(i - 2) == ">");
        if tok(i) == "use" && tok(i + 1) != "<" {
            let (mut groups, mut path, mut line) = (vec![vec![]], Vec::<String>::new(), 0);
            while !groups.is_empty() && i + 1 < toks.len() {
                i += 1;
                match tok(i) {
                    "{" => groups.push(path.clone()),
                    "as" => i += 1,
                    "," | "}" | ";" => {
                        if path.len() > groups.last().map_or(0, Vec::len) {
                            let own = path.len() > 1 && path.last().is_some_and(|s| s == "self");
                            out.push((path[..path.len() - usize::from(own)].to_vec(), line));
                        }
                        if tok(i) != "," {
                            groups.pop();
                        }
                        path = groups.last().cloned().unwrap_or_default();
                    }
                    "::" => {}
                    t => (path, line) = ([path, vec![t.into()]].concat(), toks[i].1),
                }
            }
        } else if is_ident(tok(i)) && tok(i + 1) == "::" && !continues {
            let mut path = vec![tok(i).to_string()];
            while tok(i + 1) == "::" && is_ident(tok(i + 2)) {
                path.push(tok(i + 2).to_string());
                i += 2;
            }
            out.push((path, toks[i].1));
        }
        i += 1;
    }
    out
}

type Graph<'g> = BTreeMap<&'g str, BTreeSet<&'g str>>;

/// Tarjan's strongly connected components, each sorted.
fn components<'g>(graph: &Graph<'g>) -> Vec<Vec<&'g str>> {
    #[derive(Default)]
    struct State<'g> {
        next: usize,
        index_low: BTreeMap<&'g str, (usize, usize)>,
        stack: Vec<&'g str>,
        out: Vec<Vec<&'g str>>,
    }
    fn visit<'g>(g: &Graph<'g>, v: &'g str, s: &mut State<'g>) {
        let (index, mut low) = (s.next, s.next);
        s.index_low.insert(v, (index, low));
        s.next += 1;
        s.stack.push(v);
        for &w in g.get(v).into_iter().flatten() {
            if !s.index_low.contains_key(w) {
                visit(g, w, s);
                low = low.min(s.index_low[w].1);
            } else if s.stack.contains(&w) {
                low = low.min(s.index_low[w].0);
            }
        }
        s.index_low.insert(v, (index, low));
        if low == index
            && let Some(at) = s.stack.iter().rposition(|&x| x == v)
        {
            let mut c = s.stack.split_off(at);
            c.sort_unstable();
            s.out.push(c);
        }
    }
    let mut s = State::default();
    for &v in graph.keys() {
        if !s.index_low.contains_key(v) {
            visit(graph, v, &mut s);
        }
    }
    s.out
}

/// `(finding, path)` pairs as lines; the paths of one finding on one line are joined.
fn report<'a>(found: impl Iterator<Item = (String, &'a Use)>) -> Vec<String> {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    for (key, u) in found.map(|(what, u)| (format!("{}: {what}", u.at), u)) {
        match out.last_mut() {
            Some((k, paths)) if *k == key && paths.contains(&u.text.as_str()) => {}
            Some((k, paths)) if *k == key => paths.push(&u.text),
            _ => out.push((key, vec![&u.text])),
        }
    }
    out.into_iter()
        .map(|(k, p)| format!("{k} ({})", p.join(", ")))
        .collect()
}

/// Each cycle between modules cut to `depth` segments, with the imports that make it.
fn cycles(a: &Analysis, depth: usize) -> Vec<String> {
    let cut = |m: &[String]| m[..m.len().min(depth)].to_vec();
    let edges: Vec<(&Use, String, String)> = (a.imports.iter())
        .map(|u| (u, cut(&u.from), cut(&u.to)))
        .filter(|(_, f, t)| !f.starts_with(t) && !t.starts_with(f))
        .map(|(u, f, t)| (u, f.join("::"), t.join("::")))
        .collect();
    let mut graph = Graph::new();
    for (_, f, t) in &edges {
        graph.entry(f.as_str()).or_default().insert(t.as_str());
    }
    let cyclic = components(&graph).into_iter().filter(|c| c.len() > 1);
    cyclic
        .map(|c| {
            let inside = (edges.iter())
                .filter(|(_, f, t)| c.contains(&f.as_str()) && c.contains(&t.as_str()));
            let lines = report(inside.map(|(u, f, t)| (format!("{f} -> {t}"), *u)));
            let (members, lines) = (c.join(", "), lines.join("\n    "));
            format!("cycle among {members}; the imports that make it:\n    {lines}")
        })
        .collect()
}

fn layer_violations(a: &Analysis) -> Vec<String> {
    let rule = |name: &str| LAYERS.iter().find(|l| l.0 == name);
    let unknown = a.layers.iter().filter(|(name, _)| rule(name).is_none());
    let add = "add it to the table in tests/api/architecture.rs";
    let unknown = unknown.map(|(name, file)| format!("src/{file}: unknown layer `{name}`: {add}"));
    let broken = a.imports.iter().filter_map(|u| {
        let (to, may) = (u.to.first()?.as_str(), rule(&u.layer)?.1);
        let may: Vec<&str> = may.split_whitespace().collect();
        let allowed = match may.first() {
            Some(&"*") => !may.contains(&format!("-{to}").as_str()),
            _ => may.contains(&to),
        };
        (!allowed && to != u.layer).then(|| (format!("{} may not import {to}", u.layer), u))
    });
    unknown.chain(report(broken)).collect()
}

fn crate_violations(a: &Analysis) -> Vec<String> {
    report(a.crates.iter().filter_map(|u| {
        let crates = LAYERS.iter().find(|l| l.0 == u.layer)?.2;
        let allowed = crates.iter().any(|g| g.contains(&u.to[0].as_str()));
        (!allowed).then(|| (format!("{} may not use {}", u.layer, u.to[0]), u))
    }))
}

fn read_tree(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            read_tree(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("a path under the root");
            let rel: Vec<_> = rel.iter().map(|s| s.to_string_lossy()).collect();
            let src = std::fs::read_to_string(&path).expect("a readable source file");
            out.push((rel.join("/"), src));
        }
    }
}

fn real_tree() -> Analysis {
    let default = || Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let root = std::env::var_os("TWOFOLD_ARCH_SRC").map_or_else(default, PathBuf::from);
    let mut files = Vec::new();
    read_tree(&root, &root, &mut files);
    files.sort();
    analyse(&files)
}

fn assert_none(what: &str, found: &[String]) {
    let (n, list) = (found.len(), found.join("\n"));
    assert!(found.is_empty(), "{n} {what}:\n{list}");
}

#[test]
fn the_source_tree_has_no_import_cycle() {
    let a = real_tree();
    let found: Vec<String> = [2, 1].iter().flat_map(|&d| cycles(&a, d)).collect();
    assert_none("import cycle(s), depth 2 then top level", &found);
}

#[test]
fn imports_follow_the_layer_rules() {
    assert_none("layer violation(s)", &layer_violations(&real_tree()));
}

#[test]
fn frameworks_stay_in_their_layers() {
    let found = crate_violations(&real_tree());
    assert_none("governed crate(s) used outside their layers", &found);
}

/// Every finding on a synthetic tree (cycles at depth 2 and 1, layers, crates), and the modules
/// that its first file reaches.
fn check(files: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
    let files: Vec<(String, String)> = files.iter().map(|&(p, s)| (p.into(), s.into())).collect();
    let a = analyse(&files);
    let mut found = cycles(&a, 2);
    found.extend(cycles(&a, 1).into_iter().chain(layer_violations(&a)));
    found.extend(crate_violations(&a));
    let first = format!("src/{}:", files[0].0);
    let to = a.imports.iter().filter(|u| u.at.starts_with(&first));
    (found, to.map(|u| u.to.join("::")).collect())
}

#[test]
fn checker_finds_a_cycle_and_the_lines_that_make_it() {
    let (found, _) = check(&[
        ("app/mod.rs", "pub mod a;\npub mod b;\n"),
        ("app/a.rs", "use crate::app::b::{B, C};\npub struct A;\n"),
        (
            "app/b.rs",
            "pub struct B;\nfn f() -> super::a::A { todo!() }\n",
        ),
    ]);
    let cycle = "cycle among app::a, app::b; the imports that make it:\n    \
        src/app/a.rs:1: app::a -> app::b (crate::app::b::B, crate::app::b::C)\n    \
        src/app/b.rs:2: app::b -> app::a (super::a::A)";
    assert_eq!(found, [cycle]);
}

#[test]
fn checker_finds_layer_violations_and_unknown_layers() {
    let (found, _) = check(&[
        (
            "db/devices.rs",
            "use crate::db::Db;\nuse crate::http::error::ApiError;\n",
        ),
        ("db/mod.rs", "pub mod devices;\n"),
        ("gadgets/mod.rs", "use crate::error::E;\n"),
        ("http/error.rs", "pub struct ApiError;\n"),
    ]);
    let unknown = "src/gadgets/mod.rs: unknown layer `gadgets`: add it to the table in \
        tests/api/architecture.rs";
    let db = "src/db/devices.rs:2: db may not import http (crate::http::error::ApiError)";
    assert_eq!(found, [unknown, db]);
}

#[test]
fn checker_finds_a_framework_outside_its_layer() {
    let (found, _) = check(&[
        (
            "app/x.rs",
            "#[derive(serde::Serialize, utoipa::ToSchema)]\npub struct X;\n",
        ),
        (
            "http/y.rs",
            "#[utoipa::path(get, path = \"/y\")]\nasync fn y() {}\n",
        ),
        ("factor/z.rs", "use std::{fs, io};\nuse tokio::time;\n"),
    ]);
    let want = [
        "src/app/x.rs:1: app may not use utoipa (utoipa::ToSchema)",
        "src/factor/z.rs:1: factor may not use std::fs (std::fs)",
        "src/factor/z.rs:2: factor may not use tokio (tokio::time)",
    ];
    assert_eq!(found, want);
}

#[test]
fn checker_ignores_comments_strings_and_test_modules() {
    let db = r##"//! See crate::http::x.
/* crate::http::x /* nested */ crate::http::x */
/// [`crate::http::x`]
fn f<'a>(_: &'a str) -> [&'a str; 2] { ["crate::http::x \" crate::http::x", r#"crate::http::x " crate::http::x"#] }
const C: [char; 3] = ['\\', '"', '\'']; use crate::error::E;
#[cfg(test)]
#[allow(unused)]
mod tests {
    use crate::http::x;
    fn g() { if true {} }
}
"##;
    let tests = "use crate::http::x;\n";
    let (found, to) = check(&[
        ("db/a.rs", db),
        ("db/tests.rs", tests),
        ("error.rs", ""),
        ("http/x.rs", ""),
    ]);
    assert_eq!((found, to), (vec![], vec!["error".to_string()]));
}

#[test]
fn checker_expands_use_trees_and_resolves_super() {
    let tree = "use crate::{db::{self, devices as q}, error::Error};\n";
    let files = [
        ("app/x.rs", tree),
        ("db/mod.rs", ""),
        ("db/devices.rs", ""),
        ("error.rs", ""),
    ];
    assert_eq!(check(&files).1, ["db", "db::devices", "error"]);
    let attempt = "use super::Verdict;\nfn f() { super::super::g(); }\n";
    let files = [
        ("app/verify/attempt.rs", attempt),
        ("app/verify/mod.rs", ""),
    ];
    assert_eq!(check(&files).1, ["app::verify", "app"]);
}
