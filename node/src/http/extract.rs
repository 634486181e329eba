//! Request extractors that answer bad input with the API's JSON errors: the caller's token, JSON
//! bodies and query strings.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;

use super::ApiState;
use super::error::ApiError;
use crate::tokens::{self, KnownToken, MAX_TOKEN_BYTES};
use lampfield_domain::access::Level;

/// The integration that made a request: the name and level of its token.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    /// The token's name.
    pub(super) name: String,
    /// The most it may read.
    pub(super) level: Level,
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let presented = bearer(parts)?;
        let stored = state.store.tokens()?;
        let known: Vec<KnownToken> = state
            .config_tokens
            .iter()
            .cloned()
            .chain(stored.into_iter().map(|(name, t)| KnownToken {
                name,
                sha256: t.sha256,
                level: t.level,
            }))
            .collect();
        match tokens::find(presented, &known) {
            Some(k) => {
                tracing::Span::current().record("token", k.name.as_str());
                Ok(Caller {
                    name: k.name.clone(),
                    level: k.level,
                })
            }
            None => Err(ApiError::unauthorized("unknown token")),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
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

/// A JSON body; syntax errors are 400, wrong or unknown fields 422 (the message names the field),
/// a body over the limit 413, a missing `Content-Type: application/json` 415.
#[derive(Debug)]
pub(super) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(e) => Err(json_rejection(&e)),
        }
    }
}

fn json_rejection(e: &JsonRejection) -> ApiError {
    let status = e.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_value",
        _ => "bad_json",
    };
    let text = e.body_text();
    // axum's texts start with a generic sentence; the part after it names the field.
    let message = text
        .split_once(": ")
        .filter(|_| status != StatusCode::PAYLOAD_TOO_LARGE)
        .map(|(_, detail)| detail.to_owned())
        .unwrap_or(text);
    ApiError::new(status, code, message)
}

/// A query string; anything unparseable is 400 with the parameter named.
#[derive(Debug)]
pub(super) struct QueryOf<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryOf<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(QueryOf(v)),
            Err(e) => Err(query_rejection(&e)),
        }
    }
}

fn query_rejection(e: &QueryRejection) -> ApiError {
    let text = e.body_text();
    let detail = text
        .split_once(": ")
        .map(|(_, d)| d.to_owned())
        .unwrap_or(text);
    ApiError::bad_request(format!("query string: {detail}"))
}

/// Path parameters; a segment that does not decode is 400.
#[derive(Debug)]
pub(super) struct PathOf<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathOf<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(PathOf(v)),
            Err(e) => Err(ApiError::bad_request(format!("path: {}", e.body_text()))),
        }
    }
}
