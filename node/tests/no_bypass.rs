//! Issue 6's guard: every outgoing path sends a `View` made by `access::view_for`, and nothing else.
//!
//! `View` cannot be built or deserialized outside the access module, so a path that takes a `View`
//! cannot send unfiltered presence. What remains is a path that reaches around it: reading the
//! engine's unfiltered state (`EffectivePresence`, `Detail`, `Sources`, `aggregate`) in a module
//! that talks to the outside. This test reads the node's source and fails when any module outside
//! the pure core (presence, access, engine) names one of those; a new outgoing path must go
//! through `Engine::snapshot` / `Snapshot::for_viewer` / `Snapshot::at` instead.

use std::path::{Path, PathBuf};

/// Modules that may hold unfiltered presence: the model, the filter, and the engine that feeds it.
const CORE: &[&str] = &["presence", "access", "engine"];

/// Names that carry presence before the access filter.
const UNFILTERED: &[&str] = &[
    "EffectivePresence",
    "Detail",
    "presence::aggregate",
    "aggregate(",
    "Sources",
    "view_for(",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `path` (relative to src/) belongs to the pure core, or is a unit-test file.
fn exempt(rel: &Path) -> bool {
    let first = rel.components().next().and_then(|c| c.as_os_str().to_str());
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    first.is_some_and(|f| CORE.iter().any(|c| f == *c || f == format!("{c}.rs")))
        || name.ends_with("_tests.rs")
        || name == "tests.rs"
        || name == "test_support.rs"
}

#[test]
fn no_outgoing_path_reads_presence_around_the_access_filter() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found the sources: {}", files.len());
    let mut offences = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().to_owned();
        if exempt(&rel) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests inside a file may build fixtures from the model.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            for name in UNFILTERED {
                if line.contains(name) {
                    offences.push(format!("src/{}:{}: {}", rel.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "outgoing code must use access::View via Engine::snapshot, not unfiltered presence:\n{}",
        offences.join("\n")
    );
}
