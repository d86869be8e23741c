//! Confirming a pending device with its first code, which counts as used (SEC-6). The code was a
//! successful check of the new device, so the answer carries an assertion too: the relying party
//! can use it as `step_up` (e.g. to make recovery codes right after enrollment).

use super::VerifyError;
use super::attempt::{Outcome, attempt, rejected};
use crate::app::devices::Device;
use crate::app::factors::{self, Context};
use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::audit::{Action, Event};
use crate::db::DbError;
use crate::db::devices as q;
use crate::db::models::DeviceRow;
use crate::error::Error;
use crate::factor::kind::DeviceStatus;

/// Why an activation rolled back: the security key is registered in the tenant already.
const KEY_TAKEN: &str = "the credential is registered already";

#[derive(Debug)]
pub struct Confirmed {
    pub device: Device,
    /// An assertion of the user, usable as `step_up`.
    pub assertion: String,
}

/// The part of confirm after the limiter admitted it.
async fn evaluate(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    device_id: String,
    code: Option<String>,
) -> Result<Outcome, Error> {
    let now = state.clock.now();
    let Some(code) = code.filter(|c| factors::device_shaped(c)) else {
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
    let row: Option<DeviceRow> = state
        .db
        .run(move |c| q::find(c, &tenant, &user, &id))
        .await?
        .filter(|r| {
            r.is_in(DeviceStatus::Pending) && r.expires_at.is_some_and(|e| e > now.naive_utc())
        });
    let Some(row) = row else {
        // Nothing to confirm: the same work as a check, the same answer as a wrong code.
        factors::totp::decoy_check(state, &code);
        return Ok(rejected(Action::DeviceConfirmed, Some(device_id)));
    };
    let factor = factors::for_device(row.kind().map_err(Error::internal)?);
    let cx = Context {
        state,
        subject,
        caller,
        now,
    };
    // The value goes to the device's factor as typed: a value of another factor's shape is that
    // factor's wrong guess (for a phone, one of the texted code's tries).
    let Some(first) = factor.first_use(&cx, &row, &code).await? else {
        return Ok(rejected(Action::DeviceConfirmed, Some(device_id)));
    };
    let (step, key, proof) = (first.step, first.key, first.proof);
    let authorized = row.step_up;
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
            crate::db::write_transaction(conn, |c| {
                // SEC-7 at activation: a device enrolled without step-up (the user had no active
                // device then) must not become a second factor beside one activated since.
                q::lock_user(c, &tenant, &user)?;
                if !authorized && q::has_active(c, &tenant, &user)? {
                    return Ok(None);
                }
                if !q::confirm(c, &id, step, now.naive_utc())? {
                    return Ok(None);
                }
                // A credential the tenant holds on another device that still counts refuses the
                // activation, which rolls back.
                if let Some(key) = &key
                    && !crate::db::security_keys::insert(c, key)?
                {
                    return Err(DbError::Aborted(KEY_TAKEN.into()));
                }
                stream.record(c, now, event)?;
                q::find_by_id(c, &id)
            })
        })
        .await;
    let confirmed = match confirmed {
        Err(DbError::Aborted(reason)) if reason == KEY_TAKEN => None,
        other => other?,
    };
    Ok(match confirmed {
        Some(row) => Outcome::Accepted {
            device_id: Some(row.id.clone()),
            method: factor.method(),
            device: Some(Box::new(row)),
            proof,
        },
        None => rejected(Action::DeviceConfirmed, Some(device_id)),
    })
}

/// Activates a pending device with its first code.
pub async fn confirm(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    device_id: String,
    code: Option<String>,
) -> Result<Confirmed, VerifyError> {
    let accepted = attempt(
        state,
        subject,
        caller,
        evaluate(state, subject, caller, device_id, code),
    )
    .await?;
    let row = accepted
        .device
        .ok_or_else(|| Error::internal("confirm accepted without a device"))?;
    let assertion = state
        .assertions
        .issue_verified(
            state.clock.now(),
            &subject.tenant,
            &subject.user,
            Some(&row.id),
            accepted.method,
            accepted.proof,
        )
        .map_err(Error::from)?;
    Ok(Confirmed {
        device: Device::try_from(row.as_ref())?,
        assertion,
    })
}
