//! The events from before the chain, sealed once into an authenticated stream.
//!
//! Migration 000002 left them in stream `unchained` with their id as seq, and counted them in
//! `audit_legacy`. Nothing authenticated that count: whoever could write the tables could raise
//! it and pass a back-dated event off as a pre-chain one. A MAC over the count alone would not do
//! either, since the pre-chain events themselves would stay unauthenticated, free to edit. So
//! they are chained like any writer's events, into stream [`LEGACY`] under the current master key,
//! just before migration 000003 drops the count ([`crate::db::Db::migrate_with`]); from then on an
//! event outside every chain is always reported.
//!
//! The seal runs with the migration, once per database: a restart never seals again, so
//! recreating `audit_legacy` by hand gets nothing sealed. It trusts the events as they stand at
//! the upgrade, since there is nothing older to check them against; it refuses when more events
//! look pre-chain than were counted, because it cannot tell which ones are forged.

use std::sync::Arc;

use super::chain::{GENESIS, link};
use crate::crypto::Keys;
use crate::db::audit::{self as q, LEGACY};
use crate::db::{DbConnection, DbError};

const PAGE: i64 = 1000;

/// What the seal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealed {
    /// No event from before the chain (or the stream already exists: a seal committed, then the
    /// migration failed).
    Nothing,
    /// `events` sealed, of the `recorded` that the count held (fewer when some were deleted
    /// before the upgrade).
    Sealed { events: i64, recorded: i64 },
    /// More events look pre-chain than were counted: none sealed, all reported.
    Refused { found: i64, recorded: i64 },
}

/// The step [`crate::db::Db::migrate_with`] runs before migration 000003: seals in one
/// transaction and says what it did in the log (counts and the master key id, never an event).
pub fn sealer(
    keys: Arc<Keys>,
) -> impl FnOnce(&mut DbConnection) -> Result<(), DbError> + Send + 'static {
    move |conn| {
        let sealed = crate::db::write_transaction(conn, |c| seal(c, &keys))?;
        match sealed {
            Sealed::Nothing => {}
            Sealed::Sealed { events, recorded } if events == recorded => tracing::info!(
                events,
                stream = LEGACY,
                master_key_id = keys.key_id(),
                "sealed the audit events from before the chain"
            ),
            Sealed::Sealed { events, recorded } => tracing::warn!(
                events,
                recorded,
                stream = LEGACY,
                master_key_id = keys.key_id(),
                "sealed the audit events from before the chain; fewer than were recorded \
                 (deleted before the upgrade)"
            ),
            Sealed::Refused { found, recorded } => tracing::error!(
                found,
                recorded,
                "more audit events look older than the chain than were recorded; none sealed, \
                 `twofold audit verify` reports them"
            ),
        }
        Ok(())
    }
}

/// Chains the pre-chain events, in id order, into stream [`LEGACY`]. Must run inside a
/// transaction, with `audit_legacy` still there.
pub fn seal(conn: &mut DbConnection, keys: &Keys) -> Result<Sealed, DbError> {
    if q::stream_named(conn, LEGACY)? {
        return Ok(Sealed::Nothing);
    }
    let Some((recorded, max_id)) = q::legacy_record(conn)? else {
        return Ok(Sealed::Nothing);
    };
    let found = q::count_legacy_shaped(conn, max_id)?;
    if found == 0 {
        return Ok(Sealed::Nothing);
    }
    if found > recorded {
        return Ok(Sealed::Refused { found, recorded });
    }
    let key_id = keys.key_id();
    let mut page = q::legacy_shaped_page(conn, max_id, 0, PAGE)?;
    let Some(first) = page.first() else {
        return Ok(Sealed::Nothing);
    };
    // Started when its first event was written, so `audit verify` lists it first.
    q::open_stream(conn, LEGACY, key_id, first.at)?;
    // Two nodes starting at once: the second waits on the row lock, then finds the work done.
    if q::advance(conn, LEGACY, 0)?.is_none_or(|(seq, _)| seq != 0) {
        return Ok(Sealed::Nothing);
    }
    let (mut seq, mut prev) = (0i64, GENESIS.to_vec());
    while let Some(last) = page.last().map(|r| r.id) {
        for row in page {
            seq += 1;
            let mut event = row.written();
            event.stream = LEGACY.to_string();
            event.seq = seq;
            let mac = link(keys, key_id, &prev, &event)
                .ok_or_else(|| DbError::Aborted("the current master key is not loaded".into()))?;
            q::place(conn, row.id, LEGACY, seq, &mac)?;
            prev = mac;
        }
        page = q::legacy_shaped_page(conn, max_id, last, PAGE)?;
    }
    q::advance(conn, LEGACY, seq)?;
    q::set_head(conn, LEGACY, &prev)?;
    Ok(Sealed::Sealed {
        events: seq,
        recorded,
    })
}
