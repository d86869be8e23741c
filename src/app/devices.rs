//! Devices: enrolling a TOTP authenticator, confirming it with its first code, listing and
//! revoking. The secret is sealed at rest with the device id as associated data (SEC-20) and is
//! shown only while the device is pending (SEC-4).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::audit::{Action, Event};
use crate::crypto;
use crate::db::models::DeviceRow;
use crate::db::{self, devices as q};
use crate::error::Error;
use crate::factor::totp::{self, Algorithm, Params};

/// How long an enrollment may wait for its first code (SEC-5).
pub const PENDING_FOR: TimeDelta = TimeDelta::minutes(10);

pub const KIND_TOTP: &str = "totp";
pub const KIND_SMS: &str = "sms";

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// A device as the API shows it: never a secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Device {
    pub id: String,
    /// `totp` or `sms`.
    pub kind: String,
    pub label: String,
    /// `pending`, `active` or `revoked`.
    pub status: String,
    pub algorithm: Option<Algorithm>,
    pub digits: Option<u8>,
    pub period: Option<u32>,
    /// Phone devices: the last two digits of the number, never more.
    pub phone_last_digits: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When a pending device stops being confirmable.
    pub expires_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&DeviceRow> for Device {
    fn from(r: &DeviceRow) -> Device {
        let totp = r.kind == KIND_TOTP;
        Device {
            id: r.id.clone(),
            kind: r.kind.clone(),
            label: r.label.clone(),
            status: r.status.clone(),
            algorithm: totp.then(|| r.algorithm.parse().ok()).flatten(),
            digits: totp.then(|| u8::try_from(r.digits).ok()).flatten(),
            period: totp.then(|| u32::try_from(r.period).ok()).flatten(),
            phone_last_digits: r.phone.as_deref().map(|p| {
                p.chars()
                    .rev()
                    .take(2)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect()
            }),
            created_at: utc(r.created_at),
            expires_at: r.expires_at.map(utc),
            confirmed_at: r.confirmed_at.map(utc),
            last_used_at: r.last_used_at.map(utc),
            revoked_at: r.revoked_at.map(utc),
        }
    }
}

/// The TOTP parameters a device row stores.
pub fn params_of(r: &DeviceRow) -> Result<Params, Error> {
    let algorithm: Algorithm = r.algorithm.parse().map_err(Error::internal)?;
    let digits = u8::try_from(r.digits).map_err(Error::internal)?;
    let period = u32::try_from(r.period).map_err(Error::internal)?;
    Params::new(algorithm, digits, period).map_err(Error::internal)
}

/// What a device secret is sealed to: its own row, named as a device so a sealed value can never
/// pass for another kind of record with the same id.
pub fn aad(device_id: &str) -> Vec<u8> {
    format!("device:{device_id}").into_bytes()
}

/// Opens a device's sealed secret.
pub fn secret_of(state: &AppState, r: &DeviceRow) -> Result<Zeroizing<Vec<u8>>, Error> {
    let (Some(sealed), Some(key_id)) = (&r.secret_sealed, &r.key_id) else {
        return Err(Error::internal(format!(
            "device {} has no sealed secret",
            r.id
        )));
    };
    state
        .keys
        .open(key_id, sealed, &aad(&r.id))
        .map_err(Error::internal)
}

