//! Presence profiles over the API (docs/PROFILES.md): list, read, create, update and delete a
//! user's profiles, switch the active one by hand, the trigger settings, and signals that are not
//! presence sources (an external meeting, the screen lock). A profile names its forwarding, which
//! is team detail, so these routes need a token of level `team`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::ApiState;
use super::error::ApiError;
use super::extract::{JsonBody, PathOf};
use super::guard::Caller;
use crate::profile_runtime::{ProfileEntry, ProfileRuntime, ProfileRuntimeError, Signal};
use lampfield_domain::access::Level;
use lampfield_domain::presence::ProfileName;
use lampfield_domain::profiles::{Active, Chain, ProfileError, ProfileSettings, ProfileSpec};

impl ApiState {
    /// Serve the profile and calendar routes with this runtime.
    pub fn with_profile_runtime(mut self, profile_runtime: ProfileRuntime) -> Self {
        self.profile_runtime = Some(profile_runtime);
        self
    }

    /// The runtime, and the user named in the path.
    pub(super) fn profile_runtime(
        &self,
        caller: &Caller,
        jid: &str,
    ) -> Result<(ProfileRuntime, BareJid), ApiError> {
        if caller.level() < Level::Team {
            return Err(ApiError::forbidden(format!(
                "profiles and calendars need a token of level team; {} has {}",
                caller.name(),
                caller.level()
            )));
        }
        let user = self.user(jid)?;
        let profile_runtime = self.profile_runtime.clone().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "profiles are not running on this node",
            )
        })?;
        Ok((profile_runtime, user))
    }
}

/// The routes under `/v1`.
pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/users/{jid}/profiles", get(list))
        .route(
            "/users/{jid}/profiles/{name}",
            get(one).put(put_profile).delete(delete),
        )
        .route(
            "/users/{jid}/profiles/{name}/{chain}/{index}",
            put(put_step),
        )
        .route(
            "/users/{jid}/profile",
            get(active).put(activate).delete(deactivate),
        )
        .route(
            "/users/{jid}/profile/settings",
            get(settings).put(put_settings),
        )
        .route("/users/{jid}/profile/signals", post(signal))
}

impl From<ProfileRuntimeError> for ApiError {
    fn from(e: ProfileRuntimeError) -> Self {
        match e {
            ProfileRuntimeError::NoSuchUser(user) => {
                ApiError::not_found("unknown_user", format!("no such user: {user}"))
            }
            ProfileRuntimeError::Profile(p) => {
                let (status, code) = match &p {
                    ProfileError::NotFound(_) => (StatusCode::NOT_FOUND, "unknown_profile"),
                    ProfileError::Duplicate(_) | ProfileError::Active(_) => {
                        (StatusCode::CONFLICT, "conflict")
                    }
                    ProfileError::SystemProfile(_) => (StatusCode::FORBIDDEN, "system_profile"),
                    _ => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value"),
                };
                ApiError::new(status, code, p.to_string())
            }
            ProfileRuntimeError::Ics(i) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_calendar",
                i.to_string(),
            ),
            ProfileRuntimeError::Invalid(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", m)
            }
            ProfileRuntimeError::Engine(e) => e.into(),
            ProfileRuntimeError::Store(s) => ApiError::storage(&s),
        }
    }
}

fn profile_name(text: &str) -> Result<ProfileName, ApiError> {
    ProfileName::new(text).map_err(|e| ApiError::bad_request(format!("profile name {e}")))
}

/// Every profile the user can use.
#[derive(Debug, Serialize)]
pub(super) struct ListOut {
    profiles: Vec<ProfileEntry>,
    active: Option<Active>,
}

/// The active profile.
#[derive(Debug, Serialize)]
pub(super) struct ActiveOut {
    active: Option<Active>,
}

/// `GET /v1/users/{jid}/profiles`.
pub(super) async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
) -> Result<Json<ListOut>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    Ok(Json(ListOut {
        profiles: s.list(&user)?,
        active: s.active(&user)?,
    }))
}

/// `GET /v1/users/{jid}/profiles/{name}`.
pub(super) async fn one(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf((jid, name)): PathOf<(String, String)>,
) -> Result<Json<ProfileEntry>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    entry(&s, &user, &profile_name(&name)?).map(Json)
}

