//! Queries on `audit_events`.

use diesel::prelude::*;

use super::models::{AuditEventRow, NewAuditEvent};
use super::schema::audit_events::dsl;
use super::{DbConnection, DbError};

pub fn insert(conn: &mut DbConnection, event: &NewAuditEvent) -> Result<(), DbError> {
    diesel::insert_into(dsl::audit_events)
        .values(event)
        .execute(conn)?;
    Ok(())
}

/// The newest events of a tenant (optionally of one user), newest first.
pub fn recent(
    conn: &mut DbConnection,
    tenant: &str,
    user: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditEventRow>, DbError> {
    let mut q = dsl::audit_events
        .filter(dsl::tenant.eq(tenant))
        .select(AuditEventRow::as_select())
        .order(dsl::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(u) = user {
        q = q.filter(dsl::user_id.eq(u));
    }
    Ok(q.load(conn)?)
}
