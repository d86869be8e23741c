//! Checking a code: `verify` (TOTP or recovery code) and `confirm` (a pending device's first
//! code), both through the one [`Limiter`](crate::app::limiter::Limiter).
//!
//! Every failure — wrong, replayed, expired or unconfirmed code, unknown user, user without a
//! device — is the same `invalid_code` (SEC-10, SEC-32); malformed codes are 400 and count as
//! failures too (SEC-12). A TOTP step is accepted only if it is later than the device's last
//! accepted one, as one compare-and-set in the database (SEC-9, SEC-11).

use std::time::Duration;

use diesel::Connection;
use serde::{Deserialize, Serialize};

use crate::app::api_keys;
use crate::app::assertion::{AssertionError, Method};
use crate::app::devices::{self, Device, KIND_SMS, KIND_TOTP};
use crate::app::limiter::{AfterFailure, Ticket};
use crate::app::recovery;
use crate::app::sms_codes;
use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::audit::{self, Action, Event};
use crate::db::devices as q;
use crate::db::models::DeviceRow;
use crate::error::Error;
use crate::factor::totp::{self, Params};

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

/// A fixed stand-in secret: users without a usable device cost the same HMAC work as others.
const DECOY_SECRET: [u8; totp::SECRET_LEN] = [0x5a; totp::SECRET_LEN];

/// Checks `code` against each device; every device is checked (no early exit). Returns the
/// matches, in device order. A device whose secret cannot be opened (sealed under a master key
/// no longer loaded) is logged and skipped, so it cannot make the user's other devices unusable.
fn matches(state: &AppState, rows: &[DeviceRow], code: &str) -> Vec<(usize, u64)> {
    let now = state.clock.now().timestamp();
    let window = state.config.totp.window;
    let mut found = Vec::new();
    let mut checked = false;
    for (i, row) in rows.iter().enumerate() {
        if row.kind != KIND_TOTP {
            continue;
        }
        let opened = devices::params_of(row).and_then(|p| Ok((p, devices::secret_of(state, row)?)));
        let (params, secret) = match opened {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(device = %row.id, error = %e, "device secret cannot be opened");
                continue;
            }
        };
        if usize::from(params.digits) != code.len() {
            continue;
        }
        checked = true;
        if let Some(step) = totp::matching_step(&secret, params, code, now, window) {
            found.push((i, step));
        }
    }
    if !checked {
        let digits = u8::try_from(code.len()).unwrap_or(6);
        let params = Params::new(Params::default().algorithm, digits, 30).unwrap_or_default();
        let _ = totp::matching_step(&DECOY_SECRET, params, code, now, window);
    }
    found
}

/// A cached key found revoked: forgotten here, and the caller gets what any revoked key gets.
fn key_gone(state: &AppState, id: &str) -> Error {
    state.key_cache.evict(id);
    Error::InvalidApiKey
}

/// How an admitted attempt ended.
enum Outcome {
    Accepted {
        device_id: Option<String>,
        method: Method,
        /// For confirm: the activated device.
        device: Option<Box<DeviceRow>>,
    },
    Rejected {
        action: Action,
        device: Option<String>,
        /// 400 rather than 422.
        malformed: bool,
    },
}

fn rejected(action: Action, device: Option<String>) -> Outcome {
    Outcome::Rejected {
        action,
        device,
        malformed: false,
    }
}

/// Runs an admitted attempt and reports its outcome to the limiter exactly once — an attempt
/// that ends in an internal error or outage counts as a failure too — then audits it.
async fn attempt(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    evaluate: impl Future<Output = Result<Outcome, Error>>,
) -> Result<(Option<String>, Method, Option<Box<DeviceRow>>), Error> {
    let now = state.clock.now();
    let ticket = state
        .limiter
        .begin(subject, caller.ip.as_deref(), now)
        .await?;
    let outcome = match evaluate.await {
        Ok(o) => o,
        // A revoked key (found so by the re-check of a cached one) judged nothing: the counts
        // taken in advance go back.
        Err(Error::InvalidApiKey) => {
            if let Err(e) = state.limiter.cancel(ticket).await {
                tracing::warn!(error = %e, "could not give back the counts of a revoked key's attempt");
            }
            return Err(Error::InvalidApiKey);
        }
        Err(e) => {
            if let Err(report) =
                fail(state, subject, caller, ticket, Action::VerifyFailed, None).await
            {
                tracing::warn!(error = %report, "could not count a failed attempt");
            }
            return Err(e);
        }
    };
    match outcome {
        Outcome::Accepted {
            device_id,
            method,
            device,
        } => {
            state.limiter.succeeded(ticket).await?;
            Ok((device_id, method, device))
        }
        Outcome::Rejected {
            action,
            device,
            malformed,
        } => {
            fail(state, subject, caller, ticket, action, device.as_deref()).await?;
            Err(if malformed {
                Error::InvalidRequest(
                    "a code is a string of 6 or 8 digits (or a recovery code)".into(),
                )
            } else {
                Error::InvalidCode
            })
        }
    }
}

