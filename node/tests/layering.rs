//! The map a newcomer can trust: the pure domain stays pure, and no crate's modules import each
//! other in a circle.
//!
//! `no_bypass.rs` beside this file guards what leaves the node; this test guards the shape of the
//! code. It reads the sources (no build tooling needed) and fails with the offending files.
//! - The domain crate (`domain/`: presence, access, profiles, calendar) may depend only on the
//!   crates in [`DOMAIN_ALLOWED`]: no async runtime, database, network, XMPP or libp2p crate, and
//!   none of the node's own crates, so the compiler itself keeps it free of I/O. Its sources must
//!   not reach for the clock, the file system, the network, threads or processes either: the
//!   domain takes a clock and inputs and returns decisions.
//! - In every crate of the workspace, the modules' `use` graph has no circle. A circle is where a
//!   newcomer cannot tell which module is the lower one; breaking it means deciding.
//! - The node's modules import only from their own layer and the ones below it, in the order
//!   `node/src/lib.rs` lists them ([`NODE_LAYERS`]), so an arrow running back up fails here
//!   before it closes a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What the domain may depend on: identifiers, serialization, errors, time and iCalendar parsing.
const DOMAIN_ALLOWED: &[&str] = &[
    "jid",
    "serde",
    "thiserror",
    "chrono",
    "chrono-tz",
    "icalendar",
    "rrule",
];

/// What the domain's code may not name: the clock (it is given one), and I/O of any kind.
const DOMAIN_FORBIDDEN: &[&str] = &[
    "SystemTime::now",
    "Instant::now",
    "Utc::now",
    "Local::now",
    "std::fs",
    "std::net",
    "std::thread",
    "std::process",
    "std::env",
    "tokio",
    "sled",
    "libp2p",
    "xmpp_parsers",
    "tokio_xmpp",
    "minidom",
    "lampfield_",
];

/// The node's modules, lowest layer first, as `node/src/lib.rs` lists them; a module may import
/// from its own layer and the ones before it.
const NODE_LAYERS: &[&[&str]] = &[
    &["files", "tokens"],
    &["config"],
    &["store"],
    &["engine"],
    &["connector"],
    &["profile_runtime"],
    &["tls"],
    &["adapters"],
    &["http", "federation", "admin", "sip"],
    &["node"],
];

/// The workspace's crates with a `src/` of their own.
const CRATES: &[&str] = &[
    "domain",
    "stripes",
    "node",
    "federation",
    "xmpp-gateway",
    "tests",
    "tests/bench",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("node/ sits in the workspace")
        .to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Unit-test files: they import what they test, which is no layering.
fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with("_tests.rs") || name == "tests.rs" || name == "test_support.rs"
}

/// The code of a file without comments, string contents and its trailing `#[cfg(test)]` module.
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '"' => {
                out.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
                out.push('"');
            }
            // A char literal such as '"' must not open a string; lifetimes pass through.
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                let mut it = rest.chars();
                match (it.next(), it.next(), it.next()) {
                    (Some('\\'), _, _) => {
                        for c in chars.by_ref() {
                            if c == '\'' {
                                break;
                            }
                        }
                    }
                    (Some(_), Some('\''), _) => {
                        chars.next();
                        chars.next();
                    }
                    _ => out.push('\''),
                }
            }
            _ => out.push(c),
        }
    }
    // An inline test module at the end of a file is the file's unit tests, not its imports.
    let mut from = 0;
    while let Some(at) = out[from..].find("#[cfg(test)]") {
        let at = from + at;
        let after = out[at + "#[cfg(test)]".len()..].trim_start();
        let inline = after.starts_with("mod ")
            && after
                .find('{')
                .is_some_and(|b| after.find(';').is_none_or(|s| b < s));
        if inline {
            out.truncate(at);
            break;
        }
        from = at + 1;
    }
    out
}

/// `a::{b, c::{d, e}}` -> `a::b`, `a::c::d`, `a::c::e` (and `a::{self}` -> `a`).
fn expand_use(tree: &str) -> Vec<String> {
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let Some(open) = tree.find('{') else {
        return vec![strip_alias(&tree)];
    };
    let Some(close) = tree.rfind('}') else {
        return Vec::new();
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..close];
    let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in inner.chars() {
        match c {
            ',' if depth == 0 => parts.push(std::mem::take(&mut current)),
            '{' => {
                depth += 1;
                current.push(c);
            }
            '}' => {
                depth -= 1;
                current.push(c);
            }
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .flat_map(|p| {
            if p == "self" {
                vec![prefix.trim_end_matches("::").to_owned()]
            } else {
                expand_use(&format!("{prefix}{p}"))
            }
        })
        .collect()
}

fn strip_alias(path: &str) -> String {
    path.split(" as ").next().unwrap_or(path).trim().to_owned()
}

type Module = Vec<String>;

fn name(m: &Module) -> String {
    if m.is_empty() {
        "crate".to_owned()
    } else {
        m.join("::")
    }
}

/// Every `use` tree in `code`, with whether it was a `pub use`.
fn use_trees(code: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = &rest[..at];
        let word_start = before
            .chars()
            .last()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        rest = &rest[at + 4..];
        if !word_start {
            continue;
        }
        let Some(end) = rest.find(';') else { break };
        let public = before.trim_end().ends_with("pub")
            || before.trim_end().ends_with(')') && before.contains("pub(");
        out.push((public, rest[..end].to_owned()));
        rest = &rest[end..];
    }
    out
}

/// `crate::a::b` and `super::x` paths written in code (not in `use` statements).
fn inline_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let begin = from + at;
            let ok = code[..begin]
                .chars()
                .last()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != ':');
            let end = code[begin..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| begin + e);
            if ok {
                out.push(code[begin..end].trim_end_matches(':').to_owned());
            }
            from = end.max(begin + start.len());
        }
    }
    out
}

