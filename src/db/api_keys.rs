//! Queries on `api_keys`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::ApiKeyRow;
use super::schema::api_keys::dsl;
use super::{DbConnection, DbError};

pub fn insert(conn: &mut DbConnection, row: &ApiKeyRow) -> Result<(), DbError> {
    diesel::insert_into(dsl::api_keys)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The key whose keyed hash is one of `hashes` (one per loaded master key), revoked or not.
pub fn find_by_hash(
    conn: &mut DbConnection,
    hashes: &[Vec<u8>],
) -> Result<Option<ApiKeyRow>, DbError> {
    Ok(dsl::api_keys
        .filter(dsl::key_hash.eq_any(hashes))
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<ApiKeyRow>, DbError> {
    Ok(dsl::api_keys
        .find(id)
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()?)
}

/// All keys, oldest first; `tenant` narrows to the keys of one tenant.
pub fn list(conn: &mut DbConnection, tenant: Option<&str>) -> Result<Vec<ApiKeyRow>, DbError> {
    let mut q = dsl::api_keys
        .select(ApiKeyRow::as_select())
        .order((dsl::created_at.asc(), dsl::id.asc()))
        .into_boxed();
    if let Some(t) = tenant {
        q = q.filter(dsl::tenant.eq(t));
    }
    Ok(q.load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(dsl::api_keys.count().get_result(conn)?)
}

/// Marks the key revoked; false if it does not exist or was revoked already.
pub fn revoke(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> Result<bool, DbError> {
    let n = diesel::update(dsl::api_keys.find(id).filter(dsl::revoked_at.is_null()))
        .set(dsl::revoked_at.eq(Some(at)))
        .execute(conn)?;
    Ok(n == 1)
}
