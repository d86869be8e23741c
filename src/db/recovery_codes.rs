//! Queries on `recovery_codes`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::NewRecoveryCode;
use super::schema::recovery_codes::dsl as r;
use super::{DbConnection, DbError};

/// Replaces the user's set: the old codes stop working the moment the new ones exist (SEC-35).
pub fn replace_set(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
    codes: &[NewRecoveryCode],
) -> Result<(), DbError> {
    diesel::delete(
        r::recovery_codes
            .filter(r::tenant.eq(tenant))
            .filter(r::user_id.eq(user)),
    )
    .execute(conn)?;
    // Multi-row INSERT does not compile on the multi-backend connection; ten rows are cheap.
    for code in codes {
        diesel::insert_into(r::recovery_codes)
            .values(code)
            .execute(conn)?;
    }
    Ok(())
}

/// Marks the unused code with one of these hashes used; true for exactly one caller (single use
/// as one conditional update).
pub fn use_code(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
    hashes: &[Vec<u8>],
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        r::recovery_codes
            .filter(r::tenant.eq(tenant))
            .filter(r::user_id.eq(user))
            .filter(r::code_hash.eq_any(hashes))
            .filter(r::used_at.is_null()),
    )
    .set(r::used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// How many of the user's codes are still unused.
pub fn remaining(conn: &mut DbConnection, tenant: &str, user: &str) -> Result<i64, DbError> {
    Ok(r::recovery_codes
        .filter(r::tenant.eq(tenant))
        .filter(r::user_id.eq(user))
        .filter(r::used_at.is_null())
        .count()
        .get_result(conn)?)
}