/// The module import graph of one crate's `src/`.
fn import_graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut modules: BTreeMap<Module, String> = BTreeMap::new();
    for file in files.iter().filter(|f| !is_test_file(f)) {
        let rel = file.strip_prefix(src).expect("under src");
        let mut parts: Vec<String> = rel
            .with_extension("")
            .components()
            .filter_map(|c| c.as_os_str().to_str().map(str::to_owned))
            .collect();
        if parts.first().is_some_and(|p| p == "bin") {
            continue;
        }
        if parts
            .last()
            .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
        {
            parts.pop();
        }
        let text = std::fs::read_to_string(file).expect("readable source");
        modules.entry(parts).or_default().push_str(&code_of(&text));
    }
    let is_module = |m: &Module| modules.contains_key(m);
    // `pub use child::Item` in a module re-exports from a descendant: follow it to the child.
    let mut reexports: BTreeMap<(Module, String), Module> = BTreeMap::new();
    for (m, code) in &modules {
        for (public, tree) in use_trees(code) {
            if !public {
                continue;
            }
            for path in expand_use(&tree) {
                let segs: Vec<&str> = path.split("::").filter(|s| *s != "self").collect();
                let mut child = m.clone();
                child.push(segs[0].to_owned());
                if segs.len() >= 2 && is_module(&child) {
                    let mut target = m.clone();
                    target.extend(segs[..segs.len() - 1].iter().map(|s| s.to_string()));
                    let last = segs[segs.len() - 1].to_owned();
                    reexports.insert((m.clone(), last), target);
                }
            }
        }
    }
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (m, code) in &modules {
        let mut paths = Vec::new();
        for (public, tree) in use_trees(code) {
            for path in expand_use(&tree) {
                let first = path.split("::").next().unwrap_or("");
                let mut child = m.clone();
                child.push(first.trim_start_matches("self::").to_owned());
                // A facade's `pub use child::Item` is no import of the child.
                let facade = public && (is_module(&child) || path.starts_with("self::"));
                if !facade {
                    paths.push(path);
                }
            }
        }
        paths.extend(inline_paths(code));
        for path in paths {
            let mut segs: Vec<&str> = path.split("::").collect();
            let mut base: Module = match segs.first().copied() {
                Some("crate") => {
                    segs.remove(0);
                    Vec::new()
                }
                Some("super") => {
                    let mut b = m.clone();
                    while segs.first() == Some(&"super") {
                        b.pop();
                        segs.remove(0);
                    }
                    b
                }
                Some("self") => {
                    segs.remove(0);
                    m.clone()
                }
                Some(first) => {
                    let mut child = m.clone();
                    child.push(first.to_owned());
                    if !is_module(&child) {
                        continue;
                    }
                    m.clone()
                }
                None => continue,
            };
            for seg in &segs {
                let mut next = base.clone();
                next.push((*seg).to_owned());
                if is_module(&next) {
                    base = next;
                } else {
                    let mut hops = 0;
                    while let Some(target) = reexports.get(&(base.clone(), (*seg).to_owned())) {
                        base = target.clone();
                        hops += 1;
                        if hops > 8 {
                            break;
                        }
                    }
                    break;
                }
            }
            if &base != m {
                edges.entry(m.clone()).or_default().insert(base);
            }
        }
    }
    for m in modules.keys() {
        edges.entry(m.clone()).or_default();
    }
    edges
}

/// Strongly connected components of more than one module (Tarjan, iterative).
fn circles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    let nodes: Vec<&Module> = edges.keys().collect();
    let index_of: BTreeMap<&Module, usize> =
        nodes.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let succ: Vec<Vec<usize>> = nodes
        .iter()
        .map(|m| {
            edges[*m]
                .iter()
                .filter_map(|t| index_of.get(t).copied())
                .collect()
        })
        .collect();
    let n = nodes.len();
    let (mut index, mut low, mut on_stack) = (vec![usize::MAX; n], vec![0; n], vec![false; n]);
    let (mut stack, mut next, mut out) = (Vec::new(), 0, Vec::new());
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work = vec![(root, 0usize)];
        while let Some((v, i)) = work.pop() {
            if i == 0 {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = succ[v].get(i) {
                work.push((v, i + 1));
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(nodes[w].clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    out.push(component);
                }
            }
        }
    }
    out
}

