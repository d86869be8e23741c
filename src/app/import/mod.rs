//! Bringing TOTP seeds from another MFA server (`twofold import`, `POST /v1/admin/import`).
//!
//! One device per line, JSON lines or CSV, every field required (no silent defaults): tenant,
//! user, label, base32 secret, algorithm, digits, period. Each line is checked on its own and
//! against the others and the database (a label the user already uses, twice in the input); a
//! single bad line and nothing is imported — the whole import is one transaction — with every bad
//! line named. Imported devices are active at once and sealed like enrolled ones (SEC-20); the
//! seeds never reach a log or an answer. One audit event per tenant records the import.

mod lines;
pub mod pskc;

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use chrono::{DateTime, Utc};

use self::lines::{Checked, check, records};
use crate::app::devices::aad;
use crate::audit::{self, Action, Actor, Event};
use crate::crypto::{self, CryptoError, Keys};
use crate::db::models::DeviceRow;
use crate::db::{Db, DbConnection, DbError, devices as q, import as db};
use crate::error::LineError;
use crate::factor::kind::DeviceKind;

/// Lines checked against the database and inserted together.
const CHUNK: usize = 5_000;
/// Bad lines named in a report; the rest are counted.
pub const MAX_REPORTED: usize = 100;

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

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// A device secret could not be sealed (or its id drawn).
    #[error("cannot seal an imported secret")]
    Seal(#[from] CryptoError),
    /// A period that fits no database column (the checks admit none such).
    #[error("period out of range")]
    Period(#[from] std::num::TryFromIntError),
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> ImportError {
        ImportError::Db(DbError::from(e))
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
    crate::db::write_transaction(conn, |c| {
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
    let id = crypto::random_id()?;
    Ok(DeviceRow {
        secret_sealed: Some(cx.keys.seal(&d.secret, &aad(&id))?),
        key_id: Some(cx.keys.key_id().to_string()),
        id,
        tenant: d.tenant.clone(),
        user_id: d.user.clone(),
        kind: DeviceKind::Totp.as_str().into(),
        label: d.label.clone(),
        status: q::ACTIVE.into(),
        algorithm: d.params.algorithm.as_str().into(),
        digits: i32::from(d.params.digits),
        period: i32::try_from(d.params.period)?,
        phone: None,
        last_step: -1,
        step_up: false,
        created_at: now,
        expires_at: None,
        confirmed_at: Some(now),
        last_used_at: None,
        revoked_at: None,
        account_name: None,
        token_serial: None,
        public_id: None,
    })
}