/// Reports a failed attempt: counted (and perhaps a lock), audited in the background.
async fn fail(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    ticket: Ticket,
    action: Action,
    device: Option<&str>,
) -> Result<(), Error> {
    let now = state.clock.now();
    let after = state.limiter.failed(ticket, now).await?;
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
    Ok(())
}

/// The part of verify after the limiter admitted it.
async fn evaluate_verify(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    req: VerifyRequest,
) -> Result<Outcome, Error> {
    let now = state.clock.now();
    let presented = classify(&req.code);
    // A key from the cache is re-checked before anything is judged: in the device query for a
    // TOTP or texted code, with a statement of its own otherwise.
    if let Some(id) = &caller.unconfirmed_key
        && !matches!(presented, Presented::Otp(_))
        && !api_keys::still_active(&state.db, id.clone()).await?
    {
        return Err(key_gone(state, id));
    }
    match presented {
        Presented::Malformed => Ok(Outcome::Rejected {
            action: Action::VerifyFailed,
            device: None,
            malformed: true,
        }),
        Presented::Recovery(code) => {
            let used = recovery::redeem(
                state,
                subject,
                &code,
                caller.actor.clone(),
                caller.ip.clone(),
            )
            .await?;
            Ok(if used {
                Outcome::Accepted {
                    device_id: None,
                    method: Method::Recovery,
                    device: None,
                }
            } else {
                rejected(Action::VerifyFailed, None)
            })
        }
        Presented::Otp(code) => {
            let (tenant, user, device) =
                (subject.tenant.clone(), subject.user.clone(), req.device_id);
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
            let mut replayed = None;
            for (i, step) in matches(state, &rows, &code) {
                let id = rows[i].id.clone();
                let step = i64::try_from(step).map_err(Error::internal)?;
                let (cas_id, at) = (id.clone(), now.naive_utc());
                if state
                    .db
                    .run(move |c| q::accept_step(c, &cas_id, step, at))
                    .await?
                {
                    return Ok(Outcome::Accepted {
                        device_id: Some(id),
                        method: Method::Totp,
                        device: None,
                    });
                }
                replayed = Some(id);
            }
            // Then the codes texted to the user's phones (TOTP is the stronger factor: first).
            // A user without a phone costs no store read here. That a user has a phone is no
            // secret from whoever may call verify: the relying party lists the user's devices,
            // the hosted page offers "Text me a code". Unknown users and users without a device
            // still look alike (SEC-32).
            if code.len() == 6 {
                for row in rows.iter().filter(|r| r.kind == KIND_SMS) {
                    if sms_codes::check(state, subject, &row.id, &code).await? {
                        let (id, at) = (row.id.clone(), now.naive_utc());
                        // Revoked meanwhile (SEC-21): the code died with the device.
                        if !state.db.run(move |c| q::touch(c, &id, at)).await? {
                            return Ok(rejected(Action::VerifyFailed, Some(row.id.clone())));
                        }
                        return Ok(Outcome::Accepted {
                            device_id: Some(row.id.clone()),
                            method: Method::Sms,
                            device: None,
                        });
                    }
                }
            }
            Ok(match replayed {
                Some(id) => rejected(Action::Replay, Some(id)),
                None => rejected(Action::VerifyFailed, None),
            })
        }
    }
}

