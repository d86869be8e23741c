//! Step-up (SEC-7): adding a factor to a user who has one needs a fresh proof of that user — an
//! assertion of theirs from a verify at most 5 minutes old, used once — or an admin key.

use std::time::Duration;

use crate::app::assertion::AssertionError;
use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::db::devices as q;
use crate::error::Error;

/// Grace for clocks of other nodes that run behind ours, so a used-up step-up assertion stays
/// used up until every node sees it expired.
const SKEW: Duration = Duration::from_secs(60);

/// A user who has an active device gets another only with a fresh assertion of theirs, used
/// once, or from an admin. Returns whether the enrollment is so authorized: one that is not
/// (the user had no active device) can be confirmed only while that is still so.
pub async fn require(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    step_up: Option<&str>,
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
        (true, None) => Err(Error::StepUpRequired),
        (_, Some(token)) => {
            consume(state, subject, token).await?;
            Ok(true)
        }
    }
}

/// Checks a step-up assertion — ours, of this user and tenant, unexpired (so at most 5 minutes
/// old) — and uses it up, so it cannot add a second device. A bad assertion is 403
/// `step_up_required`; an outage while checking stays a 503.
pub async fn consume(state: &AppState, subject: &Subject, token: &str) -> Result<(), Error> {
    let now = state.clock.now();
    let claims = match state
        .assertions
        .verify_refreshing(&state.db, token, now)
        .await
    {
        Ok(c) => c,
        Err(AssertionError::Invalid(_)) => return Err(Error::StepUpRequired),
        Err(e) => return Err(e.into()),
    };
    if claims.sub != subject.user || claims.aud != subject.tenant {
        return Err(Error::StepUpRequired);
    }
    let left = u64::try_from(claims.exp - now.timestamp()).unwrap_or(0);
    let ttl = Duration::from_secs(left) + SKEW;
    if !state
        .store
        .consume_once(&format!("stepup:{{{}}}", claims.jti), ttl)
        .await?
    {
        return Err(Error::StepUpRequired);
    }
    Ok(())
}
