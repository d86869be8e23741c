//! Resynchronising a HOTP token pressed far ahead of the look-ahead window: two consecutive codes
//! found within the wider resync window move the device's counter to the second one. It accepts
//! codes, so it goes through the one limiter like every check; it signs nothing (the user then
//! signs in with the token's next code).

use super::VerifyError;
use super::attempt::{Outcome, attempt, rejected};
use crate::app::assertion::{Method, Proof};
use crate::app::devices::Device;
use crate::app::factors::hotp::{next_counter, params_of};
use crate::app::factors::totp::secret_of;
use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::audit::{Action, Event};
use crate::db::devices as q;
use crate::error::Error;
use crate::factor::kind::{DeviceKind, DeviceStatus};

async fn evaluate(
    state: &AppState,
    subject: &Subject,
    device_id: String,
    first: Option<String>,
    second: Option<String>,
) -> Result<Outcome, Error> {
    let well_formed = |c: &String| crate::factor::totp::is_code(c);
    let (Some(first), Some(second)) = (first.filter(well_formed), second.filter(well_formed))
    else {
        return Ok(Outcome::Rejected {
            action: Action::DeviceResynced,
            device: Some(device_id),
            malformed: true,
        });
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
        .filter(|r| r.is(DeviceKind::Hotp) && r.is_in(DeviceStatus::Active));
    let Some(row) = row else {
        return Ok(rejected(Action::DeviceResynced, Some(device_id)));
    };
    let hotp = params_of(&row)?;
    let secret = secret_of(state, &row)?;
    let window = state.config.totp.hotp_resync_window;
    let Some(counter) = hotp.resync(&secret, &first, &second, next_counter(&row)?, window) else {
        return Ok(rejected(Action::DeviceResynced, Some(device_id)));
    };
    let step = i64::try_from(counter).map_err(Error::internal)?;
    let (id, at) = (row.id.clone(), state.clock.now().naive_utc());
    let moved = state
        .db
        .run(move |c| {
            if !q::accept_step(c, &id, step, at)? {
                return Ok(None);
            }
            q::find_by_id(c, &id)
        })
        .await?;
    Ok(match moved {
        Some(row) => Outcome::Accepted {
            device_id: Some(row.id.clone()),
            method: Method::Hotp,
            device: Some(Box::new(row)),
            proof: Proof::default(),
        },
        None => rejected(Action::DeviceResynced, Some(device_id)),
    })
}

/// Resynchronises a HOTP device with two consecutive codes; the device as it is now.
pub async fn resync(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    device_id: String,
    first: Option<String>,
    second: Option<String>,
) -> Result<Device, VerifyError> {
    let accepted = attempt(
        state,
        subject,
        caller,
        evaluate(state, subject, device_id, first, second),
    )
    .await?;
    let row = accepted
        .device
        .ok_or_else(|| Error::internal("resync accepted without a device"))?;
    let event = Event::new(
        &subject.tenant,
        Action::DeviceResynced,
        caller.actor.clone(),
    )
    .user(&subject.user)
    .device(&row.id)
    .ip(caller.ip.clone())
    .detail(serde_json::json!({"counter": row.last_step}));
    state.audit.send(state.clock.now(), event).await;
    Ok(Device::try_from(row.as_ref())?)
}
