//! `twofold audit verify` walks every stream's keyed chain; `twofold audit export` writes events out as
//! JSON lines for a SIEM.

use std::io::Write;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use super::chain::{GENESIS, link};
use crate::crypto::Keys;
use crate::db::audit::Head;
use crate::db::models::AuditEventRow;
use crate::db::{Db, DbError};

const PAGE: i64 = 1000;
pub use crate::db::audit::{LEGACY, UNCHAINED};

/// The first broken link of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub stream: String,
    /// The event where the chain breaks, when there is one to name.
    pub event_id: Option<i64>,
    pub seq: i64,
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.event_id {
            Some(id) => write!(
                f,
                "stream {}: event id {id} (seq {}): {}",
                self.stream, self.seq, self.reason
            ),
            None => write!(
                f,
                "stream {} (seq {}): {}",
                self.stream, self.seq, self.reason
            ),
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub streams: usize,
    pub events: u64,
    /// Of `events`, those from before the chain, sealed into stream [`LEGACY`] on upgrade.
    pub legacy: u64,
    /// Events outside every chain: none is authenticated, so each is reported.
    pub unchained: u64,
    pub broken: Vec<Broken>,
}

/// Checks every stream up to the head it had when the check reached it (events appended meanwhile
/// are the next check's business). `keys` must hold the master keys the streams name.
pub async fn verify(db: &Db, keys: &Keys) -> Result<Report, DbError> {
    let mut report = Report::default();
    // Names before heads: a stream whose first events commit in between then has its head too.
    let named = db.run(crate::db::audit::event_streams).await?;
    let heads = db.run(crate::db::audit::streams).await?;
    for stream in named.iter().filter(|s| !heads.iter().any(|h| &h.id == *s)) {
        if stream == UNCHAINED {
            let (count, outside) = check_unchained(db).await?;
            report.unchained = count;
            report.broken.extend(outside);
            continue;
        }
        // Events of a stream whose head row is gone: the head was deleted, or the events forged.
        report.broken.push(Broken {
            stream: stream.clone(),
            event_id: None,
            seq: 0,
            reason: "events name a stream that has no head row".into(),
        });
    }
    for head in heads {
        report.streams += 1;
        let (checked, broken) = verify_stream(db, keys, &head).await?;
        report.events += checked;
        if head.id == LEGACY {
            report.legacy = checked;
        }
        report.broken.extend(broken);
    }
    Ok(report)
}

/// Ids named in the report of the events outside every chain; the rest are counted.
const NAMED: usize = 20;