/// Checks a code of the user's and, on success, returns a signed assertion.
pub async fn verify(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    req: VerifyRequest,
) -> Result<Verified, Error> {
    let (device_id, method, _) = attempt(
        state,
        subject,
        caller,
        evaluate_verify(state, subject, caller, req),
    )
    .await?;
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

/// The part of confirm after the limiter admitted it.
async fn evaluate_confirm(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    device_id: String,
    req: ConfirmRequest,
) -> Result<Outcome, Error> {
    let now = state.clock.now();
    let Presented::Otp(code) = classify(&req.code) else {
        return Ok(Outcome::Rejected {
            action: Action::DeviceConfirmed,
            device: Some(device_id),
            malformed: true,
        });
    };
    let (tenant, user, id) = (
        subject.tenant.clone(),
        subject.user.clone(),
        device_id.clone(),
    );
    let rows: Vec<DeviceRow> = state
        .db
        .run(move |c| q::find(c, &tenant, &user, &id))
        .await?
        .filter(|r| r.status == q::PENDING && r.expires_at.is_some_and(|e| e > now.naive_utc()))
        .into_iter()
        .collect();
    let is_sms = rows.first().is_some_and(|r| r.kind == KIND_SMS);
    let (step, method) = if is_sms {
        // A phone is confirmed by the code texted to it (SEC-28); it has no time steps.
        if !sms_codes::check(state, subject, &device_id, &code).await? {
            return Ok(rejected(Action::DeviceConfirmed, Some(device_id)));
        }
        (0, Method::Sms)
    } else {
        let Some(&(_, step)) = matches(state, &rows, &code).first() else {
            return Ok(rejected(Action::DeviceConfirmed, Some(device_id)));
        };
        (i64::try_from(step).map_err(Error::internal)?, Method::Totp)
    };
    let authorized = rows.first().is_some_and(|r| r.step_up);
    let event = Event::new(
        &subject.tenant,
        Action::DeviceConfirmed,
        caller.actor.clone(),
    )
    .user(&subject.user)
    .device(&device_id)
    .ip(caller.ip.clone());
    let (tenant, user, id) = (
        subject.tenant.clone(),
        subject.user.clone(),
        device_id.clone(),
    );
    let stream = state.audit.stream().clone();
    let confirmed = state
        .db
        .run(move |conn| {
            conn.transaction(|c| {
                // SEC-7 at activation: a device enrolled without step-up (the user had no active
                // device then) must not become a second factor beside one activated since.
                q::lock_user(c, &tenant, &user)?;
                if !authorized && q::has_active(c, &tenant, &user)? {
                    return Ok(None);
                }
                if !q::confirm(c, &id, step, now.naive_utc())? {
                    return Ok(None);
                }
                stream.record(c, now, event)?;
                q::find_by_id(c, &id)
            })
        })
        .await?;
    Ok(match confirmed {
        Some(row) => Outcome::Accepted {
            device_id: Some(row.id.clone()),
            method,
            device: Some(Box::new(row)),
        },
        None => rejected(Action::DeviceConfirmed, Some(device_id)),
    })
}

/// Activates a pending device with its first code, which counts as used (SEC-6). The code was a
/// successful check of the new device, so the answer carries an assertion too: the relying party
/// can use it as `step_up` (e.g. to make recovery codes right after enrollment).
pub async fn confirm(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    device_id: String,
    req: ConfirmRequest,
) -> Result<(Device, String), Error> {
    let (_, method, row) = attempt(
        state,
        subject,
        caller,
        evaluate_confirm(state, subject, caller, device_id, req),
    )
    .await?;
    let row = row.ok_or_else(|| Error::internal("confirm accepted without a device"))?;
    let assertion = state.assertions.issue(
        state.clock.now(),
        &subject.tenant,
        &subject.user,
        Some(&row.id),
        method,
    )?;
    Ok((Device::from(row.as_ref()), assertion))
}

/// Grace for clocks of other nodes that run behind ours, so a used-up step-up assertion stays
/// used up until every node sees it expired.
const SKEW: Duration = Duration::from_secs(60);

/// SEC-7: checks a step-up assertion — ours, of this user and tenant, unexpired (so at most
/// 5 minutes old) — and uses it up, so it cannot add a second device. A bad assertion is 403
/// `step_up_required`; an outage while checking stays a 503.
pub async fn consume_step_up(
    state: &AppState,
    subject: &Subject,
    token: &str,
) -> Result<(), Error> {
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
