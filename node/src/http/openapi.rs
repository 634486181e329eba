//! `GET /v1/openapi.json`: the API described in OpenAPI 3.1, written by hand next to the routes
//! (a test checks that it parses and that it names every route the router serves).

use axum::http::header;
use axum::response::IntoResponse;

/// The document.
pub(super) const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Serve it; no token needed.
pub(super) async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

    /// Every (method, path) the router serves, read from the `.route(...)` calls in this module's
    /// source files, so a route added anywhere under `http/` is checked against the document.
    fn served() -> BTreeSet<(String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
        let mut routes = BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            // Rust sources only: `panel/` holds the page's assets.
            if entry.path().extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for call in code.split(".route(").skip(1) {
                let call = call.split(".merge(").next().unwrap_or(call);
                let call = call.split("\n}").next().unwrap_or(call);
                // API routes are written as literals under `/v1`; a route named by a constant is
                // another protocol on the same listener (XMPP over WebSocket, docs/PROTOCOL.md) or the
                // lamp field page (docs/PANEL.md).
                if !call.trim_start().starts_with('"') {
                    continue;
                }
                let path = call.split('"').nth(1).unwrap();
                for method in METHODS {
                    let needle = format!("{method}(");
                    let named = call.match_indices(&needle).any(|(i, _)| {
                        let before = call[..i].chars().next_back().unwrap_or(' ');
                        !(before.is_alphanumeric() || before == '_')
                    });
                    if named {
                        routes.insert((method.to_owned(), format!("/v1{path}")));
                    }
                }
            }
        }
        routes
    }

    #[test]
    fn the_document_parses_and_lists_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in METHODS {
                if item.get(method).is_some() {
                    documented.insert((method.to_owned(), path.clone()));
                }
            }
        }
        let served = served();
        assert!(served.len() > 20, "found the routes: {served:?}");
        assert!(served.contains(&("get".to_owned(), "/v1/users/{jid}/rules".to_owned())));
        let missing: Vec<_> = served.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&served).collect();
        assert!(
            missing.is_empty(),
            "served but not in openapi.json: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "in openapi.json but not served: {extra:?}"
        );
        // Every reference resolves.
        for part in OPENAPI_JSON.split("\"$ref\": \"#/components/").skip(1) {
            let target = part.split('"').next().unwrap();
            let (kind, name) = target.split_once('/').unwrap();
            assert!(doc["components"][kind].get(name).is_some(), "{target}");
        }
    }
}
