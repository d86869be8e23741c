//! Queries on `users` for the admin surface (creation and the row lock live with the devices).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::schema::users::dsl as u;
use super::{DbConnection, DbError};

/// When the user was created, if it exists.
pub fn find(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
) -> Result<Option<NaiveDateTime>, DbError> {
    Ok(u::users
        .find((tenant, user))
        .select(u::created_at)
        .first(conn)
        .optional()?)
}

/// Up to `limit` users of the tenant whose id starts with `prefix` (case-sensitive) and sorts
/// after `after`, in id order.
pub fn search(
    conn: &mut DbConnection,
    tenant: &str,
    prefix: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<(String, NaiveDateTime)>, DbError> {
    // User ids are `[A-Za-z0-9._@+-]`: of the pattern characters only LIKE's `_` needs escaping,
    // and GLOB's (`*?[`) cannot occur. SQLite's LIKE ignores case, hence GLOB there.
    let matches = match conn {
        DbConnection::Postgres(_) => diesel::dsl::sql::<Bool>("user_id LIKE ")
            .bind::<Text, _>(format!("{}%", prefix.replace('_', "\\_")))
            .sql(" ESCAPE '\\'"),
        DbConnection::Sqlite(_) => diesel::dsl::sql::<Bool>("user_id GLOB ")
            .bind::<Text, _>(format!("{prefix}*"))
            .sql(""),
    };
    let mut q = u::users
        .filter(u::tenant.eq(tenant))
        .filter(matches)
        .select((u::user_id, u::created_at))
        .order(u::user_id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(u::user_id.gt(a.to_string()));
    }
    Ok(q.load(conn)?)
}
