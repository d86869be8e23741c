//! Bringing TOTP seeds from another MFA server (`twofold import`, `POST /v1/admin/import`).
//!
//! One device per line, JSON lines or CSV, every field required (no silent defaults): tenant,
//! user, label, base32 secret, algorithm, digits, period. Each line is checked on its own and
//! against the others and the database (a label the user already uses, twice in the input); a
//! single bad line and nothing is imported — the whole import is one transaction — with every bad
//! line named. Imported devices are active at once and sealed like enrolled ones (SEC-20); the
//! seeds never reach a log or an answer. One audit event per tenant records the import.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::app::devices::{aad, validate_label};
use crate::app::users::Subject;
use crate::audit::{self, Action, Actor, Event};
use crate::crypto::{self, Keys};
use crate::db::models::DeviceRow;
use crate::db::{Db, DbConnection, DbError, devices as q, import as db};
use crate::error::{Error, LineError};
use crate::factor::kind::DeviceKind;
use crate::factor::totp::{Algorithm, Params};

/// Lines checked against the database and inserted together.
const CHUNK: usize = 5_000;
/// Bad lines named in a report; the rest are counted.
pub const MAX_REPORTED: usize = 100;
/// A line longer than this is refused before it is parsed.
const MAX_LINE: usize = 4_096;
/// RFC 4226 §4 R6: at least 128 bits; more than 512 is no TOTP seed.
const SECRET_BYTES: std::ops::RangeInclusive<usize> = 16..=64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            _ => Err(format!("unknown format `{s}` (jsonl or csv)")),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// Devices imported, all active.
    pub imported: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Nothing was imported because of these lines (at most [`MAX_REPORTED`]; `bad` counts all).
    #[error("{bad} bad line(s); nothing imported")]
    Lines { errors: Vec<LineError>, bad: u64 },
    #[error("the input holds no device")]
    Empty,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Internal(#[source] crate::error::BoxError),
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> ImportError {
        ImportError::Db(DbError::from(e))
    }
}

impl From<ImportError> for Error {
    fn from(e: ImportError) -> Error {
        match e {
            ImportError::Lines { errors, bad } => Error::ImportRefused { errors, bad },
            ImportError::Empty => Error::InvalidRequest(e.to_string()),
            ImportError::Db(e) => e.into(),
            ImportError::Internal(e) => Error::Internal(e),
        }
    }
}

/// A line as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    tenant: String,
    user: String,
    label: String,
    secret: String,
    algorithm: String,
    digits: u8,
    period: u32,
}

/// A line that passed every check of its own.
struct Checked {
    line: u64,
    tenant: String,
    user: String,
    label: String,
    secret: Zeroizing<Vec<u8>>,
    params: Params,
}

/// RFC 4648 base32, as exporters write it: any case, spaces and padding ignored.
fn decode_secret(s: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let secret = totp_rs::Secret::try_from_base32(&cleaned)
        .map_err(|_| "secret: not base32 (RFC 4648: A-Z, 2-7)")?;
    let bytes = Zeroizing::new(secret.as_bytes().to_vec());
    if !SECRET_BYTES.contains(&bytes.len()) {
        return Err(format!(
            "secret: {} bytes; a TOTP seed has 16 to 64 (128 to 512 bits)",
            bytes.len()
        ));
    }
    Ok(bytes)
}

fn check(line: u64, r: Record, scope: Option<&str>) -> Result<Checked, String> {
    let message = |e: Error| e.to_string();
    crate::app::api_keys::validate_tenant(&r.tenant).map_err(message)?;
    if scope.is_some_and(|t| t != r.tenant) {
        return Err(format!(
            "tenant `{}` is outside this key's tenant",
            r.tenant
        ));
    }
    Subject::new(r.tenant.clone(), r.user.clone()).map_err(message)?;
    validate_label(&r.label).map_err(message)?;
    let secret = decode_secret(&r.secret)?;
    let algorithm: Algorithm = r.algorithm.parse()?;
    let params = Params::new(algorithm, r.digits, r.period)?;
    Ok(Checked {
        line,
        tenant: r.tenant,
        user: r.user,
        label: r.label,
        secret,
        params,
    })
}

/// serde_json's message, unless it would quote a value: a secret in the wrong field must not be
/// echoed into the report or the terminal.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("invalid type") || text.starts_with("invalid value") {
        format!(
            "a field has the wrong type at column {} (digits and period are numbers, the rest \
             strings)",
            e.column()
        )
    } else {
        text
    }
}

