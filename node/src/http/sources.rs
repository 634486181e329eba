//! Write routes: each turns one request into one [`SourceChange`] for [`Engine::update`], which
//! refuses it whole or stores it durably before the answer; the answer is the user's presence at
//! the token's level afterwards (at `blocked`, which shows nothing, for a token without `read`).
//!
//! [`Engine::update`]: crate::engine::Engine::update

use axum::Json;
use axum::extract::State;
use jid::BareJid;
use serde::Serialize;

use super::bodies::{
    BodyError, ExternalBody, IdleBody, LineBody, ManualBody, QueueBody, SettingsBody,
};
use super::error::ApiError;
use super::extract::{JsonBody, PathOf};
use super::guard::Caller;
use super::{ApiState, PresenceOut};
use crate::engine::{SourceChange, now};
use lampfield_domain::presence::{LineId, QueueId, SourceName, TextError};

type Answer = Result<Json<PresenceOut>, ApiError>;

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        ApiError::invalid(e.field, e.reason)
    }
}

/// A name from the path (line, extension, queue, source): 1 to 64 bytes, no control characters.
fn name<T>(
    what: &str,
    text: &str,
    make: fn(String) -> Result<T, TextError>,
) -> Result<T, ApiError> {
    make(text.to_owned()).map_err(|e| ApiError::bad_request(format!("{what} in the path {e}")))
}

async fn apply(state: &ApiState, caller: &Caller, user: &BareJid, change: SourceChange) -> Answer {
    state.engine.update(user, change).await?;
    Ok(Json(state.presence(user, caller.answer_level(), None)?))
}

/// `PUT /v1/users/{jid}/lines/{line}`.
pub(super) async fn put_line(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf((jid, line)): PathOf<(String, String)>,
    JsonBody(body): JsonBody<LineBody>,
) -> Answer {
    let user = state.user(&jid)?;
    let line = name("line", &line, LineId::new)?;
    let change = SourceChange::Line(line, Some(body.into_state()?));
    apply(&state, &caller, &user, change).await
}

/// `DELETE /v1/users/{jid}/lines/{line}`: forget the line.
pub(super) async fn delete_line(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf((jid, line)): PathOf<(String, String)>,
) -> Answer {
    let user = state.user(&jid)?;
    let line = name("line", &line, LineId::new)?;
    apply(&state, &caller, &user, SourceChange::Line(line, None)).await
}

/// An extension and the user it belongs to.
#[derive(Debug, Serialize)]
pub(super) struct ExtensionOut {
    extension: String,
    user: String,
}

/// `PUT /v1/users/{jid}/extensions/{ext}`: extension `ext` belongs to `jid` from now on. A token
/// may not take an extension away from a user it does not act for.
pub(super) async fn map_extension(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf((jid, ext)): PathOf<(String, String)>,
) -> Result<Json<ExtensionOut>, ApiError> {
    let user = state.user(&jid)?;
    let ext = name("extension", &ext, LineId::new)?;
    if let Some(owner) = state.store.extension_user(ext.as_str())?
        && !caller.covers(&owner)
    {
        return Err(ApiError::forbidden_scope(
            "out_of_scope",
            format!("extension {ext}"),
            format!(
                "extension {ext} belongs to a user token {} may not act for",
                caller.name()
            ),
        ));
    }
    if !state.store.account_exists(&user)? {
        return Err(ApiError::not_found(
            "unknown_user",
            format!("no such user: {user}"),
        ));
    }
    state.store.put_extension(ext.as_str(), &user).await?;
    Ok(Json(ExtensionOut {
        extension: ext.to_string(),
        user: user.to_string(),
    }))
}

/// `DELETE /v1/users/{jid}/extensions/{ext}`: remove the mapping (404 if `ext` is not `jid`'s).
pub(super) async fn unmap_extension(
    State(state): State<ApiState>,
    _caller: Caller,
    PathOf((jid, ext)): PathOf<(String, String)>,
) -> Result<Json<ExtensionOut>, ApiError> {
    let user = state.user(&jid)?;
    let ext = name("extension", &ext, LineId::new)?;
    if state.store.extension_user(ext.as_str())?.as_ref() != Some(&user) {
        return Err(unknown_extension(&ext));
    }
    state.store.remove_extension(ext.as_str()).await?;
    Ok(Json(ExtensionOut {
        extension: ext.to_string(),
        user: user.to_string(),
    }))
}

fn unknown_extension(ext: &LineId) -> ApiError {
    ApiError::not_found(
        "unknown_extension",
        format!("extension {ext} is not mapped to a user"),
    )
}

/// The user extension `ext` is mapped to. An extension of a user the token does not act for
/// answers as an unmapped one: a scoped token learns nothing of other users' extensions.
fn owner_of(state: &ApiState, caller: &Caller, ext: &str) -> Result<(LineId, BareJid), ApiError> {
    let ext = name("extension", ext, LineId::new)?;
    let user = state
        .store
        .extension_user(ext.as_str())?
        .filter(|user| caller.covers(user))
        .ok_or_else(|| unknown_extension(&ext))?;
    Ok((ext, user))
}

