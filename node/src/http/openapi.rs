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
    use super::*;

    /// Every route of `super::super::router`, as (method, path).
    pub(crate) const ROUTES: &[(&str, &str)] = &[
        ("get", "/v1/health"),
        ("get", "/v1/openapi.json"),
        ("get", "/v1/presence"),
        ("get", "/v1/events"),
        ("get", "/v1/extensions/{ext}"),
        ("put", "/v1/extensions/{ext}"),
        ("delete", "/v1/extensions/{ext}"),
        ("get", "/v1/users/{jid}/presence"),
        ("put", "/v1/users/{jid}/lines/{line}"),
        ("delete", "/v1/users/{jid}/lines/{line}"),
        ("put", "/v1/users/{jid}/extensions/{ext}"),
        ("delete", "/v1/users/{jid}/extensions/{ext}"),
        ("put", "/v1/users/{jid}/queues/{queue}"),
        ("delete", "/v1/users/{jid}/queues/{queue}"),
        ("put", "/v1/users/{jid}/external/{source}"),
        ("delete", "/v1/users/{jid}/external/{source}"),
        ("put", "/v1/users/{jid}/manual"),
        ("delete", "/v1/users/{jid}/manual"),
        ("put", "/v1/users/{jid}/idle"),
        ("delete", "/v1/users/{jid}/idle"),
        ("get", "/v1/users/{jid}/settings"),
        ("put", "/v1/users/{jid}/settings"),
        ("get", "/v1/users/{jid}/rules"),
        ("put", "/v1/users/{jid}/rules"),
        ("get", "/v1/users/{jid}/rules/explain"),
    ];

    #[test]
    fn the_document_parses_and_lists_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        let mut documented = Vec::new();
        for (path, item) in paths {
            for method in ["get", "put", "post", "delete", "patch"] {
                if item.get(method).is_some() {
                    documented.push((method.to_owned(), path.clone()));
                }
            }
        }
        let mut served: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
        // Every schema reference resolves.
        let text = OPENAPI_JSON;
        for part in text.split("\"$ref\": \"#/components/").skip(1) {
            let target = part.split('"').next().unwrap();
            let (kind, name) = target.split_once('/').unwrap();
            assert!(doc["components"][kind].get(name).is_some(), "{target}");
        }
    }
}
