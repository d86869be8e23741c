//! Queries on `audit_events` and `audit_streams` (and, until migration 000003, `audit_legacy`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{AuditEventRow, NewAuditEvent};
use super::schema::audit_events::dsl as e;
use super::schema::audit_streams::dsl as s;
use super::{DbConnection, DbError};

/// The predecessor of the first event of every stream.
pub const GENESIS: [u8; 32] = [0; 32];
/// Where an event lands without a writer stream: a plain INSERT, or an older twofold. Migration
/// 000002 put the events from before the chain here; nothing in it is authenticated any more.
pub const UNCHAINED: &str = "unchained";
/// The stream the events from before the chain were sealed into, once, under the master key.
pub const LEGACY: &str = "legacy";

/// On PostgreSQL one multi-row insert per 1000 rows, so a batch holds its stream's row lock no
/// longer than it must; SQLite (in-process, one writer) takes them one by one.
pub fn insert(conn: &mut DbConnection, rows: &[NewAuditEvent]) -> Result<(), DbError> {
    match conn {
        DbConnection::Postgres(c) => {
            for chunk in rows.chunks(1000) {
                diesel::insert_into(e::audit_events)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        // Multi-row too: NewAuditEvent writes None as NULL, not DEFAULT, which SQLite lacks.
        DbConnection::Sqlite(c) => {
            for chunk in rows.chunks(1000) {
                diesel::insert_into(e::audit_events)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Moves the stream's seq on by `n` (taking its row lock) and returns the new seq and the current
/// head; `None` when the stream has no row yet.
pub fn advance(
    conn: &mut DbConnection,
    stream: &str,
    n: i64,
) -> Result<Option<(i64, Vec<u8>)>, DbError> {
    let updated = diesel::update(s::audit_streams.find(stream))
        .set(s::seq.eq(s::seq + n))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    Ok(Some(
        s::audit_streams
            .find(stream)
            .select((s::seq, s::head))
            .first(conn)?,
    ))
}

/// Makes the stream's row (no events yet) unless it exists.
pub fn open_stream(
    conn: &mut DbConnection,
    stream: &str,
    key_id: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let row = (
        s::id.eq(stream),
        s::started_at.eq(at),
        s::key_id.eq(key_id),
        s::seq.eq(0i64),
        s::head.eq(GENESIS.to_vec()),
    );
    // ON CONFLICT does not compile on the multi-backend connection: run it on the concrete one.
    match conn {
        DbConnection::Postgres(c) => diesel::insert_into(s::audit_streams)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(s::audit_streams)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(())
}

pub fn set_head(conn: &mut DbConnection, stream: &str, head: &[u8]) -> Result<(), DbError> {
    diesel::update(s::audit_streams.find(stream))
        .set(s::head.eq(head))
        .execute(conn)?;
    Ok(())
}

/// A stream's row: its id, master key id, and the seq and MAC of its newest event.
#[derive(Debug, Clone, Queryable)]
pub struct Head {
    pub id: String,
    pub key_id: String,
    pub seq: i64,
    pub mac: Vec<u8>,
}

/// Every stream's head.
pub fn streams(conn: &mut DbConnection) -> Result<Vec<Head>, DbError> {
    Ok(s::audit_streams
        .select((s::id, s::key_id, s::seq, s::head))
        .order(s::started_at.asc())
        .load(conn)?)
}

/// Streams that events name, whether or not they have a row.
pub fn event_streams(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    Ok(e::audit_events.select(e::stream).distinct().load(conn)?)
}

/// Up to `limit` events of one stream after `after_seq`, oldest first.
pub fn stream_page(
    conn: &mut DbConnection,
    stream: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AuditEventRow>, DbError> {
    Ok(e::audit_events
        .filter(e::stream.eq(stream))
        .filter(e::seq.gt(after_seq))
        .order(e::seq.asc())
        .limit(limit)
        .select(AuditEventRow::as_select())
        .load(conn)?)
}

/// Ids of events outside every chain (stream `unchained`) above `after_id`, in id order.
pub fn unchained_ids(
    conn: &mut DbConnection,
    after_id: i64,
    limit: i64,
) -> Result<Vec<i64>, DbError> {
    Ok(e::audit_events
        .filter(e::stream.eq(UNCHAINED))
        .filter(e::id.gt(after_id))
        .select(e::id)
        .order(e::id.asc())
        .limit(limit)
        .load(conn)?)
}

/// Whether a stream has a head row or any event.
pub fn stream_named(conn: &mut DbConnection, stream: &str) -> Result<bool, DbError> {
    let head = s::audit_streams
        .find(stream)
        .select(s::id)
        .first::<String>(conn);
    if head.optional()?.is_some() {
        return Ok(true);
    }
    let event = e::audit_events.filter(e::stream.eq(stream)).select(e::id);
    Ok(event.first::<i64>(conn).optional()?.is_some())
}

#[derive(QueryableByName)]
struct LegacyRecord {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    events: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    max_id: i64,
}

/// What migration 000002 recorded before the chain: how many events there were and their
/// highest id; `None` unless the record is one row. Read only just before migration 000003 drops
/// the table (so not in `schema`).
pub fn legacy_record(conn: &mut DbConnection) -> Result<Option<(i64, i64)>, DbError> {
    let rows: Vec<LegacyRecord> =
        diesel::sql_query("SELECT events, max_id FROM audit_legacy").load(conn)?;
    Ok(match rows.as_slice() {
        [r] => Some((r.events, r.max_id)),
        _ => None,
    })
}

/// How many events look the way migration 000002 left pre-chain ones: stream `unchained`, an id
/// from the sequence up to `max_id`, and that id as seq.
pub fn count_legacy_shaped(conn: &mut DbConnection, max_id: i64) -> Result<i64, DbError> {
    Ok(e::audit_events
        .filter(e::stream.eq(UNCHAINED))
        .filter(e::id.between(1, max_id))
        .filter(e::seq.eq(e::id))
        .count()
        .get_result(conn)?)
}

/// Up to `limit` of those events above `after_id`, in id order (the order they were written).
pub fn legacy_shaped_page(
    conn: &mut DbConnection,
    max_id: i64,
    after_id: i64,
    limit: i64,
) -> Result<Vec<AuditEventRow>, DbError> {
    Ok(e::audit_events
        .filter(e::stream.eq(UNCHAINED))
        .filter(e::id.between(1, max_id))
        .filter(e::seq.eq(e::id))
        .filter(e::id.gt(after_id))
        .order(e::id.asc())
        .limit(limit)
        .select(AuditEventRow::as_select())
        .load(conn)?)
}

/// Places an existing event in a stream: its stream, seq and MAC.
pub fn place(
    conn: &mut DbConnection,
    id: i64,
    stream: &str,
    seq: i64,
    mac: &[u8],
) -> Result<(), DbError> {
    diesel::update(e::audit_events.find(id))
        .set((e::stream.eq(stream), e::seq.eq(seq), e::hash.eq(mac)))
        .execute(conn)?;
    Ok(())
}

/// The stream's newest seq, if it has a row.
pub fn head_seq(conn: &mut DbConnection, stream: &str) -> Result<Option<i64>, DbError> {
    Ok(s::audit_streams
        .find(stream)
        .select(s::seq)
        .first(conn)
        .optional()?)
}

/// Filters of the admin audit search; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `None`: every tenant (an all-tenant admin asking for all).
    pub tenant: Option<String>,
    pub user: Option<String>,
    pub action: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// Only events after this one in newest-first order: (time, id) of the previous page's last.
    pub before: Option<(NaiveDateTime, i64)>,
}

/// The newest `limit` events that pass `filter`, newest first (by time, then id).
pub fn search(
    conn: &mut DbConnection,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<AuditEventRow>, DbError> {
    let mut q = e::audit_events
        .select(AuditEventRow::as_select())
        .into_boxed();
    if let Some(t) = &filter.tenant {
        q = q.filter(e::tenant.eq(t.clone()));
    }
    if let Some(u) = &filter.user {
        q = q.filter(e::user_id.eq(u.clone()));
    }
    if let Some(a) = &filter.action {
        q = q.filter(e::action.eq(a.clone()));
    }
    if let Some(t) = filter.since {
        q = q.filter(e::at.ge(t));
    }
    if let Some(t) = filter.until {
        q = q.filter(e::at.lt(t));
    }
    if let Some((at, id)) = filter.before {
        q = q.filter(e::at.lt(at).or(e::at.eq(at).and(e::id.lt(id))));
    }
    // Time order, not id order: batched events get their ids up to a second after the changes
    // beside them.
    Ok(q.order((e::at.desc(), e::id.desc()))
        .limit(limit)
        .load(conn)?)
}

/// Events at or after `since` (and before `until`) with an id above `after_id`, oldest first.
pub fn export_page(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    until: Option<NaiveDateTime>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<AuditEventRow>, DbError> {
    let mut q = e::audit_events
        .select(AuditEventRow::as_select())
        .filter(e::at.ge(since))
        .filter(e::id.gt(after_id))
        .into_boxed();
    if let Some(t) = until {
        q = q.filter(e::at.lt(t));
    }
    Ok(q.order(e::id.asc()).limit(limit).load(conn)?)
}