/// `PUT /v1/users/{jid}/profiles/{name}`: create (201) or replace the settings (200) of a user
/// profile. 409 while it is active.
pub(super) async fn put_profile(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf((jid, name)): PathOf<(String, String)>,
    JsonBody(spec): JsonBody<ProfileSpec>,
) -> Result<(StatusCode, Json<ProfileEntry>), ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    let name = profile_name(&name)?;
    spec.validate()
        .map_err(|e| ApiError::from(ProfileRuntimeError::Profile(e)))?;
    let exists = s.list(&user)?.iter().any(|p| p.name == name);
    let status = if exists {
        s.update(&user, &name, spec).await?;
        StatusCode::OK
    } else {
        s.create(&user, name.clone(), spec).await?;
        StatusCode::CREATED
    };
    Ok((status, Json(entry(&s, &user, &name)?)))
}

/// `user`'s profile `name` as listed, or 404.
fn entry(s: &ProfileRuntime, user: &BareJid, name: &ProfileName) -> Result<ProfileEntry, ApiError> {
    s.list(user)?
        .into_iter()
        .find(|p| p.name == *name)
        .ok_or_else(|| {
            ProfileRuntimeError::Profile(ProfileError::NotFound(name.to_string())).into()
        })
}

/// `DELETE /v1/users/{jid}/profiles/{name}`: 204; 409 while active, 403 for a system profile.
pub(super) async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf((jid, name)): PathOf<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    s.delete(&user, &profile_name(&name)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"enabled": bool}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StepBody {
    enabled: bool,
}

/// `PUT /v1/users/{jid}/profiles/{name}/{on_enter|on_leave}/{index}`: enable or disable one action.
pub(super) async fn put_step(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf((jid, name, chain, index)): PathOf<(String, String, String, usize)>,
    JsonBody(body): JsonBody<StepBody>,
) -> Result<Json<ProfileEntry>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    let name = profile_name(&name)?;
    let chain = match chain.as_str() {
        "on_enter" => Chain::OnEnter,
        "on_leave" => Chain::OnLeave,
        _ => return Err(ApiError::bad_request("chain must be on_enter or on_leave")),
    };
    s.set_step(&user, &name, chain, index, body.enabled).await?;
    entry(&s, &user, &name).map(Json)
}

/// `GET /v1/users/{jid}/profile`: the active profile.
pub(super) async fn active(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
) -> Result<Json<ActiveOut>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    Ok(Json(ActiveOut {
        active: s.active(&user)?,
    }))
}

/// `{"profile": "Meeting"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ActivateBody {
    profile: ProfileName,
}

/// `PUT /v1/users/{jid}/profile`: switch by hand.
pub(super) async fn activate(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    JsonBody(body): JsonBody<ActivateBody>,
) -> Result<Json<ActiveOut>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    s.activate(&user, &body.profile).await?;
    Ok(Json(ActiveOut {
        active: s.active(&user)?,
    }))
}

/// `DELETE /v1/users/{jid}/profile`: leave the manual profile.
pub(super) async fn deactivate(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
) -> Result<Json<ActiveOut>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    s.deactivate(&user).await?;
    Ok(Json(ActiveOut {
        active: s.active(&user)?,
    }))
}

/// `GET /v1/users/{jid}/profile/settings`.
pub(super) async fn settings(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
) -> Result<Json<ProfileSettings>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    Ok(Json(s.settings(&user)?))
}

/// `PUT /v1/users/{jid}/profile/settings`: replace them whole.
pub(super) async fn put_settings(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    JsonBody(body): JsonBody<ProfileSettings>,
) -> Result<Json<ProfileSettings>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    s.set_settings(&user, body).await?;
    Ok(Json(s.settings(&user)?))
}

/// `{"signal": "meeting_started" | "meeting_ended" | "screen_locked" | "input_resumed"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignalBody {
    signal: Signal,
}

/// `POST /v1/users/{jid}/profile/signals`.
pub(super) async fn signal(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    JsonBody(body): JsonBody<SignalBody>,
) -> Result<Json<ActiveOut>, ApiError> {
    let (s, user) = state.profile_runtime(&caller, &jid)?;
    s.signal(&user, body.signal).await?;
    Ok(Json(ActiveOut {
        active: s.active(&user)?,
    }))
}
