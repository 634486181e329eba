//! The lamp field (docs/PANEL.md): a browser page at `/` of the HTTP listener showing colleagues'
//! presence, one lamp each. The page is plain ES modules built into the binary; it talks to the
//! node only as an XMPP client over the WebSocket ([`super::websocket`]), so it sees exactly what
//! the access filter lets the logged-in user see. Nothing is fetched from anywhere else: the
//! Content-Security-Policy allows this origin only.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The page itself.
pub(super) const INDEX: &str = "/";

/// Its scripts and style sheet, by file name.
pub(super) const ASSET: &str = "/panel/{file}";

/// This origin only; `connect-src 'self'` covers `ws:` to the same host and port (CSP Level 3
/// matches `ws:` and `wss:` for a page served over `http:` and `https:`), which is where the
/// WebSocket is. No inline script or style, no frames, no forms
/// posted anywhere (the login form is handled by script).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX_HTML: &str = include_str!("panel/index.html");

/// File name, content type, content.
const ASSETS: [(&str, &str, &str); 7] = [
    (
        "panel.css",
        "text/css; charset=utf-8",
        include_str!("panel/panel.css"),
    ),
    ("app.js", JS, include_str!("panel/app.js")),
    ("lamps.js", JS, include_str!("panel/lamps.js")),
    ("own.js", JS, include_str!("panel/own.js")),
    ("directory.js", JS, include_str!("panel/directory.js")),
    ("xmpp.js", JS, include_str!("panel/xmpp.js")),
    ("sasl.js", JS, include_str!("panel/sasl.js")),
];

const JS: &str = "text/javascript; charset=utf-8";

/// `GET /`.
pub(super) async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX_HTML)
}

/// `GET /panel/{file}`: one of [`ASSETS`], or 404.
pub(super) async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, body)) => page(kind, body),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

fn page(kind: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The assets change with the binary; revalidating is cheap on loopback.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_served() {
        let sources = std::iter::once(INDEX_HTML).chain(ASSETS.iter().map(|(_, _, body)| *body));
        for text in sources {
            for piece in text
                .split("./")
                .skip(1)
                .chain(text.split("/panel/").skip(1))
            {
                let name: String = piece
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '_')
                    .collect();
                if name.ends_with(".js") || name.ends_with(".css") {
                    assert!(
                        ASSETS.iter().any(|(n, _, _)| *n == name),
                        "{name} is referenced but not served"
                    );
                }
            }
        }
    }

    #[tokio::test]
    async fn assets_carry_their_type_and_the_policy() {
        let r = asset(Path("app.js".to_owned())).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], JS);
        assert!(
            r.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("connect-src 'self'")
        );
        let r = asset(Path("../Cargo.toml".to_owned())).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = index().await;
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
    }
}
