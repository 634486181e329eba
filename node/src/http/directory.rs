//! The organization directory over the API (docs/DIRECTORY.md): read and change what colleagues
//! see of a user (display name, department, extension, e-mail). A change reaches every online
//! roster at once, as from `lampfield user edit`.

use axum::Json;
use axum::extract::State;

use super::ApiState;
use super::error::ApiError;
use super::extract::{JsonBody, PathOf};
use super::guard::Caller;
use crate::admin::protocol::{DirectoryFields, UserListing};
use crate::admin::{AdminError, Service};
use crate::store::StoreError;

impl ApiState {
    /// The node's admin service, or one over the store alone (no sessions to tell).
    fn admin(&self) -> Service {
        self.admin
            .clone()
            .unwrap_or_else(|| Service::new(self.domain.clone(), self.store.clone()))
    }
}

fn api_error(e: AdminError) -> ApiError {
    match e {
        AdminError::Directory(reason) if reason.starts_with("no account") => {
            ApiError::not_found("unknown_user", reason)
        }
        AdminError::Store(StoreError::NoAccount(user)) => {
            ApiError::not_found("unknown_user", format!("no such user: {user}"))
        }
        AdminError::Directory(reason) => ApiError::invalid("directory", reason),
        AdminError::Store(e) => e.into(),
        other => ApiError::bad_request(other.to_string()),
    }
}

/// `GET /v1/users/{jid}/directory`.
pub(super) async fn get(
    State(state): State<ApiState>,
    _caller: Caller,
    PathOf(jid): PathOf<String>,
) -> Result<Json<UserListing>, ApiError> {
    let user = state.user(&jid)?;
    if !state.store.account_exists(&user)? {
        return Err(ApiError::not_found(
            "unknown_user",
            format!("no such user: {user}"),
        ));
    }
    state
        .admin()
        .user_listing(&user)
        .map(Json)
        .map_err(api_error)
}

/// `PUT /v1/users/{jid}/directory`: fields left out stay, an empty one is cleared.
pub(super) async fn put(
    State(state): State<ApiState>,
    _caller: Caller,
    PathOf(jid): PathOf<String>,
    JsonBody(fields): JsonBody<DirectoryFields>,
) -> Result<Json<UserListing>, ApiError> {
    let user = state.user(&jid)?;
    state
        .admin()
        .edit_user(user.as_str(), &fields)
        .await
        .map(Json)
        .map_err(api_error)
}
