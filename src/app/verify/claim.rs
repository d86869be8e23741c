//! A user claims an unassigned token of the inventory by its serial and a code from it: the code
//! proves the token is in their hand. It goes through the one limiter (a wrong serial counts
//! like a wrong code, so serials cannot be guessed faster than codes), and adding a factor to a
//! user who has one needs their step-up (SEC-7), checked once the code is right.

use super::VerifyError;
use super::attempt::{Outcome, attempt, rejected};
use crate::app::assertion::{Method, Proof};
use crate::app::devices::{self, Device};
use crate::app::state::AppState;
use crate::app::step_up::Purpose;
use crate::app::tokens::{self, TokenKind};
use crate::app::users::{Caller, Subject};
use crate::audit::{Action, Event};
use crate::db::models::TokenRow;
use crate::db::tokens as q;
use crate::error::Error;
use crate::factor::hotp::Hotp;
use crate::factor::totp::{self, Params};
use crate::factor::yubico;

#[derive(Debug)]
pub struct Claimed {
    pub device: Device,
    /// The code was a successful check of the new device: usable as `step_up`.
    pub assertion: String,
}

/// The counter (HOTP, Yubico OTP) or time step (TOTP) a token's code proves, if it does.
fn proven(state: &AppState, token: &TokenRow, code: &str) -> Result<Option<i64>, Error> {
    let kind: TokenKind = token.kind.parse().map_err(Error::internal)?;
    let secret = state
        .keys
        .open(&token.key_id, &token.secret_sealed, &tokens::aad(&token.id))
        .map_err(Error::internal)?;
    let algorithm = token.algorithm.parse().map_err(Error::internal)?;
    let digits = u8::try_from(token.digits).map_err(Error::internal)?;
    let next = u64::try_from(token.last_step.saturating_add(1)).map_err(Error::internal)?;
    let found = match kind {
        TokenKind::Hotp => Hotp::new(algorithm, digits)
            .map_err(Error::internal)?
            .matching_counter(&secret, code, next, state.config.totp.hotp_window),
        TokenKind::Totp => {
            let period = u32::try_from(token.period).map_err(Error::internal)?;
            let params = Params::new(algorithm, digits, period).map_err(Error::internal)?;
            let now = state.clock.now().timestamp();
            totp::matching_step(&secret, params, code, now, state.config.totp.window)
                .filter(|s| i64::try_from(*s).is_ok_and(|s| s > token.last_step))
        }
        TokenKind::Yubico => {
            let (Some(aes), Some(private)) = (secret.get(..16), secret.get(16..22)) else {
                return Err(Error::internal("not a Yubico OTP secret"));
            };
            let aes: [u8; 16] = aes.try_into().map_err(Error::internal)?;
            let private: [u8; 6] = private.try_into().map_err(Error::internal)?;
            let otp = yubico::normalise(code)
                .filter(|o| token.public_id.as_deref() == yubico::public_id(o));
            otp.and_then(|o| yubico::decrypt(&o, &aes))
                .filter(|d| yubico::private_id_matches(&d.private_id, &private))
                .map(|d| u64::from(d.counter()))
                .filter(|c| i64::try_from(*c).is_ok_and(|c| c > token.last_step))
        }
    };
    found
        .map(|c| i64::try_from(c).map_err(Error::internal))
        .transpose()
}

fn method_of(kind: &str) -> Method {
    match kind {
        "hotp" => Method::Hotp,
        "yubico" => Method::YubicoOtp,
        _ => Method::Totp,
    }
}

async fn evaluate(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    serial: String,
    code: Option<String>,
    step_up: Option<String>,
) -> Result<Outcome, Error> {
    let Some(code) = code.filter(|c| totp::is_code(c) || yubico::is_otp(c)) else {
        return Ok(Outcome::Rejected {
            action: Action::TokenClaimed,
            device: None,
            malformed: true,
        });
    };
    let now = state.clock.now();
    let (tenant, wanted) = (subject.tenant.clone(), serial.clone());
    let token = state
        .db
        .run(move |c| q::find(c, &tenant, &wanted))
        .await?
        .filter(|t| {
            t.status == q::UNASSIGNED
                && t.not_before.is_none_or(|b| b <= now.naive_utc())
                && t.not_after.is_none_or(|a| a > now.naive_utc())
        });
    let Some(mut token) = token else {
        // No such token to claim: the same work as a check, the same answer as a wrong code.
        crate::app::factors::totp::decoy_check(state, &code);
        return Ok(rejected(Action::TokenClaimed, None));
    };
    let Some(counter) = proven(state, &token, &code)? else {
        return Ok(rejected(Action::TokenClaimed, None));
    };
    let label = format!("Token {}", token.serial);
    let authorized = devices::admit(
        state,
        subject,
        caller,
        &label,
        step_up.as_deref(),
        Purpose::ClaimToken,
        now,
    )
    .await?;
    token.last_step = counter;
    let (keys, stream, user) = (
        state.keys.clone(),
        state.audit.stream().clone(),
        subject.user.clone(),
    );
    let actor = caller.actor.clone();
    let ip = caller.ip.clone();
    let device = state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |c| {
                // SEC-7 at activation, as confirm does: without a step-up (the user had no active
                // device when the claim began) the token must not join a device activated since.
                crate::db::devices::ensure_user(c, &token.tenant, &user, now.naive_utc())?;
                crate::db::devices::lock_user(c, &token.tenant, &user)?;
                if !authorized && crate::db::devices::has_active(c, &token.tenant, &user)? {
                    return Ok(None);
                }
                let Some(device) =
                    tokens::device_for(c, &keys, &token, &user, authorized, now.naive_utc())?
                else {
                    return Ok(None);
                };
                let event = Event::new(&token.tenant, Action::TokenClaimed, actor)
                    .user(&user)
                    .device(&device.id)
                    .ip(ip)
                    .detail(serde_json::json!({"serial": token.serial, "kind": token.kind}));
                stream.record(c, now, event)?;
                Ok(Some(device))
            })
        })
        .await;
    let device = match device {
        Err(crate::db::DbError::Aborted(r)) if r == tokens::TAKEN => None,
        other => other?,
    };
    Ok(match device {
        Some(row) => Outcome::Accepted {
            device_id: Some(row.id.clone()),
            method: method_of(&row.kind),
            device: Some(Box::new(row)),
            proof: Proof {
                hardware: true,
                ..Proof::default()
            },
        },
        None => rejected(Action::TokenClaimed, None),
    })
}

/// Claims an unassigned token with a code from it: the token becomes an active device of the
/// user, and the answer carries an assertion (the code was a successful check).
pub async fn claim(
    state: &AppState,
    subject: &Subject,
    caller: &Caller,
    serial: String,
    code: Option<String>,
    step_up: Option<String>,
) -> Result<Claimed, VerifyError> {
    let accepted = attempt(
        state,
        subject,
        caller,
        evaluate(state, subject, caller, serial, code, step_up),
    )
    .await?;
    let row = accepted
        .device
        .ok_or_else(|| Error::internal("claim accepted without a device"))?;
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
    Ok(Claimed {
        device: Device::try_from(row.as_ref())?,
        assertion,
    })
}
