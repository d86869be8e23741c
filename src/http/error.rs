//! The one mapping from errors to HTTP: stable snake_case codes and statuses.
//!
//! Bodies are `{"error": code, "message": text}` and never vary per request (SEC-32): the wait of a
//! 429 travels in `Retry-After` (only `sms_resend_too_soon`, about a device the caller named or
//! listed, also says it in words), and an internal error is opaque, its whole cause chain logged
//! under the request id that the `request_id` middleware then writes into the body.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::app::admin::AdminError;
use crate::app::api_keys::ApiKeyError;
use crate::app::import::ImportError;
use crate::app::links::LinkError;
use crate::app::rotation::RotationError;
use crate::app::verify::VerifyError;
use crate::error::{Error, LineError, chain};

/// The JSON shape of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code: what a program should branch on.
    pub error: String,
    /// Text for humans.
    pub message: String,
    /// Imports only: the bad lines (the first 100), each with its number and what is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<BadLine>>,
}

/// A bad line: its number (1-based, the CSV header is line 1) and what is wrong with it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LineError)]
pub struct BadLine {
    pub line: u64,
    pub message: String,
}

impl From<&LineError> for BadLine {
    fn from(e: &LineError) -> BadLine {
        BadLine {
            line: e.line,
            message: e.message.clone(),
        }
    }
}

/// The stable API code of an error: what a program branches on.
pub fn code(e: &Error) -> &'static str {
    match e {
        Error::InvalidRequest(_) | Error::ImportRefused { .. } => "invalid_request",
        Error::InvalidApiKey => "invalid_api_key",
        Error::Forbidden => "forbidden",
        Error::StepUpRequired(_) => "step_up_required",
        Error::NotFound => "not_found",
        Error::Conflict(_) => "conflict",
        Error::InvalidCode => "invalid_code",
        Error::RateLimited { .. } => "rate_limited",
        Error::UserLocked { .. } => "user_locked",
        Error::SmsResendTooSoon { .. } => "sms_resend_too_soon",
        Error::PhoneNotAllowed => "phone_not_allowed",
        Error::ReturnUrlNotAllowed => "return_url_not_allowed",
        Error::SmsFailed(_) => "sms_failed",
        Error::SmsBudgetExhausted { .. } => "sms_budget_exhausted",
        Error::Unavailable(_) => "unavailable",
        Error::Internal(_) => "internal",
    }
}

/// The message a client sees: never a cause of an outage, a provider failure or a bug.
pub fn public_message(e: &Error) -> String {
    match e {
        Error::Unavailable(_) => "a dependency is unavailable; try again later".into(),
        Error::Internal(_) => "internal error".into(),
        Error::SmsFailed(_) => "the SMS provider did not take the message; try again later".into(),
        other => other.to_string(),
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::InvalidRequest(_)
            | Error::ImportRefused { .. }
            | Error::PhoneNotAllowed
            | Error::ReturnUrlNotAllowed => StatusCode::BAD_REQUEST,
            Error::InvalidApiKey => StatusCode::UNAUTHORIZED,
            Error::Forbidden | Error::StepUpRequired(_) => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::InvalidCode => StatusCode::UNPROCESSABLE_ENTITY,
            Error::RateLimited { .. }
            | Error::UserLocked { .. }
            | Error::SmsResendTooSoon { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::SmsFailed(_) => StatusCode::BAD_GATEWAY,
            Error::SmsBudgetExhausted { .. } | Error::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Error::Internal(_) => tracing::error!(cause = %chain(self), "internal error"),
            Error::Unavailable(_) => tracing::warn!(cause = %chain(self), "dependency unavailable"),
            Error::SmsFailed(_) => tracing::warn!(cause = %chain(self), "SMS not sent"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        if let Error::RateLimited { retry_after_secs }
        | Error::UserLocked { retry_after_secs }
        | Error::SmsResendTooSoon {
            retry_after_secs, ..
        }
        | Error::SmsBudgetExhausted { retry_after_secs } = self
        {
            res.insert_header((header::RETRY_AFTER, retry_after_secs.max(&1).to_string()));
        }
        if matches!(self, Error::InvalidApiKey) {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        res.json(ErrorBody {
            error: code(self).into(),
            message: public_message(self),
            lines: match self {
                Error::ImportRefused { errors, .. } => {
                    Some(errors.iter().map(BadLine::from).collect())
                }
                _ => None,
            },
        })
    }
}

/// The code of a 405: the path exists, but not under this method. Not an [`Error`]: only the
/// routing answers it, never a use case.
pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";

/// What a 405 says, in the JSON envelope and on the HTML error pages alike.
pub fn method_not_allowed_message(method: &actix_web::http::Method, allow: &str) -> String {
    format!("method {method} is not allowed on this path; it takes {allow}")
}

/// The API's 405: the JSON envelope, and the methods the path takes in `Allow`.
pub fn method_not_allowed(method: &actix_web::http::Method, allow: &str) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, allow))
        .json(ErrorBody {
            error: METHOD_NOT_ALLOWED.into(),
            message: method_not_allowed_message(method, allow),
            lines: None,
        })
}