#[test]
fn the_domain_depends_on_nothing_that_does_io() {
    let manifest =
        std::fs::read_to_string(workspace().join("domain/Cargo.toml")).expect("domain/Cargo.toml");
    let manifest: toml::Table = toml::from_str(&manifest).expect("a valid manifest");
    let deps = manifest
        .get("dependencies")
        .and_then(|d| d.as_table())
        .expect("a [dependencies] table");
    let extra: Vec<&String> = deps
        .keys()
        .filter(|d| !DOMAIN_ALLOWED.contains(&d.as_str()))
        .collect();
    assert!(
        extra.is_empty(),
        "domain/Cargo.toml depends on {extra:?}; the domain is pure (allowed: {DOMAIN_ALLOWED:?})"
    );

    let mut files = Vec::new();
    rust_files(&workspace().join("domain/src"), &mut files);
    assert!(
        files.len() > 20,
        "found the domain's sources: {}",
        files.len()
    );
    let mut offences = Vec::new();
    for file in files.iter().filter(|f| !is_test_file(f)) {
        let code = code_of(&std::fs::read_to_string(file).expect("readable source"));
        for (n, line) in code.lines().enumerate() {
            for word in DOMAIN_FORBIDDEN {
                if line.contains(word) {
                    offences.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the domain must take its clock and inputs from outside and do no I/O:\n{}",
        offences.join("\n")
    );
}

#[test]
fn no_crate_has_an_import_circle() {
    let mut report = Vec::new();
    let mut modules = 0;
    for krate in CRATES {
        let graph = import_graph(&workspace().join(krate).join("src"));
        modules += graph.len();
        for circle in circles(&graph) {
            let names: BTreeSet<&Module> = circle.iter().collect();
            let mut lines = vec![format!("{krate}: a circle of {} modules", circle.len())];
            for m in &circle {
                let inside: Vec<String> = graph[m]
                    .iter()
                    .filter(|t| names.contains(t))
                    .map(name)
                    .collect();
                lines.push(format!("    {} -> {}", name(m), inside.join(", ")));
            }
            report.push(lines.join("\n"));
        }
    }
    assert!(modules > 100, "found the workspace's modules: {modules}");
    assert!(
        report.is_empty(),
        "modules that import each other (decide which is lower, move what both need below it):\n{}",
        report.join("\n")
    );
}

#[test]
fn the_circle_finder_finds_a_circle() {
    // The guard above is only as good as its parser: a planted circle must be found.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let src = dir.path();
    std::fs::create_dir_all(src.join("a")).expect("mkdir");
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\npub use a::Thing;\n").expect("write");
    std::fs::write(src.join("a/mod.rs"), "mod inner;\npub use inner::Thing;\n").expect("write");
    std::fs::write(
        src.join("a/inner.rs"),
        "// use crate::c; in a comment is no import\nuse crate::b::Other;\npub struct Thing;\n",
    )
    .expect("write");
    std::fs::write(src.join("b.rs"), "pub struct Other(crate::a::Thing);\n").expect("write");
    std::fs::write(src.join("c.rs"), "use super::b::Other;\n").expect("write");
    let graph = import_graph(src);
    let found = circles(&graph);
    assert_eq!(
        found,
        vec![vec![
            vec!["a".to_owned(), "inner".to_owned()],
            vec!["b".to_owned()]
        ]],
        "graph: {graph:?}"
    );
}

#[test]
fn node_modules_import_only_from_lower_layers() {
    let src = workspace().join("node/src");
    let layer_of = |module: &str| NODE_LAYERS.iter().position(|l| l.contains(&module));
    let mut violations = Vec::new();
    for (own, layer) in NODE_LAYERS.iter().enumerate() {
        for module in *layer {
            let mut files = Vec::new();
            let file = src.join(format!("{module}.rs"));
            if file.exists() {
                files.push(file);
            }
            rust_files(&src.join(module), &mut files);
            assert!(!files.is_empty(), "no module {module} in node/src");
            for file in files.iter().filter(|f| !is_test_file(f)) {
                let code = code_of(&std::fs::read_to_string(file).expect("readable source"));
                for path in inline_paths(&code).into_iter().chain(
                    use_trees(&code)
                        .into_iter()
                        .flat_map(|(_, t)| expand_use(&t)),
                ) {
                    let Some(rest) = path.strip_prefix("crate::") else {
                        continue;
                    };
                    let name = rest.split("::").next().unwrap_or(rest);
                    if layer_of(name).is_some_and(|l| l > own) {
                        violations.push(format!("{} imports crate::{name}", file.display()));
                    }
                }
            }
        }
    }
    violations.sort();
    violations.dedup();
    assert!(
        violations.is_empty(),
        "a node module imports from a layer above it:\n{}",
        violations.join("\n")
    );
}
