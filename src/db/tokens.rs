//! Queries on `tokens`, the hardware-token inventory. State changes are conditional updates, so a
//! token is assigned to one user at a time whatever races.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::TokenRow;
use super::schema::tokens::dsl as t;
use super::{DbConnection, DbError};

pub const UNASSIGNED: &str = "unassigned";
pub const ASSIGNED: &str = "assigned";
pub const REVOKED: &str = "revoked";

/// Of these serials, the ones the tenant's inventory holds already.
pub fn existing_serials(
    conn: &mut DbConnection,
    tenant: &str,
    serials: &[String],
) -> Result<Vec<String>, DbError> {
    let mut found = Vec::new();
    // Bounded IN lists: SQLite caps the number of bound parameters.
    for chunk in serials.chunks(500) {
        let mut part: Vec<String> = t::tokens
            .filter(t::tenant.eq(tenant))
            .filter(t::serial.eq_any(chunk))
            .select(t::serial)
            .load(conn)?;
        found.append(&mut part);
    }
    Ok(found)
}

/// Of these Yubico public ids, the ones the tenant's inventory holds already.
pub fn existing_public_ids(
    conn: &mut DbConnection,
    tenant: &str,
    ids: &[String],
) -> Result<Vec<String>, DbError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(500) {
        let mut part: Vec<Option<String>> = t::tokens
            .filter(t::tenant.eq(tenant))
            .filter(t::public_id.eq_any(chunk))
            .select(t::public_id)
            .load(conn)?;
        found.extend(part.drain(..).flatten());
    }
    Ok(found)
}

pub fn insert_all(conn: &mut DbConnection, rows: &[TokenRow]) -> Result<(), DbError> {
    // A multi-row INSERT does not compile on the multi-backend connection: on the concrete one.
    for chunk in rows.chunks(200) {
        match conn {
            DbConnection::Postgres(c) => diesel::insert_into(t::tokens).values(chunk).execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(t::tokens).values(chunk).execute(c)?,
        };
    }
    Ok(())
}

pub fn find(
    conn: &mut DbConnection,
    tenant: &str,
    serial: &str,
) -> Result<Option<TokenRow>, DbError> {
    Ok(t::tokens
        .filter(t::tenant.eq(tenant))
        .filter(t::serial.eq(serial))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// What a list asks for; `None` is any.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub batch: Option<String>,
    /// Serials starting with this.
    pub serial: Option<String>,
    pub user: Option<String>,
}

/// The tenant's tokens matching `filter`, by serial.
pub fn list(
    conn: &mut DbConnection,
    tenant: &str,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<TokenRow>, DbError> {
    let mut q = t::tokens
        .filter(t::tenant.eq(tenant))
        .order(t::serial.asc())
        .limit(limit)
        .select(TokenRow::as_select())
        .into_boxed();
    if let Some(s) = &filter.status {
        q = q.filter(t::status.eq(s.clone()));
    }
    if let Some(k) = &filter.kind {
        q = q.filter(t::kind.eq(k.clone()));
    }
    if let Some(b) = &filter.batch {
        q = q.filter(t::batch.eq(b.clone()));
    }
    if let Some(u) = &filter.user {
        q = q.filter(t::user_id.eq(u.clone()));
    }
    if let Some(prefix) = &filter.serial {
        // Serials may hold `_`, a LIKE wildcard: escaped, so a prefix means itself.
        let escaped = prefix.replace('\\', "\\\\").replace('_', "\\_");
        q = q.filter(t::serial.like(format!("{escaped}%")).escape('\\'));
    }
    Ok(q.load(conn)?)
}

/// Takes the token's row lock for the rest of the transaction (a no-op write: the portable way
/// to lock a row on both backends; SQLite's write lock is already held).
pub fn lock(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    diesel::update(t::tokens.filter(t::id.eq(id)))
        .set(t::status.eq(t::status))
        .execute(conn)?;
    Ok(())
}

/// Marks an unassigned token as the device's. False if it is not unassigned any more.
pub fn assign(
    conn: &mut DbConnection,
    id: &str,
    user: &str,
    device: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        t::tokens
            .filter(t::id.eq(id))
            .filter(t::status.eq(UNASSIGNED)),
    )
    .set((
        t::status.eq(ASSIGNED),
        t::user_id.eq(Some(user)),
        t::device_id.eq(Some(device)),
        t::assigned_at.eq(Some(now)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives an assigned token back to the inventory with the counter its device reached, so a
/// code used before never works again. False if it is not assigned.
pub fn release(conn: &mut DbConnection, id: &str, last_step: i64) -> Result<bool, DbError> {
    let n = diesel::update(
        t::tokens
            .filter(t::id.eq(id))
            .filter(t::status.eq(ASSIGNED)),
    )
    .set((
        t::status.eq(UNASSIGNED),
        t::user_id.eq(None::<String>),
        t::device_id.eq(None::<String>),
        t::assigned_at.eq(None::<NaiveDateTime>),
        t::last_step.eq(last_step),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Takes a token out of service for good (lost, broken). False if it was revoked already.
pub fn revoke(
    conn: &mut DbConnection,
    id: &str,
    last_step: i64,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(t::tokens.filter(t::id.eq(id)).filter(t::status.ne(REVOKED)))
        .set((
            t::status.eq(REVOKED),
            t::revoked_at.eq(Some(now)),
            t::last_step.eq(last_step),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
