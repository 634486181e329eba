//! API errors: one JSON shape, `{"error": "<code>", "message": "<for a human>"}`, with the HTTP
//! status that names the class (400 bad request, 401 bad token, 403 level too low or outside the
//! token's scope, 404 unknown, 413 too large, 415 not JSON, 422 a value out of range, 429 the
//! token's rate spent, 503 too many streams, 500 storage). A 403 for a scope also names the scope
//! the token lacks (`"scope"`); a 429 carries `Retry-After`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::engine::{ChangeError, EngineError};
use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// The scope a 403 found missing: an action, or the user the token does not act for.
    scope: Option<String>,
    /// Seconds a 429 asks the client to wait.
    retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            scope: None,
            retry_after: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 422: a value is out of range; the message names the field.
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            format!("{field}: {message}"),
        )
    }

    /// 404.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 401: no token, or one the node does not know.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: the token's level does not allow this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 403: the token's scope does not reach this: `code` `missing_scope` (an action) or
    /// `out_of_scope` (a user); `scope` names what is missing.
    pub fn forbidden_scope(code: &'static str, scope: String, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::FORBIDDEN, code, message);
        e.scope = Some(scope);
        e
    }

    /// 429: the token's request budget is spent; retry after `seconds`.
    pub fn too_many_requests(seconds: u64, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        e.retry_after = Some(seconds);
        e
    }

    /// 500 for a storage failure (logged; the client learns only that it failed).
    pub fn storage(e: &StoreError) -> Self {
        tracing::error!(error = %e, "storage failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            "storage failed; the change was not applied",
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NoSuchUser(user) => {
                ApiError::not_found("unknown_user", format!("no such user: {user}"))
            }
            EngineError::Change(c @ ChangeError::IdleThreshold) => {
                ApiError::invalid("idle_threshold_s", c)
            }
            EngineError::Change(c) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                c.to_string(),
            ),
            EngineError::Rules(r) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                r.to_string(),
            ),
            EngineError::Store(s) => ApiError::storage(&s),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::storage(&e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.code,
            message: &self.message,
            scope: self.scope.as_deref(),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"lampfield\", error=\"invalid_token\""),
            );
        }
        response
    }
}
