//! Queries on `security_keys`: a WebAuthn credential beside its device row. Its signature
//! counter lives in `devices.last_step`, so a use is the same kind of compare-and-set as a TOTP
//! step.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::devices::{ACTIVE, PENDING, REVOKED};
use super::models::SecurityKeyRow;
use super::schema::{devices::dsl as d, security_keys::dsl as s};
use super::{DbConnection, DbError};

/// Records a confirmed key's credential, inside the confirm transaction. False when the tenant
/// already has this credential on a device that still counts (pending or active); a revoked
/// device's old row gives way, so a key can be registered again after its revocation.
pub fn insert(conn: &mut DbConnection, row: &SecurityKeyRow) -> Result<bool, DbError> {
    let holders: Vec<(String, String)> = s::security_keys
        .inner_join(d::devices)
        .filter(s::tenant.eq(&row.tenant))
        .filter(s::credential_id.eq(&row.credential_id))
        .select((s::device_id, d::status))
        .load(conn)?;
    for (device, status) in holders {
        if status != REVOKED {
            return Ok(false);
        }
        diesel::delete(s::security_keys.find(device)).execute(conn)?;
    }
    match diesel::insert_into(s::security_keys)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) => {
            let e = DbError::from(e);
            // Another user of the tenant registered the same key at the same moment.
            if e.is_unique_violation() {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

/// The credential of an active device of the tenant with this credential id.
pub fn find_active(
    conn: &mut DbConnection,
    tenant: &str,
    credential_id: &str,
) -> Result<Option<SecurityKeyRow>, DbError> {
    Ok(s::security_keys
        .inner_join(d::devices)
        .filter(s::tenant.eq(tenant))
        .filter(s::credential_id.eq(credential_id))
        .filter(d::status.eq(ACTIVE))
        .select(SecurityKeyRow::as_select())
        .first(conn)
        .optional()?)
}

/// The credentials of these devices (for lists and challenges).
pub fn of_devices(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<SecurityKeyRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(s::security_keys
        .filter(s::device_id.eq_any(ids))
        .select(SecurityKeyRow::as_select())
        .load(conn)?)
}

/// The credential ids a user's pending or active keys hold (excluded from a new registration).
pub fn held_by_user(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
) -> Result<Vec<String>, DbError> {
    Ok(s::security_keys
        .inner_join(d::devices)
        .filter(d::tenant.eq(tenant))
        .filter(d::user_id.eq(user))
        .filter(d::status.eq_any([ACTIVE, PENDING]))
        .select(s::credential_id)
        .load(conn)?)
}

/// Accepts a use whose signature counter is `counter`, if the device is still active and its
/// counter is still `seen` (what the check was judged against): a racing use of the same key
/// makes this one fail rather than move the counter back.
pub fn accept_counter(
    conn: &mut DbConnection,
    id: &str,
    seen: i64,
    counter: i64,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        d::devices
            .filter(d::id.eq(id))
            .filter(d::status.eq(ACTIVE))
            .filter(d::last_step.eq(seen)),
    )
    .set((d::last_step.eq(counter), d::last_used_at.eq(Some(now))))
    .execute(conn)?;
    Ok(n == 1)
}

/// Marks a key whose counter went backwards (the first time only).
pub fn mark_clone(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let n = diesel::update(
        s::security_keys
            .filter(s::device_id.eq(id))
            .filter(s::clone_detected_at.is_null()),
    )
    .set(s::clone_detected_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}
