//! One attempt at a code, between the limiter's admission and its report: every admitted attempt
//! is reported exactly once and audited. One that an outage cut short (503) is given back: only
//! answers count, and a relying party retrying through a database outage must not lock its user
//! out. One that ends in an internal error (500) counts as a failure: a fault a request could
//! provoke must not buy free guesses. A refused attempt is audited too, at most once per refusing
//! counter and window ([`REFUSALS_AUDITED_EVERY`](crate::app::limiter::REFUSALS_AUDITED_EVERY)).

use chrono::{DateTime, Utc};

use crate::app::assertion::{Method, Proof};
use crate::app::limiter::{AfterFailure, Refusal, Ticket};
use crate::app::state::AppState;
use crate::app::users::Origin;
use crate::app::users::{Caller, Subject};
use crate::audit::{self, Action, Event};
use crate::db::models::DeviceRow;
use crate::error::Error;

use super::VerifyError;

/// How an admitted attempt ended.
pub(super) enum Outcome {
    Accepted {
        device_id: Option<String>,
        method: Method,
        /// For confirm: the activated device.
        device: Option<Box<DeviceRow>>,
        /// How it was proven (for the assertion's `amr`).
        proof: Proof,
    },
    Rejected {
        action: Action,
        device: Option<String>,
        /// Not the shape of any code: 400 rather than 422.
        malformed: bool,
    },
    /// The code the device last accepted, presented again: refused like any replay, but no
    /// guess, so not counted — a relying party retrying a verify whose answer it lost must not
    /// lock its user out.
    Repeated { device: String },
}

pub(super) fn rejected(action: Action, device: Option<String>) -> Outcome {
    Outcome::Rejected {
        action,
        device,
        malformed: false,
    }
}

/// What an accepted attempt yields.
pub(super) struct Accepted {
    pub device_id: Option<String>,
    pub method: Method,
    pub device: Option<Box<DeviceRow>>,
    pub proof: Proof,
}

/// A cached key found revoked: forgotten here, and the caller gets what any revoked key gets.
pub(super) fn key_gone(state: &AppState, id: &str) -> Error {
    state.key_cache.evict(id);
    Error::InvalidApiKey
}

/// Runs an admitted attempt and reports its outcome to the limiter exactly once.
pub(super) async fn attempt(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    evaluate: impl Future<Output = Result<Outcome, Error>>,
) -> Result<Accepted, VerifyError> {
    attempt_judged(state, subject, caller, &Judged::default(), evaluate).await
}

/// Set by an evaluation once a factor has compared the value and found it was not its own: an
/// outage after that point is no longer "nothing was judged". Giving such an attempt back would
/// be a free guess, and its 503 against a 422 an oracle (a wrong code for the app that another
/// factor could not be asked about, against the right one).
#[derive(Debug, Default)]
pub(super) struct Judged(std::sync::atomic::AtomicBool);

impl Judged {
    pub(super) fn set(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn is_set(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// [`attempt`] for an evaluation that may compare before it fails: see [`Judged`].
pub(super) async fn attempt_judged(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    judged: &Judged,
    evaluate: impl Future<Output = Result<Outcome, Error>>,
) -> Result<Accepted, VerifyError> {
    let now = state.clock.now();
    let ticket = match state.limiter.begin(subject, caller).await? {
        Ok(ticket) => ticket,
        Err(refusal) => {
            refused(state, subject, caller, &refusal, now).await;
            return Err(Error::from(refusal).into());
        }
    };
    let outcome = match evaluate.await {
        Ok(o) => o,
        // A revoked key (found so by the re-check of a cached one) judged nothing: the counts
        // taken in advance go back.
        Err(Error::InvalidApiKey) => {
            if let Err(e) = state.limiter.cancel(ticket).await {
                tracing::warn!(error = %crate::error::chain(&e), "could not give back the counts of a revoked key's attempt");
            }
            return Err(Error::InvalidApiKey.into());
        }
        Err(e) if e.is_unavailable() && !judged.is_set() => {
            if let Err(back) = state.limiter.cancel(ticket).await {
                tracing::warn!(error = %crate::error::chain(&back), "could not give back the counts of an attempt an outage cut short");
            }
            return Err(e.into());
        }
        Err(e) => {
            fail(state, subject, caller, ticket, Action::VerifyFailed, None).await;
            return Err(e.into());
        }
    };
    match outcome {
        Outcome::Accepted {
            device_id,
            method,
            device,
            proof,
        } => {
            state.limiter.succeeded(ticket).await?;
            Ok(Accepted {
                device_id,
                method,
                device,
                proof,
            })
        }
        Outcome::Rejected {
            action,
            device,
            malformed,
        } => {
            fail(state, subject, caller, ticket, action, device.as_deref()).await;
            Err(if malformed {
                VerifyError::Malformed
            } else {
                VerifyError::InvalidCode
            })
        }
        Outcome::Repeated { device } => {
            state.limiter.cancel(ticket).await?;
            let event = Event::new(&subject.tenant, Action::Replay, caller.actor.clone())
                .user(&subject.user)
                .device(&device)
                .outcome(audit::Outcome::Failure)
                .ip(caller.ip.clone())
                .detail(serde_json::json!({"counted": false}));
            state.audit.send(now, event).await;
            Err(VerifyError::InvalidCode)
        }
    }
}

/// Audits a refused attempt, if it is the first of its counter in the window. The caller gets
/// its 429 whatever happens here.
async fn refused(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    refusal: &Refusal,
    now: DateTime<Utc>,
) {
    match state.limiter.first_refusal(refusal).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %crate::error::chain(&e), "could not rate-limit the audit of a refused attempt");
            return;
        }
    }
    let mut detail = serde_json::json!({
        "limit": refusal.limit.as_str(),
        "retry_after_secs": refusal.retry_after.as_secs(),
    });
    if let Origin::Api {
        client_ip: Some(ip),
        ..
    } = &caller.origin
    {
        detail["client_ip"] = serde_json::json!(ip.to_string());
    }
    let event = Event::new(
        &subject.tenant,
        Action::AttemptRefused,
        caller.actor.clone(),
    )
    .user(&subject.user)
    .outcome(audit::Outcome::Failure)
    .ip(caller.ip.clone())
    .detail(detail);
    state.audit.send(now, event).await;
}

/// Reports a failed attempt (counted already, and locked already if it was the last one allowed),
/// audited in the background.
async fn fail(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    ticket: Ticket,
    action: Action,
    device: Option<&str>,
) {
    let now = state.clock.now();
    let after = state.limiter.failed(ticket);
    let mut event = Event::new(&subject.tenant, action, caller.actor.clone())
        .user(&subject.user)
        .outcome(audit::Outcome::Failure)
        .ip(caller.ip.clone());
    if let Some(d) = device {
        event = event.device(d);
    }
    state.audit.send(now, event).await;
    if let AfterFailure::Locked(length) = after {
        let event = Event::new(&subject.tenant, Action::UserLocked, caller.actor.clone())
            .user(&subject.user)
            .ip(caller.ip.clone())
            .detail(serde_json::json!({"seconds": length.as_secs()}));
        state.audit.send(now, event).await;
        tracing::warn!(tenant = %subject.tenant, seconds = length.as_secs(), "user locked after failed attempts");
    }
}
