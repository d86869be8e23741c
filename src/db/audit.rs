//! Queries on `audit_events`.

use diesel::prelude::*;

use super::models::NewAuditEvent;
use super::schema::audit_events::dsl;
use super::{DbConnection, DbError};

pub fn insert(conn: &mut DbConnection, event: &NewAuditEvent) -> Result<(), DbError> {
    diesel::insert_into(dsl::audit_events)
        .values(event)
        .execute(conn)?;
    Ok(())
}
