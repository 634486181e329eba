//! Who may call which route (docs/API.md, "Tokens and scopes"): the one check every `/v1` route
//! passes before its handler runs, in this order:
//!
//! 1. [`ROUTES`] names what the route needs: nothing (health, the description) or one action.
//!    A route missing from it is refused, so a new route is closed until it is named there.
//! 2. The bearer token is looked up among the configured and the stored ones (401 if unknown).
//! 3. One request is taken from the token's budget (429 with `Retry-After` when it is spent).
//! 4. The token's scope must allow the action (403 `missing_scope`, naming the action).
//! 5. A user named in the path (`{jid}`) must be one the token acts for (403 `out_of_scope`). This
//!    is decided from the path alone, before anything is looked up, so an out-of-scope user gets
//!    the same answer whether the account exists or not.
//!
//! The handler then finds the [`Caller`] in the request. Routes that reach a user without naming
//! one in the path ask the caller: extension routes ([`Caller::covers`] on the mapped user, and an
//! extension of an out-of-scope user answers as an unmapped one), the presence listing and the
//! change stream (which skip users the token does not act for).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderMap, Method, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jid::BareJid;

use super::ApiState;
use super::error::ApiError;
use crate::tokens::{self, Action, KnownToken, MAX_TOKEN_BYTES};
use lampfield_domain::access::Level;
use lampfield_domain::users::parse_user;

/// What a route needs of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    /// Nothing: no token.
    Nothing,
    /// A token whose scope allows this action.
    To(Action),
}

use Action::{Profiles, Read, Rules, Source};
use Need::{Nothing, To};

/// Every route by method and path as the router names them, and what it needs. docs/API.md has
/// the same table, and `openapi.json` names each operation's scope (`x-lampfield-scope`); a test
/// holds the three together.
pub(super) const ROUTES: &[(&str, &str, Need)] = &[
    ("GET", "/v1/health", Nothing),
    ("GET", "/v1/openapi.json", Nothing),
    ("GET", "/v1/presence", To(Read)),
    ("GET", "/v1/events", To(Read)),
    ("GET", "/v1/users/{jid}/presence", To(Read)),
    ("PUT", "/v1/users/{jid}/lines/{line}", To(Source)),
    ("DELETE", "/v1/users/{jid}/lines/{line}", To(Source)),
    ("PUT", "/v1/users/{jid}/queues/{queue}", To(Source)),
    ("DELETE", "/v1/users/{jid}/queues/{queue}", To(Source)),
    ("PUT", "/v1/users/{jid}/external/{source}", To(Source)),
    ("DELETE", "/v1/users/{jid}/external/{source}", To(Source)),
    ("PUT", "/v1/users/{jid}/manual", To(Source)),
    ("DELETE", "/v1/users/{jid}/manual", To(Source)),
    ("PUT", "/v1/users/{jid}/idle", To(Source)),
    ("DELETE", "/v1/users/{jid}/idle", To(Source)),
    ("GET", "/v1/users/{jid}/settings", To(Source)),
    ("PUT", "/v1/users/{jid}/settings", To(Source)),
    ("PUT", "/v1/users/{jid}/extensions/{ext}", To(Source)),
    ("DELETE", "/v1/users/{jid}/extensions/{ext}", To(Source)),
    ("GET", "/v1/extensions/{ext}", To(Source)),
    ("PUT", "/v1/extensions/{ext}", To(Source)),
    ("DELETE", "/v1/extensions/{ext}", To(Source)),
    ("GET", "/v1/users/{jid}/directory", To(Profiles)),
    ("PUT", "/v1/users/{jid}/directory", To(Profiles)),
    ("GET", "/v1/users/{jid}/rules", To(Rules)),
    ("PUT", "/v1/users/{jid}/rules", To(Rules)),
    ("GET", "/v1/users/{jid}/rules/explain", To(Rules)),
    ("GET", "/v1/users/{jid}/profiles", To(Profiles)),
    ("GET", "/v1/users/{jid}/profiles/{name}", To(Profiles)),
    ("PUT", "/v1/users/{jid}/profiles/{name}", To(Profiles)),
    ("DELETE", "/v1/users/{jid}/profiles/{name}", To(Profiles)),
    (
        "PUT",
        "/v1/users/{jid}/profiles/{name}/{chain}/{index}",
        To(Profiles),
    ),
    ("GET", "/v1/users/{jid}/profile", To(Profiles)),
    ("PUT", "/v1/users/{jid}/profile", To(Profiles)),
    ("DELETE", "/v1/users/{jid}/profile", To(Profiles)),
    ("GET", "/v1/users/{jid}/profile/settings", To(Profiles)),
    ("PUT", "/v1/users/{jid}/profile/settings", To(Profiles)),
    ("POST", "/v1/users/{jid}/profile/signals", To(Profiles)),
    ("GET", "/v1/users/{jid}/calendar", To(Profiles)),
    ("PUT", "/v1/users/{jid}/calendar", To(Profiles)),
    ("POST", "/v1/users/{jid}/calendar/ics", To(Profiles)),
    ("PUT", "/v1/users/{jid}/calendar/sharing", To(Profiles)),
];

