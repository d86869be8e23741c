//! Recovery codes: ten single-use codes per user, for when every device is lost (SEC-35). A set
//! is made (the factor's enrollment) and redeemed code by code.
//!
//! Each code is 12 characters of a 32-letter alphabet (60 bits), shown as `xxxx-xxxx-xxxx`, and
//! stored only as a keyed hash bound to its tenant and user (SEC-26). A new set voids the old.

use futures_util::future::LocalBoxFuture;

use super::{Checked, Context, Factor};
use crate::app::assertion::{Method, Proof};

use crate::app::state::AppState;
use crate::app::users::{Caller, Subject};
use crate::audit::{Action, Actor, Event};
use crate::crypto;
use crate::db::models::{DeviceRow, NewRecoveryCode};
use crate::db::{devices, recovery_codes as q};
use crate::error::Error;
use crate::factor::kind::DeviceKind;

pub struct Recovery;

impl Factor for Recovery {
    fn method(&self) -> Method {
        Method::Recovery
    }

    fn kind(&self) -> Option<DeviceKind> {
        None
    }

    fn shape(&self, presented: &str) -> Option<String> {
        parse(presented)
    }

    fn check<'a>(
        &'a self,
        cx: &'a Context<'a>,
        _devices: &'a [DeviceRow],
        code: &'a str,
    ) -> LocalBoxFuture<'a, Result<Checked, Error>> {
        Box::pin(async move {
            let (actor, ip) = (cx.caller.actor.clone(), cx.caller.ip.clone());
            Ok(if redeem(cx.state, cx.subject, code, actor, ip).await? {
                Checked::Accepted {
                    device_id: None,
                    proof: Proof::default(),
                }
            } else {
                Checked::NoMatch
            })
        })
    }
}

use crate::factor::recovery_code;
pub use crate::factor::recovery_code::parse;

pub const COUNT: usize = 10;
const HASH_DOMAIN: &str = "recovery-code";

/// A fresh code from the OS CSPRNG.
fn generate() -> Result<String, Error> {
    let bytes =
        crypto::random_bytes::<{ recovery_code::RANDOM_BYTES }>().map_err(Error::internal)?;
    Ok(recovery_code::from_random(&bytes))
}

fn hash_input(subject: &Subject, code: &str) -> Vec<u8> {
    [
        subject.tenant.as_bytes(),
        subject.user.as_bytes(),
        code.as_bytes(),
    ]
    .join(&0u8)
}

/// Makes a new set for the user, voiding the old one; returns the codes, shown this once. A set
/// is a factor: for a user with an active device it needs the same step-up as a new device
/// (SEC-7), or an admin key — else a hijacked relying-party session could mint codes, verify
/// with one and add a device.
pub async fn create(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    step_up: Option<&str>,
) -> Result<Vec<String>, Error> {
    let purpose = crate::app::step_up::Purpose::RecoveryCodes;
    crate::app::step_up::require(state, subject, caller, step_up, purpose).await?;
    let (actor, ip) = (caller.actor.clone(), caller.ip.clone());
    let now = state.clock.now();
    let codes = (0..COUNT)
        .map(|_| generate())
        .collect::<Result<Vec<_>, _>>()?;
    let rows = codes
        .iter()
        .map(|code| {
            Ok(NewRecoveryCode {
                id: crypto::random_id().map_err(Error::internal)?,
                tenant: subject.tenant.clone(),
                user_id: subject.user.clone(),
                code_hash: state.keys.hash(HASH_DOMAIN, &hash_input(subject, code)),
                created_at: now.naive_utc(),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let event = Event::new(&subject.tenant, Action::RecoveryCodesCreated, actor)
        .user(&subject.user)
        .ip(ip)
        .detail(serde_json::json!({"count": COUNT}));
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let stream = state.audit.stream().clone();
    state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |c| {
                devices::ensure_user(c, &tenant, &user, now.naive_utc())?;
                q::replace_set(c, &tenant, &user, &rows)?;
                stream.record(c, now, event)
            })
        })
        .await?;
    Ok(codes)
}

/// Uses the code if it is one of the user's unused ones: one conditional update, so of racing
/// uses exactly one wins. The use is audited in the same transaction.
pub async fn redeem(
    state: &AppState,
    subject: &Subject,
    code: &str,
    actor: Actor,
    ip: Option<String>,
) -> Result<bool, Error> {
    let now = state.clock.now();
    let hashes = state.keys.hashes(HASH_DOMAIN, &hash_input(subject, code));
    let event = Event::new(&subject.tenant, Action::RecoveryCodeUsed, actor)
        .user(&subject.user)
        .ip(ip);
    let (tenant, user) = (subject.tenant.clone(), subject.user.clone());
    let stream = state.audit.stream().clone();
    Ok(state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |c| {
                if !q::use_code(c, &tenant, &user, &hashes, now.naive_utc())? {
                    return Ok(false);
                }
                stream.record(c, now, event)?;
                Ok(true)
            })
        })
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_parse_and_carry_60_bits() {
        let code = generate().unwrap();
        assert_eq!(code.len(), 14);
        assert_eq!(parse(&code).as_deref(), Some(code.as_str()));
        assert_eq!(parse(&code.to_uppercase()).as_deref(), Some(code.as_str()));
        // 12 characters of a 32-letter alphabet.
        assert!(12.0 * 32f64.log2() >= 50.0);
        assert_ne!(generate().unwrap(), code);
    }
}
