//! The layers of the workspace stay as docs and `node/src/lib.rs` describe them: the domain crate
//! is pure, and each node module imports only from the layers below it. A change that breaks this
//! fails here with the file and the import, before it becomes a circle someone has to untangle.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// Crates that do I/O, spawn or speak a protocol: never a dependency of the pure domain. (`jid`
/// is allowed: it is the value type of an account name, and parses without any I/O.)
const NOT_IN_THE_DOMAIN: &[&str] = &[
    "tokio",
    "tokio-util",
    "futures",
    "sled",
    "libp2p",
    "lampfield-federation",
    "lampfield-xmpp",
    "lampfield-node",
    "xmpp-parsers",
    "tokio-xmpp",
    "minidom",
    "xso",
    "rxml",
    "hickory-resolver",
    "axum",
    "reqwest",
    "rustls",
    "tokio-rustls",
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
    &["http", "federation", "admin"],
    &["node"],
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("node/ has a parent")
        .to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments (line comments only: the tree uses no block comments).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_domain_crate_depends_on_no_runtime_database_or_protocol_crate() {
    let manifest = std::fs::read_to_string(workspace().join("domain/Cargo.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&manifest).unwrap();
    let deps = manifest["dependencies"].as_table().unwrap();
    for name in NOT_IN_THE_DOMAIN {
        assert!(
            !deps.contains_key(*name),
            "lampfield-domain depends on {name}"
        );
    }

    let mut files = Vec::new();
    rust_files(&workspace().join("domain/src"), &mut files);
    for file in files {
        let code = code(&file);
        for forbidden in [
            "tokio::",
            "sled::",
            "std::net",
            "lampfield_node",
            "SystemTime::now",
        ] {
            assert!(
                !code.contains(forbidden),
                "{} names {forbidden}",
                file.display()
            );
        }
    }
}

#[test]
fn node_modules_import_only_from_lower_layers() {
    let src = workspace().join("node/src");
    let layer_of = |module: &str| NODE_LAYERS.iter().position(|l| l.contains(&module));
    let mut violations = Vec::new();
    for layer in NODE_LAYERS.iter() {
        for module in *layer {
            let mut files = Vec::new();
            let file = src.join(format!("{module}.rs"));
            if file.exists() {
                files.push(file);
            }
            let dir = src.join(module);
            if dir.is_dir() {
                rust_files(&dir, &mut files);
            }
            assert!(!files.is_empty(), "no module {module} in node/src");
            let own = layer_of(module).unwrap();
            for file in files {
                let code = code(&file);
                for (i, _) in code.match_indices("crate::") {
                    let rest = &code[i + "crate::".len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if layer_of(&name).is_some_and(|l| l > own) {
                        violations.push(format!("{} imports crate::{name}", file.display()));
                    }
                }
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
}