/// What `method` on `route` needs; `None` for a route the table does not name.
fn need(method: &Method, route: &str) -> Option<Need> {
    // HEAD is answered by the GET handler, so it needs what GET needs.
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|(m, r, _)| *m == method && *r == route)
        .map(|(_, _, need)| *need)
}

/// The token that made a request, once the guard let it through.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    token: Arc<KnownToken>,
}

impl Caller {
    /// The caller presenting `token`.
    pub(super) fn new(token: KnownToken) -> Self {
        Caller {
            token: Arc::new(token),
        }
    }

    /// The token's name.
    pub(super) fn name(&self) -> &str {
        &self.token.name
    }

    /// The most it may read.
    pub(super) fn level(&self) -> Level {
        self.token.level
    }

    /// The token's hash (its change streams are registered under it).
    pub(super) fn sha256(&self) -> &[u8; 32] {
        &self.token.sha256
    }

    /// Whether the token acts for `user`.
    pub(super) fn covers(&self, user: &BareJid) -> bool {
        self.token.scope.covers(user)
    }

    /// The level a write's answer shows the user's presence at: the token's level if it may
    /// read, else `blocked` (nothing), so writing is no way around a missing `read`.
    pub(super) fn answer_level(&self) -> Level {
        if self.token.scope.allows(Action::Read) {
            self.token.level
        } else {
            Level::Blocked
        }
    }

    /// 403 for a user this token does not act for: the same answer for an existing account and
    /// a name that is no account.
    pub(super) fn out_of_scope(&self, user: &str) -> ApiError {
        ApiError::forbidden_scope(
            "out_of_scope",
            user.to_owned(),
            format!("token {} may not act for {user}", self.name()),
        )
    }
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &ApiState) -> Result<Self, ApiError> {
        // Put there by [`check`]; a handler on a route the guard did not see has no caller.
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("no token was checked for this route"))
    }
}