/// The input's lines as records, each with its line number.
fn records<R: BufRead + 'static>(
    input: R,
    format: Format,
) -> Box<dyn Iterator<Item = (u64, Result<Record, String>)>> {
    match format {
        Format::Jsonl => Box::new(input.lines().enumerate().filter_map(|(i, line)| {
            let n = i as u64 + 1;
            let parsed = match line {
                Err(e) => Err(format!("cannot be read: {e}")),
                Ok(l) if l.trim().is_empty() => return None,
                Ok(l) if l.len() > MAX_LINE => Err(format!("longer than {MAX_LINE} bytes")),
                Ok(l) => serde_json::from_str(&l).map_err(|e| json_error(&e)),
            };
            Some((n, parsed))
        })),
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(input);
            let headers = reader.headers().cloned();
            Box::new(reader.into_records().map(move |row| {
                let row = match row {
                    Ok(row) => row,
                    Err(e) => {
                        let n = e.position().map_or(0, |p| p.line());
                        return (n, Err(e.to_string()));
                    }
                };
                let n = row.position().map_or(0, |p| p.line());
                let parsed = match &headers {
                    Ok(h) => row.deserialize(Some(h)).map_err(|e| e.to_string()),
                    Err(e) => Err(format!("header: {e}")),
                };
                (n, parsed)
            }))
        }
    }
}

/// What an import is told besides its input.
pub struct Context {
    pub keys: std::sync::Arc<Keys>,
    pub stream: audit::Stream,
    /// The only tenant lines may name (a tenant admin key); `None`: any.
    pub scope: Option<String>,
    pub actor: Actor,
    pub ip: Option<String>,
    pub now: DateTime<Utc>,
}

/// Imports every line of `input`, or nothing, on a pooled connection. It runs to the end, not
/// under the request deadline: an import cut off by a 503 would still commit behind the caller.
pub async fn import<R: BufRead + Send + 'static>(
    db: &Db,
    input: R,
    format: Format,
    cx: Context,
) -> Result<Imported, ImportError> {
    db.run_to_end(move |c| Ok(run(c, input, format, &cx)))
        .await?
}

/// Imports every line of `input` in one transaction, or nothing.
pub fn run<R: BufRead + 'static>(
    conn: &mut DbConnection,
    input: R,
    format: Format,
    cx: &Context,
) -> Result<Imported, ImportError> {
    conn.transaction(|c| {
        db::write_first(c)?;
        let mut bad = Vec::new();
        let mut bad_count = 0u64;
        let mut per_tenant: BTreeMap<String, u64> = BTreeMap::new();
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut note = |bad: &mut Vec<LineError>, line, message| {
            bad_count += 1;
            if bad.len() < MAX_REPORTED {
                bad.push(LineError { line, message });
            }
        };
        for (line, record) in records(input, format) {
            match record.and_then(|r| check(line, r, cx.scope.as_deref())) {
                Ok(checked) => chunk.push(checked),
                Err(message) => note(&mut bad, line, message),
            }
            if chunk.len() == CHUNK {
                for e in store(c, &mut chunk, bad.is_empty(), cx, &mut per_tenant)? {
                    note(&mut bad, e.line, e.message);
                }
            }
        }
        for e in store(c, &mut chunk, bad.is_empty(), cx, &mut per_tenant)? {
            note(&mut bad, e.line, e.message);
        }
        if bad_count > 0 {
            bad.sort_by_key(|e| e.line);
            return Err(ImportError::Lines {
                errors: bad,
                bad: bad_count,
            });
        }
        let imported: u64 = per_tenant.values().sum();
        if imported == 0 {
            return Err(ImportError::Empty);
        }
        let events = per_tenant.into_iter().map(|(tenant, count)| {
            Event::new(tenant, Action::DevicesImported, cx.actor.clone())
                .ip(cx.ip.clone())
                .detail(serde_json::json!({ "count": count }))
        });
        cx.stream.record_all(c, cx.now, events)?;
        Ok(Imported { imported })
    })
}

