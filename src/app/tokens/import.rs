//! Tokens into the inventory, unassigned: a PSKC file (RFC 6030) or a YubiKey personalization
//! log. All or nothing, in one transaction: every bad key package or line is named (position and
//! serial, never a secret) and nothing is imported. Seeds are sealed like enrolled ones, with
//! the token id as associated data.

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use super::{TokenKind, aad, serial_ok};
use crate::app::import::pskc::{self, Algorithm as PskcAlgorithm, KeySource, PskcKey};
use crate::app::state::AppState;
use crate::audit::{Action, Actor, Event};
use crate::crypto;
use crate::db::models::TokenRow;
use crate::db::tokens as q;
use crate::error::{Error, LineError};
use crate::factor::totp::{Algorithm, Params};
use crate::factor::yubico::{self, Personalization};

/// What an import brought.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The import batch id, on every token it brought.
    pub batch: String,
    pub imported: usize,
}

/// What a file holds.
pub enum Source<'a> {
    Pskc { xml: &'a [u8], key: KeySource<'a> },
    YubicoLog(&'a str),
}

/// A token read from a file, before it is sealed.
struct Read {
    position: usize,
    serial: String,
    kind: TokenKind,
    manufacturer: Option<String>,
    secret: Zeroizing<Vec<u8>>,
    algorithm: Algorithm,
    digits: u8,
    period: u32,
    last_step: i64,
    public_id: Option<String>,
    not_before: Option<DateTime<Utc>>,
    not_after: Option<DateTime<Utc>>,
}

fn refused(errors: Vec<LineError>) -> Error {
    let bad = u64::try_from(errors.len()).unwrap_or(u64::MAX);
    Error::ImportRefused { errors, bad }
}

fn line(position: usize, serial: Option<&str>, reason: &str) -> LineError {
    let at = serial.map(|s| format!("serial {s}: ")).unwrap_or_default();
    LineError {
        line: u64::try_from(position).unwrap_or(u64::MAX),
        message: format!("{at}{reason}"),
    }
}

/// The public and private ids of a Yubico OTP key's PSKC `UserId`: `CN=ekhgjhbctrgn,
/// UID=ca62baca62ba` (draft-josefsson-keyprov-pskc-yubikey).
fn yubico_ids(user_id: &str) -> Option<(String, [u8; 6])> {
    let mut public = None;
    let mut private = None;
    for part in user_id.split(',') {
        let (name, value) = part.split_once('=')?;
        match name.trim().to_ascii_uppercase().as_str() {
            "CN" => public = Some(value.trim().to_ascii_lowercase()),
            "UID" => private = base16ct::mixed::decode_vec(value.trim()).ok(),
            _ => {}
        }
    }
    let public = public.filter(|p| p.len() == 12 && yubico::modhex_decode(p).is_some())?;
    let private: [u8; 6] = private?.try_into().ok()?;
    Some((public, private))
}

/// A PSKC key package as an inventory token, or why not.
fn from_pskc(k: PskcKey) -> Result<Read, LineError> {
    let Some(serial) = k.serial.clone().filter(|s| serial_ok(s)) else {
        return Err(line(
            k.position,
            k.serial.as_deref(),
            "a token needs a serial (DeviceInfo/SerialNo) of 1 to 64 of A-Z a-z 0-9 . _ -",
        ));
    };
    let algorithm = match k.hash.as_deref() {
        None => Algorithm::Sha1,
        Some(h) => h
            .parse()
            .map_err(|e: String| line(k.position, Some(&serial), &e))?,
    };
    let (kind, period, last_step) = match k.algorithm {
        PskcAlgorithm::Hotp => {
            crate::factor::hotp::Hotp::new(algorithm, k.digits)
                .map_err(|e| line(k.position, Some(&serial), &e))?;
            // PSKC's Counter is the next counter the token will use.
            let next = i64::try_from(k.counter.unwrap_or(0))
                .ok()
                .filter(|c| *c < i64::from(u32::MAX))
                .ok_or_else(|| line(k.position, Some(&serial), "the Counter is out of range"))?;
            (TokenKind::Hotp, 0, next.saturating_sub(1))
        }
        PskcAlgorithm::YubicoOtp => {
            let (public_id, private_id) = k
                .user_id
                .as_deref()
                .and_then(yubico_ids)
                .ok_or_else(|| {
                    line(
                        k.position,
                        Some(&serial),
                        "UserId must be CN=<public id, 12 modhex characters>, UID=<private id, 12 hex digits>",
                    )
                })?;
            let mut secret = Zeroizing::new(k.secret.to_vec());
            secret.extend_from_slice(&private_id);
            return Ok(Read {
                position: k.position,
                serial,
                kind: TokenKind::Yubico,
                manufacturer: k.manufacturer.clone(),
                secret,
                algorithm: Algorithm::Sha1,
                digits: 0,
                period: 0,
                last_step: -1,
                public_id: Some(public_id),
                not_before: k.not_before,
                not_after: k.not_after,
            });
        }
        PskcAlgorithm::Totp => {
            if k.time_origin.is_some_and(|t| t != 0) {
                return Err(line(
                    k.position,
                    Some(&serial),
                    "a TOTP time origin (Time) other than 0 is not supported",
                ));
            }
            let period = k.time_step.unwrap_or(30);
            Params::new(algorithm, k.digits, period)
                .map_err(|e| line(k.position, Some(&serial), &e))?;
            (TokenKind::Totp, period, -1)
        }
    };
    Ok(Read {
        position: k.position,
        serial,
        kind,
        manufacturer: k.manufacturer.clone(),
        secret: k.secret,
        algorithm,
        digits: k.digits,
        period,
        last_step,
        public_id: None,
        not_before: k.not_before,
        not_after: k.not_after,
    })
}