/// The middleware around every `/v1` route: steps 1 to 5 of the module documentation.
pub(super) async fn check(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let action = match need(&parts.method, &route) {
        Some(Nothing) => return next.run(Request::from_parts(parts, body)).await,
        Some(To(action)) => action,
        None => {
            tracing::error!(route, method = %parts.method, "route missing from the scope table");
            return ApiError::forbidden("this route is not open to tokens").into_response();
        }
    };
    let path_user = if route.contains("{jid}") {
        let params = RawPathParams::from_request_parts(&mut parts, &state).await;
        let jid = params.ok().and_then(|p| {
            p.iter()
                .find(|(k, _)| *k == "jid")
                .map(|(_, v)| v.to_owned())
        });
        match jid {
            Some(jid) => Some(jid),
            None => return ApiError::bad_request("path: the user is not UTF-8").into_response(),
        }
    } else {
        None
    };
    match admit(&state, &parts.headers, action, path_user.as_deref()) {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

/// Steps 2 to 5 for a request to a route that needs `action`, naming `path_user` if it does.
fn admit(
    state: &ApiState,
    headers: &HeaderMap,
    action: Action,
    path_user: Option<&str>,
) -> Result<Caller, ApiError> {
    let presented = bearer(headers)?;
    let known = known_tokens(state)?;
    let token = tokens::find(presented, &known)
        .cloned()
        .ok_or_else(|| ApiError::unauthorized("unknown token"))?;
    tracing::Span::current().record("token", token.name.as_str());
    if let Err(wait) = state.live_tokens.admit(&token) {
        return Err(too_many_requests(&token, wait));
    }
    let caller = Caller::new(token);
    if !caller.token.scope.allows(action) {
        return Err(ApiError::forbidden_scope(
            "missing_scope",
            action.name().to_owned(),
            format!(
                "this route needs the scope {action}; token {} has {}",
                caller.name(),
                caller.token.scope.actions_text()
            ),
        ));
    }
    if let Some(text) = path_user
        && !caller.token.scope.every_user()
    {
        // Decided on the name alone: whether the account exists is not looked at.
        match parse_user(&state.domain, text) {
            Ok(user) if caller.covers(&user) => {}
            Ok(user) => return Err(caller.out_of_scope(user.as_str())),
            Err(lampfield_domain::users::UserJidError::WrongDomain { jid, .. }) => {
                return Err(caller.out_of_scope(&jid));
            }
            Err(e) => return Err(ApiError::bad_request(e.to_string())),
        }
    }
    Ok(caller)
}

/// Every token the node accepts now: the configured ones, then the stored ones.
fn known_tokens(state: &ApiState) -> Result<Vec<KnownToken>, ApiError> {
    let stored = state.store.tokens()?;
    Ok(state
        .config_tokens
        .iter()
        .cloned()
        .chain(stored.into_iter().map(|(name, t)| KnownToken {
            name,
            sha256: t.sha256,
            level: t.level,
            // A stored rate out of range (never written by this node) falls back to the default.
            rate: tokens::check_rate(t.rate).unwrap_or(tokens::DEFAULT_RATE),
            scope: t.scope,
        }))
        .collect())
}

/// Whether the token with hash `sha256` is still accepted (a change stream checks this after
/// registering, so a removal just before cannot leave it open).
pub(super) fn still_known(state: &ApiState, sha256: &[u8; 32]) -> Result<bool, ApiError> {
    Ok(known_tokens(state)?.iter().any(|k| &k.sha256 == sha256))
}

/// 429 with `Retry-After` in whole seconds, at least one.
fn too_many_requests(token: &KnownToken, wait: Duration) -> ApiError {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::too_many_requests(
        seconds.max(1),
        format!(
            "token {} may make {} requests a second (bursts of {}); retry later",
            token.name,
            token.rate,
            token.rate.saturating_mul(tokens::BURST_PER_RATE)
        ),
    )
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, token) = text
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <token>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized("expected the Bearer scheme"));
    }
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(ApiError::unauthorized("malformed token"));
    }
    Ok(token)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// (METHOD, path) → scope name ("" for none), from a list of rows.
    type Table = BTreeMap<(String, String), String>;

    fn ours() -> Table {
        ROUTES
            .iter()
            .map(|(m, p, need)| {
                let scope = match need {
                    Nothing => String::new(),
                    To(a) => a.name().to_owned(),
                };
                ((m.to_string(), p.to_string()), scope)
            })
            .collect()
    }

    #[test]
    fn the_openapi_document_names_each_operations_scope_as_the_table_does() {
        let doc: serde_json::Value =
            serde_json::from_str(super::super::openapi::OPENAPI_JSON).unwrap();
        let mut documented = Table::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let operations = item.as_object().unwrap().iter();
            for (method, op) in operations.filter(|(k, _)| *k != "parameters") {
                let scope = op["x-lampfield-scope"].as_str().unwrap_or("").to_owned();
                documented.insert((method.to_uppercase(), path.clone()), scope);
            }
        }
        assert_eq!(documented, ours());
    }

    #[test]
    fn the_api_docs_list_every_route_with_its_scope() {
        let docs = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/API.md"),
        )
        .unwrap();
        let section = docs
            .split("### Which route needs which scope")
            .nth(1)
            .unwrap()
            .split("\n#")
            .next()
            .unwrap();
        // Rows: | `METHOD /v1/path` | `scope` or none |
        let mut listed = Table::new();
        for row in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let (method, path) = cells[1].trim_matches('`').split_once(' ').unwrap();
            let scope = cells[2].trim_matches('`');
            let scope = if scope == "none" { "" } else { scope };
            listed.insert((method.to_owned(), path.to_owned()), scope.to_owned());
        }
        assert_eq!(listed, ours());
    }

    #[test]
    fn head_needs_what_get_needs_and_unknown_routes_need_a_table_entry() {
        assert_eq!(need(&Method::HEAD, "/v1/presence"), Some(To(Read)));
        assert_eq!(need(&Method::PATCH, "/v1/presence"), None);
        assert_eq!(need(&Method::GET, "/v1/health"), Some(Nothing));
    }
}
