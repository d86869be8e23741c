//! Checking a code: `verify` (TOTP or recovery code) and `confirm` (a pending device's first
//! code), both through the one [`Limiter`](crate::limiter::Limiter).
//!
//! Every failure — wrong, replayed, expired or unconfirmed code, unknown user, user without a
//! device — is the same `invalid_code` (SEC-10, SEC-32); malformed codes are 400 and count as
//! failures too (SEC-12). A TOTP step is accepted only if it is later than the device's last
//! accepted one, as one compare-and-set in the database (SEC-9, SEC-11).

use serde::{Deserialize, Serialize};

use crate::assertion::Method;
use crate::audit::{Action, Event, Outcome};
use crate::db::devices as q;
use crate::db::models::DeviceRow;
use crate::devices::{self, Device, KIND_TOTP};
use crate::error::ApiError;
use crate::limiter::{AfterFailure, Ticket};
use crate::recovery;
use crate::state::AppState;
use crate::totp::{self, Params};
use crate::users::{Caller, Subject};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The code as typed: a string of 6 or 8 digits, or a recovery code `xxxx-xxxx-xxxx`.
    #[schema(value_type = String)]
    pub code: serde_json::Value,
    /// Check only this device.
    pub device_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verified {
    pub verified: bool,
    /// The device whose code passed; `null` for a recovery code.
    pub device_id: Option<String>,
    pub method: Method,
    /// A signed JWT (EdDSA) the relying party verifies against `/.well-known/jwks.json`.
    pub assertion: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    #[schema(value_type = String)]
    pub code: serde_json::Value,
}

/// What was presented, by its shape alone.
enum Presented {
    Otp(String),
    Recovery(String),
    Malformed,
}

fn classify(code: &serde_json::Value) -> Presented {
    let Some(s) = code.as_str() else {
        return Presented::Malformed;
    };
    if totp::is_well_formed(s, 6) || totp::is_well_formed(s, 8) {
        Presented::Otp(s.to_string())
    } else if let Some(canonical) = recovery::parse(s) {
        Presented::Recovery(canonical)
    } else {
        Presented::Malformed
    }
}

fn malformed() -> ApiError {
    ApiError::InvalidRequest("a code is a string of 6 or 8 digits (or a recovery code)".into())
}

/// A fixed stand-in secret: users without a usable device cost the same HMAC work as others.
const DECOY_SECRET: [u8; totp::SECRET_LEN] = [0x5a; totp::SECRET_LEN];

/// Checks `code` against each device; every device is checked (no early exit). Returns the
/// matches, in device order.
fn matches(
    state: &AppState,
    rows: &[DeviceRow],
    code: &str,
) -> Result<Vec<(usize, u64)>, ApiError> {
    let now = state.clock.now().timestamp();
    let window = state.config.totp.window;
    let mut found = Vec::new();
    let mut checked = false;
    for (i, row) in rows.iter().enumerate() {
        if row.kind != KIND_TOTP {
            continue;
        }
        let params = devices::params_of(row)?;
        if usize::from(params.digits) != code.len() {
            continue;
        }
        let secret = devices::secret_of(state, row)?;
        checked = true;
        if let Some(step) = totp::matching_step(&secret, params, code, now, window) {
            found.push((i, step));
        }
    }
    if !checked {
        let params = Params::default();
        let _ = totp::matching_step(&DECOY_SECRET, params, code, now, window);
    }
    Ok(found)
}

/// Reports a failed attempt: counted (and perhaps a lock), audited in the background.
async fn fail(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    ticket: Ticket,
    action: Action,
    device: Option<&str>,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let after = state.limiter.failed(ticket, now).await?;
    let mut event = Event::new(&subject.tenant, action, caller.actor.clone())
        .user(&subject.user)
        .outcome(Outcome::Failure)
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
    Ok(())
}

