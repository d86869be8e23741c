//! Authenticator apps (RFC 6238): enrolling one with its QR code, and checking its codes with
//! replay protection — a step is accepted only if it is later than the device's last accepted
//! one, as one compare-and-set in the database (SEC-9, SEC-11).

use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use zeroize::Zeroizing;

use super::{Checked, Context, DeviceFactor, Factor, FirstUse};
use crate::app::assertion::{Method, Proof};
use crate::app::devices::{self, Device, PENDING_FOR, aad};
use crate::app::state::AppState;
use crate::app::step_up::Purpose;
use crate::app::users::{Caller, Subject};
use crate::crypto;
use crate::db::devices as q;
use crate::db::models::DeviceRow;
use crate::error::Error;
use crate::factor::kind::DeviceKind;
use crate::factor::totp::{self, Algorithm, Params};

pub struct Totp;

impl Factor for Totp {
    fn method(&self) -> Method {
        Method::Totp
    }

    fn kind(&self) -> Option<DeviceKind> {
        Some(DeviceKind::Totp)
    }

    fn shape(&self, presented: &str) -> Option<String> {
        totp::is_code(presented).then(|| presented.to_string())
    }

    fn check<'a>(
        &'a self,
        cx: &'a Context<'a>,
        devices: &'a [DeviceRow],
        code: &'a str,
    ) -> LocalBoxFuture<'a, Result<Checked, Error>> {
        Box::pin(async move {
            let mut replayed: Option<(String, bool)> = None;
            for (i, step) in matches(cx.state, devices, code) {
                let id = devices[i].id.clone();
                let step = i64::try_from(step).map_err(Error::internal)?;
                // As loaded with this attempt: a step accepted meanwhile by a racing attempt is
                // not taken for the last one, and counts as any replay does.
                let latest = devices[i].last_step == step;
                let (cas_id, at) = (id.clone(), cx.now.naive_utc());
                if cx
                    .state
                    .db
                    .run_batched(move |c| q::accept_step(c, &cas_id, step, at))
                    .await?
                {
                    return Ok(Checked::Accepted {
                        device_id: Some(id),
                        // A TOTP token of the inventory is hardware; an app is not.
                        proof: Proof {
                            hardware: devices[i].token_serial.is_some(),
                            ..Proof::default()
                        },
                    });
                }
                // An older step of any device makes the whole value a counted replay.
                replayed = Some(match replayed {
                    Some((first, was_latest)) => (first, was_latest && latest),
                    None => (id, latest),
                });
            }
            Ok(match replayed {
                Some((device_id, latest)) => Checked::Replayed { device_id, latest },
                None => Checked::NoMatch,
            })
        })
    }
}

impl DeviceFactor for Totp {
    fn first_use<'a>(
        &'a self,
        cx: &'a Context<'a>,
        device: &'a DeviceRow,
        code: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<FirstUse>, Error>> {
        Box::pin(async move {
            match matches(cx.state, std::slice::from_ref(device), code).first() {
                Some(&(_, step)) => Ok(Some(FirstUse::step(
                    i64::try_from(step).map_err(Error::internal)?,
                ))),
                None => Ok(None),
            }
        })
    }
}

/// A fixed stand-in secret: users without a usable device cost the same HMAC work as others.
const DECOY_SECRET: [u8; totp::SECRET_LEN] = [0x5a; totp::SECRET_LEN];

