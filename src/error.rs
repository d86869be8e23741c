//! The one error type of the HTTP API: stable snake_case codes mapped to statuses.
//!
//! Bodies are `{"error": code, "message": text}` and never vary per request (SEC-32): the wait of a
//! 429 travels in `Retry-After`, and an internal error is opaque, its cause logged under the
//! request id that the `request_id` middleware then writes into the body.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidRequest(String),
    /// An import with bad lines (nothing imported): `invalid_request` with the lines named.
    #[error("{bad} bad line(s); nothing was imported")]
    ImportRefused {
        errors: Vec<crate::import::LineError>,
        bad: u64,
    },
    #[error("missing, unknown or revoked API key")]
    InvalidApiKey,
    #[error("this API key may not do that")]
    Forbidden,
    #[error("adding a device to this user needs a fresh assertion of theirs (step_up)")]
    StepUpRequired,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("the code is not valid")]
    InvalidCode,
    #[error("too many attempts; try again later")]
    RateLimited { retry_after_secs: u64 },
    #[error("this phone number is not accepted here")]
    PhoneNotAllowed,
    #[error("return_url is not under a prefix registered on this API key")]
    ReturnUrlNotAllowed,
    #[error("the SMS provider did not take the message; try again later")]
    SmsFailed(String),
    #[error("the daily SMS budget is exhausted; try again later")]
    SmsBudgetExhausted { retry_after_secs: u64 },
    // Display carries the cause for logs and the CLI; clients get `public_message` only.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The JSON shape of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code: what a program should branch on.
    pub error: String,
    /// Text for humans.
    pub message: String,
    /// Imports only: the bad lines (the first 100), each with its number and what is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<crate::import::LineError>>,
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_) | ApiError::ImportRefused { .. } => "invalid_request",
            ApiError::InvalidApiKey => "invalid_api_key",
            ApiError::Forbidden => "forbidden",
            ApiError::StepUpRequired => "step_up_required",
            ApiError::NotFound => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::InvalidCode => "invalid_code",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::PhoneNotAllowed => "phone_not_allowed",
            ApiError::ReturnUrlNotAllowed => "return_url_not_allowed",
            ApiError::SmsFailed(_) => "sms_failed",
            ApiError::SmsBudgetExhausted { .. } => "sms_budget_exhausted",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Logs the cause, which never reaches the client, and returns an opaque 500.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(cause.to_string())
    }

    /// A dependency (database, store) failed or missed its deadline: fail closed with 503.
    pub fn unavailable(cause: impl std::fmt::Display) -> ApiError {
        ApiError::Unavailable(cause.to_string())
    }

    pub fn public_message(&self) -> String {
        match self {
            // Causes of these are for the logs only.
            ApiError::Unavailable(_) => "a dependency is unavailable; try again later".into(),
            ApiError::Internal(_) => "internal error".into(),
            ApiError::SmsFailed(_) => {
                "the SMS provider did not take the message; try again later".into()
            }
            other => other.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest(_) | ApiError::ImportRefused { .. } => StatusCode::BAD_REQUEST,
            ApiError::InvalidApiKey => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::StepUpRequired => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::InvalidCode => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PhoneNotAllowed | ApiError::ReturnUrlNotAllowed => StatusCode::BAD_REQUEST,
            ApiError::SmsFailed(_) => StatusCode::BAD_GATEWAY,
            ApiError::SmsBudgetExhausted { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            ApiError::SmsFailed(cause) => tracing::warn!(%cause, "SMS not sent"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        if let ApiError::RateLimited { retry_after_secs }
        | ApiError::SmsBudgetExhausted { retry_after_secs } = self
        {
            res.insert_header((header::RETRY_AFTER, retry_after_secs.max(&1).to_string()));
        }
        if matches!(self, ApiError::InvalidApiKey) {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        res.json(ErrorBody {
            error: self.code().into(),
            message: self.public_message(),
            lines: match self {
                ApiError::ImportRefused { errors, .. } => Some(errors.clone()),
                _ => None,
            },
        })
    }
}

/// Rejections of actix's own extractors (bad JSON, bad path) become `invalid_request`.
pub fn json_error_handler(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::InvalidRequest(format!("invalid JSON body: {err}")).into()
}

pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::InvalidRequest(format!("invalid query: {err}")).into()
}

pub fn path_error_handler(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::InvalidRequest(format!("invalid path: {err}")).into()
}
