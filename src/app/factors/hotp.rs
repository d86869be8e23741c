//! HOTP devices (RFC 4226): an app in counter mode (enrolled like TOTP, with its QR code) or a
//! hardware key fob from the token inventory. A code is accepted within the look-ahead window
//! after the last accepted counter, which then advances past it in one compare-and-set: a code
//! works once, and a code older than the last accepted one never again.

use futures_util::future::LocalBoxFuture;
use subtle::ConstantTimeEq;

use super::totp::{AppDevice, Enrolled, pending_app, secret_of};
use super::{Checked, Context, DeviceFactor, Factor, FirstUse};
use crate::app::assertion::{Method, Proof};
use crate::app::devices::{Device, PENDING_FOR};
use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::db::devices as q;
use crate::db::models::DeviceRow;
use crate::error::Error;
use crate::factor::hotp::{self, Hotp};
use crate::factor::kind::DeviceKind;
use crate::factor::totp::{self, Algorithm};

pub struct HotpFactor;

/// A device's code parameters.
pub fn params_of(r: &DeviceRow) -> Result<Hotp, Error> {
    let algorithm: Algorithm = r.algorithm.parse().map_err(Error::internal)?;
    let digits = u8::try_from(r.digits).map_err(Error::internal)?;
    Hotp::new(algorithm, digits).map_err(Error::internal)
}

/// The next counter a device should show: one past the last accepted.
pub fn next_counter(r: &DeviceRow) -> Result<u64, Error> {
    u64::try_from(r.last_step.saturating_add(1)).map_err(Error::internal)
}

/// What a code of a device matched: a counter ahead (to accept), or the last accepted one.
enum Match {
    Ahead(u64),
    Last,
    Nothing,
}

fn judge(state: &AppState, r: &DeviceRow, code: &str) -> Result<Match, Error> {
    let hotp = params_of(r)?;
    if usize::from(hotp.digits) != code.len() {
        return Ok(Match::Nothing);
    }
    let secret = secret_of(state, r)?;
    let window = state.config.totp.hotp_window;
    if let Some(counter) = hotp.matching_counter(&secret, code, next_counter(r)?, window) {
        return Ok(Match::Ahead(counter));
    }
    let last = u64::try_from(r.last_step).ok();
    let repeated =
        last.is_some_and(|c| bool::from(hotp.code(&secret, c).as_bytes().ct_eq(code.as_bytes())));
    Ok(if repeated {
        Match::Last
    } else {
        Match::Nothing
    })
}

impl Factor for HotpFactor {
    fn method(&self) -> Method {
        Method::Hotp
    }

    fn kind(&self) -> Option<DeviceKind> {
        Some(DeviceKind::Hotp)
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
            for row in devices.iter().filter(|r| r.is(DeviceKind::Hotp)) {
                let judged = judge(cx.state, row, code).unwrap_or_else(|e| {
                    tracing::error!(device = %row.id, error = %crate::error::chain(&e), "HOTP device cannot be checked");
                    Match::Nothing
                });
                match judged {
                    Match::Ahead(counter) => {
                        let step = i64::try_from(counter).map_err(Error::internal)?;
                        let (id, at) = (row.id.clone(), cx.now.naive_utc());
                        if cx
                            .state
                            .db
                            .run_batched(move |c| q::accept_step(c, &id, step, at))
                            .await?
                        {
                            return Ok(Checked::Accepted {
                                device_id: Some(row.id.clone()),
                                proof: Proof {
                                    hardware: row.token_serial.is_some(),
                                    ..Proof::default()
                                },
                            });
                        }
                        // A racing attempt accepted it (or one after it) first.
                        replayed.get_or_insert((row.id.clone(), false));
                    }
                    Match::Last => {
                        replayed.get_or_insert((row.id.clone(), true));
                    }
                    Match::Nothing => {}
                }
            }
            Ok(match replayed {
                Some((device_id, latest)) => Checked::Replayed { device_id, latest },
                None => Checked::NoMatch,
            })
        })
    }
}

impl DeviceFactor for HotpFactor {
    fn first_use<'a>(
        &'a self,
        cx: &'a Context<'a>,
        device: &'a DeviceRow,
        code: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<FirstUse>, Error>> {
        Box::pin(async move {
            Ok(match judge(cx.state, device, code)? {
                Match::Ahead(counter) => Some(FirstUse {
                    proof: Proof {
                        hardware: device.token_serial.is_some(),
                        ..Proof::default()
                    },
                    ..FirstUse::step(i64::try_from(counter).map_err(Error::internal)?)
                }),
                Match::Last | Match::Nothing => None,
            })
        })
    }
}

/// What a soft HOTP enrollment asks for; every field has a default.
#[derive(Debug, Default)]
pub struct Enrollment {
    pub label: Option<String>,
    pub algorithm: Option<Algorithm>,
    pub digits: Option<u8>,
    pub account_name: Option<String>,
    pub step_up: Option<String>,
}

/// Starts a soft HOTP enrollment (an app in counter mode): a pending device with a fresh
/// 160-bit secret and counter 0, confirmed by its first code.
pub async fn enroll(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    req: Enrollment,
) -> Result<Enrolled, Error> {
    let hotp = Hotp::new(
        req.algorithm.unwrap_or(Algorithm::Sha1),
        req.digits.unwrap_or(6),
    )
    .map_err(Error::InvalidRequest)?;
    let spec = AppDevice {
        kind: DeviceKind::Hotp,
        algorithm: hotp.algorithm,
        digits: hotp.digits,
        period: 0,
        label: req.label,
        account_name: req.account_name,
        step_up: req.step_up,
    };
    let (row, secret, now) = pending_app(state, subject, caller, spec).await?;
    let uri = otpauth_uri(state, &row, &secret[..], hotp)?;
    Ok(Enrolled {
        device: Device::try_from(&row)?,
        secret: totp::base32_secret(&secret[..]),
        qr_svg: crate::factor::qr::svg(&uri).map_err(Error::internal)?,
        otpauth_uri: uri,
        expires_at: now + PENDING_FOR,
    })
}

/// The Key URI of a HOTP device, with the next counter it should use.
pub fn otpauth_uri(
    state: &AppState,
    r: &DeviceRow,
    secret: &[u8],
    hotp: Hotp,
) -> Result<String, Error> {
    let issuer = state.config.totp.issuer_for(&r.tenant);
    let account = r.account_name.as_deref().unwrap_or(&r.user_id);
    Ok(hotp::otpauth_uri(
        issuer,
        account,
        secret,
        hotp,
        next_counter(r)?,
    ))
}
