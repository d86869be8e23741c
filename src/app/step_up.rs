//! Step-up (SEC-7): adding a factor to a user who has one needs a fresh proof of that user — an
//! assertion of theirs from a verify at most 5 minutes old, used once — or an admin key.
//!
//! Every refusal is 403 `step_up_required` (the code is stable); its message names the call that
//! wanted the assertion and what was wrong with the one given, so a relying party that reuses
//! one (they work once) or keeps one too long learns which.

use std::time::Duration;

use crate::app::assertion::{AssertionError, EXPIRED};
use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::db::devices as q;
use crate::error::Error;

/// Grace for clocks of other nodes that run behind ours, so a used-up step-up assertion stays
/// used up until every node sees it expired.
const SKEW: Duration = Duration::from_secs(60);

/// The calls that take a `step_up`: each names itself in its refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `POST …/devices/totp`
    AddTotp,
    /// `POST …/devices/sms`
    AddPhone,
    /// `POST …/devices/webauthn`
    AddSecurityKey,
    /// `POST …/tokens/claim`
    ClaimToken,
    /// `DELETE …/devices/{id}`
    Revoke,
    /// `POST …/recovery-codes`
    RecoveryCodes,
}

impl Purpose {
    /// What the call does, as the start of a sentence.
    fn doing(self) -> &'static str {
        match self {
            Purpose::AddTotp => "adding another authenticator app",
            Purpose::AddPhone => "adding another phone",
            Purpose::AddSecurityKey => "adding a security key",
            Purpose::ClaimToken => "adding a hardware token",
            Purpose::Revoke => "revoking a device",
            Purpose::RecoveryCodes => "making a new set of recovery codes",
        }
    }
}

/// Why a step-up was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// None given, and the user has an active device.
    Missing,
    /// Not an assertion of ours: malformed, badly signed, another issuer.
    Invalid,
    /// Ours, but past its `exp`.
    Expired,
    /// Ours, but of another user or tenant.
    OtherUser,
    /// Ours and fresh, but already used once.
    Used,
}

/// The refusal's error: `step_up_required` with a message for this call and reason.
pub fn refused(state: &AppState, purpose: Purpose, why: Refused) -> Error {
    let doing = purpose.doing();
    let message = match why {
        Refused::Missing => format!(
            "{doing} for a user who has an active device needs `step_up`: the assertion of a \
             verify of one of their factors"
        ),
        Refused::Invalid => format!(
            "{doing}: `step_up` is not an assertion of this service; pass the `assertion` of a \
             verify of one of the user's factors"
        ),
        Refused::Expired => format!(
            "{doing}: this `step_up` assertion expired (they last {} s); verify a factor again",
            state.assertions.ttl().as_secs()
        ),
        Refused::OtherUser => format!(
            "{doing}: this `step_up` assertion is of another user or tenant; it must be of this \
             user"
        ),
        Refused::Used => format!(
            "{doing}: this `step_up` assertion was already used; each works once — verify a \
             factor again"
        ),
    };
    Error::StepUpRequired(message)
}

/// A user who has an active device gets another only with a fresh assertion of theirs, used
/// once, or from an admin. Returns whether the enrollment is so authorized: one that is not
/// (the user had no active device) can be confirmed only while that is still so.
pub async fn require(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    step_up: Option<&str>,
    purpose: Purpose,
) -> Result<bool, Error> {
    if caller.is_admin {
        return Ok(true);
    }
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let has_active = state
        .db
        .run(move |c| q::has_active(c, &tenant, &user))
        .await?;
    match (has_active, step_up) {
        (false, None) => Ok(false),
        (true, None) => Err(refused(state, purpose, Refused::Missing)),
        (_, Some(token)) => {
            consume(state, subject, token, purpose).await?;
            Ok(true)
        }
    }
}

/// Checks a step-up assertion — ours, of this user and tenant, unexpired (so at most 5 minutes
/// old) — and uses it up, so it cannot add a second device. A bad assertion is 403
/// `step_up_required`; an outage while checking stays a 503.
pub async fn consume(
    state: &AppState,
    subject: &Subject,
    token: &str,
    purpose: Purpose,
) -> Result<(), Error> {
    let now = state.clock.now();
    let claims = match state
        .assertions
        .verify_refreshing(&state.db, token, now)
        .await
    {
        Ok(c) => c,
        Err(AssertionError::Invalid(EXPIRED)) => {
            return Err(refused(state, purpose, Refused::Expired));
        }
        Err(AssertionError::Invalid(_)) => return Err(refused(state, purpose, Refused::Invalid)),
        Err(e) => return Err(e.into()),
    };
    if claims.sub != subject.user || claims.aud != subject.tenant {
        return Err(refused(state, purpose, Refused::OtherUser));
    }
    let left = u64::try_from(claims.exp - now.timestamp()).unwrap_or(0);
    let ttl = Duration::from_secs(left) + SKEW;
    if !state
        .store
        .consume_once(&format!("stepup:{{{}}}", claims.jti), ttl)
        .await?
    {
        return Err(refused(state, purpose, Refused::Used));
    }
    Ok(())
}
