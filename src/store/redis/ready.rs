//! Whether the store can serve every key now: what `/readyz` asks of it.
//!
//! One Redis: it answers `PING`. A cluster: a `PING` answered by the masters says little — the
//! cluster client sends it only to the masters it holds a connection to, and a master answers
//! even while the cluster is down. So, in turn: the cluster says `cluster_state:ok`; its slot
//! table gives every one of the 16384 slots a master; and each master answers a read (`PTTL`) of
//! a key in one of its slots. That read goes the way a request does, through the client's slot
//! table and the redirections of the nodes, to the master or to an error: a `PING` routed by
//! slot would not, as the client answers it from any node when the slot's master is not
//! connected. The probe keys are under the store's prefix (`{prefix}ready:{N}`) and are never
//! written.

use redis::Value;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};

use super::conn::Target;
use super::slots::{self, SLOTS};
use super::{RedisStore, StoreError};

impl RedisStore {
    /// `probe` is the name the probe keys start with.
    pub async fn ready(&self, probe: &str) -> Result<(), StoreError> {
        match self.conn.target {
            Target::Single(_) => self.ping().await,
            Target::Cluster(_) => self
                .cluster_ready(probe)
                .await
                .map_err(StoreError::Unavailable),
        }
    }

    async fn cluster_ready(&self, probe: &str) -> Result<(), String> {
        let any = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
        let cluster = |sub: &str| {
            let mut cmd = redis::cmd("CLUSTER");
            cmd.arg(sub);
            self.conn.route(cmd, any.clone())
        };
        let info = cluster("INFO").await.map_err(|e| e.to_string())?;
        let info: String = redis::from_redis_value(info).map_err(|e| e.to_string())?;
        let state = info
            .lines()
            .find_map(|l| l.strip_prefix("cluster_state:"))
            .map_or("unknown", str::trim);
        if state != "ok" {
            return Err(format!("the Redis Cluster says cluster_state:{state}"));
        }
        let table = cluster("SLOTS").await.map_err(|e| e.to_string())?;
        let (covered, probes) = masters(&table)?;
        if covered < u32::from(SLOTS) {
            let missing = u32::from(SLOTS) - covered;
            return Err(format!(
                "{missing} of {SLOTS} Redis Cluster slots have no master"
            ));
        }
        let reads = probes.into_iter().filter_map(|(first, last)| {
            let key = slots::key_in(probe, first, last)?;
            let mut conn = self.conn.clone();
            Some(async move {
                redis::cmd("PTTL")
                    .arg(key)
                    .query_async::<i64>(&mut conn)
                    .await
            })
        });
        futures_util::future::try_join_all(reads)
            .await
            .map_err(|e| format!("a Redis Cluster master does not answer: {e}"))?;
        Ok(())
    }
}

/// From a `CLUSTER SLOTS` answer: how many slots have a master, and the widest range of slots of
/// each master.
fn masters(table: &Value) -> Result<(u32, Vec<(u16, u16)>), String> {
    let malformed = || "a CLUSTER SLOTS answer not understood".to_string();
    let Value::Array(ranges) = table else {
        return Err(malformed());
    };
    let mut covered = 0u32;
    // Each master (its node id, or its address where no id is given) and its widest range.
    let mut widest: Vec<(Value, (u16, u16))> = Vec::new();
    for range in ranges {
        let Value::Array(fields) = range else {
            return Err(malformed());
        };
        let (Some(Value::Int(first)), Some(Value::Int(last)), Some(Value::Array(master))) =
            (fields.first(), fields.get(1), fields.get(2))
        else {
            return Err(malformed());
        };
        let (Ok(first), Ok(last)) = (u16::try_from(*first), u16::try_from(*last)) else {
            return Err(malformed());
        };
        let Some(len) = last.checked_sub(first) else {
            return Err(malformed());
        };
        covered += u32::from(len) + 1;
        let id = master
            .get(2)
            .or(master.first())
            .cloned()
            .unwrap_or_default();
        match widest.iter_mut().find(|(known, _)| *known == id) {
            Some((_, (f, l))) if *l - *f >= len => {}
            Some((_, known)) => *known = (first, last),
            None => widest.push((id, (first, last))),
        }
    }
    Ok((
        covered,
        widest.into_iter().map(|(_, range)| range).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(first: i64, last: i64, id: &str) -> Value {
        let master = vec![
            Value::BulkString(b"10.0.0.1".to_vec()),
            Value::Int(7000),
            Value::BulkString(id.as_bytes().to_vec()),
        ];
        Value::Array(vec![
            Value::Int(first),
            Value::Int(last),
            Value::Array(master),
        ])
    }

    #[test]
    fn each_master_is_probed_once_in_its_widest_range_and_uncovered_slots_are_counted() {
        let table = Value::Array(vec![
            range(0, 99, "a"),
            range(100, 10922, "b"),
            range(10923, 16000, "c"),
            range(16001, 16383, "a"),
        ]);
        let probes = vec![(16001, 16383), (100, 10922), (10923, 16000)];
        assert_eq!(masters(&table), Ok((16_384, probes)));
        let gap = Value::Array(vec![range(0, 5999, "a"), range(6001, 16383, "b")]);
        assert_eq!(masters(&gap), Ok((16_383, vec![(0, 5999), (6001, 16383)])));
        assert!(masters(&Value::Nil).is_err());
        assert!(masters(&Value::Array(vec![range(10, 9, "a")])).is_err());
    }
}
