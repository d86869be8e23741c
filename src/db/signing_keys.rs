//! Queries on `signing_keys`: the Ed25519 keys that sign assertions.
//!
//! A key is active until a rotation retires it; a retired key no longer signs but stays published
//! for a while, so assertions it signed (and nodes that have not yet refreshed) keep verifying.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::signing_keys;
use super::schema::signing_keys::dsl;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    /// The JWS `kid`.
    pub kid: String,
    /// The JWS `alg` this key signs with (`EdDSA`).
    pub algorithm: String,
    pub public_key: Vec<u8>,
    /// The private key sealed under the master key, with the kid as associated data.
    pub private_sealed: Vec<u8>,
    /// Which master key sealed `private_sealed`.
    pub key_id: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &SigningKeyRow) -> Result<(), DbError> {
    diesel::insert_into(dsl::signing_keys)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The keys to publish: every active key and every key retired after `retired_after`, newest
/// first (ties broken by kid, so every node agrees on which key is newest).
pub fn list_published(
    conn: &mut DbConnection,
    retired_after: NaiveDateTime,
) -> Result<Vec<SigningKeyRow>, DbError> {
    Ok(dsl::signing_keys
        .filter(
            dsl::retired_at
                .is_null()
                .or(dsl::retired_at.gt(retired_after)),
        )
        .select(SigningKeyRow::as_select())
        .order((dsl::created_at.desc(), dsl::kid.desc()))
        .load(conn)?)
}

/// Retires every active key at `at`; returns how many it retired.
pub fn retire_all_active(conn: &mut DbConnection, at: NaiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::update(dsl::signing_keys.filter(dsl::retired_at.is_null()))
            .set(dsl::retired_at.eq(Some(at)))
            .execute(conn)?,
    )
}

/// Every key, retired long ago or not, newest first.
pub fn list_all(conn: &mut DbConnection) -> Result<Vec<SigningKeyRow>, DbError> {
    Ok(dsl::signing_keys
        .select(SigningKeyRow::as_select())
        .order((dsl::created_at.desc(), dsl::kid.desc()))
        .load(conn)?)
}

/// Replaces a key's sealed private key (master-key re-wrap); false if no such key.
pub fn update_sealed(
    conn: &mut DbConnection,
    kid: &str,
    private_sealed: &[u8],
    key_id: &str,
) -> Result<bool, DbError> {
    let n = diesel::update(dsl::signing_keys.find(kid))
        .set((
            dsl::private_sealed.eq(private_sealed),
            dsl::key_id.eq(key_id),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