/// `GET /v1/extensions/{ext}`.
pub(super) async fn extension_owner(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(ext): PathOf<String>,
) -> Result<Json<ExtensionOut>, ApiError> {
    let (ext, user) = owner_of(&state, &caller, &ext)?;
    Ok(Json(ExtensionOut {
        extension: ext.to_string(),
        user: user.to_string(),
    }))
}

/// `PUT /v1/extensions/{ext}`: the line `ext` of the user it is mapped to.
pub(super) async fn put_extension_line(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(ext): PathOf<String>,
    JsonBody(body): JsonBody<LineBody>,
) -> Answer {
    let (ext, user) = owner_of(&state, &caller, &ext)?;
    let change = SourceChange::Line(ext, Some(body.into_state()?));
    apply(&state, &caller, &user, change).await
}

/// `DELETE /v1/extensions/{ext}`: forget that line.
pub(super) async fn delete_extension_line(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(ext): PathOf<String>,
) -> Answer {
    let (ext, user) = owner_of(&state, &caller, &ext)?;
    apply(&state, &caller, &user, SourceChange::Line(ext, None)).await
}

/// `PUT /v1/users/{jid}/queues/{queue}`.
pub(super) async fn put_queue(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf((jid, queue)): PathOf<(String, String)>,
    JsonBody(body): JsonBody<QueueBody>,
) -> Answer {
    let user = state.user(&jid)?;
    let queue = name("queue", &queue, QueueId::new)?;
    apply(
        &state,
        &caller,
        &user,
        SourceChange::Queue(queue, Some(body.state)),
    )
    .await
}

/// `DELETE /v1/users/{jid}/queues/{queue}`.
pub(super) async fn delete_queue(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf((jid, queue)): PathOf<(String, String)>,
) -> Answer {
    let user = state.user(&jid)?;
    let queue = name("queue", &queue, QueueId::new)?;
    apply(&state, &caller, &user, SourceChange::Queue(queue, None)).await
}

/// `PUT /v1/users/{jid}/external/{source}`.
pub(super) async fn put_external(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf((jid, source)): PathOf<(String, String)>,
    JsonBody(body): JsonBody<ExternalBody>,
) -> Answer {
    let user = state.user(&jid)?;
    let source = name("source", &source, SourceName::new)?;
    let claim = body.into_claim(now())?;
    apply(
        &state,
        &caller,
        &user,
        SourceChange::External(source, Some(claim)),
    )
    .await
}

/// `DELETE /v1/users/{jid}/external/{source}`: withdraw the claim.
pub(super) async fn delete_external(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf((jid, source)): PathOf<(String, String)>,
) -> Answer {
    let user = state.user(&jid)?;
    let source = name("source", &source, SourceName::new)?;
    apply(&state, &caller, &user, SourceChange::External(source, None)).await
}

/// `PUT /v1/users/{jid}/manual`.
pub(super) async fn put_manual(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    JsonBody(body): JsonBody<ManualBody>,
) -> Answer {
    let user = state.user(&jid)?;
    let manual = body.into_manual(now())?;
    apply(&state, &caller, &user, SourceChange::Manual(Some(manual))).await
}

/// `DELETE /v1/users/{jid}/manual`.
pub(super) async fn delete_manual(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
) -> Answer {
    let user = state.user(&jid)?;
    apply(&state, &caller, &user, SourceChange::Manual(None)).await
}

/// `PUT /v1/users/{jid}/idle`.
pub(super) async fn put_idle(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    JsonBody(body): JsonBody<IdleBody>,
) -> Answer {
    let user = state.user(&jid)?;
    let since = body.into_since(now())?;
    apply(&state, &caller, &user, SourceChange::Idle(Some(since))).await
}

/// `DELETE /v1/users/{jid}/idle`: active again.
pub(super) async fn delete_idle(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
) -> Answer {
    let user = state.user(&jid)?;
    apply(&state, &caller, &user, SourceChange::Idle(None)).await
}

/// A user's settings as the API shows them.
#[derive(Debug, Serialize)]
pub(super) struct SettingsOut {
    idle_threshold_s: Option<u64>,
    utc_offset_minutes: i32,
}

/// `GET /v1/users/{jid}/settings`.
pub(super) async fn get_settings(
    State(state): State<ApiState>,
    _caller: Caller,
    PathOf(jid): PathOf<String>,
) -> Result<Json<SettingsOut>, ApiError> {
    let user = state.user(&jid)?;
    let settings = state.engine.record(&user)?.settings;
    Ok(Json(SettingsOut {
        idle_threshold_s: settings.idle_threshold_s,
        utc_offset_minutes: settings.utc_offset.minutes(),
    }))
}

/// `PUT /v1/users/{jid}/settings`.
pub(super) async fn put_settings(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    JsonBody(body): JsonBody<SettingsBody>,
) -> Answer {
    let user = state.user(&jid)?;
    let settings = body.into_settings()?;
    apply(&state, &caller, &user, SourceChange::Settings(settings)).await
}
