//! Devices of every kind: the checks a new device passes before it exists (label, step-up), its
//! pending insert, listing and revoking. Each kind's enrollment and checks live with its factor
//! (`app::factors`). Secrets are sealed at rest with the device id as associated data (SEC-20)
//! and shown only while the device is pending (SEC-4).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::app::state::AppState;
use crate::app::step_up::Purpose;
use crate::app::users::{Caller, Subject};
use crate::audit::{Action, Event};

use crate::db::devices as q;
use crate::db::models::{DeviceRow, SecurityKeyRow};
use crate::error::Error;
use crate::factor::kind::{DeviceKind, DeviceStatus};
use crate::factor::totp::Algorithm;

/// How long an enrollment may wait for its first code (SEC-5).
pub const PENDING_FOR: TimeDelta = TimeDelta::minutes(10);

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// A device as the API shows it: never a secret.
#[derive(Debug, Clone, Serialize)]
pub struct Device {
    pub id: String,
    pub kind: DeviceKind,
    pub label: String,
    pub status: DeviceStatus,
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
    /// Security keys, once confirmed: what the key is and whether it looked cloned.
    pub security_key: Option<KeyDetails>,
    /// A hardware token of the inventory: its serial.
    pub token_serial: Option<String>,
}

/// What is known of a confirmed security key.
#[derive(Debug, Clone, Serialize)]
pub struct KeyDetails {
    /// The authenticator model's id (lowercase UUID): attested, or else the authenticator's own
    /// claim; `None` when it sent none.
    pub aaguid: Option<String>,
    /// The model's name, where the tenant's policy names its AAGUID.
    pub model: Option<String>,
    /// The RP ID the credential is scoped to.
    pub rp_id: String,
    /// The key verified its user (PIN or biometric) at registration.
    pub user_verified: bool,
    /// When a signature counter went backwards: a cloned or broken key.
    pub clone_detected_at: Option<DateTime<Utc>>,
}

impl From<&SecurityKeyRow> for KeyDetails {
    fn from(k: &SecurityKeyRow) -> KeyDetails {
        KeyDetails {
            aaguid: k.aaguid.clone(),
            model: k.model.clone(),
            rp_id: k.rp_id.clone(),
            user_verified: k.user_verified,
            clone_detected_at: k.clone_detected_at.map(utc),
        }
    }
}

/// Attaches each security key's details to its device.
pub fn attach_keys(devices: &mut [Device], keys: &[SecurityKeyRow]) {
    for d in devices {
        d.security_key = keys
            .iter()
            .find(|k| k.device_id == d.id)
            .map(KeyDetails::from);
    }
}

/// Loads the security-key rows of these device rows (none when no row is a key).
pub fn keys_of(
    c: &mut crate::db::DbConnection,
    rows: &[DeviceRow],
) -> Result<Vec<SecurityKeyRow>, crate::db::DbError> {
    let ids: Vec<String> = rows
        .iter()
        .filter(|r| r.is(DeviceKind::Webauthn))
        .map(|r| r.id.clone())
        .collect();
    crate::db::security_keys::of_devices(c, &ids)
}

/// A row whose kind or status is unknown to this version is a bug or a newer node's: an error,
/// never a guess.
impl TryFrom<&DeviceRow> for Device {
    type Error = Error;

    fn try_from(r: &DeviceRow) -> Result<Device, Error> {
        let kind: DeviceKind = r.kind.parse().map_err(Error::internal)?;
        let totp = kind == DeviceKind::Totp;
        let codes = totp || kind == DeviceKind::Hotp;
        Ok(Device {
            id: r.id.clone(),
            kind,
            label: r.label.clone(),
            status: r.status.parse().map_err(Error::internal)?,
            algorithm: codes.then(|| r.algorithm.parse().ok()).flatten(),
            digits: codes.then(|| u8::try_from(r.digits).ok()).flatten(),
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
            security_key: None,
            token_serial: r.token_serial.clone(),
        })
    }
}

/// What a device secret is sealed to: its own row, named as a device so a sealed value can never
/// pass for another kind of record with the same id.
pub fn aad(device_id: &str) -> Vec<u8> {
    format!("device:{device_id}").into_bytes()
}

pub(crate) fn validate_label(label: &str) -> Result<(), Error> {
    if label.is_empty() || label.chars().count() > 64 || !crate::factor::text::is_displayable(label)
    {
        return Err(Error::InvalidRequest(
            "a label is 1 to 64 printable characters, without control or format characters".into(),
        ));
    }
    Ok(())
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
            crate::db::write_transaction(conn, |c| {
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
/// authorized (see [`crate::app::step_up::require`]).
pub async fn admit(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    label: &str,
    step_up: Option<&str>,
    purpose: Purpose,
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
    crate::app::step_up::require(state, subject, caller, step_up, purpose).await
}

/// The user's pending (unexpired) and active devices, TOTP first (SEC-27).
pub async fn list(state: &AppState, subject: &Subject) -> Result<Vec<Device>, Error> {
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let now = state.clock.now().naive_utc();
    let (mut rows, keys) = state
        .db
        .run(move |c| {
            let rows = q::list(c, &tenant, &user, &[q::PENDING, q::ACTIVE])?;
            let keys = keys_of(c, &rows)?;
            Ok((rows, keys))
        })
        .await?;
    rows.retain(|r| !r.is_in(DeviceStatus::Pending) || r.expires_at.is_some_and(|e| e > now));
    rows.sort_by_key(|r| !r.is(DeviceKind::Totp));
    let mut devices = rows
        .iter()
        .map(Device::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    attach_keys(&mut devices, &keys);
    Ok(devices)
}

/// Revokes a device at once (SEC-21); it stays in the table for the audit trail.
///
/// Removing a factor is as strong as adding one (SEC-7): for a user with an active device, a
/// client key needs a fresh assertion of that user, used once — else a hijacked relying-party
/// session could revoke the user's devices and then enroll its own as a "first" device. The lost-
/// device journey is a recovery code, its assertion, then the revoke. An admin key needs none.
/// The device is looked up first, so a wrong id does not use up the assertion (in the lost-device
/// journey, a recovery code); the revoke itself stays one conditional update.
pub async fn revoke(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    id: String,
    step_up: Option<&str>,
) -> Result<(), Error> {
    let now = state.clock.now();
    let (tenant, user, find_id) = (subject.tenant.clone(), subject.user.clone(), id.clone());
    let found = state
        .db
        .run(move |c| q::find(c, &tenant, &user, &find_id))
        .await?;
    let revocable = found.is_some_and(|r| {
        r.is_in(DeviceStatus::Active)
            || (r.is_in(DeviceStatus::Pending) && r.expires_at.is_some_and(|e| e > now.naive_utc()))
    });
    if !revocable {
        return Err(Error::NotFound);
    }
    crate::app::step_up::require(state, subject, caller, step_up, Purpose::Revoke).await?;
    let event = Event::new(&subject.tenant, Action::DeviceRevoked, caller.actor.clone())
        .user(&subject.user)
        .device(&id)
        .ip(caller.ip.clone());
    let (tenant, user, device_id) = (subject.tenant.clone(), subject.user.clone(), id.clone());
    let stream = state.audit.stream().clone();
    let revoked = state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |c| {
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
