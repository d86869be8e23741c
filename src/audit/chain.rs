//! The hash chain that makes the audit trail tamper-evident.
//!
//! Each process (a serving node, one CLI run) writes to a [`Stream`] of its own, named by a random
//! id. Event `n` of a stream stores `hash_n = SHA-256(domain ‖ hash_{n-1} ‖ fields of event n)`;
//! the stream's row in `audit_streams` holds the newest `(seq, hash)`. The head moves in the same
//! transaction as the events, so a rolled-back change leaves no gap, and a writer's transactions
//! queue on its own stream row only: nodes never wait on each other.
//!
//! An edited row no longer matches its hash; a deleted one leaves a gap in `seq`; deleted newest
//! events fall short of the head. Someone able to rewrite the whole table *and* recompute every
//! later hash is not caught here: that is what exporting to a SIEM (`twofold audit export`) is for.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::db::models::NewAuditEvent;
use crate::db::{DbConnection, DbError};

/// The predecessor of the first event of every stream.
pub const GENESIS: [u8; 32] = [0; 32];
const DOMAIN: &[u8] = b"twofold-audit-v1\0";

/// `hash_n` of an event whose stream, seq and fields are filled in (its `hash` is ignored).
pub fn link(prev: &[u8], e: &NewAuditEvent) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(prev);
    let at = e.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    // Length-prefixed fields, `None` distinct from `Some("")`: no two events encode alike.
    let fields: [Option<&str>; 10] = [
        Some(&e.stream),
        Some(&at),
        Some(&e.tenant),
        e.user_id.as_deref(),
        e.device_id.as_deref(),
        Some(&e.action),
        Some(&e.outcome),
        Some(&e.actor),
        e.ip.as_deref(),
        e.detail.as_deref(),
    ];
    h.update(e.seq.to_be_bytes());
    for f in fields {
        match f {
            None => h.update([0]),
            Some(s) => {
                h.update([1]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    h.finalize().into()
}

/// This process's audit stream.
#[derive(Debug, Clone)]
pub struct Stream {
    id: Arc<str>,
}

impl Stream {
    /// A new stream with a random id; its row is made with its first event.
    pub fn new() -> Result<Stream, crate::crypto::CryptoError> {
        Ok(Stream {
            id: crate::crypto::random_id()?.into(),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Writes one event with the connection (and so inside the transaction) of the change it
    /// records. Call it last in the transaction: it holds the stream's row lock until commit.
    pub fn record(
        &self,
        conn: &mut DbConnection,
        at: chrono::DateTime<chrono::Utc>,
        event: super::Event,
    ) -> Result<(), DbError> {
        self.append(conn, vec![super::row(at, event)])
    }

    /// Writes several events of one change, in order.
    pub fn record_all(
        &self,
        conn: &mut DbConnection,
        at: chrono::DateTime<chrono::Utc>,
        events: impl IntoIterator<Item = super::Event>,
    ) -> Result<(), DbError> {
        let rows = events.into_iter().map(|e| super::row(at, e)).collect();
        self.append(conn, rows)
    }

    /// Chains `rows` onto the stream and inserts them. Must run inside a transaction.
    pub(crate) fn append(
        &self,
        conn: &mut DbConnection,
        mut rows: Vec<NewAuditEvent>,
    ) -> Result<(), DbError> {
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let n = i64::try_from(rows.len()).map_err(|e| DbError::Aborted(e.to_string()))?;
        // The write comes first: it takes the row lock (and SQLite's write lock) before the read.
        let (after, mut prev) = match crate::db::audit::advance(conn, &self.id, n)? {
            Some(moved) => moved,
            None => {
                // The first events of this stream; a concurrent first writer may make the row
                // too, so "make it unless it exists", then take it like any later writer.
                crate::db::audit::open_stream(conn, &self.id, first.at)?;
                crate::db::audit::advance(conn, &self.id, n)?
                    .ok_or_else(|| DbError::Aborted("the audit stream row vanished".into()))?
            }
        };
        let mut seq = after - n;
        for row in &mut rows {
            seq += 1;
            row.stream = self.id.to_string();
            row.seq = seq;
            let hash = link(&prev, row);
            row.hash = Some(hash.to_vec());
            prev = hash.to_vec();
        }
        crate::db::audit::insert(conn, &rows)?;
        crate::db::audit::set_head(conn, &self.id, &prev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> NewAuditEvent {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        let mut e = crate::audit::row(
            at,
            crate::audit::Event::new(
                "acme",
                crate::audit::Action::DeviceRevoked,
                crate::audit::Actor::Cli,
            )
            .user("alice"),
        );
        e.stream = "s1".into();
        e.seq = 1;
        e
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = link(&GENESIS, &event());
        assert_eq!(base, link(&GENESIS, &event()), "deterministic");
        let edits: [fn(&mut NewAuditEvent); 11] = [
            |e| e.tenant.push('x'),
            |e| e.user_id = None,
            |e| e.device_id = Some(String::new()),
            |e| e.action = "device_enrolled".into(),
            |e| e.outcome = "failure".into(),
            |e| e.actor = "api_key:x".into(),
            |e| e.ip = Some("10.0.0.1".into()),
            |e| e.detail = Some("{}".into()),
            |e| e.stream.push('x'),
            |e| e.seq = 2,
            |e| e.at += chrono::TimeDelta::microseconds(1),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut e = event();
            edit(&mut e);
            assert_ne!(link(&GENESIS, &e), base, "edit {i} went unnoticed");
        }
        assert_ne!(link(&[1; 32], &event()), base, "the predecessor is covered");
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let mut a = event();
        a.tenant = "ab".into();
        a.user_id = Some("c".into());
        let mut b = event();
        b.tenant = "a".into();
        b.user_id = Some("bc".into());
        assert_ne!(link(&GENESIS, &a), link(&GENESIS, &b));
    }

    #[test]
    fn times_are_hashed_to_the_microsecond_the_databases_keep() {
        assert_eq!(event().at.and_utc().timestamp_subsec_nanos(), 123_456_000);
    }
}
