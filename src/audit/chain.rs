//! The keyed hash chain that makes the audit trail tamper-evident.
//!
//! Each process (a serving node, one CLI run) writes to a [`Stream`] of its own, named by a random
//! id. Event `n` of a stream stores `mac_n = HMAC-SHA256(k, domain ‖ mac_{n-1} ‖ fields of event
//! n)`, where `k` is derived from the master key the stream names (`audit_streams.key_id`), which
//! the database does not hold: someone who can write the tables cannot forge or re-link events.
//! The stream's row holds the newest `(seq, mac)`. The head moves in the same transaction as the
//! events, so a rolled-back change leaves no gap, and a writer's transactions queue on its own
//! stream row only: nodes never wait on each other.
//!
//! An edited row no longer matches its MAC; a deleted one leaves a gap in `seq`; a deleted newest
//! event falls short of the head. What a chain alone cannot show is the newest events cut off
//! *together with* the head moved back, or a whole stream deleted: comparing with the trail
//! exported to a SIEM (`twofold audit export`) shows that.

use std::sync::Arc;

use crate::crypto::Keys;
use crate::db::models::NewAuditEvent;
use crate::db::{DbConnection, DbError};

/// The predecessor of the first event of every stream (kept with the table that stores heads).
pub use crate::db::audit::GENESIS;
const DOMAIN: &str = "audit-chain-v1";

/// The bytes event `e` is MACed over, after its predecessor's MAC `prev`.
pub fn material(prev: &[u8], e: &NewAuditEvent) -> Vec<u8> {
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
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(prev);
    out.extend_from_slice(&e.seq.to_be_bytes());
    for f in fields {
        match f {
            None => out.push(0),
            Some(s) => {
                out.push(1);
                out.extend_from_slice(&(s.len() as u64).to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
    out
}

/// `mac_n` of an event whose stream, seq and fields are filled in (its `hash` is ignored), under
/// master key `key_id`; `None` when that key is not loaded.
pub fn link(keys: &Keys, key_id: &str, prev: &[u8], e: &NewAuditEvent) -> Option<Vec<u8>> {
    keys.hash_with(key_id, DOMAIN, &material(prev, e))
}

/// This process's audit stream.
#[derive(Clone)]
pub struct Stream {
    id: Arc<str>,
    keys: Arc<Keys>,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").field("id", &self.id).finish()
    }
}

impl Stream {
    /// A new stream with a random id, MACed under the current master key; its row is made with
    /// its first event.
    pub fn new(keys: Arc<Keys>) -> Result<Stream, crate::crypto::CryptoError> {
        Ok(Stream {
            id: crate::crypto::random_id()?.into(),
            keys,
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
        let key_id = self.keys.key_id();
        let n = i64::try_from(rows.len()).map_err(|e| DbError::Aborted(e.to_string()))?;
        // The write comes first: it takes the row lock (and SQLite's write lock) before the read.
        let (after, mut prev) = match crate::db::audit::advance(conn, &self.id, n)? {
            Some(moved) => moved,
            None => {
                // The first events of this stream; a concurrent first writer may make the row
                // too, so "make it unless it exists", then take it like any later writer.
                crate::db::audit::open_stream(conn, &self.id, key_id, first.at)?;
                crate::db::audit::advance(conn, &self.id, n)?
                    .ok_or_else(|| DbError::Aborted("the audit stream row vanished".into()))?
            }
        };
        let mut seq = after - n;
        for row in &mut rows {
            seq += 1;
            row.stream = self.id.to_string();
            row.seq = seq;
            let mac = link(&self.keys, key_id, &prev, row)
                .ok_or_else(|| DbError::Aborted("the current master key is not loaded".into()))?;
            row.hash = Some(mac.clone());
            prev = mac;
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

    fn keys() -> Keys {
        let key = crate::crypto::generate_master_key().unwrap();
        Keys::load(&crate::config::MasterKeySource::Value(key.to_string()), &[]).unwrap()
    }

    fn mac(keys: &Keys, prev: &[u8], e: &NewAuditEvent) -> Vec<u8> {
        link(keys, keys.key_id(), prev, e).unwrap()
    }

    #[test]
    fn every_field_is_covered_by_the_mac() {
        let keys = keys();
        let base = mac(&keys, &GENESIS, &event());
        assert_eq!(base, mac(&keys, &GENESIS, &event()), "deterministic");
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
            assert_ne!(mac(&keys, &GENESIS, &e), base, "edit {i} went unnoticed");
        }
        assert_ne!(
            mac(&keys, &[1; 32], &event()),
            base,
            "the predecessor is covered"
        );
        // Without the master key nobody computes it: another key gives another MAC, an unknown
        // key id none.
        assert_ne!(mac(&self::keys(), &GENESIS, &event()), base);
        assert_eq!(link(&keys, "no-such-key", &GENESIS, &event()), None);
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let mut a = event();
        a.tenant = "ab".into();
        a.user_id = Some("c".into());
        let mut b = event();
        b.tenant = "a".into();
        b.user_id = Some("bc".into());
        assert_ne!(material(&GENESIS, &a), material(&GENESIS, &b));
    }

    #[test]
    fn times_are_hashed_to_the_microsecond_the_databases_keep() {
        assert_eq!(event().at.and_utc().timestamp_subsec_nanos(), 123_456_000);
    }
}