/// The Key URI of a TOTP device (for its QR code while it is pending).
pub fn otpauth_uri(state: &AppState, r: &DeviceRow) -> Result<String, Error> {
    let secret = secret_of(state, r)?;
    Ok(totp::otpauth_uri(
        &state.config.totp.issuer,
        &r.label,
        &secret,
        params_of(r)?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollTotp {
    /// Shown in the authenticator app; unique per user; default: the user id.
    pub label: Option<String>,
    /// `SHA1` (default; what every app reads), `SHA256` or `SHA512`.
    pub algorithm: Option<Algorithm>,
    /// 6 (default) or 8.
    pub digits: Option<u8>,
    /// 30 (default) or 60 seconds.
    pub period: Option<u32>,
    /// An assertion of this user from a verify at most 5 minutes old: needed when the user
    /// already has an active device, unless the caller is an admin key (SEC-7).
    pub step_up: Option<String>,
}

/// The answer to an enrollment: the only time the secret leaves twofold.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Enrolled {
    pub device: Device,
    /// Base32, no padding: for typing into an app by hand.
    pub secret: String,
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri`, as inline SVG.
    pub qr_svg: String,
    pub expires_at: DateTime<Utc>,
}

pub(crate) fn validate_label(label: &str) -> Result<(), Error> {
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(Error::InvalidRequest(
            "a label is 1 to 64 printable characters".into(),
        ));
    }
    Ok(())
}

/// SEC-7: a user who has an active device gets another only with a fresh assertion of theirs,
/// used once, or from an admin. Returns whether the enrollment is so authorized: one that is not
/// (the user had no active device) can be confirmed only while that is still so.
pub async fn require_step_up(
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
            crate::app::verify::consume_step_up(state, subject, token).await?;
            Ok(true)
        }
    }
}

pub(crate) fn label_conflict() -> Error {
    Error::Conflict("this user already has a device with that label".into())
}

/// Stores a new pending device with its audit event, in one transaction: the user is created on
/// first use, and the user's expired enrollments make way (their labels become free).
pub async fn insert_pending(
    state: &AppState,
    caller: &Caller,
    row: &DeviceRow,
    now: DateTime<Utc>,
    detail: serde_json::Value,
) -> Result<(), Error> {
    let event = Event::new(&row.tenant, Action::DeviceEnrolled, caller.actor.clone())
        .user(&row.user_id)
        .device(&row.id)
        .ip(caller.ip.clone())
        .detail(detail);
    let stored = row.clone();
    let stream = state.audit.stream().clone();
    let inserted = state
        .db
        .run(move |conn| {
            conn.transaction(|c| {
                q::ensure_user(c, &stored.tenant, &stored.user_id, stored.created_at)?;
                q::delete_expired_pending(c, &stored.tenant, &stored.user_id, stored.created_at)?;
                q::insert(c, &stored)?;
                stream.record(c, now, event)
            })
        })
        .await;
    match inserted {
        Err(e) if e.is_unique_violation() => Err(label_conflict()),
        other => Ok(other?),
    }
}

/// The checks every new device passes before it exists: a valid label not in use, then the
/// step-up rule. The label goes first, so a taken one does not use up the user's assertion (the
/// unique index still decides under a race). Returns whether the enrollment is step-up
/// authorized (see [`require_step_up`]).
pub async fn admit(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    label: &str,
    step_up: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    validate_label(label)?;
    let (tenant, user, l) = (
        subject.tenant.clone(),
        subject.user.clone(),
        label.to_string(),
    );
    let taken = state
        .db
        .run(move |c| q::label_in_use(c, &tenant, &user, &l, now.naive_utc()))
        .await?;
    if taken {
        return Err(label_conflict());
    }
    require_step_up(state, subject, caller, step_up).await
}

/// Starts a TOTP enrollment: a pending device with a fresh 160-bit secret (SEC-3).
pub async fn enroll_totp(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    req: EnrollTotp,
) -> Result<Enrolled, Error> {
    let defaults = Params::default();
    let params = Params::new(
        req.algorithm.unwrap_or(defaults.algorithm),
        req.digits.unwrap_or(defaults.digits),
        req.period.unwrap_or(defaults.period),
    )
    .map_err(Error::InvalidRequest)?;
    let label = req.label.unwrap_or_else(|| subject.user.clone());
    let now = state.clock.now();
    let step_up = admit(state, subject, caller, &label, req.step_up.as_deref(), now).await?;

    let secret =
        Zeroizing::new(crypto::random_bytes::<{ totp::SECRET_LEN }>().map_err(Error::internal)?);
    let id = crypto::random_id().map_err(Error::internal)?;
    let row = DeviceRow {
        secret_sealed: Some(
            state
                .keys
                .seal(&secret[..], &aad(&id))
                .map_err(Error::internal)?,
        ),
        key_id: Some(state.keys.key_id().to_string()),
        id,
        tenant: subject.tenant.clone(),
        user_id: subject.user.clone(),
        kind: KIND_TOTP.into(),
        label,
        status: q::PENDING.into(),
        algorithm: params.algorithm.as_str().into(),
        digits: i32::from(params.digits),
        period: i32::try_from(params.period).map_err(Error::internal)?,
        phone: None,
        last_step: -1,
        step_up,
        created_at: now.naive_utc(),
        expires_at: Some((now + PENDING_FOR).naive_utc()),
        confirmed_at: None,
        last_used_at: None,
        revoked_at: None,
    };
    let detail = serde_json::json!({"kind": KIND_TOTP, "algorithm": row.algorithm,
                                    "digits": row.digits, "period": row.period});
    insert_pending(state, caller, &row, now, detail).await?;
    let uri = totp::otpauth_uri(&state.config.totp.issuer, &row.label, &secret[..], params);
    Ok(Enrolled {
        device: Device::from(&row),
        secret: totp::base32_secret(&secret[..]),
        qr_svg: crate::factor::qr::svg(&uri).map_err(Error::internal)?,
        otpauth_uri: uri,
        expires_at: now + PENDING_FOR,
    })
}

/// A pending, unexpired TOTP device of the user (for its QR code), else not found.
pub async fn pending(state: &AppState, subject: &Subject, id: String) -> Result<DeviceRow, Error> {
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let now = state.clock.now().naive_utc();
    let row = state
        .db
        .run(move |c| db::devices::find(c, &tenant, &user, &id))
        .await?;
    match row {
        Some(r)
            if r.status == q::PENDING
                && r.kind == KIND_TOTP
                && r.expires_at.is_some_and(|e| e > now) =>
        {
            Ok(r)
        }
        _ => Err(Error::NotFound),
    }
}

/// The user's pending (unexpired) and active devices, TOTP first (SEC-27).
pub async fn list(state: &AppState, subject: &Subject) -> Result<Vec<Device>, Error> {
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let now = state.clock.now().naive_utc();
    let mut rows = state
        .db
        .run(move |c| q::list(c, &tenant, &user, &[q::PENDING, q::ACTIVE]))
        .await?;
    rows.retain(|r| r.status != q::PENDING || r.expires_at.is_some_and(|e| e > now));
    rows.sort_by_key(|r| r.kind != KIND_TOTP);
    Ok(rows.iter().map(Device::from).collect())
}

/// Revokes a device at once (SEC-21); it stays in the table for the audit trail.
pub async fn revoke(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    id: String,
) -> Result<(), Error> {
    let now = state.clock.now();
    let event = Event::new(&subject.tenant, Action::DeviceRevoked, caller.actor.clone())
        .user(&subject.user)
        .device(&id)
        .ip(caller.ip.clone());
    let (tenant, user, device_id) = (subject.tenant.clone(), subject.user.clone(), id.clone());
    let stream = state.audit.stream().clone();
    let revoked = state
        .db
        .run(move |conn| {
            conn.transaction(|c| {
                if !q::revoke(c, &tenant, &user, &id, now.naive_utc())? {
                    return Ok(false);
                }
                stream.record(c, now, event)?;
                Ok(true)
            })
        })
        .await?;
    if !revoked {
        return Err(Error::NotFound);
    }
    // A texted code of the device dies with it (SEC-21).
    crate::app::sms_codes::kill(state, subject, &device_id).await
}
