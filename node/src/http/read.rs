//! Presence reads: one user, or every user a page at a time, always as a filtered view.

use axum::Json;
use axum::extract::State;
use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{PathOf, QueryOf};
use super::guard::Caller;
use super::{ApiState, PresenceOut};

/// Most users in one page of `GET /v1/presence`.
pub(super) const MAX_PAGE: usize = 500;
/// Page size when none is asked for.
const DEFAULT_PAGE: usize = 100;

/// `GET /v1/health`: no token needed.
pub(super) async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `?viewer=` of a presence read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ViewerQuery {
    viewer: Option<String>,
}

/// A viewer JID from a query: any bare JID with a local part, of any domain.
pub(super) fn viewer(text: &str) -> Result<BareJid, ApiError> {
    match jid::Jid::new(text.trim()).map(|j| j.try_into_full()) {
        Ok(Err(bare)) if bare.node().is_some() => Ok(bare),
        _ => Err(ApiError::bad_request(format!(
            "viewer: {:?} is not a bare JID such as bob@example.org",
            text.chars().take(64).collect::<String>()
        ))),
    }
}

/// `GET /v1/users/{jid}/presence[?viewer=JID]`.
pub(super) async fn one(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    QueryOf(query): QueryOf<ViewerQuery>,
) -> Result<Json<PresenceOut>, ApiError> {
    let user = state.user(&jid)?;
    let viewer = query.viewer.as_deref().map(viewer).transpose()?;
    Ok(Json(state.presence(
        &user,
        caller.level(),
        viewer.as_ref(),
    )?))
}

/// `?after=&limit=` of `GET /v1/presence`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PageQuery {
    after: Option<String>,
    limit: Option<usize>,
}

/// One page of every user's presence.
#[derive(Debug, Serialize)]
pub(super) struct Page {
    users: Vec<PresenceOut>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

/// `GET /v1/presence[?after=JID&limit=N]`: the users the token acts for, in JID byte order, at
/// most 500 per page.
pub(super) async fn all(
    State(state): State<ApiState>,
    caller: Caller,
    QueryOf(query): QueryOf<PageQuery>,
) -> Result<Json<Page>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit: must be 1 to {MAX_PAGE}"
        )));
    }
    let after = query.after.unwrap_or_default();
    let mut users = Vec::with_capacity(limit);
    let mut next = None;
    for user in state.store.users()? {
        // Users the token does not act for are not listed: the page holds only the others.
        if user.as_str() <= after.as_str() || !caller.covers(&user) {
            continue;
        }
        if users.len() == limit {
            next = users.last().map(|u: &PresenceOut| u.jid.clone());
            break;
        }
        match state.presence(&user, caller.level(), None) {
            Ok(p) => users.push(p),
            // Removed between the listing and the read.
            Err(e) if e.status() == axum::http::StatusCode::NOT_FOUND => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Json(Page { users, next }))
}