/// Checks `code` against each TOTP device; every device is checked (no early exit). Returns the
/// matches, in device order. A device whose secret cannot be opened (sealed under a master key
/// no longer loaded) is logged and skipped, so it cannot make the user's other devices unusable.
fn matches(state: &AppState, rows: &[DeviceRow], code: &str) -> Vec<(usize, u64)> {
    let now = state.clock.now().timestamp();
    let window = state.config.totp.window;
    let mut found = Vec::new();
    let mut checked = false;
    for (i, row) in rows.iter().enumerate() {
        if !row.is(DeviceKind::Totp) {
            continue;
        }
        let opened = params_of(row).and_then(|p| Ok((p, secret_of(state, row)?)));
        let (params, secret) = match opened {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(device = %row.id, error = %crate::error::chain(&e), "device secret cannot be opened");
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
        decoy(state, code, now);
    }
    found
}

/// The HMAC work of a check, for a value no device was checked against (SEC-32).
fn decoy(state: &AppState, code: &str, now: i64) {
    let digits = u8::try_from(code.len()).unwrap_or(6);
    let params = Params::new(Params::default().algorithm, digits, 30).unwrap_or_default();
    let _ = totp::matching_step(&DECOY_SECRET, params, code, now, state.config.totp.window);
}

/// Spends the work of a check on a value that has no device to be checked against.
pub fn decoy_check(state: &AppState, code: &str) {
    decoy(state, code, state.clock.now().timestamp());
}

/// The TOTP parameters a device row stores.
pub fn params_of(r: &DeviceRow) -> Result<Params, Error> {
    let algorithm: Algorithm = r.algorithm.parse().map_err(Error::internal)?;
    let digits = u8::try_from(r.digits).map_err(Error::internal)?;
    let period = u32::try_from(r.period).map_err(Error::internal)?;
    Params::new(algorithm, digits, period).map_err(Error::internal)
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
    Ok(uri_of(state, r, &secret, params_of(r)?))
}

/// The Key URI: the tenant's issuer, and the account the relying party named at enrollment or
/// else the user id. The label is twofold's name for the device, not the app's.
fn uri_of(state: &AppState, r: &DeviceRow, secret: &[u8], params: Params) -> String {
    let issuer = state.config.totp.issuer_for(&r.tenant);
    let account = r.account_name.as_deref().unwrap_or(&r.user_id);
    totp::otpauth_uri(issuer, account, secret, params)
}

/// The longest account name: apps show a line of it.
pub const MAX_ACCOUNT_NAME_CHARS: usize = 128;

/// An account name shows in the app as it is: 1–128 characters, no control or format
/// character, and no `:` — the Key URI format forbids it even percent-encoded, since apps split
/// the label `issuer:account` on it.
pub fn validate_account_name(account: &str) -> Result<(), Error> {
    let chars = account.chars().count();
    if chars == 0
        || chars > MAX_ACCOUNT_NAME_CHARS
        || account.contains(':')
        || !crate::factor::text::is_displayable(account)
    {
        return Err(Error::InvalidRequest(
            "body field `account_name`: expected 1 to 128 printable characters, without `:` or \
             control or format characters"
                .into(),
        ));
    }
    Ok(())
}

/// What an enrollment asks for; every field has a default.
#[derive(Debug, Default)]
pub struct Enrollment {
    pub label: Option<String>,
    pub algorithm: Option<Algorithm>,
    pub digits: Option<u8>,
    pub period: Option<u32>,
    /// The Key URI's account name; `None`: the user id.
    pub account_name: Option<String>,
    pub step_up: Option<String>,
}

/// The answer to an enrollment: the only time the secret leaves twofold.
#[derive(Debug)]
pub struct Enrolled {
    pub device: Device,
    /// Base32, no padding.
    pub secret: String,
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri`, as inline SVG.
    pub qr_svg: String,
    pub expires_at: DateTime<Utc>,
}

/// An authenticator app's device as enrollment asks for it (TOTP, or HOTP in counter mode).
pub(super) struct AppDevice {
    pub kind: DeviceKind,
    pub algorithm: Algorithm,
    pub digits: u8,
    /// 0 for HOTP.
    pub period: u32,
    pub label: Option<String>,
    pub account_name: Option<String>,
    pub step_up: Option<String>,
}

/// The label of an app device the relying party named not: what a person recognises in a list
/// ("Authenticator app, added 6 Dec", "Authenticator app (counter), added 6 Dec"), in the tenant's
/// page language.
fn default_label(state: &AppState, tenant: &str, kind: DeviceKind, now: DateTime<Utc>) -> String {
    use crate::i18n::Arg;
    use chrono::Datelike;
    let lang = state
        .config
        .tenant_languages
        .get(tenant)
        .map(String::as_str);
    let words = state.words.choose(None, lang);
    let date = words.say_with(
        "date-short",
        &[
            ("day", Arg::Number(i64::from(now.day()))),
            ("month", Arg::Number(i64::from(now.month()))),
        ],
    );
    let id = if kind == DeviceKind::Hotp {
        "label-app-counter"
    } else {
        "label-app"
    };
    words.say_with(id, &[("date", Arg::Text(&date))])
}

/// A pending app device with a fresh 160-bit secret (SEC-3): its label and step-up admitted,
/// the secret sealed under its id, inserted and audited. Returns the row, the secret (shown once)
/// and the time it was made.
pub(super) async fn pending_app(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    spec: AppDevice,
) -> Result<(DeviceRow, Zeroizing<[u8; totp::SECRET_LEN]>, DateTime<Utc>), Error> {
    let now = state.clock.now();
    let label = match spec.label {
        Some(l) => l,
        None => default_label(state, &subject.tenant, spec.kind, now),
    };
    if let Some(account) = &spec.account_name {
        validate_account_name(account)?;
    }
    let step_up = devices::admit(
        state,
        subject,
        caller,
        &label,
        spec.step_up.as_deref(),
        Purpose::AddTotp,
        now,
    )
    .await?;
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
        kind: spec.kind.as_str().into(),
        label,
        status: q::PENDING.into(),
        algorithm: spec.algorithm.as_str().into(),
        digits: i32::from(spec.digits),
        period: i32::try_from(spec.period).map_err(Error::internal)?,
        phone: None,
        last_step: -1,
        step_up,
        created_at: now.naive_utc(),
        expires_at: Some((now + PENDING_FOR).naive_utc()),
        confirmed_at: None,
        last_used_at: None,
        revoked_at: None,
        account_name: spec.account_name,
        token_serial: None,
        public_id: None,
    };
    let mut detail = serde_json::json!({"kind": spec.kind, "algorithm": row.algorithm,
                                        "digits": row.digits});
    if spec.period > 0 {
        detail["period"] = serde_json::json!(row.period);
    }
    devices::insert_pending(state, caller, &row, now, detail).await?;
    Ok((row, secret, now))
}

/// Starts a TOTP enrollment: a pending device with a fresh 160-bit secret (SEC-3).
pub async fn enroll(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    req: Enrollment,
) -> Result<Enrolled, Error> {
    let defaults = Params::default();
    let params = Params::new(
        req.algorithm.unwrap_or(defaults.algorithm),
        req.digits.unwrap_or(defaults.digits),
        req.period.unwrap_or(defaults.period),
    )
    .map_err(Error::InvalidRequest)?;
    let spec = AppDevice {
        kind: DeviceKind::Totp,
        algorithm: params.algorithm,
        digits: params.digits,
        period: params.period,
        label: req.label,
        account_name: req.account_name,
        step_up: req.step_up,
    };
    let (row, secret, now) = pending_app(state, subject, caller, spec).await?;
    let uri = uri_of(state, &row, &secret[..], params);
    Ok(Enrolled {
        device: Device::try_from(&row)?,
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
        .run(move |c| q::find(c, &tenant, &user, &id))
        .await?;
    match row {
        Some(r)
            if r.is_in(crate::factor::kind::DeviceStatus::Pending)
                && r.is(DeviceKind::Totp)
                && r.expires_at.is_some_and(|e| e > now) =>
        {
            Ok(r)
        }
        _ => Err(Error::NotFound),
    }
}
