//! Access rules over the API (docs/ACCESS.md): read and replace a user's rules, and explain which
//! rule gives a viewer its level. Rules say whom a user trusts or blocks, so these routes need a
//! token of level `personal`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::ApiState;
use super::error::ApiError;
use super::extract::{JsonBody, PathOf, QueryOf};
use super::guard::Caller;
use super::read::viewer;
use lampfield_domain::access::{Decision, Level, Rules, decide};

fn personal(caller: &Caller) -> Result<(), ApiError> {
    if caller.level() < Level::Personal {
        return Err(ApiError::forbidden(format!(
            "managing access rules needs a token of level personal; {} has {}",
            caller.name(),
            caller.level()
        )));
    }
    Ok(())
}

/// `GET /v1/users/{jid}/rules`.
pub(super) async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
) -> Result<Json<Rules>, ApiError> {
    personal(&caller)?;
    let user = state.user(&jid)?;
    Ok(Json(state.engine.rules(&user)?))
}

/// `PUT /v1/users/{jid}/rules`: replace them whole; viewers get their new view at once.
pub(super) async fn put(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    JsonBody(rules): JsonBody<Rules>,
) -> Result<Json<Rules>, ApiError> {
    personal(&caller)?;
    let user = state.user(&jid)?;
    state.engine.set_rules(&user, rules).await?;
    Ok(Json(state.engine.rules(&user)?))
}

/// `?viewer=` of an explanation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExplainQuery {
    viewer: String,
}

/// `GET /v1/users/{jid}/rules/explain?viewer=JID`: the level and the rule that decided it.
pub(super) async fn explain(
    State(state): State<ApiState>,
    caller: Caller,
    PathOf(jid): PathOf<String>,
    QueryOf(query): QueryOf<ExplainQuery>,
) -> Result<Json<Decision>, ApiError> {
    personal(&caller)?;
    let user = state.user(&jid)?;
    let viewer = viewer(&query.viewer)?;
    let rules = state.engine.rules(&user)?;
    let groups = state.viewer_groups(&user, &viewer)?;
    Ok(Json(decide(
        &user,
        &viewer,
        &groups,
        &rules,
        &state.engine.policy(),
    )))
}