fn from_yubico(position: usize, p: Personalization) -> Read {
    let mut secret = Zeroizing::new(Vec::with_capacity(22));
    secret.extend_from_slice(&p.aes_key[..]);
    secret.extend_from_slice(&p.private_id);
    Read {
        position,
        // The personalization tool's default log has no serial: the public id stands in.
        serial: p.serial.clone().unwrap_or_else(|| p.public_id.clone()),
        kind: TokenKind::Yubico,
        manufacturer: Some("Yubico".into()),
        secret,
        algorithm: Algorithm::Sha1,
        digits: 0,
        period: 0,
        last_step: -1,
        public_id: Some(p.public_id),
        not_before: None,
        not_after: None,
    }
}

/// Reads a file into tokens, or every reason it cannot be imported.
fn read(source: Source<'_>) -> Result<Vec<Read>, Error> {
    let (read, mut errors): (Vec<_>, Vec<_>) = match source {
        Source::Pskc { xml, key } => match pskc::parse(xml, key) {
            Ok(keys) => keys.into_iter().map(from_pskc).partition(Result::is_ok),
            Err(pskc::PskcError::Packages(bad)) => {
                let errors = bad
                    .iter()
                    .map(|p| line(p.position, p.serial.as_deref(), &p.reason))
                    .collect();
                return Err(refused(errors));
            }
            Err(e) => return Err(Error::InvalidRequest(format!("PSKC: {e}"))),
        },
        Source::YubicoLog(text) => match yubico::parse_personalization_csv(text) {
            Ok(rows) => (
                rows.into_iter()
                    .enumerate()
                    .map(|(i, p)| Ok(from_yubico(i + 1, p)))
                    .collect(),
                Vec::new(),
            ),
            Err(bad) => {
                let errors = bad.iter().map(|e| line(e.line, None, &e.reason)).collect();
                return Err(refused(errors));
            }
        },
    };
    let mut read: Vec<Read> = read.into_iter().filter_map(Result::ok).collect();
    errors.retain(Result::is_err);
    let mut errors: Vec<LineError> = errors.into_iter().filter_map(Result::err).collect();
    let mut seen = std::collections::HashSet::new();
    read.retain(|r| {
        let fresh = seen.insert(r.serial.clone());
        if !fresh {
            errors.push(line(
                r.position,
                Some(&r.serial),
                "the serial is in the file twice",
            ));
        }
        fresh
    });
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(refused(errors));
    }
    if read.is_empty() {
        return Err(Error::InvalidRequest("the file holds no token".into()));
    }
    Ok(read)
}

/// Imports a file's tokens into `tenant`'s inventory, unassigned.
pub async fn import(
    state: &AppState,
    tenant: &str,
    source: Source<'_>,
    actor: Actor,
    ip: Option<String>,
) -> Result<Imported, Error> {
    let read = read(source)?;
    let now = state.clock.now();
    let batch = crypto::random_id().map_err(Error::internal)?;
    let mut rows = Vec::with_capacity(read.len());
    let mut positions = Vec::with_capacity(read.len());
    for r in read {
        let id = crypto::random_id().map_err(Error::internal)?;
        positions.push((r.position, r.serial.clone(), r.public_id.clone()));
        rows.push(TokenRow {
            secret_sealed: state
                .keys
                .seal(&r.secret, &aad(&id))
                .map_err(Error::internal)?,
            key_id: state.keys.key_id().to_string(),
            id,
            tenant: tenant.to_string(),
            serial: r.serial,
            kind: r.kind.as_str().into(),
            manufacturer: r.manufacturer,
            batch: batch.clone(),
            algorithm: r.algorithm.as_str().into(),
            digits: i32::from(r.digits),
            period: i32::try_from(r.period).map_err(Error::internal)?,
            last_step: r.last_step,
            public_id: r.public_id,
            not_before: r.not_before.map(|t| t.naive_utc()),
            not_after: r.not_after.map(|t| t.naive_utc()),
            status: q::UNASSIGNED.into(),
            user_id: None,
            device_id: None,
            created_at: now.naive_utc(),
            assigned_at: None,
            revoked_at: None,
        });
    }
    let count = rows.len();
    let event = Event::new(tenant, Action::TokensImported, actor)
        .ip(ip)
        .detail(serde_json::json!({"batch": batch, "count": count}));
    let (tenant, stream) = (tenant.to_string(), state.audit.stream().clone());
    let taken = state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |c| {
                let serials: Vec<String> = positions.iter().map(|p| p.1.clone()).collect();
                let ids: Vec<String> = positions.iter().filter_map(|p| p.2.clone()).collect();
                let held = q::existing_serials(c, &tenant, &serials)?;
                let held_ids = q::existing_public_ids(c, &tenant, &ids)?;
                let taken: Vec<LineError> = positions
                    .iter()
                    .filter_map(|(at, serial, pid)| {
                        if held.contains(serial) {
                            Some(line(
                                *at,
                                Some(serial),
                                "the serial is in the inventory already",
                            ))
                        } else if pid.as_ref().is_some_and(|p| held_ids.contains(p)) {
                            Some(line(
                                *at,
                                Some(serial),
                                "the public id is in the inventory already",
                            ))
                        } else {
                            None
                        }
                    })
                    .collect();
                if taken.is_empty() {
                    q::insert_all(c, &rows)?;
                    stream.record(c, now, event)?;
                }
                Ok(taken)
            })
        })
        .await?;
    if !taken.is_empty() {
        return Err(refused(taken));
    }
    Ok(Imported {
        batch,
        imported: count,
    })
}
