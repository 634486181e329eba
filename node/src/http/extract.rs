//! Request extractors that answer bad input with the API's JSON errors: JSON bodies, query strings
//! and path parameters (the caller's token is `guard`'s).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::{StatusCode, request::Parts};
use serde::de::DeserializeOwned;

use super::error::ApiError;

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