/// Checks a chunk against itself and the database; inserts it when `insert` (no bad line seen
/// so far: after one, the transaction is rolled back anyway and only the report still matters).
fn store(
    c: &mut DbConnection,
    chunk: &mut Vec<Checked>,
    insert: bool,
    cx: &Context,
    per_tenant: &mut BTreeMap<String, u64>,
) -> Result<Vec<LineError>, ImportError> {
    let mut bad = Vec::new();
    let mut seen: HashMap<(&str, &str, &str), u64> = HashMap::new();
    for d in chunk.iter() {
        if let Some(first) = seen.insert((&d.tenant, &d.user, &d.label), d.line) {
            bad.push(LineError {
                line: d.line,
                message: format!("same tenant, user and label as line {first}"),
            });
        }
    }
    let now = cx.now.naive_utc();
    let mut by_tenant: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for d in chunk.iter() {
        by_tenant.entry(&d.tenant).or_default().push(&d.user);
    }
    for (tenant, users) in by_tenant {
        let taken = db::labels_in_use(c, tenant, &users, now)?;
        for d in chunk.iter().filter(|d| d.tenant == tenant) {
            if taken.contains(&(d.user.clone(), d.label.clone())) {
                bad.push(LineError {
                    line: d.line,
                    message: format!(
                        "user `{}` already has a device labelled `{}`",
                        d.user, d.label
                    ),
                });
            }
        }
    }
    if insert && bad.is_empty() {
        let rows = chunk
            .iter()
            .map(|d| row(cx, d, now))
            .collect::<Result<Vec<_>, _>>()?;
        db::insert(c, &rows, now)?;
        for d in chunk.iter() {
            *per_tenant.entry(d.tenant.clone()).or_default() += 1;
        }
    }
    chunk.clear();
    Ok(bad)
}

fn row(cx: &Context, d: &Checked, now: chrono::NaiveDateTime) -> Result<DeviceRow, ImportError> {
    let internal = |e: crypto::CryptoError| ImportError::Internal(e.into());
    let id = crypto::random_id().map_err(internal)?;
    Ok(DeviceRow {
        secret_sealed: Some(cx.keys.seal(&d.secret, &aad(&id)).map_err(internal)?),
        key_id: Some(cx.keys.key_id().to_string()),
        id,
        tenant: d.tenant.clone(),
        user_id: d.user.clone(),
        kind: DeviceKind::Totp.as_str().into(),
        label: d.label.clone(),
        status: q::ACTIVE.into(),
        algorithm: d.params.algorithm.as_str().into(),
        digits: i32::from(d.params.digits),
        period: i32::try_from(d.params.period).map_err(|e| ImportError::Internal(e.into()))?,
        phone: None,
        last_step: -1,
        step_up: false,
        created_at: now,
        expires_at: None,
        confirmed_at: Some(now),
        last_used_at: None,
        revoked_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_decode_as_exporters_write_them() {
        let want = decode_secret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        assert_eq!(&want[..], b"12345678901234567890");
        for spelled in [
            "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====",
        ] {
            assert_eq!(decode_secret(spelled).unwrap(), want);
        }
        assert!(
            decode_secret("GEZDGNBVGY3TQOJQ")
                .unwrap_err()
                .contains("10 bytes")
        );
        assert!(
            decode_secret("GEZDGNBVGY3TQOJ1GEZDGNBVGY3TQOJQ").is_err(),
            "1 is not base32"
        );
    }

    fn line(tenant: &str, digits: u8, period: u32, algorithm: &str) -> Record {
        Record {
            tenant: tenant.into(),
            user: "alice".into(),
            label: "phone".into(),
            secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into(),
            algorithm: algorithm.into(),
            digits,
            period,
        }
    }

    #[test]
    fn each_field_is_checked() {
        assert!(check(1, line("default", 6, 30, "SHA1"), None).is_ok());
        assert!(check(1, line("default", 8, 60, "SHA512"), Some("default")).is_ok());
        let refused = |r, scope| check(1, r, scope).err().unwrap();
        assert!(refused(line("acme", 6, 30, "SHA1"), Some("default")).contains("outside"));
        assert!(refused(line("a/b", 6, 30, "SHA1"), None).contains("tenant"));
        assert!(refused(line("default", 7, 30, "SHA1"), None).contains("digits"));
        assert!(refused(line("default", 6, 45, "SHA1"), None).contains("period"));
        assert!(refused(line("default", 6, 30, "sha1"), None).contains("algorithm"));
    }
}
