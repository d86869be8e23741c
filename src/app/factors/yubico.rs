//! YubiKeys in Yubico OTP mode: a 44-character modhex OTP whose first 12 characters name the key
//! (its public id) and whose AES-encrypted block carries the key's private id and two counters.
//! Recognised by its shape in verify; the block must decrypt under the key's AES key with a good
//! CRC and the private id, and the (use, session) counter pair must be higher than the last one
//! accepted — advanced in one compare-and-set, so an OTP works once and an older one never.
//! Keys come from the token inventory only, so they are hardware by construction.

use futures_util::future::LocalBoxFuture;
use zeroize::Zeroizing;

use super::totp::secret_of;
use super::{Checked, Context, DeviceFactor, Factor, FirstUse};
use crate::app::assertion::{Method, Proof};
use crate::app::state::AppState;
use crate::db::devices as q;
use crate::db::models::DeviceRow;
use crate::error::Error;
use crate::factor::kind::DeviceKind;
use crate::factor::yubico;

pub struct YubicoOtp;

/// The sealed secret of a Yubico OTP device or token: the AES key, then the private id.
pub const SECRET_LEN: usize = 22;

/// The AES key and private id a device's sealed secret holds.
fn keys_of(state: &AppState, r: &DeviceRow) -> Result<(Zeroizing<[u8; 16]>, [u8; 6]), Error> {
    let secret = secret_of(state, r)?;
    let (key, private) = secret
        .split_at_checked(16)
        .filter(|(_, p)| p.len() == 6)
        .ok_or_else(|| Error::internal(format!("device {}: not a Yubico OTP secret", r.id)))?;
    let mut aes = Zeroizing::new([0u8; 16]);
    aes.copy_from_slice(key);
    let mut id = [0u8; 6];
    id.copy_from_slice(private);
    Ok((aes, id))
}

/// What an OTP of a device is.
enum Judged {
    /// Genuine and newer than the last accepted: its counter.
    Fresh(i64),
    /// Genuine but not newer: `true` when it is the last accepted one itself.
    Old(bool),
    /// Not this key's (a wrong block, CRC or private id).
    Forged,
}

fn judge(state: &AppState, r: &DeviceRow, otp: &str) -> Result<Judged, Error> {
    let (aes, private) = keys_of(state, r)?;
    let Some(d) = yubico::decrypt(otp, &aes) else {
        return Ok(Judged::Forged);
    };
    if !yubico::private_id_matches(&d.private_id, &private) {
        return Ok(Judged::Forged);
    }
    let counter = i64::from(d.counter());
    Ok(if counter > r.last_step {
        Judged::Fresh(counter)
    } else {
        Judged::Old(counter == r.last_step)
    })
}

/// The device whose public id begins the OTP.
fn device_of<'a>(devices: &'a [DeviceRow], otp: &str) -> Option<&'a DeviceRow> {
    let id = yubico::public_id(otp)?;
    devices
        .iter()
        .find(|r| r.is(DeviceKind::Yubico) && r.public_id.as_deref() == Some(id))
}

const HARDWARE: Proof = Proof {
    user_verified: false,
    hardware: true,
};

impl Factor for YubicoOtp {
    fn method(&self) -> Method {
        Method::YubicoOtp
    }

    fn kind(&self) -> Option<DeviceKind> {
        Some(DeviceKind::Yubico)
    }

    fn shape(&self, presented: &str) -> Option<String> {
        yubico::normalise(presented)
    }

    fn check<'a>(
        &'a self,
        cx: &'a Context<'a>,
        devices: &'a [DeviceRow],
        otp: &'a str,
    ) -> LocalBoxFuture<'a, Result<Checked, Error>> {
        Box::pin(async move {
            let Some(row) = device_of(devices, otp) else {
                return Ok(Checked::NoMatch);
            };
            let refused = || Checked::Refused {
                device_id: row.id.clone(),
            };
            Ok(match judge(cx.state, row, otp)? {
                Judged::Forged => refused(),
                Judged::Old(latest) => Checked::Replayed {
                    device_id: row.id.clone(),
                    latest,
                },
                Judged::Fresh(counter) => {
                    let (id, at) = (row.id.clone(), cx.now.naive_utc());
                    let accepted = cx
                        .state
                        .db
                        .run_batched(move |c| q::accept_step(c, &id, counter, at))
                        .await?;
                    if accepted {
                        Checked::Accepted {
                            device_id: Some(row.id.clone()),
                            proof: HARDWARE,
                        }
                    } else {
                        Checked::Replayed {
                            device_id: row.id.clone(),
                            latest: false,
                        }
                    }
                }
            })
        })
    }
}

/// Yubico OTP devices arrive active from the inventory; a pending one (none is made today)
/// would be confirmed by a fresh OTP of its own like any device.
impl DeviceFactor for YubicoOtp {
    fn first_use<'a>(
        &'a self,
        cx: &'a Context<'a>,
        device: &'a DeviceRow,
        otp: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<FirstUse>, Error>> {
        Box::pin(async move {
            let Some(otp) = yubico::normalise(otp) else {
                return Ok(None);
            };
            if device_of(std::slice::from_ref(device), &otp).is_none() {
                return Ok(None);
            }
            Ok(match judge(cx.state, device, &otp)? {
                Judged::Fresh(counter) => Some(FirstUse {
                    proof: HARDWARE,
                    ..FirstUse::step(counter)
                }),
                Judged::Old(_) | Judged::Forged => None,
            })
        })
    }
}
