//! Phones (SEC-28): enrolling a number (confirmed by the first code sent to it), sending login
//! codes to it, and checking the codes it received. A number is shown only by its last digits;
//! changing it is a new device.

use futures_util::future::LocalBoxFuture;

use super::{Checked, Context, DeviceFactor, Factor, FirstUse};
use crate::app::assertion::{Method, Proof};
use crate::app::devices::{self, Device, PENDING_FOR};
use crate::app::sms_codes::{self, NOTICE};
use crate::app::state::AppState;
use crate::app::step_up::Purpose;
use crate::app::users::{Caller, Subject};
use crate::crypto;
use crate::db::devices as q;
use crate::db::models::DeviceRow;
use crate::error::Error;
use crate::factor::kind::{DeviceKind, DeviceStatus};
use crate::factor::phone::{self, Phone, PhoneError};
use crate::factor::totp;

pub struct Sms;

impl Factor for Sms {
    fn method(&self) -> Method {
        Method::Sms
    }

    fn kind(&self) -> Option<DeviceKind> {
        Some(DeviceKind::Sms)
    }

    fn shape(&self, presented: &str) -> Option<String> {
        totp::is_well_formed(presented, 6).then(|| presented.to_string())
    }

    /// A user without a phone costs no store read here. That a user has a phone is no secret
    /// from whoever may call verify: the relying party lists the user's devices, the hosted page
    /// offers "Text me a code". Unknown users and users without a device still look alike
    /// (SEC-32).
    fn check<'a>(
        &'a self,
        cx: &'a Context<'a>,
        devices: &'a [DeviceRow],
        code: &'a str,
    ) -> LocalBoxFuture<'a, Result<Checked, Error>> {
        Box::pin(async move {
            for row in devices {
                if sms_codes::check(cx.state, cx.subject, &row.id, code).await? {
                    let (id, at) = (row.id.clone(), cx.now.naive_utc());
                    // Revoked meanwhile (SEC-21): the code died with the device.
                    if !cx.state.db.run(move |c| q::touch(c, &id, at)).await? {
                        return Ok(Checked::Refused {
                            device_id: row.id.clone(),
                        });
                    }
                    return Ok(Checked::Accepted {
                        device_id: Some(row.id.clone()),
                        proof: Proof::default(),
                    });
                }
            }
            Ok(Checked::NoMatch)
        })
    }
}

impl DeviceFactor for Sms {
    /// A phone is confirmed by the code texted to it; it has no time steps.
    fn first_use<'a>(
        &'a self,
        cx: &'a Context<'a>,
        device: &'a DeviceRow,
        code: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<FirstUse>, Error>> {
        Box::pin(async move {
            let sent = sms_codes::check(cx.state, cx.subject, &device.id, code).await?;
            Ok(sent.then(|| FirstUse::step(0)))
        })
    }
}

/// What a phone enrollment asks for.
#[derive(Debug)]
pub struct Enrollment {
    /// E.164.
    pub phone: String,
    /// Default: the number's calling code and last two digits.
    pub label: Option<String>,
    pub step_up: Option<String>,
}

#[derive(Debug)]
pub struct Enrolled {
    pub device: Device,
    /// When the sent code expires, in seconds.
    pub expires_in: u64,
    /// When a new code may be asked for, in seconds.
    pub resend_after: u64,
    pub notice: &'static str,
}

/// Which phone to text.
#[derive(Debug, Default)]
pub struct SendRequest {
    /// Default: the user's first active phone.
    pub device_id: Option<String>,
}

#[derive(Debug)]
pub struct Sent {
    pub device_id: String,
    pub expires_in: u64,
    pub resend_after: u64,
    pub notice: &'static str,
}

fn parse_phone(state: &AppState, input: &str) -> Result<Phone, Error> {
    phone::check(input, &state.config.sms.countries).map_err(|e| match e {
        PhoneError::NotAllowed => Error::PhoneNotAllowed,
        spelling => Error::InvalidRequest(spelling.to_string()),
    })
}

/// Enrolls a phone number: a pending device, and a code sent to it. A refused number never
/// reaches the gateway (SEC-30).
pub async fn enroll(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    req: Enrollment,
) -> Result<Enrolled, Error> {
    let phone = parse_phone(state, &req.phone)?;
    let label = req.label.unwrap_or_else(|| phone.redacted());
    let now = state.clock.now();
    let step_up = devices::admit(
        state,
        subject,
        caller,
        &label,
        req.step_up.as_deref(),
        Purpose::AddPhone,
        now,
    )
    .await?;
    let row = DeviceRow {
        id: crypto::random_id().map_err(Error::internal)?,
        tenant: subject.tenant.clone(),
        user_id: subject.user.clone(),
        kind: DeviceKind::Sms.as_str().into(),
        label,
        status: q::PENDING.into(),
        secret_sealed: None,
        key_id: None,
        algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        phone: Some(phone.e164().to_string()),
        last_step: -1,
        step_up,
        created_at: now.naive_utc(),
        expires_at: Some((now + PENDING_FOR).naive_utc()),
        confirmed_at: None,
        last_used_at: None,
        revoked_at: None,
        account_name: None,
        token_serial: None,
        public_id: None,
    };
    let detail = serde_json::json!({"kind": DeviceKind::Sms, "to": phone.redacted(), "country": phone.region()});
    devices::insert_pending(state, caller, &row, now, detail).await?;
    let sent = sms_codes::send(state, subject, caller, &row.id, &phone, now).await;
    let sent = match sent {
        Ok(s) => s,
        Err(e) => {
            // No code reached the phone: the enrollment cannot be confirmed, so it goes.
            let (tenant, user, id) = (subject.tenant.clone(), subject.user.clone(), row.id.clone());
            state
                .db
                .run(move |c| q::delete_pending(c, &tenant, &user, &id))
                .await?;
            return Err(e);
        }
    };
    Ok(Enrolled {
        device: Device::try_from(&row)?,
        expires_in: sent.expires_in.as_secs(),
        resend_after: sent.resend_after.as_secs(),
        notice: NOTICE,
    })
}

/// Sends a login code to an active phone device of the user (or the one named); for a pending
/// device named explicitly, a new confirmation code.
pub async fn send_code(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    req: SendRequest,
) -> Result<Sent, Error> {
    let now = state.clock.now();
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let rows = state
        .db
        .run(move |c| q::list(c, &tenant, &user, &[q::ACTIVE, q::PENDING]))
        .await?;
    let usable = |r: &&DeviceRow| {
        r.is(DeviceKind::Sms)
            && (r.is_in(DeviceStatus::Active)
                || (req.device_id.is_some() && r.expires_at.is_some_and(|e| e > now.naive_utc())))
    };
    let row = rows
        .iter()
        .filter(usable)
        .find(|r| req.device_id.as_deref().is_none_or(|id| id == r.id))
        .ok_or(Error::NotFound)?;
    let number = row
        .phone
        .as_deref()
        .ok_or_else(|| Error::internal(format!("phone device {} has no number", row.id)))?;
    // Stored numbers were checked at enrollment; a changed allow-list applies to them too.
    let phone = parse_phone(state, number)?;
    let sent = sms_codes::send(state, subject, caller, &row.id, &phone, now).await?;
    Ok(Sent {
        device_id: row.id.clone(),
        expires_in: sent.expires_in.as_secs(),
        resend_after: sent.resend_after.as_secs(),
        notice: NOTICE,
    })
}
