//! The bulk statements of an import: many rows per statement, within the bind-parameter limits of
//! both backends (SQLite 32766, PostgreSQL 65535).

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::devices::{ACTIVE, PENDING};
use super::models::DeviceRow;
use super::schema::{devices::dsl as d, users::dsl as u};
use super::{DbConnection, DbError};

/// Device rows per INSERT: 19 columns each.
const DEVICE_ROWS: usize = 1_000;
/// User ids per IN list or INSERT.
const USERS: usize = 5_000;

/// On SQLite, takes the write lock before anything is read, as `BEGIN IMMEDIATE` would: a
/// transaction that reads first and then writes meets SQLITE_BUSY when another writer went first,
/// and no wait resolves that. PostgreSQL locks rows as it goes.
pub fn write_first(conn: &mut DbConnection) -> Result<(), DbError> {
    if let DbConnection::Sqlite(c) = conn {
        diesel::sql_query("UPDATE users SET tenant = tenant WHERE 0").execute(c)?;
    }
    Ok(())
}

/// The (user, label) pairs of these users that a device still holds (active, or pending and
/// unexpired) — the labels an import may not reuse.
pub fn labels_in_use(
    conn: &mut DbConnection,
    tenant: &str,
    users: &[&str],
    now: NaiveDateTime,
) -> Result<HashSet<(String, String)>, DbError> {
    let mut taken = HashSet::new();
    for part in users.chunks(USERS) {
        let rows: Vec<(String, String)> = d::devices
            .filter(d::tenant.eq(tenant))
            .filter(d::user_id.eq_any(part))
            .filter(
                d::status
                    .eq(ACTIVE)
                    .or(d::status.eq(PENDING).and(d::expires_at.gt(now))),
            )
            .select((d::user_id, d::label))
            .load(conn)?;
        taken.extend(rows);
    }
    Ok(taken)
}

/// Inserts the devices and, first, the users they belong to that do not exist yet.
pub fn insert(
    conn: &mut DbConnection,
    rows: &[DeviceRow],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let mut seen = HashSet::new();
    let users: Vec<_> = rows
        .iter()
        .filter(|r| seen.insert((&r.tenant, &r.user_id)))
        .map(|r| {
            (
                u::tenant.eq(r.tenant.as_str()),
                u::user_id.eq(r.user_id.as_str()),
                u::created_at.eq(now),
            )
        })
        .collect();
    // Multi-row INSERT … ON CONFLICT does not compile on the multi-backend connection.
    for part in users.chunks(USERS) {
        match conn {
            DbConnection::Postgres(c) => diesel::insert_into(u::users)
                .values(part)
                .on_conflict_do_nothing()
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(u::users)
                .values(part)
                .on_conflict_do_nothing()
                .execute(c)?,
        };
    }
    for part in rows.chunks(DEVICE_ROWS) {
        match conn {
            DbConnection::Postgres(c) => diesel::insert_into(d::devices).values(part).execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(d::devices).values(part).execute(c)?,
        };
    }
    Ok(())
}
