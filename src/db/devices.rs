//! Queries on `users` and `devices`. Status changes are conditional updates, so each is one
//! atomic compare-and-set that holds across nodes and restarts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::DeviceRow;
use super::schema::{devices::dsl as d, users::dsl as u};
use super::{DbConnection, DbError};

use crate::factor::kind::DeviceStatus;

pub const PENDING: &str = DeviceStatus::Pending.as_str();
pub const ACTIVE: &str = DeviceStatus::Active.as_str();
pub const REVOKED: &str = DeviceStatus::Revoked.as_str();

/// Creates the user on first use; a no-op when it exists (also under a race with another node).
pub fn ensure_user(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let row = (
        u::tenant.eq(tenant),
        u::user_id.eq(user),
        u::created_at.eq(now),
    );
    // ON CONFLICT does not compile on the multi-backend connection: run it on the concrete one.
    match conn {
        DbConnection::Postgres(c) => diesel::insert_into(u::users)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(u::users)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(())
}

/// Takes the user's row lock for the rest of the transaction (a no-op write: the portable way to
/// lock on both backends), so checks of "has an active device" and the change they guard cannot
/// interleave with another node's.
pub fn lock_user(conn: &mut DbConnection, tenant: &str, user: &str) -> Result<(), DbError> {
    diesel::update(
        u::users
            .filter(u::tenant.eq(tenant))
            .filter(u::user_id.eq(user)),
    )
    .set(u::created_at.eq(u::created_at))
    .execute(conn)?;
    Ok(())
}

/// Whether a device that still counts (active, or pending and unexpired) has this label.
pub fn label_in_use(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
    label: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n: i64 = d::devices
        .filter(d::tenant.eq(tenant))
        .filter(d::user_id.eq(user))
        .filter(d::label.eq(label))
        .filter(
            d::status
                .eq(ACTIVE)
                .or(d::status.eq(PENDING).and(d::expires_at.gt(now))),
        )
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn insert(conn: &mut DbConnection, row: &DeviceRow) -> Result<(), DbError> {
    diesel::insert_into(d::devices).values(row).execute(conn)?;
    Ok(())
}

/// Pending devices whose enrollment window passed: they never became a factor, and their label
/// should be free again.
pub fn delete_expired_pending(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(diesel::delete(
        d::devices
            .filter(d::tenant.eq(tenant))
            .filter(d::user_id.eq(user))
            .filter(d::status.eq(PENDING))
            .filter(d::expires_at.le(now)),
    )
    .execute(conn)?)
}

pub fn find(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
    id: &str,
) -> Result<Option<DeviceRow>, DbError> {
    Ok(d::devices
        .filter(d::id.eq(id))
        .filter(d::tenant.eq(tenant))
        .filter(d::user_id.eq(user))
        .select(DeviceRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> Result<Option<DeviceRow>, DbError> {
    Ok(d::devices
        .find(id)
        .select(DeviceRow::as_select())
        .first(conn)
        .optional()?)
}

/// A user's devices with the given statuses, oldest first.
pub fn list(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
    statuses: &[&str],
) -> Result<Vec<DeviceRow>, DbError> {
    Ok(d::devices
        .filter(d::tenant.eq(tenant))
        .filter(d::user_id.eq(user))
        .filter(d::status.eq_any(statuses))
        .order((d::created_at.asc(), d::id.asc()))
        .select(DeviceRow::as_select())
        .load(conn)?)
}

/// The active devices a code may be checked against: all of the user's, or the one named.
pub fn active(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
    device: Option<&str>,
) -> Result<Vec<DeviceRow>, DbError> {
    let mut q = d::devices
        .filter(d::tenant.eq(tenant))
        .filter(d::user_id.eq(user))
        .filter(d::status.eq(ACTIVE))
        .order((d::created_at.asc(), d::id.asc()))
        .select(DeviceRow::as_select())
        .into_boxed();
    if let Some(id) = device {
        q = q.filter(d::id.eq(id));
    }
    Ok(q.load(conn)?)
}

/// [`active`] and, in the same statement, whether API key `key_id` is still active: `None` when
/// it was revoked or is gone. For verify, whose key may come from this node's cache.
pub fn active_if_key(
    conn: &mut DbConnection,
    key_id: &str,
    tenant: &str,
    user: &str,
    device: Option<&str>,
) -> Result<Option<Vec<DeviceRow>>, DbError> {
    use super::schema::api_keys::dsl as k;
    let devices_of_user = d::tenant
        .eq(tenant)
        .and(d::user_id.eq(user))
        .and(d::status.eq(ACTIVE));
    let rows: Vec<(Option<NaiveDateTime>, Option<DeviceRow>)> = k::api_keys
        .left_join(d::devices.on(devices_of_user))
        .filter(k::id.eq(key_id))
        .order((d::created_at.asc(), d::id.asc()))
        .select((k::revoked_at, d::devices::all_columns().nullable()))
        .load(conn)?;
    match rows.first() {
        None | Some((Some(_), _)) => Ok(None),
        Some((None, _)) => Ok(Some(
            rows.into_iter()
                .filter_map(|(_, row)| row)
                .filter(|row| device.is_none_or(|id| row.id == id))
                .collect(),
        )),
    }
}

pub fn has_active(conn: &mut DbConnection, tenant: &str, user: &str) -> Result<bool, DbError> {
    let n: i64 = d::devices
        .filter(d::tenant.eq(tenant))
        .filter(d::user_id.eq(user))
        .filter(d::status.eq(ACTIVE))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Activates a pending, unexpired device with its first code's step, which counts as used
/// (SEC-6). False if it is not pending, has expired, or the step is not new.
pub fn confirm(
    conn: &mut DbConnection,
    id: &str,
    step: i64,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        d::devices
            .filter(d::id.eq(id))
            .filter(d::status.eq(PENDING))
            .filter(d::expires_at.gt(now))
            .filter(d::last_step.lt(step)),
    )
    .set((
        d::status.eq(ACTIVE),
        d::confirmed_at.eq(Some(now)),
        d::last_used_at.eq(Some(now)),
        d::last_step.eq(step),
        d::expires_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Accepts `step` for an active device only if it is later than the last accepted one: the
/// single-use rule (SEC-9, SEC-11) as one compare-and-set. False for a replay.
pub fn accept_step(
    conn: &mut DbConnection,
    id: &str,
    step: i64,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        d::devices
            .filter(d::id.eq(id))
            .filter(d::status.eq(ACTIVE))
            .filter(d::last_step.lt(step)),
    )
    .set((d::last_step.eq(step), d::last_used_at.eq(Some(now))))
    .execute(conn)?;
    Ok(n == 1)
}

/// Deletes a pending device that never got its confirmation code out.
pub fn delete_pending(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
    id: &str,
) -> Result<usize, DbError> {
    Ok(diesel::delete(
        d::devices
            .filter(d::id.eq(id))
            .filter(d::tenant.eq(tenant))
            .filter(d::user_id.eq(user))
            .filter(d::status.eq(PENDING)),
    )
    .execute(conn)?)
}

/// Records a use of an active device (SMS codes have no step to compare-and-set).
/// False if the device is no longer active.
pub fn touch(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let n = diesel::update(d::devices.filter(d::id.eq(id)).filter(d::status.eq(ACTIVE)))
        .set(d::last_used_at.eq(Some(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Revokes one device of the user (active, or pending and unexpired). False if none was
/// revocable.
pub fn revoke(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
    id: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        d::devices
            .filter(d::id.eq(id))
            .filter(d::tenant.eq(tenant))
            .filter(d::user_id.eq(user))
            .filter(
                d::status
                    .eq(ACTIVE)
                    .or(d::status.eq(PENDING).and(d::expires_at.gt(now))),
            ),
    )
    .set((d::status.eq(REVOKED), d::revoked_at.eq(Some(now))))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every revocable device of the user (active, or pending and unexpired); returns them.
pub fn revoke_all(
    conn: &mut DbConnection,
    tenant: &str,
    user: &str,
    now: NaiveDateTime,
) -> Result<Vec<DeviceRow>, DbError> {
    let revocable = d::devices
        .filter(d::tenant.eq(tenant))
        .filter(d::user_id.eq(user))
        .filter(
            d::status
                .eq(ACTIVE)
                .or(d::status.eq(PENDING).and(d::expires_at.gt(now))),
        );
    let rows: Vec<DeviceRow> = revocable
        .select(DeviceRow::as_select())
        .order((d::created_at.asc(), d::id.asc()))
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    diesel::update(d::devices.filter(d::id.eq_any(&ids)))
        .set((d::status.eq(REVOKED), d::revoked_at.eq(Some(now))))
        .execute(conn)?;
    Ok(rows)
}

/// Up to `limit` devices whose secret was sealed under another master key than `key_id`.
pub fn sealed_under_other_keys(
    conn: &mut DbConnection,
    key_id: &str,
    limit: i64,
) -> Result<Vec<DeviceRow>, DbError> {
    Ok(d::devices
        .filter(d::secret_sealed.is_not_null())
        .filter(d::key_id.ne(key_id))
        .order(d::id.asc())
        .limit(limit)
        .select(DeviceRow::as_select())
        .load(conn)?)
}

pub fn update_sealed(
    conn: &mut DbConnection,
    id: &str,
    sealed: &[u8],
    key_id: &str,
) -> Result<(), DbError> {
    diesel::update(d::devices.filter(d::id.eq(id)))
        .set((
            d::secret_sealed.eq(Some(sealed)),
            d::key_id.eq(Some(key_id)),
        ))
        .execute(conn)?;
    Ok(())
}
