//! The shared error of every layer below HTTP: what went wrong, in the words a caller can act
//! on, with the cause kept as a [`std::error::Error::source`] chain.
//!
//! A leaf: it imports nothing of the crate, so every layer may use it and none drags another in.
//! Use cases that have failures of their own return their own enum (e.g. `app::verify::VerifyError`)
//! and convert into this one only for what they share (a bad request, an outage). Mapping to HTTP
//! statuses and stable API codes happens once, in `http::error`.

/// A cause of any kind, kept whole for the logs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidRequest(String),
    /// An import with bad lines (nothing imported): `invalid_request` with the lines named.
    #[error("{bad} bad line(s); nothing was imported")]
    ImportRefused { errors: Vec<LineError>, bad: u64 },
    #[error("missing, unknown or revoked API key")]
    InvalidApiKey,
    #[error("this API key may not do that")]
    Forbidden,
    /// SEC-7: the message names the call and what was wrong with the `step_up` given.
    #[error("{0}")]
    StepUpRequired(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("the code is not valid")]
    InvalidCode,
    /// A limit on a caller, an address, a phone number or a key: not the user's lockout.
    #[error("a rate limit was reached; try again later")]
    RateLimited { retry_after_secs: u64 },
    /// The user's lockout after consecutive wrong codes (SEC-15): every attempt, a right code
    /// too, gets this until it ends. The body is the same for all of them (SEC-32).
    #[error("too many wrong codes: this user is locked for now; try again later")]
    UserLocked { retry_after_secs: u64 },
    /// The wait between texted codes to one device (SEC-31): not a limit that was abused, a
    /// pause before the next code. The caller already knows the device, so the times may show.
    #[error("a code was sent {sent_secs_ago} s ago; the next can be sent in {retry_after_secs} s")]
    SmsResendTooSoon {
        sent_secs_ago: u64,
        retry_after_secs: u64,
    },
    #[error("this phone number is not accepted here")]
    PhoneNotAllowed,
    #[error("return_url is not under a prefix registered on this API key")]
    ReturnUrlNotAllowed,
    #[error("the SMS provider did not take the message")]
    SmsFailed(#[source] BoxError),
    #[error("the daily SMS budget is exhausted; try again later")]
    SmsBudgetExhausted { retry_after_secs: u64 },
    /// A dependency (database, store) failed or missed its deadline: fail closed.
    #[error("a dependency is unavailable")]
    Unavailable(#[source] BoxError),
    /// A bug or an impossible state; the cause is for the logs only.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// One bad line of an import: its number (1-based; a CSV header is line 1) and what is wrong
/// with it (never its content).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

impl Error {
    pub fn internal(cause: impl Into<BoxError>) -> Error {
        Error::Internal(cause.into())
    }

    pub fn unavailable(cause: impl Into<BoxError>) -> Error {
        Error::Unavailable(cause.into())
    }

    /// Whether this is an outage rather than an answer about the request.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}

/// The error and every cause below it, `: `-separated: what a log line or the CLI shows.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Refused;

    #[derive(Debug, thiserror::Error)]
    #[error("database unavailable")]
    struct Db(#[source] Refused);

    #[test]
    fn the_chain_keeps_every_cause() {
        let e = Error::unavailable(Db(Refused));
        assert_eq!(
            chain(&e),
            "a dependency is unavailable: database unavailable: connection refused"
        );
        assert!(e.is_unavailable());
    }
}