/// A path actix could not parse (every body and query goes through `http::input`) becomes
/// `invalid_request`.
pub fn path_error_handler(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    Error::InvalidRequest(format!("invalid path: {err}")).into()
}

// --- use cases' own errors, mapped onto the shared codes ---

impl From<VerifyError> for Error {
    fn from(e: VerifyError) -> Error {
        match e {
            VerifyError::InvalidCode => Error::InvalidCode,
            VerifyError::Malformed => Error::InvalidRequest(e.to_string()),
            VerifyError::Refused(e) => e,
        }
    }
}

impl From<AdminError> for Error {
    fn from(e: AdminError) -> Error {
        match e {
            AdminError::NoSuchUser => Error::NotFound,
            AdminError::BadSearch
            | AdminError::UnknownAction(_)
            | AdminError::BadCursor
            | AdminError::BadLimit => Error::InvalidRequest(e.to_string()),
            AdminError::Db(e) => e.into(),
            AdminError::Store(e) => e.into(),
            AdminError::Shared(e) => e,
        }
    }
}

impl From<crate::app::tokens::TokenError> for Error {
    fn from(e: crate::app::tokens::TokenError) -> Error {
        use crate::app::tokens::TokenError;
        match e {
            TokenError::NotFound => Error::NotFound,
            TokenError::WrongState(_) => Error::Conflict(e.to_string()),
            TokenError::Other(e) => e,
        }
    }
}

impl From<ApiKeyError> for Error {
    fn from(e: ApiKeyError) -> Error {
        match e {
            ApiKeyError::BadName
            | ApiKeyError::BadDisplayName
            | ApiKeyError::BadTenant
            | ApiKeyError::UnparsableReturnUrl { .. }
            | ApiKeyError::BadReturnUrl(_)
            | ApiKeyError::BadWebauthnOrigin(_) => Error::InvalidRequest(e.to_string()),
            ApiKeyError::NotFound => Error::NotFound,
            ApiKeyError::Db(e) => e.into(),
            ApiKeyError::BadRow { .. } | ApiKeyError::Random(_) => Error::internal(e),
        }
    }
}

impl From<LinkError> for Error {
    fn from(e: LinkError) -> Error {
        match e {
            LinkError::ReturnUrlNotAllowed => Error::ReturnUrlNotAllowed,
            LinkError::StateTooLong | LinkError::BadAccountName(_) => {
                Error::InvalidRequest(e.to_string())
            }
            LinkError::Random(_) | LinkError::Encode(_) | LinkError::Url(_) => Error::internal(e),
        }
    }
}

impl From<ImportError> for Error {
    fn from(e: ImportError) -> Error {
        match e {
            ImportError::Lines { errors, bad } => Error::ImportRefused { errors, bad },
            ImportError::Empty => Error::InvalidRequest(e.to_string()),
            ImportError::Db(e) => e.into(),
            ImportError::Seal(_) | ImportError::Period(_) => Error::internal(e),
        }
    }
}

impl From<RotationError> for Error {
    fn from(e: RotationError) -> Error {
        match e {
            RotationError::Db(e) => e.into(),
            RotationError::NewSigningKey(e) => e.into(),
            RotationError::Device { .. } | RotationError::SigningKey { .. } => Error::internal(e),
        }
    }
}
