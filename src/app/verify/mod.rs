//! Checking a code: `verify` (any factor of the user's) and `confirm` (a pending device's first
//! code), both through the one [`Limiter`](crate::app::limiter::Limiter).
//!
//! Every failure — wrong, replayed, expired or unconfirmed code, unknown user, user without a
//! device — is the same `invalid_code` (SEC-10, SEC-32); malformed codes are 400 and count as
//! failures too (SEC-12). One failure is not counted: the code a device last accepted, presented
//! again — a relying party retrying a verify whose answer it lost; it is audited as a replay. Which factor judges a value is decided by its shape and the factors'
//! order ([`FACTORS`]), never by a branch per factor here.

mod attempt;
mod claim;
mod confirm;
mod resync;

use crate::app::api_keys;
use crate::app::assertion::Method;
use crate::app::factors::{Checked, Context, FACTORS};
use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::audit::{Action, Event};
use crate::db::devices as q;
use crate::error::Error;

use self::attempt::{Outcome, key_gone, rejected};
pub use self::claim::{Claimed, claim};
pub use self::confirm::{Confirmed, confirm};
pub use self::resync::resync;

/// What a verify or confirm refused, in the words of this use case.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Wrong, replayed, expired, unknown: all alike (SEC-10, SEC-32).
    #[error("the code is not valid")]
    InvalidCode,
    /// Not the shape of any code; counted as a failure all the same (SEC-12).
    #[error("a code is a string of 6 or 8 digits (or a recovery code)")]
    Malformed,
    /// A locked user or a limited address, a revoked key, an outage.
    #[error(transparent)]
    Refused(#[from] Error),
}

/// A presented value, as the caller sent it.
#[derive(Debug, Clone, Default)]
pub struct Presented {
    /// `None` when what was sent is not a string at all (malformed).
    pub code: Option<String>,
    /// Check only this device.
    pub device_id: Option<String>,
}

#[derive(Debug)]
pub struct Verified {
    /// The device whose code passed; `None` for a recovery code.
    pub device_id: Option<String>,
    pub method: Method,
    /// A signed JWT (EdDSA) the relying party verifies against `/.well-known/jwks.json`.
    pub assertion: String,
}

/// The part of verify after the limiter admitted it.
async fn evaluate(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    presented: Presented,
    judged: &attempt::Judged,
) -> Result<Outcome, Error> {
    let cx = Context {
        state,
        subject,
        caller,
        now: state.clock.now(),
    };
    let takers: Vec<_> = match presented.code.as_deref() {
        Some(raw) => FACTORS
            .iter()
            .filter_map(|f| f.shape(raw).map(|v| (*f, v)))
            .collect(),
        None => Vec::new(),
    };
    // A `device_id` of another shape than ids have names no device: nothing to load (and
    // nothing for PostgreSQL to refuse), a failure like any unknown id.
    let named = presented.device_id.as_deref();
    let needs_devices = takers.iter().any(|(f, _)| f.kind().is_some())
        && named.is_none_or(crate::crypto::is_random_id);
    // A key from the cache is re-checked before anything is judged: in the device query when
    // devices are loaded, with a statement of its own otherwise.
    if let Some(id) = &caller.unconfirmed_key
        && !needs_devices
        && !api_keys::still_active(&state.db, id.clone()).await?
    {
        return Err(key_gone(state, id));
    }
    if takers.is_empty() {
        return Ok(Outcome::Rejected {
            action: Action::VerifyFailed,
            device: None,
            malformed: true,
        });
    }
    let mut rows = if needs_devices {
        let (tenant, user, device) = (
            subject.tenant.clone(),
            subject.user.clone(),
            presented.device_id,
        );
        let key = caller.unconfirmed_key.clone();
        let rows = state
            .db
            .run(move |c| match key {
                Some(key) => q::active_if_key(c, &key, &tenant, &user, device.as_deref()),
                None => q::active(c, &tenant, &user, device.as_deref()).map(Some),
            })
            .await?;
        let Some(rows) = rows else {
            let id = caller.unconfirmed_key.as_deref().unwrap_or_default();
            return Err(key_gone(state, id));
        };
        rows
    } else {
        Vec::new()
    };
    let mut replayed = None;
    for (factor, value) in takers {
        let mine: Vec<_> = match factor.kind() {
            // Kinds are disjoint: each factor takes its rows out, nothing is copied.
            Some(kind) => rows.extract_if(.., |r| r.is(kind)).collect(),
            None => Vec::new(),
        };
        match factor.check(&cx, &mine, &value).await? {
            Checked::Accepted { device_id, proof } => {
                return Ok(Outcome::Accepted {
                    device_id,
                    method: factor.method(),
                    device: None,
                    proof,
                });
            }
            Checked::Refused { device_id } => {
                return Ok(rejected(Action::VerifyFailed, Some(device_id)));
            }
            Checked::Replayed { device_id, latest } => {
                judged.set();
                replayed = Some((device_id, latest));
            }
            Checked::NoMatch => judged.set(),
        }
    }
    Ok(match replayed {
        Some((device, true)) => Outcome::Repeated { device },
        Some((id, false)) => rejected(Action::Replay, Some(id)),
        None => rejected(Action::VerifyFailed, None),
    })
}

/// Checks a code of the user's and, on success, returns a signed assertion.
pub async fn verify(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    presented: Presented,
) -> Result<Verified, VerifyError> {
    let judged = attempt::Judged::default();
    let accepted = attempt::attempt_judged(
        state,
        subject,
        caller,
        &judged,
        evaluate(state, subject, caller, presented, &judged),
    )
    .await?;
    let (device_id, method, proof) = (accepted.device_id, accepted.method, accepted.proof);
    let now = state.clock.now();
    let mut event = Event::new(
        &subject.tenant,
        Action::VerifySucceeded,
        caller.actor.clone(),
    )
    .user(&subject.user)
    .ip(caller.ip.clone())
    .detail(serde_json::json!({"method": method.as_str()}));
    if let Some(d) = &device_id {
        event = event.device(d);
    }
    state.audit.send(now, event).await;
    let assertion = state
        .assertions
        .issue_verified(
            now,
            &subject.tenant,
            &subject.user,
            device_id.as_deref(),
            method,
            proof,
        )
        .map_err(Error::from)?;
    Ok(Verified {
        device_id,
        method,
        assertion,
    })
}