/// Counts the events outside every chain and names them, the first as the broken one. The events
/// from before the chain were sealed into [`LEGACY`] on upgrade, so each of these came from an
/// older twofold during a rolling upgrade, or by hand.
async fn check_unchained(db: &Db) -> Result<(u64, Option<Broken>), DbError> {
    let (mut n, mut after, mut named) = (0u64, i64::MIN, Vec::<i64>::new());
    loop {
        let page = db
            .run(move |c| crate::db::audit::unchained_ids(c, after, PAGE))
            .await?;
        let Some(&last) = page.last() else {
            break;
        };
        let room = NAMED.saturating_sub(named.len());
        named.extend(page.iter().take(room));
        after = last;
        n += page.len() as u64;
    }
    let Some(&first) = named.first() else {
        return Ok((n, None));
    };
    let more = n.saturating_sub(named.len() as u64);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let reason = format!(
        "in no authenticated chain (an older twofold wrote it, or someone by hand); {n} such \
         event(s): id {}{more}",
        named
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok((
        n,
        Some(Broken {
            stream: UNCHAINED.into(),
            event_id: Some(first),
            seq: 0,
            reason,
        }),
    ))
}

/// An event beyond the head the stream has *now* (read after the event, so a legitimate append,
/// which moves the head in its own transaction, is never mistaken for one).
async fn beyond_head(db: &Db, stream: &str, head_seq: i64) -> Result<Option<Broken>, DbError> {
    let s = stream.to_string();
    let next = db
        .run(move |c| crate::db::audit::stream_page(c, &s, head_seq, 1))
        .await?;
    let Some(row) = next.into_iter().next() else {
        return Ok(None);
    };
    let s = stream.to_string();
    let head_now = db.run(move |c| crate::db::audit::head_seq(c, &s)).await?;
    if head_now.is_some_and(|h| h >= row.seq) {
        return Ok(None);
    }
    Ok(Some(Broken {
        stream: stream.to_string(),
        event_id: Some(row.id),
        seq: row.seq,
        reason: "an event beyond the stream's head (inserted by hand)".into(),
    }))
}

async fn verify_stream(
    db: &Db,
    keys: &Keys,
    head: &Head,
) -> Result<(u64, Option<Broken>), DbError> {
    let stream = head.id.as_str();
    let broken = |event_id, seq, reason: String| Broken {
        stream: stream.to_string(),
        event_id,
        seq,
        reason,
    };
    if !keys.has(&head.key_id) {
        let reason = format!(
            "MACed under master key {}, which is not configured (list it in \
             TWOFOLD_MASTER_KEY_PREVIOUS to check this stream)",
            head.key_id
        );
        return Ok((0, Some(broken(None, 0, reason))));
    }
    let (mut seq, mut prev, mut checked) = (0i64, GENESIS.to_vec(), 0u64);
    while seq < head.seq {
        let s = stream.to_string();
        let page = db
            .run(move |c| crate::db::audit::stream_page(c, &s, seq, PAGE))
            .await?;
        let before = seq;
        for row in page.into_iter().take_while(|r| r.seq <= head.seq) {
            if row.seq != seq + 1 {
                let reason = format!(
                    "events {} to {} are missing before it",
                    seq + 1,
                    row.seq - 1
                );
                return Ok((checked, Some(broken(Some(row.id), row.seq, reason))));
            }
            let expected = link(keys, &head.key_id, &prev, &row.written());
            if row.hash.is_none() || row.hash != expected {
                let reason = "its contents or its predecessor were changed (MAC mismatch)";
                return Ok((checked, Some(broken(Some(row.id), row.seq, reason.into()))));
            }
            prev = row.hash.unwrap_or_default();
            seq = row.seq;
            checked += 1;
        }
        if seq == before {
            break;
        }
    }
    if seq < head.seq {
        let reason = format!("the newest events {} to {} are missing", seq + 1, head.seq);
        return Ok((checked, Some(broken(None, seq + 1, reason))));
    }
    if prev != head.mac {
        let reason = "the stream's head does not match its newest event".to_string();
        return Ok((checked, Some(broken(None, head.seq, reason))));
    }
    Ok((checked, beyond_head(db, stream, head.seq).await?))
}

/// One event as exported (and, through its HTTP twin, as the admin API shows it). Never a
/// secret: events hold none.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedEvent {
    pub id: String,
    pub at: DateTime<Utc>,
    pub tenant: String,
    pub user: Option<String>,
    pub device: Option<String>,
    pub action: String,
    pub outcome: String,
    /// `api_key:<id>`, `console:<admin key id>`, `cli` or `system`.
    pub actor: String,
    pub ip: Option<String>,
    pub detail: Option<serde_json::Value>,
    /// The writer stream, the event's place in it and its chained hash (hex).
    pub stream: String,
    pub seq: i64,
    pub hash: Option<String>,
}

impl From<AuditEventRow> for ExportedEvent {
    fn from(r: AuditEventRow) -> ExportedEvent {
        ExportedEvent {
            id: r.id.to_string(),
            at: DateTime::from_naive_utc_and_offset(r.at, Utc),
            tenant: r.tenant,
            user: r.user_id,
            device: r.device_id,
            action: r.action,
            outcome: r.outcome,
            actor: r.actor,
            ip: r.ip,
            // Written by us from a `serde_json::Value`; kept as text if it ever is not JSON.
            detail: r
                .detail
                .map(|d| serde_json::from_str(&d).unwrap_or(serde_json::Value::String(d))),
            stream: r.stream,
            seq: r.seq,
            hash: r
                .hash
                .map(|h| h.iter().map(|b| format!("{b:02x}")).collect()),
        }
    }
}

/// Writes the events at or after `since` (and before `until`), oldest first, one JSON object a
/// line. Returns how many.
pub async fn export(
    db: &Db,
    since: NaiveDateTime,
    until: Option<NaiveDateTime>,
    out: &mut impl Write,
) -> Result<u64, ExportError> {
    let (mut after, mut n) = (0i64, 0u64);
    loop {
        let page = db
            .run(move |c| crate::db::audit::export_page(c, since, until, after, PAGE))
            .await?;
        let Some(last) = page.last() else {
            out.flush()?;
            return Ok(n);
        };
        after = last.id;
        for row in page {
            serde_json::to_writer(&mut *out, &ExportedEvent::from(row))?;
            out.write_all(b"\n")?;
            n += 1;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot encode: {0}")]
    Json(#[from] serde_json::Error),
}