/// Checks a code of the user's and, on success, returns a signed assertion.
pub async fn verify(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    req: VerifyRequest,
) -> Result<Verified, ApiError> {
    let now = state.clock.now();
    let ticket = state
        .limiter
        .begin(subject, caller.ip.as_deref(), now)
        .await?;
    let outcome = match classify(&req.code) {
        Presented::Malformed => {
            fail(state, subject, caller, ticket, Action::VerifyFailed, None).await?;
            return Err(malformed());
        }
        Presented::Recovery(code) => {
            let used = recovery::redeem(
                state,
                subject,
                &code,
                caller.actor.clone(),
                caller.ip.clone(),
            )
            .await?;
            used.then_some((None, Method::Recovery))
        }
        Presented::Otp(code) => {
            let (tenant, user, device) = (
                subject.tenant.clone(),
                subject.user.clone(),
                req.device_id.clone(),
            );
            let rows = state
                .db
                .run(move |c| q::active(c, &tenant, &user, device.as_deref()))
                .await?;
            let mut accepted = None;
            let mut replayed = None;
            for (i, step) in matches(state, &rows, &code)? {
                let id = rows[i].id.clone();
                let step = i64::try_from(step).map_err(ApiError::internal)?;
                let at = now.naive_utc();
                let cas_id = id.clone();
                if state
                    .db
                    .run(move |c| q::accept_step(c, &cas_id, step, at))
                    .await?
                {
                    accepted = Some(id);
                    break;
                }
                replayed = Some(id);
            }
            match (accepted, replayed) {
                (Some(id), _) => Some((Some(id), Method::Totp)),
                (None, Some(id)) => {
                    fail(state, subject, caller, ticket, Action::Replay, Some(&id)).await?;
                    return Err(ApiError::InvalidCode);
                }
                (None, None) => None,
            }
        }
    };
    let Some((device_id, method)) = outcome else {
        fail(state, subject, caller, ticket, Action::VerifyFailed, None).await?;
        return Err(ApiError::InvalidCode);
    };
    state.limiter.succeeded(ticket).await?;
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
    let assertion = state.assertions.issue(
        now,
        &subject.tenant,
        &subject.user,
        device_id.as_deref(),
        method,
    )?;
    Ok(Verified {
        verified: true,
        device_id,
        method,
        assertion,
    })
}

/// Activates a pending device with its first code, which counts as used (SEC-6).
pub async fn confirm(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    device_id: String,
    req: ConfirmRequest,
) -> Result<Device, ApiError> {
    let now = state.clock.now();
    let ticket = state
        .limiter
        .begin(subject, caller.ip.as_deref(), now)
        .await?;
    let code = match classify(&req.code) {
        Presented::Otp(code) => code,
        _ => {
            fail(
                state,
                subject,
                caller,
                ticket,
                Action::DeviceConfirmed,
                Some(&device_id),
            )
            .await?;
            return Err(malformed());
        }
    };
    let (tenant, user, id) = (
        subject.tenant.clone(),
        subject.user.clone(),
        device_id.clone(),
    );
    let row = state
        .db
        .run(move |c| q::find(c, &tenant, &user, &id))
        .await?
        .filter(|r| r.status == q::PENDING && r.expires_at.is_some_and(|e| e > now.naive_utc()));
    let rows: Vec<DeviceRow> = row.into_iter().collect();
    let step = matches(state, &rows, &code)?.first().map(|&(_, s)| s);
    let authorized = rows.first().is_some_and(|r| r.step_up);
    let confirmed = match step {
        Some(step) => {
            let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
            let step = i64::try_from(step).map_err(ApiError::internal)?;
            let event = Event::new(
                &subject.tenant,
                Action::DeviceConfirmed,
                caller.actor.clone(),
            )
            .user(&subject.user)
            .device(&device_id)
            .ip(caller.ip.clone());
            let id = device_id.clone();
            state
                .db
                .run(move |conn| {
                    use diesel::Connection;
                    conn.transaction(|c| {
                        // SEC-7 at activation: a device enrolled without step-up (the user had
                        // no active device then) must not become a second factor beside one
                        // that was activated since.
                        q::lock_user(c, &tenant, &user)?;
                        if !authorized && q::has_active(c, &tenant, &user)? {
                            return Ok(None);
                        }
                        if !q::confirm(c, &id, step, now.naive_utc())? {
                            return Ok(None);
                        }
                        crate::audit::record(c, now, event)?;
                        q::find_by_id(c, &id)
                    })
                })
                .await?
        }
        None => None,
    };
    match confirmed {
        Some(row) => {
            state.limiter.succeeded(ticket).await?;
            Ok(Device::from(&row))
        }
        None => {
            fail(
                state,
                subject,
                caller,
                ticket,
                Action::DeviceConfirmed,
                Some(&device_id),
            )
            .await?;
            Err(ApiError::InvalidCode)
        }
    }
}

/// SEC-7: checks a step-up assertion — ours, of this user and tenant, at most 5 minutes old —
/// and uses it up, so it cannot add a second device.
pub async fn consume_step_up(
    state: &AppState,
    subject: &Subject,
    token: &str,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let claims = state
        .assertions
        .verify_refreshing(&state.db, token, now)
        .await
        .map_err(|_| ApiError::StepUpRequired)?;
    let fresh = now.timestamp() - claims.iat <= crate::assertion::MAX_TTL.as_secs() as i64;
    if claims.sub != subject.user || claims.aud != subject.tenant || !fresh {
        return Err(ApiError::StepUpRequired);
    }
    let left = std::time::Duration::from_secs(
        u64::try_from(claims.exp - now.timestamp())
            .unwrap_or(1)
            .max(1),
    );
    if !state
        .store
        .consume_once(&format!("stepup:{{{}}}", claims.jti), left)
        .await?
    {
        return Err(ApiError::StepUpRequired);
    }
    Ok(())
}
